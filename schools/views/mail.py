"""Mail delivery: the district's messages that were not delivered, and trying them again."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from schools.capabilities import requires
from schools.selectors import (
    MAIL_PROBLEMS,
    access_district_email,
    district_mail,
    district_mail_problem_count,
)
from schools.services.email import district_email_retry

PAGE_SIZE = 50
SHOW = (MAIL_PROBLEMS, "all")


@requires("mail.manage")
def mail_list(request, district_slug):
    """Newest first: by default only what needs someone (not delivered, being retried)."""
    show = request.GET.get("show")
    show = show if show in SHOW else MAIL_PROBLEMS
    links = district_mail(request.membership, show=show)
    page = Paginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/mail/list.html",
        {"page": page, "show": show, "query": f"show={show}"},
    )


@requires("mail.manage")
def mail_retry(request, district_slug, link_id):
    link = access_district_email(request.membership, link_id)
    if request.method != "POST":
        return redirect("mail_list", district_slug)
    if district_email_retry(by=request.membership, link=link):
        messages.success(
            request,
            _("“%(subject)s” will be sent again in a moment.") % {"subject": link.email.subject},
        )
    else:
        messages.info(request, _("That message is no longer waiting to be tried again."))
    return redirect(reverse("mail_list", args=[district_slug]) + "?show=" + MAIL_PROBLEMS)


def mail_home_panel(request) -> dict | None:
    """The home page's notice of undelivered mail (one query); left out when there is none."""
    count = district_mail_problem_count(request.membership)
    if not count:
        return None
    return {"count": count, "url": reverse("mail_list", args=[request.district.slug])}
