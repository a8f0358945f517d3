"""Nothing a person types comes back as markup: the escaping walk.

The walk opens every district page and every signed-link page (the garbage walk's URL
walk and its form reader), fills each form it finds from the form's own initial values
and choices with a marker like `<x-probe-17>` in every text field, and posts it: as a
district administrator, as the partner's member, and as an outside contact holding a
signed link. The objects it makes (a partner, its contacts and services, a category, an
MOU with its template, terms, sections, comments, signatures and goals, a story, a
funding source, a roster, a person who accepted an invitation) are then read on every
district page, as fragments too, in every email queued on the way (HTML parts) and in the
MOU's PDF markup. A marker must never appear unescaped there; each one posted must appear
escaped somewhere (else the walk proves nothing about it); and every text field must
have been filled by a form that was accepted, unless it is listed below with a reason.
Plain-text bodies and subjects are not read: there the raw text is what is expected.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import Resolver404, resolve
from django.utils import timezone

from tests.factories import InvitationFactory, MembershipFactory, MOUDocumentFactory
from tests.security.probes import (
    TEXT_KINDS,
    Markers,
    escaped_markers,
    form_data,
    is_html,
    page_forms,
    unescaped_markers,
)
from tests.security.test_garbage import TARGETS, Persona
from tests.security.urls import make_values

# The MOU's life, in order: each step needs the status the one before left (URL name,
# who). The walk MOU is the one the walk drafts; the other targets follow, in URL order.
ORDER = [
    ("partner_create", "admin"),
    ("service_category_list", "admin"),
    ("partner_edit", "admin"),  # a service of the new category, the contact's details
    ("partner_verification_send", "admin"),
    ("listing_verify", "link"),
    ("mou_template_create", "admin"),
    ("mou_template_edit", "admin"),
    ("mou_create", "admin"),
    ("mou_terms", "admin"),
    ("mou_section", "admin"),
    ("mou_goal_create", "admin"),
    ("mou_goal_progress", "admin"),
    ("mou_submit", "admin"),
    ("mou_return", "admin"),
    ("mou_submit", "admin"),
    ("mou_approve", "admin"),  # mail to the partner's contact and member
    ("mou_withdraw", "admin"),
    ("mou_submit", "admin"),
    ("mou_approve", "admin"),
    ("mou_partner_comment", "partner"),
    ("mou_submit", "admin"),
    ("mou_approve", "admin"),
    ("mou_review_link_comment", "link"),
    ("mou_submit", "admin"),
    ("mou_approve", "admin"),
    ("mou_review_link_sign", "link"),
    ("mou_sign", "admin"),
    ("mou_terminate", "admin"),
    ("story_new", "admin"),
    ("story_edit", "admin"),
    ("story_consent", "admin"),
    ("funding_new", "admin"),
    ("funding_edit", "admin"),
    ("invitation_accept", "link"),
    ("roster_import", "admin"),
    ("roster_import_detail", "admin"),
    ("partner_import", "admin"),
    # Consent and a draft referral of the roster's (marked) student to the walk's partner
    # (issue 13, engineer "pages2"): a signed form uploaded, then revoked; a verbal
    # agreement noted on the referral; an emergency declared for it.
    ("consent_new", "admin"),
    ("consent_revoke", "admin"),
    ("verbal_agreement_new", "admin"),
    ("referral_emergency", "admin"),
    # (helpere) The loop (issue 14): the family is asked for consent while the referral is a
    # draft; then it goes to the walk's partner under the emergency declared above, gets an
    # update with a note and is reassigned, and its timeline is read back by both sides.
    ("consent_request_new", "admin"),
    ("referral_send", "admin"),
    ("referral_step", "admin"),
    ("referral_reassign", "admin"),
]
# Forms without a text field posted anyway: the MOU's life goes through them.
# (pages2) The roster's upload form has a file and no text field: without it here the roster
# was never posted, and no student carried a marker.
ACTIONS = {
    "mou_submit",
    "mou_approve",
    "partner_verification_send",
    "roster_import",
    "roster_import_detail",
    # (helpere) The send button has no text field: the loop's steps need the referral sent.
    "referral_send",
}
# Forms whose work is done by the worker once the request commits (eagerly, in tests): the
# confirmed roster is imported in the `reports` queue, and its students are read afterwards.
RUN_ON_COMMIT = {"roster_import_detail"}
# Who fills the district pages that an administrator cannot.
PARTNER_PAGES = {"partner_own", "mou_partner_comment"}
# Pages outside the districts that take a member's or a contact's text (signed links).
LINK_PAGES = {
    "listing_verify",
    "contact_unsubscribe",
    "invitation_accept",
    "mou_review_link",
    "mou_review_link_sign",
    "mou_review_link_comment",
    # The guardian's consent request (issue 13, engineer "econsent").
    "econsent",
    "econsent_code",
    "econsent_sign",
    # The partner contact's referral link (issue 14, engineer "helpera").
    "intake",
    "intake_code",
    "intake_step",
    # A school's public form for requests for help (issue 14, engineer "helperc").
    "help_request_form",
    "help_request_thanks",
    # A partner contact's answer to a meeting invitation (issue 18): a button, no text.
    "meeting_response",
}
# Signed-link pages left out, with the reason.
NOT_LINK_PAGES = {
    "account_reset_password_from_key": "allauth: takes a password, shown to no one",
    "account_confirm_email": "allauth: a confirmation button, no text",
    # (issue 16) The executed MOU's PDF for a contact who signed through the link.
    "mou_review_link_pdf": "serves the signed PDF, or a page saying it is being prepared: no text",
    # (issue 18) A member's calendar feed: an iCalendar file, not a page, with no form.
    "meeting_feed": "an iCalendar file (tests/partnerships/test_meeting_pages.py reads it)",
}
# Text fields the walk does not fill ("page: field" -> the reason).
NOT_FILLED: dict[str, str] = {
    # Signing needs the one-time code mailed to the guardian, which a marker never is; the
    # refusal page, which shows both fields again, is still read for unescaped markers.
    "econsent_sign: code": "a one-time code from the guardian's mail: a marker is not one",
    "econsent_sign: name": "refused with the code (a marker); its refusal page is read",
    # (helpera) The partner contact's referral link: the code is mailed, and the walk posts
    # the page's step forms in order on one referral, so Decline comes after Accept.
    "intake_code: code": "a one-time code from the contact's mail: a marker is not one",
    "intake_step: decline-note": (
        "posted after Accept on the same referral, so refused as out of order; "
        "tests/referrals/test_intake.py declines with a note"
    ),
}
NOT_FILLED_MESSAGE = "the walk could not fill (give a value or a reason): "
# Markers that are stored but shown on no page, email or PDF, with the reason.
NOT_SHOWN: dict[str, str] = {
    # (helpera) A step's note from the partner contact's link shows on the link's timeline
    # only after the one-time code, which the walk cannot read from mail;
    # tests/referrals/test_intake.py::test_a_note_on_the_timeline_is_shown_as_text.
    "intake_step: accept-note": "on the link's timeline, after the one-time code only",
    # (issue 18) Read only when "Repeats" is "Custom rule", which the walk leaves at "Does
    # not repeat"; a rule that is read is letters, digits and ;=,+- (meeting_rules.check_rule).
    "meeting_new: custom_rule": "read only for a custom repeat; a marker is not a rule",
    "meeting_edit: custom_rule": "read only for a custom repeat; a marker is not a rule",
}


def _weekday_after(days: int) -> str:
    """(helperd) The first weekday `days` from today (a closed day is never a weekend)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day.isoformat()


