"""Invitations: resending and withdrawing them (district pages), and the emailed link."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from schools.capabilities import requires
from schools.forms.people import AcceptInvitationForm
from schools.selectors import access_invitation
from schools.services.people import (
    InvitationUnavailable,
    invitation_accept,
    invitation_accept_new_account,
    invitation_account_exists,
    invitation_claim_read,
    invitation_for_claim,
    invitation_resend,
    invitation_revoke,
    invitation_state,
)
from schools.tenancy import tenant_context

# --- District pages ---------------------------------------------------------------------


@requires("people.manage")
def invitation_resend_view(request, district_slug, invitation_id):
    invitation = access_invitation(request.membership, invitation_id)
    if request.method == "POST":
        try:
            invitation_resend(by=request.membership, invitation=invitation)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Invitation sent again to %(email)s.") % {"email": invitation.email}
            )
    return redirect("people_list", district_slug)


@requires("people.manage")
def invitation_revoke_view(request, district_slug, invitation_id):
    invitation = access_invitation(request.membership, invitation_id)
    if request.method == "POST":
        try:
            invitation_revoke(by=request.membership, invitation=invitation)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email},
            )
    return redirect("people_list", district_slug)


# --- The emailed link (outside any district: the token names it) ------------------------


def _invalid(request):
    return render(request, "schools/invitations/invalid.html", status=404)


def _unavailable(request, invitation, reason):
    context = {"invitation": invitation, "reason": reason}
    return render(request, "schools/invitations/unavailable.html", context, status=410)


@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation_accept_view(request, token):
    """Verify the signed link, enter its district, then let the invitee in.

    Tampered or unknown links get one "not valid" page (404); used, withdrawn and expired
    invitations say so (410). Nobody learns more about the district than the link names.
    """
    claim = invitation_claim_read(token)
    if claim is None:
        return _invalid(request)
    with tenant_context(claim.district_id):
        invitation = invitation_for_claim(claim)
        if invitation is None:
            return _invalid(request)
        try:
            return _accept(request, invitation)
        except InvitationUnavailable as unavailable:
            if unavailable.reason in ("account_exists", "wrong_person"):
                return redirect(request.path)  # the page now shows what to do instead
            return _unavailable(request, invitation, unavailable.reason)


def _accept(request, invitation):
    reason = invitation_state(invitation)
    if reason:
        return _unavailable(request, invitation, reason)
    context = {"invitation": invitation, "invited_district": invitation.district}
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation, context)
    if invitation_account_exists(invitation):
        return render(request, "schools/invitations/accept.html", {**context, "state": "sign_in"})
    return _accept_new_account(request, invitation, context)


def _home(invitation) -> str:
    return reverse("district_home", args=[invitation.district.slug])


def _accept_signed_in(request, invitation, context):
    """Someone with an account, signed in: only as the invited address."""
    if request.user.email.lower() != invitation.email.lower():
        return render(request, "schools/invitations/wrong_person.html", context)
    if request.method == "POST":
        invitation_accept(invitation=invitation, user=request.user)
        messages.success(
            request, _("Welcome to %(district)s.") % {"district": invitation.district.name}
        )
        return redirect(_home(invitation))
    return render(request, "schools/invitations/accept.html", {**context, "state": "confirm"})


def _accept_new_account(request, invitation, context):
    """Someone without an account: name and password, then signed in and in the district."""
    form = AcceptInvitationForm(
        request.POST if request.method == "POST" else None, email=invitation.email
    )
    if not (form.is_bound and form.is_valid()):
        return render(
            request, "schools/invitations/accept.html", {**context, "state": "new", "form": form}
        )
    membership = invitation_accept_new_account(
        invitation=invitation,
        full_name=form.cleaned_data["full_name"],
        password=form.cleaned_data["password1"],
    )
    # They typed their new password seconds ago: record it as allauth's "confirm access"
    # does, so that enrolling two-factor (admins must, next) does not ask for it again.
    record_authentication(
        request, membership.user, method="password", email=invitation.email, reauthenticated=True
    )
    return perform_login(request, membership.user, redirect_url=_home(invitation))
