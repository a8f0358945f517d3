"""The signed unsubscribe link in mail to partner contacts (no account needed)."""

from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.mail import link_page_language
from core.signed import BadLink
from partnerships.services.unsubscribe import contact_lookup, contact_unsubscribe


# The one-click POST (RFC 8058) comes from the reader's mail provider, with no session and
# no CSRF token; the signed token in the URL is what authorizes it, and all it can do is stop
# mail to the contact it names.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def contact_unsubscribe_view(request, token):
    """GET asks to confirm (link scanners must not unsubscribe anyone); POST does it, from
    the page's button or from the mail provider (body "List-Unsubscribe=One-Click")."""
    try:
        if request.method == "POST":
            contact = contact_unsubscribe(token=token)
            done = True
        else:
            contact = contact_lookup(token=token)
            done = contact is not None and contact.unsubscribed_at is not None
    except BadLink:
        contact = None
    if contact is None:
        return render(request, "partnerships/unsubscribe/invalid.html", status=404)
    # In the language of the mail the link came in, unless the reader chose another.
    language = link_page_language(request, contact)
    with translation.override(language):
        response = render(
            request, "partnerships/unsubscribe/page.html", {"contact": contact, "done": done}
        )
    response.headers["Content-Language"] = language
    return response


urlpatterns: list = []
public_urlpatterns = [
    path("unsubscribe/<str:token>/", contact_unsubscribe_view, name="contact_unsubscribe"),
]