# Fields given a value other than the form's own (field name -> value).
VALUES = {
    "agree": "on",
    # (languages) Names read as ISO 639 codes, never shown as typed: a marker is no language.
    "other_languages": "Oromo",
    # (pages2) A consent's last day must be after today (the form's own value is blank).
    "valid_until": (timezone.localdate() + datetime.timedelta(days=180)).isoformat(),
    # (pages2) A threat is written out (at least THREAT_MIN_CHARS): the marker, then words.
    "threat": lambda marker: f"{marker} said they would hurt someone after school today",
    # (helperc) The request-for-help form's honeypot: filled, the post is thanked and dropped.
    "homepage": "",
    # (helperc) A phone number is checked as one (digits and punctuation): a marker is not.
    "asker_phone": "(555) 201-3344",
    # (helperd) Closed days: a weekday each (a weekend day is refused), and the range's day
    # apart from the single day's (a day already listed keeps its name).
    "day-date": _weekday_after(30),
    "range-first": _weekday_after(40),
    "range-last": _weekday_after(40),
    # (helpers15) A school's NCES id is digits only: a marker is not one.
    "nces_id": "060000112345",
}
# (languages) family_language is read as an ISO 639 code: a marker there is a row error.
ROSTER_COLUMNS = ["first_name", "last_name", "preferred_name", "guardian_name"]


