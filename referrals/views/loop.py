"""The loop's steps on the referral page: accept, decline, schedule, kept or missed, update,
close, withdraw (referrals.services.loop), send to another partner (referral_resend) and
reassign (referral_reassign).

Each is a small form in the page's loop panel (templates/referrals/loop/): with htmx the
panel is swapped in place; without, a POST answered with a redirect and a message. A
refusal is shown on its form, with status 200. The panel also carries where the referral
stands and its timeline, for the school's care team and for the partner it was sent to
(never the confidential notes: the timeline has none).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from core.htmx import wants_fragment
from partnerships.models import Partner
from referrals.forms import LoopStepForm
from referrals.loop import TRANSITIONS, Side, days_to_accept, days_to_first_appointment
from referrals.models import (
    OPEN_STATUSES,
    DeclineReason,
    Outcome,
    Referral,
    ReferralStatus,
    ReferralStep,
    StepKind,
)
from referrals.selectors import access_referral, access_referral_logged
from referrals.services.loop import (
    Actor,
    actions_for,
    actor_side,
    closed_days,
    referral_reassign,
    referral_step,
)
from referrals.services.referrals import referral_resend
from referrals.suggestions import partner_suggestions
from referrals.views.referrals import add_errors, log_referral_view, referral_page
from schools.capabilities import requires
from schools.models import Membership, MembershipSchool, Role

# How many partners the resend form offers (the best fits, the one that declined left out).
RESEND_CHOICES = 6

# The button of each step's form (the summary above it is the transition's label).
BUTTONS = {
    "accept": gettext_lazy("Accept the referral"),
    "decline": gettext_lazy("Decline the referral"),
    "schedule": gettext_lazy("Save the appointment"),
    "kept": gettext_lazy("Record it as kept"),
    "missed": gettext_lazy("Record it as missed"),
    "update": gettext_lazy("Add the update"),
    "close": gettext_lazy("Close the referral"),
    "withdraw": gettext_lazy("Withdraw the referral"),
}
# Steps that stop or step back: a quieter button.
QUIET_STEPS = frozenset({"decline", "missed", "withdraw"})


# --- Forms ----------------------------------------------------------------------------------


class ResendForm(forms.Form):
    """Another partner for a declined referral, among the best fits (by id)."""

    partner = forms.TypedChoiceField(
        label=gettext_lazy("Send it to"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose the partner to send it to."),
            "invalid_choice": gettext_lazy("Choose one of the partners listed."),
        },
    )

    def __init__(self, *args, suggestions=(), **kwargs):
        kwargs.setdefault("auto_id", "resend_%s")
        super().__init__(*args, **kwargs)
        self.suggestions = list(suggestions)
        self.fields["partner"].choices = [(s.partner.pk, s.partner.name) for s in self.suggestions]


class ReassignForm(forms.Form):
    """Another counselor of the referral's school takes it over (their caseload)."""

    to = forms.TypedChoiceField(
        label=gettext_lazy("New counselor responsible"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("Choose the counselor who takes it over."),
            "invalid_choice": gettext_lazy("Choose one of the counselors listed."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Seen by the school and the partner. No clinical details."),
    )

    def __init__(self, *args, candidates=(), **kwargs):
        kwargs.setdefault("auto_id", "reassign_%s")
        super().__init__(*args, **kwargs)
        self.candidates = {member.pk: member for member in candidates}
        self.fields["to"].choices = [("", _("Choose a counselor"))] + [
            (member.pk, member.user.get_full_name()) for member in candidates
        ]

    def chosen(self) -> Membership:
        return self.candidates[self.cleaned_data["to"]]


# --- Reads for the panel ----------------------------------------------------------------------


def resend_suggestions(membership: Membership, referral) -> list:
    """The partners that fit the referral best (referrals.suggestions), without the one that
    declined it. Two queries."""
    suggestions = partner_suggestions(
        membership,
        school=referral.school,
        services=referral.services,
        language=referral.family_language,
        payment=referral.payment,
        telehealth_ok=referral.telehealth_ok,
        limit=RESEND_CHOICES + 1,
    )
    return [s for s in suggestions if s.partner.pk != referral.partner_id][:RESEND_CHOICES]


def reassign_candidates(referral) -> list[Membership]:
    """The district's active counselors who work with the referral's school (every school,
    or a limit that names it), by name, without its owner. One query."""
    limits = MembershipSchool.objects.for_district(referral.district_id).filter(
        membership_id=OuterRef("pk")
    )
    return list(
        Membership.objects.for_district(referral.district_id)
        .filter(active=True, role=Role.COUNSELOR)
        .filter(~Exists(limits) | Exists(limits.filter(school_id=referral.school_id)))
        .exclude(pk=referral.owner_id)
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _iso_date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _step_facts(step, *, members: dict, partners: dict, partner_view: bool) -> list[str]:
    """What a step recorded (its `detail`), in words."""
    detail = step.detail or {}
    facts: list[str] = []
    if step.kind == StepKind.SENT and (due := _iso_date(detail.get("due_on"))):
        facts.append(_("Answer due by %(date)s.") % {"date": _date(due)})
    elif step.kind == StepKind.DECLINED and detail.get("reason"):
        reason = dict(DeclineReason.choices).get(detail["reason"], detail["reason"])
        facts.append(_("Reason: %(reason)s.") % {"reason": reason})
    elif step.kind == StepKind.SCHEDULED and (on := _iso_date(detail.get("appointment_on"))):
        facts.append(_("First appointment on %(date)s.") % {"date": _date(on)})
    elif step.kind == StepKind.KEPT and (on := _iso_date(detail.get("kept_on"))):
        facts.append(_("Kept on %(date)s.") % {"date": _date(on)})
    elif step.kind == StepKind.MISSED and (on := _iso_date(detail.get("appointment_on"))):
        facts.append(_("The appointment of %(date)s was missed.") % {"date": _date(on)})
    elif step.kind == StepKind.CLOSED and detail.get("outcome"):
        outcome = dict(Outcome.choices).get(detail["outcome"], detail["outcome"])
        facts.append(_("Outcome: %(outcome)s.") % {"outcome": outcome})
    elif step.kind == StepKind.REASSIGNED:
        before, after = members.get(detail.get("from")), members.get(detail.get("to"))
        if before and after:
            facts.append(_("From %(before)s to %(after)s.") % {"before": before, "after": after})
        elif after:
            facts.append(_("To %(after)s.") % {"after": after})
    elif step.kind == StepKind.RESENT and not partner_view:
        # Another partner's referral: the school's business, never the first partner's.
        partner = partners.get(detail.get("partner"))
        if partner:
            if detail.get("sent"):
                facts.append(_("Sent to %(partner)s.") % {"partner": partner})
            else:
                facts.append(_("For %(partner)s, once the family consents.") % {"partner": partner})
    return facts


def referral_timeline(referral, *, partner_view: bool) -> tuple[list[dict], dict[int, str]]:
    """Every step of the referral, oldest first, each with what happened, who, when, what it
    recorded in words and its note; and the names of the members it names (with the
    referral's owner, for the page's header).

    Two queries at any length: the steps with their people joined, then the members named by
    reassignments and the owner. A declined referral sent to another partner costs one more
    (that partner's name), once: it is sent on only once.
    """
    steps = list(
        ReferralStep.objects.for_district(referral.district_id)
        .filter(referral_id=referral.pk)
        .select_related("by__user", "by__partner", "by_contact")
        .order_by("at", "pk")
    )
    member_ids = {referral.owner_id} | {
        value
        for step in steps
        if step.kind == StepKind.REASSIGNED
        for value in ((step.detail or {}).get("from"), (step.detail or {}).get("to"))
        if isinstance(value, int)
    }
    members = {
        member.pk: member.user.get_full_name()
        for member in Membership.objects.for_district(referral.district_id)
        .filter(pk__in=member_ids)
        .select_related("user")
    }
    partner_ids = {
        (step.detail or {}).get("partner")
        for step in steps
        if step.kind == StepKind.RESENT and isinstance((step.detail or {}).get("partner"), int)
    }
    partners = {}
    if partner_ids and not partner_view:
        partners = dict(
            Partner.objects.for_district(referral.district_id)
            .filter(pk__in=partner_ids)
            .values_list("pk", "name")
        )
    labels = dict(StepKind.choices)
    timeline = []
    for step in steps:
        if step.by is not None:
            who = step.by.user.get_full_name()
            if step.by.partner is not None:
                who = _("%(name)s, %(partner)s") % {"name": who, "partner": step.by.partner.name}
        elif step.by_contact is not None:
            who = _("%(name)s (from the emailed link)") % {"name": step.by_contact.name}
        else:
            who = "Trellis"
        resent_as = None
        if step.kind == StepKind.RESENT and not partner_view:
            new_id = (step.detail or {}).get("referral")
            resent_as = Referral(pk=new_id) if isinstance(new_id, int) else None
        timeline.append(
            {
                "kind": step.kind,
                "label": labels.get(step.kind, step.kind),
                "at": step.at,
                "who": who,
                "facts": _step_facts(
                    step, members=members, partners=partners, partner_view=partner_view
                ),
                "note": step.note,
                "resent_as": resent_as,
            }
        )
    return timeline, members


def _local_date(moment, district) -> datetime.date | None:
    return timezone.localtime(moment, timezone=district.time_zone).date() if moment else None


def standing(referral, district, *, owner: str) -> dict:
    """Where the referral stands: who owns it, when it is due, how long each step took (in
    business days for the answer, calendar days for the first appointment)."""
    today = district.today()
    sent_on = _local_date(referral.sent_at, district)
    accepted_on = _local_date(referral.accepted_at, district)
    to_accept = None
    if sent_on and accepted_on:
        to_accept = days_to_accept(
            sent_on, accepted_on, closed_days(referral.district_id, sent_on, accepted_on)
        )
    return {
        "owner": owner,
        "overdue": referral.is_overdue(today),
        "due_on": referral.response_due_on if referral.status == ReferralStatus.SENT else None,
        "sent_on": sent_on,
        "accepted_on": accepted_on,
        "days_to_accept": to_accept,
        "declined_on": _local_date(referral.declined_at, district),
        "days_to_first_appointment": days_to_first_appointment(
            sent_on, referral.first_appointment_on
        ),
        "closed_on": _local_date(referral.closed_at, district),
        "withdrawn_on": _local_date(referral.withdrawn_at, district),
        "counts_no_shows": referral.accepted_at is not None,
    }


def loop_context(request, referral, *, bound=None, done: str = "") -> dict:
    """The loop panel's context: where the referral stands, its timeline, and a form for each
    step the viewer may take now (`bound`: the form just posted, shown again with its
    errors; where its step is no longer offered, its errors are shown above the forms).
    `done`: what the step just taken did (htmx answers, where no redirect shows a message)."""
    membership = request.membership
    district = request.district
    actor = Actor(membership=membership)
    side = actor_side(actor, referral)
    actions = actions_for(actor, referral)
    partner_view = membership.role == Role.PARTNER
    shown = False

    steps = []
    for action in actions:
        if action not in TRANSITIONS:
            continue
        form = LoopStepForm(action=action)
        if isinstance(bound, LoopStepForm) and bound.action == action:
            form, shown = bound, True
        label = TRANSITIONS[action].label
        if action == "schedule" and referral.status == ReferralStatus.SCHEDULED:
            label = _("Change the appointment's date")
        steps.append(
            {
                "action": action,
                "label": label,
                "button": BUTTONS[action],
                "quiet": action in QUIET_STEPS,
                "form": form,
                "url": reverse("referral_step", args=[district.slug, referral.pk, action]),
            }
        )

    resend = None
    if "resend" in actions:
        suggestions = resend_suggestions(membership, referral)
        form = ResendForm(suggestions=suggestions)
        if isinstance(bound, ResendForm):
            form, shown = bound, True
        resend = {"form": form, "suggestions": suggestions}

    reassign = None
    if side == Side.SCHOOL and (
        referral.status in OPEN_STATUSES or referral.status == ReferralStatus.DECLINED
    ):
        form = ReassignForm(candidates=reassign_candidates(referral))
        if isinstance(bound, ReassignForm):
            form, shown = bound, True
        reassign = {"form": form}

    refused: list[str] = []
    if bound is not None and not shown:
        refused = [message for errors in bound.errors.values() for message in errors]

    timeline, members = referral_timeline(referral, partner_view=partner_view)
    return {
        "loop": standing(referral, district, owner=members.get(referral.owner_id, "")),
        "timeline": timeline,
        "steps": steps,
        "resend": resend,
        "reassign": reassign,
        "refused": refused,
        "done": done,
        "partner_view": partner_view,
    }


# --- Views ----------------------------------------------------------------------------------


def _answer(request, referral, message: str):
    """After a step: the panel again (htmx), else back to the page with a message."""
    if wants_fragment(request):
        try:
            fresh = access_referral(request.membership, referral.pk)
        except Http404:  # out of the viewer's sight now
            messages.success(request, message)
            return HttpResponseClientRedirect(
                reverse("referral_list", args=[request.district.slug])
            )
        log_referral_view(request, fresh)
        return referral_page(request, fresh, loop={"done": message})
    messages.success(request, message)
    return redirect(reverse("referral_detail", args=[request.district.slug, referral.pk]) + "#loop")


def _refused(request, referral, form):
    """The page (or the panel, for htmx) with the refused form and its reasons: status 200."""
    log_referral_view(request, referral)
    return referral_page(request, referral, loop={"bound": form})


def _step_message(action: str, referral) -> str:
    reference = referral.reference
    if action == "schedule":
        return _("First appointment of %(reference)s scheduled for %(date)s.") % {
            "reference": reference,
            "date": _date(referral.appointment_on),
        }
    return {
        "accept": _("Referral %(reference)s accepted."),
        "decline": _("Referral %(reference)s declined."),
        "kept": _("First appointment of %(reference)s recorded as kept."),
        "missed": _(
            "Missed appointment of %(reference)s recorded. Schedule the next one when you can."
        ),
        "update": _("Update added to the timeline of %(reference)s."),
        "close": _("Referral %(reference)s closed."),
        "withdraw": _("Referral %(reference)s withdrawn."),
    }[action] % {"reference": reference}


def _school_only() -> str:
    return _("Only the school that made the referral can take this step.")


def _not_yours(action: str) -> str:
    if TRANSITIONS[action].side == Side.SCHOOL:
        return _school_only()
    return _("Only the school that made the referral or the partner it was sent to can do this.")


@requires("referrals.view")
def referral_step_view(request, district_slug, referral_id, action):
    """One step of the loop (POST): the referral's school or its partner. GET goes back to
    the referral; an action that does not exist is a 404."""
    referral = access_referral_logged(request, referral_id, action=None)  # 404 first
    if action not in TRANSITIONS:
        raise Http404
    if request.method != "POST":
        return redirect("referral_detail", district_slug, referral.pk)
    form = LoopStepForm(request.POST, action=action)
    if form.is_valid():
        try:
            done = referral_step(
                actor=Actor(membership=request.membership),
                referral=referral,
                action=action,
                **form.step_arguments(),
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _not_yours(action))
        else:
            return _answer(request, referral, _step_message(action, done))
    return _refused(request, referral, form)


@requires("referrals.send")
def referral_resend_view(request, district_slug, referral_id):
    """Send a declined referral to another partner (POST): at once when a consent covers
    it, else the family is asked for consent. On success, the new referral's page."""
    referral = access_referral_logged(request, referral_id, action=None)
    if request.method != "POST":
        return redirect("referral_detail", district_slug, referral.pk)
    suggestions = []
    if referral.status == ReferralStatus.DECLINED:
        suggestions = resend_suggestions(request.membership, referral)
    form = ResendForm(request.POST, suggestions=suggestions)
    if form.is_valid():
        partner = (
            Partner.objects.for_district(request.district)
            .filter(pk=form.cleaned_data["partner"])
            .first()
        )
        try:
            new = referral_resend(by=request.membership, referral=referral, partner=partner)
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _school_only())
        else:
            values = {"reference": new.reference, "partner": partner.name}
            if new.status == ReferralStatus.SENT:
                message = _("Sent to %(partner)s at once as referral %(reference)s.") % values
            else:
                message = (
                    _(
                        "Referral %(reference)s for %(partner)s waits for the family's consent: "
                        "a request went to them by email. Send it once they sign."
                    )
                    % values
                )
            messages.success(request, message)
            url = reverse("referral_detail", args=[district_slug, new.pk])
            if wants_fragment(request):
                return HttpResponseClientRedirect(url)
            return redirect(url)
    return _refused(request, referral, form)


@requires("referrals.send")
def referral_reassign_view(request, district_slug, referral_id):
    """Give an open referral to another counselor of its school (POST)."""
    referral = access_referral_logged(request, referral_id, action=None)
    if request.method != "POST":
        return redirect("referral_detail", district_slug, referral.pk)
    form = ReassignForm(request.POST, candidates=reassign_candidates(referral))
    if form.is_valid():
        to = form.chosen()
        try:
            referral_reassign(
                by=request.membership, referral=referral, to=to, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied:
            form.add_error(None, _school_only())
        else:
            message = _("Referral %(reference)s is now in %(name)s's caseload.") % {
                "reference": referral.reference,
                "name": to.user.get_full_name(),
            }
            return _answer(request, referral, message)
    return _refused(request, referral, form)


urlpatterns = [
    path(
        "referrals/<int:referral_id>/step/<str:action>/",
        referral_step_view,
        name="referral_step",
    ),
    path("referrals/<int:referral_id>/resend/", referral_resend_view, name="referral_resend"),
    path("referrals/<int:referral_id>/reassign/", referral_reassign_view, name="referral_reassign"),
]
public_urlpatterns: list = []