_ROW = re.compile(r"-\d+-")  # contacts-0-name and contacts-1-name are one field


def _key(target_name: str, field_name: str) -> str:
    return target_name + ": " + _ROW.sub("-N-", field_name)


class Walk:
    def __init__(self, district):
        self.district = district
        self.today = timezone.localdate().isoformat()
        self.markers = Markers()
        self.admin = Persona("admin", district)
        self.clients = {"admin": self.admin.client()}
        self.ids: dict[str, int] = {}
        self.filled: dict[str, bool] = {}  # field -> accepted at least once
        self.typed: dict[int, str] = {}  # marker -> field, for markers in accepted forms
        self.leaks: list[str] = []
        self.seen: set[int] = set()
        self.visited: set[str] = set()
        self.emails = 0

    # --- Who ------------------------------------------------------------------------------

    def client(self, who: str) -> Client:
        if who == "link":
            return Client(raise_request_exception=False)
        if who == "partner" and "partner" not in self.clients:
            member = MembershipFactory(
                district=self.district, role="partner", partner=self._object("partner")
            )
            self.clients["partner"] = Client(raise_request_exception=False)
            self.clients["partner"].force_login(member.user)
        return self.clients[who]

    # --- The walk's own objects -----------------------------------------------------------

    def _object(self, kind: str):
        from partnerships.models import MOU, Contact, Partner

        model = {"partner": Partner, "mou": MOU, "contact": Contact}[kind]
        with self._in_district():
            if kind == "contact":
                return Contact.objects.filter(partner_id=self.ids["partner_id"]).first()
            return model.objects.select_related("district").get(pk=self.ids[f"{kind}_id"])

    def _in_district(self):
        from schools.tenancy import tenant_context

        return tenant_context(self.district)

    def _lookup(self, argument: str):
        """The walk's object for a URL argument that no redirect named."""
        from partnerships.models import Goal, MOUDocument, MOUTemplate, ServiceCategory
        from partnerships.selectors.mous import current_version
        from referrals.models import HelpRequest
        from schools.models import Membership, Student

        if argument in ("goal_id", "version_id", "document_id") and "mou_id" not in self.ids:
            return None
        with self._in_district():
            marked = {"user__full_name__contains": "x-probe"}
            found = {
                "goal_id": lambda: Goal.objects.filter(mou_id=self.ids.get("mou_id")),
                "template_id": lambda: MOUTemplate.objects.filter(name__contains="x-probe"),
                "category_id": lambda: ServiceCategory.objects.filter(name__contains="x-probe"),
                "membership_id": lambda: Membership.objects.filter(**marked),
                "student_id": lambda: Student.objects.filter(first_name__contains="x-probe"),
                "document_id": lambda: MOUDocument.objects.filter(version__mou=self.ids["mou_id"]),
                # (helperc) The request for help the walk sent through the public form.
                "help_request_id": lambda: HelpRequest.objects.filter(message__contains="x-probe"),
            }
            if argument == "version_id" and "mou_id" in self.ids:
                return current_version(self._object("mou")).pk
            if argument == "document_id" and "mou_id" in self.ids and not found[argument]():
                version = current_version(self._object("mou"))
                return MOUDocumentFactory(district=self.district, version=version).pk
            if argument in found:
                row = found[argument]().order_by("-pk").first()
                return row.pk if row is not None else None
            if argument == "consent_id":  # (pages2) the consent the walk uploaded
                return self._consent()
        if argument == "referral_id":  # (pages2) a draft no page made: the walk makes one
            return self._draft_referral()
        return None

    def _consent(self) -> int | None:
        from referrals.models import Consent

        row = (
            Consent.objects.for_district(self.district)
            .filter(consenter_name__contains="x-probe")
            .order_by("-pk")
            .first()
        )
        return row.pk if row is not None else None

    def _draft_referral(self) -> int | None:
        """A draft referral of the roster's marked student to the walk's partner, made once
        both exist (issue 13, engineer "pages2"); until then, the URL maker's referral."""
        from schools.models import Student
        from tests.factories import ReferralFactory

        student_id = self._lookup("student_id")
        if student_id is None or "partner_id" not in self.ids:
            return None
        with self._in_district():
            referral = ReferralFactory(
                district=self.district,
                student=Student.objects.for_district(self.district).get(pk=student_id),
                partner=self._object("partner"),
                shared_fields=["name", "grade", "guardian_contact"],
            )
        self.ids["referral_id"] = referral.pk
        return referral.pk

    def values(self, arguments) -> dict:
        values = {}
        for argument in arguments:
            value = self.ids.get(argument) or self._lookup(argument)
            values[argument] = value or make_values([argument], self.district)[argument]
        return values

    def link(self, name: str) -> str:
        from django.urls import reverse

        from partnerships.selectors.mous import current_version
        from partnerships.services.directory import listing_token
        from partnerships.services.mous.links import mou_link_token
        from partnerships.services.unsubscribe import unsubscribe_token
        from schools.services.people import invitation_path

        with self._in_district():
            if name == "invitation_accept":
                return invitation_path(InvitationFactory(district=self.district))
            if name.startswith("help_request_"):  # (helperc) a school's public form
                from schools.models import School

                school = School.objects.filter(district=self.district).order_by("pk").first()
                return reverse(name, args=[self.district.slug, school.pk])
            if name == "listing_verify":
                token = listing_token(self._object("partner"), self._object("contact"))
            elif name == "contact_unsubscribe":
                token = unsubscribe_token(self._object("contact"))
            elif name.startswith("mou_review_link"):
                mou = self._object("mou")
                token = mou_link_token(mou, current_version(mou))
            elif name.startswith("econsent"):
                token = self._consent_request_token()
            elif name.startswith("intake"):
                token = self._intake_token()
            elif name == "meeting_response":  # (issue 18) a contact invited to a meeting
                from partnerships.models import Attendee
                from partnerships.services.meetings import RESPONSE_LINK
                from tests.security.tables import contact_attendee

                attendee = Attendee.objects.get(pk=contact_attendee(self.district))
                token = RESPONSE_LINK.make(d=self.district.pk, a=attendee.pk, r="accepted")
            else:
                raise AssertionError(f"no link for {name!r}: add it to Walk.link")
        return reverse(name, args=[token])

    def _consent_request_token(self) -> str:
        """A guardian's consent request with a code sent (issue 13, engineer "econsent")."""
        from referrals.services.consent_requests import (
            consent_request_create,
            consent_request_send_code,
            consent_request_token,
        )
        from tests.factories import ReferralFactory, StudentFactory

        counselor = MembershipFactory(district=self.district, role="counselor")
        student = StudentFactory(district=self.district, guardian_email="guardian@example.org")
        referral = ReferralFactory(district=self.district, student=student, referred_by=counselor)
        request = consent_request_create(
            by=counselor,
            referral=referral,
            fields=["name"],
            purpose="Counseling at school",
            valid_until=self.district.today() + datetime.timedelta(days=60),
        )
        consent_request_send_code(consent_request=request, language="en")
        return consent_request_token(request)

    def _intake_token(self) -> str:
        """A partner contact's link to a referral sent to the walk's partner, with a code
        sent (issue 14, engineer "helpera")."""
        from referrals.services.intake import intake_send_code, intake_token
        from tests.factories import ContactFactory, ReferralFactory

        partner = self._object("partner") if "partner_id" in self.ids else None
        contact = ContactFactory(
            district=self.district, roles=["intake"], **({"partner": partner} if partner else {})
        )
        referral = ReferralFactory(
            district=self.district,
            partner=contact.partner,
            status="sent",
            sent_at=timezone.now(),
        )
        intake_send_code(referral=referral, contact=contact, language="en")
        return intake_token(referral, contact)

    def path(self, target) -> str:
        if target.district_url is None:
            return self.link(target.name)
        return target.district_url.build(self.district.slug, self.values(target.arguments))

    def learn(self, response) -> None:
        """Remember the objects a form made: the first redirect naming each argument."""
        for url, _status in getattr(response, "redirect_chain", []):
            try:
                match = resolve(url.split("?")[0].split("#")[0])
            except Resolver404:
                continue
            for argument, value in match.kwargs.items():
                if argument.endswith("_id") and argument not in self.ids:
                    self.ids[argument] = int(value)

    # --- Reading ----------------------------------------------------------------------------

    def read(self, where: str, content: str) -> None:
        for number in sorted(unescaped_markers(content)):
            self.leaks.append(f"{where}: <x-probe-{number}> ({self.markers.where[number]})")
        self.seen |= escaped_markers(content)

    def read_response(self, where: str, response) -> None:
        if is_html(response):
            self.read(where, response.content.decode("utf-8", "replace"))

    # --- Filling ----------------------------------------------------------------------------

    def visit(self, target, who: str) -> None:
        client = self.client(who)
        path = self.path(target)
        page = client.get(path, follow=True)
        self.read_response(f"GET {path} as {who}", page)
        self.visited.add(target.name)
        if page.status_code != 200 or not is_html(page):
            return
        here = page.request["PATH_INFO"]
        for form in page_forms(page.content.decode("utf-8", "replace")):
            action = form.action.split("?")[0] or here
            texts = [f for f in form.fields if f.kind in TEXT_KINDS]
            if action != path or not (texts or target.name in ACTIONS):
                continue
            self.send(client, target, who, form, action, texts)

    def send(self, client, target, who, form, action, texts) -> None:
        typed = {}

        def text(field):
            marker = self.markers.new(_key(target.name, field.name))
            typed[int(marker[9:-1])] = _key(target.name, field.name)
            return marker

        def other(field):
            value = VALUES.get(field.name)
            return value(text(field)) if callable(value) else value  # a marker in its words

        data = form_data(form, text, today=self.today, other=other)
        data.update(self.files(target.name, typed))
        if form.method == "get":
            response = client.get(action, data)
        elif target.name in RUN_ON_COMMIT:
            with TestCase.captureOnCommitCallbacks(execute=True):
                response = client.post(action, data)
            if response.status_code == 302:
                response = client.get(response["Location"], follow=True)
        else:
            response = client.post(action, data, follow=True)
        self.read_response(f"{form.method.upper()} {action} as {who}", response)
        self.learn(response)
        content = response.content if is_html(response) else b""
        accepted = (
            response.status_code < 400
            and b"errorlist" not in content
            and b"notice--error" not in content
        )
        for field in texts:
            key = _key(target.name, field.name)
            self.filled[key] = self.filled.get(key, False) or accepted
        if accepted:
            self.typed.update(typed)

    def files(self, name: str, typed: dict) -> dict:
        """Uploads: a roster whose names carry markers; the district's own directory."""
        if name == "roster_import":
            row = {
                "student_id": "P-1",
                "date_of_birth": "2010-05-04",
                "grade": "09",
                "school": "North High School",
                "guardian_email": "guardian@example.org",
            }
            for column in ROSTER_COLUMNS:
                row[column] = self.markers.new(f"roster file: {column}")
                typed[int(row[column][9:-1])] = f"roster file: {column}"
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
            writer.writerow(row)
            return {"file": SimpleUploadedFile("roster.csv", out.getvalue().encode(), "text/csv")}
        if name == "partner_import":
            from partnerships.services.hsds import hsds_export

            data = hsds_export(self.district)  # the walk's partner, with its markers
            return {"file": SimpleUploadedFile("directory.zip", data, "application/zip")}
        if name == "consent_new":  # (pages2) a signed form: checked by content, not name
            pdf = b"%PDF-1.4\n%signed consent form\n%%EOF\n"
            return {"form": SimpleUploadedFile("consent.pdf", pdf, "application/pdf")}
        return {}

    # --- Everything it made, read back ------------------------------------------------------

    def read_everything(self) -> None:
        for target in TARGETS:
            if target.district_url is None and target.name not in LINK_PAGES:
                continue
            for who in ("admin", "partner") if target.district_url else ("link",):
                client = self.client(who)
                path = self.path(target)
                self.read_response(f"GET {path} as {who}", client.get(path))
                if target.district_url is not None:
                    fragment = client.get(path, headers={"HX-Request": "true"})
                    self.read_response(f"GET {path} (htmx) as {who}", fragment)

    def read_mail(self) -> None:
        from schools.models import OutgoingEmail

        for email in OutgoingEmail.objects.order_by("pk"):
            self.read(f"email {email.subject!r} to {email.to}", email.body_html)
            self.emails += 1
        for message in mail.outbox:
            for content, mimetype in getattr(message, "alternatives", []):
                if "html" in mimetype:
                    self.read(f"sent email {message.subject!r}", content)
                    self.emails += 1

    def read_pdf(self, monkeypatch) -> None:
        """The MOU PDF's markup, as the document service builds it for WeasyPrint."""
        import weasyprint

        from partnerships.selectors.mous import current_version
        from partnerships.services.documents import mou_version_pdf

        captured = []

        class Captured(Exception):
            pass

        def html(*, string, **kwargs):
            captured.append(string)
            raise Captured

        monkeypatch.setattr(weasyprint, "HTML", html)
        with self._in_district():
            version = current_version(self._object("mou"))
            with contextlib.suppress(Captured):
                mou_version_pdf(version, district=self.district, language="en")
        assert captured, "the MOU PDF was not rendered"
        self.read("MOU PDF markup", captured[0])


@pytest.fixture
def walk(district, settings, monkeypatch):
    settings.ACCOUNT_RATE_LIMITS = False
    walk = Walk(district)
    by_name = {t.name: t for t in TARGETS}
    for name, who in ORDER:
        walk.visit(by_name[name], who)
    for target in TARGETS:
        if target.name in walk.visited:
            continue
        if target.district_url is not None:
            walk.visit(target, "partner" if target.name in PARTNER_PAGES else "admin")
        elif target.name in LINK_PAGES:
            walk.visit(target, "link")
    walk.read_everything()
    walk.read_mail()
    walk.read_pdf(monkeypatch)
    return walk


def test_no_marker_comes_back_unescaped_and_every_text_field_is_walked(walk):
    """One walk, three checks (the walk is what costs: it is made once)."""
    problems = []
    if walk.leaks:
        problems.append("unescaped:\n  " + "\n  ".join(walk.leaks))
    unfilled = sorted(k for k, ok in walk.filled.items() if not ok and k not in NOT_FILLED)
    if unfilled:
        problems.append(NOT_FILLED_MESSAGE + ", ".join(unfilled))
    unseen = sorted({w for n, w in walk.typed.items() if n not in walk.seen} - set(NOT_SHOWN))
    if unseen:
        problems.append("stored but shown nowhere (proves nothing): " + ", ".join(unseen))

    assert not problems, "\n".join(problems)
    assert {"partner_create: name", "mou_terms: title", "story_new: story"} <= set(walk.filled)
    assert walk.emails >= 5, "the walk's MOU and listing emails were not queued"


def test_every_signed_link_page_is_walked_or_left_out_with_a_reason():
    from tests.security.test_garbage import PATH_MAKERS

    assert set(PATH_MAKERS) == LINK_PAGES | set(NOT_LINK_PAGES)
