"""MOUs that are right when signed (issue 16): placeholders block submission and signing,
"in force" is one rule, every signer gets the executed PDF once, a partner who asked for
changes still sees the MOU, the PDF is tagged, and the document has one language."""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass

import pytest
from django.core import mail
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from partnerships.models import MOU, MOUDocument, MOUSignature, MOUStatus
from partnerships.mou_rules import (
    in_force_q,
    mou_in_force,
    unfilled_placeholders,
    version_sections,
)
from partnerships.selectors.mous import current_version
from partnerships.services.documents import mou_version_pdf
from partnerships.services.mous.common import (
    MOUAlreadySigned,
    MOUPlaceholdersLeft,
    MOUTransitionRefused,
)
from partnerships.services.mous.drafting import mou_section_update
from partnerships.services.mous.workflow import (
    mou_approve,
    mou_partner_comment,
    mou_sign,
    mou_submit,
)
from referrals.services.loop import mou_in_force as loop_mou_in_force
from referrals.suggestions import partner_suggestions
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, MOUFactory, PartnerFactory
from tests.partnerships.mou_setup import Cast, advance, draft, force_status, review_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(district):
    return Cast(district)


def signed_in(client, membership):
    client.force_login(membership.user)
    return client


def url(name, mou, *args):
    return reverse(name, args=[mou.district.slug, mou.pk, *args])


def status_of(mou) -> str:
    with tenant_context(mou.district_id):
        return MOU.objects.get(pk=mou.pk).status


def fill_everything(cast, mou):
    """Answer every bracketed choice left, section by section, as a coordinator would."""
    with tenant_context(mou.district_id):
        version = current_version(mou)
        for key, text in version.sections.items():
            if "[" in text:
                version = mou_section_update(
                    by=cast.coordinator,
                    mou=mou,
                    section=key,
                    text=re.sub(r"\[[^\]]*\]", "agreed", text),
                    based_on=version.number,
                )


# --- Placeholders -----------------------------------------------------------------------------


def test_the_shipped_templates_choices_block_submission_with_where_they_are(cast):
    mou = draft(cast.coordinator, partner=cast.partner, answers={})

    with tenant_context(cast.district), pytest.raises(MOUPlaceholdersLeft) as refused:
        mou_submit(by=cast.coordinator, mou=mou)

    places = refused.value.places
    assert ("8. Insurance and liability", "[amount]") in places
    assert ("10. Evaluation and measurable goals", "[month / quarter]") in places
    assert any(
        p == "[free of charge / funded by the District / funded by a grant]" for _s, p in places
    )
    assert "8. Insurance and liability: [amount]" in refused.value.messages
    assert status_of(mou) == MOUStatus.DRAFT


def test_a_term_left_empty_shows_as_a_placeholder_and_blocks_too(cast):
    mou = draft(cast.coordinator, partner=cast.partner, end_date=None)

    with tenant_context(cast.district), pytest.raises(MOUPlaceholdersLeft) as refused:
        mou_submit(by=cast.coordinator, mou=mou)

    assert refused.value.places == [("11. Term, renewal and termination", "[end date]")]


def test_once_every_placeholder_is_filled_the_draft_goes_to_review(cast):
    mou = draft(cast.coordinator, partner=cast.partner, answers={})
    fill_everything(cast, mou)

    with tenant_context(cast.district):
        mou_submit(by=cast.coordinator, mou=mou)
        assert unfilled_placeholders(version_sections(current_version(mou), {})) == []
    assert status_of(mou) == MOUStatus.INTERNAL_REVIEW


def test_approving_and_signing_refuse_an_mou_with_placeholders(cast):
    mou = draft(cast.coordinator, partner=cast.partner, answers={})
    force_status(mou, MOUStatus.INTERNAL_REVIEW)
    with tenant_context(cast.district), pytest.raises(MOUPlaceholdersLeft):
        mou_approve(by=cast.admin, mou=mou)
    assert status_of(mou) == MOUStatus.INTERNAL_REVIEW

    force_status(mou, MOUStatus.SENT)
    with tenant_context(cast.district), pytest.raises(MOUPlaceholdersLeft):
        mou_sign(
            by=cast.partner_member,
            mou=mou,
            version_number=1,
            name="Pat Partner",
            title="Director",
            ip_address=None,
        )
    with tenant_context(cast.district):
        assert not MOUSignature.objects.filter(version__mou=mou).exists()
    assert status_of(mou) == MOUStatus.SENT


def test_submitting_on_the_page_lists_the_placeholders_next_to_the_button(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner, answers={})
    client = signed_in(client, cast.coordinator)

    response = client.post(url("mou_submit", mou))

    assert response.status_code == 200
    page = response.content.decode()
    listing = page[page.index('id="mou-placeholders"') :]
    listing = listing[: listing.index("</div>")]
    assert "8. Insurance and liability: <code>[amount]</code>" in listing
    assert "[month / quarter]" in listing
    assert page.index('id="mou-placeholders"') < page.index("Submit for internal review")
    assert status_of(mou) == MOUStatus.DRAFT

    fill_everything(cast, mou)
    response = client.post(url("mou_submit", mou))
    assert response.status_code == 302
    assert status_of(mou) == MOUStatus.INTERNAL_REVIEW


def test_the_mou_page_warns_of_placeholders_before_submitting(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner, answers={})
    page = signed_in(client, cast.coordinator).get(url("mou_detail", mou)).content.decode()
    assert 'id="mou-placeholders"' in page and "[amount]" in page

    ready = draft(cast.coordinator, partner=cast.partner)
    page = client.get(url("mou_detail", ready)).content.decode()
    assert 'id="mou-placeholders"' not in page


# --- In force: one rule -----------------------------------------------------------------------

TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "start", "end", "expected"),
    [
        ("active", None, None, True),
        ("active", TODAY, TODAY, True),
        (
            "expiring",
            TODAY - datetime.timedelta(days=300),
            TODAY + datetime.timedelta(days=20),
            True,
        ),
        ("active", TODAY + datetime.timedelta(days=1), None, False),  # signed, not started
        ("active", None, TODAY - datetime.timedelta(days=1), False),  # its term is over
        ("partner_signed", None, None, False),
        ("sent", None, None, False),
        ("expired", None, None, False),
        ("terminated", TODAY - datetime.timedelta(days=5), None, False),
    ],
)
def test_in_force_predicate_and_query_agree(district, status, start, end, expected):
    with tenant_context(district):
        mou = MOUFactory(district=district, status=status, start_date=start, end_date=end)
        assert mou_in_force(mou, TODAY) is expected
        assert MOU.objects.filter(in_force_q(TODAY), pk=mou.pk).exists() is expected
        partner_side = mou.partner.__class__.objects.filter(
            in_force_q(TODAY, prefix="mous"), pk=mou.partner_id
        )
        assert partner_side.exists() is expected
        assert (loop_mou_in_force(mou.partner_id, district.pk, TODAY) is not None) is expected


def test_suggestions_do_not_count_an_mou_whose_term_has_not_started(district, cast):
    today = district.today()
    later = PartnerFactory(district=district, name="Starts Later")
    now = PartnerFactory(district=district, name="In Force Now")
    with tenant_context(district):
        MOUFactory(district=district, partner=later, start_date=today + datetime.timedelta(days=30))
        MOUFactory(district=district, partner=now)
        suggestions = partner_suggestions(
            cast.coordinator,
            school=None,
            services=[],
            language="",
            payment=[],
            telehealth_ok=True,
            partner_ids=[later.pk, now.pk],
        )
    flags = {s.partner.name: s.partner.mou_in_force for s in suggestions}
    assert flags == {"Starts Later": False, "In Force Now": True}


def test_a_signed_mou_not_started_says_so_on_its_page_and_in_the_list(client, cast):
    start = cast.district.today() + datetime.timedelta(days=40)
    mou = draft(
        cast.coordinator,
        partner=cast.partner,
        start_date=start,
        end_date=start + datetime.timedelta(days=300),
    )
    advance(mou, cast, MOUStatus.ACTIVE)
    client = signed_in(client, cast.coordinator)
    with translation.override("en"):
        from django.utils import formats

        when = formats.date_format(start, "DATE_FORMAT")

    page = client.get(url("mou_detail", mou)).content.decode()
    listing = client.get(reverse("mou_list", args=[cast.district.slug])).content.decode()

    assert f"Signed, starts on {when}" in page
    assert f"Signed, starts on {when}" in listing


# --- The executed PDF, mailed to every signer once ---------------------------------------------


@dataclass
class Letter:
    to: list
    subject: str
    body_text: str


def executed_mail() -> list[Letter]:
    """The completion emails so far: one per OutgoingEmail row, read as sent (mail.outbox)
    once delivered. The body's greeting shows the language."""

    def completion(subject: str) -> bool:  # in English or in Spanish
        return "both parties" in subject or "ambas partes" in subject

    queued = [m for m in OutgoingEmail.objects.order_by("pk") if completion(m.subject)]
    sent = [m for m in mail.outbox if completion(m.subject)]
    if not sent:  # not delivered yet: the queued rows are the letters
        return [Letter(m.to, m.subject, m.body_text) for m in queued]
    assert len(sent) == len(queued)  # each queued letter sent once
    return [Letter(m.to, m.subject, m.body) for m in sent]


def test_every_signer_gets_one_email_with_the_executed_pdf(
    cast, django_capture_on_commit_callbacks
):
    mou = draft(cast.coordinator, partner=cast.partner)
    with django_capture_on_commit_callbacks(execute=True):
        advance(mou, cast, MOUStatus.ACTIVE)

    mails = executed_mail()
    assert sorted(m.to[0] for m in mails) == sorted(
        [cast.admin.user.email.lower(), cast.partner_member.user.email.lower()]
    )
    pdfs = reverse("mou_pdfs", args=[cast.district.slug, mou.pk])
    assert all(pdfs in m.body_text for m in mails)
    with tenant_context(cast.district):
        (document,) = MOUDocument.objects.filter(version__mou=mou)
        assert document.status == MOUDocument.Status.READY  # rendered once committed

    # A second click, a retry: refused, and nobody is mailed again.
    with tenant_context(cast.district), pytest.raises(MOUAlreadySigned):
        mou_sign(
            by=None,
            mou=mou,
            version_number=1,
            name="Pat",
            title="Director",
            ip_address=None,
        )
    with tenant_context(cast.district), pytest.raises(MOUTransitionRefused):
        mou_sign(
            by=cast.admin,
            mou=mou,
            version_number=1,
            name="Ada",
            title="Superintendent",
            ip_address=None,
        )
    assert len(executed_mail()) == 2


def test_a_contact_who_signed_through_the_link_gets_the_pdf_in_their_language(
    client, cast, django_capture_on_commit_callbacks
):
    contact = ContactFactory(
        district=cast.district,
        partner=cast.partner,
        name="Rosa Jiménez",
        email="rosa@partner.example",
        roles=["intake"],
        preferred_language="es",
    )
    mou = draft(cast.coordinator, partner=cast.partner)
    advance(mou, cast, MOUStatus.SENT)
    with tenant_context(cast.district):
        mou_sign(
            by=None,
            mou=mou,
            version_number=1,
            name="rosa  jiménez",
            title="Directora",
            ip_address=None,
        )
    with django_capture_on_commit_callbacks(execute=True):
        advance(mou, cast, MOUStatus.ACTIVE)

    mails = executed_mail()
    assert sorted(m.to[0] for m in mails) == sorted([cast.admin.user.email.lower(), contact.email])
    (to_rosa,) = [m for m in mails if m.to[0] == contact.email]
    # In her preferred language.
    assert "Trellis, en nombre de" in to_rosa.body_text
    assert "Firmado por ambas partes" in to_rosa.subject
    (to_admin,) = [m for m in mails if m.to[0] != contact.email]
    assert "Trellis, on behalf of" in to_admin.body_text
    link = re.search(r"https?://\S+/p/mous/review/[^/\s]+/pdf/", to_rosa.body_text).group(0)
    response = client.get(link[link.index("/p/") :])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # The contact the link was sent to but who did not sign gets nothing.
    assert cast.contact.email.lower() not in [m.to[0] for m in mails]


def test_the_pdf_link_of_an_unsigned_mou_is_not_valid(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    advance(mou, cast, MOUStatus.SENT)
    (link,) = review_links()[-1:]
    response = client.get(link[link.index("/p/") :] + "pdf/")
    assert response.status_code == 404


# --- A partner who asked for changes ----------------------------------------------------------


def test_a_partner_who_asked_for_changes_still_sees_the_mou_with_its_state(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    never_sent = draft(cast.coordinator, partner=cast.partner, title="Still internal")
    advance(mou, cast, MOUStatus.SENT)
    with tenant_context(cast.district):
        mou_partner_comment(
            by=cast.partner_member,
            mou=mou,
            version_number=1,
            author_name="Pat",
            comment="Please name the schools.",
        )
        mou_section_update(
            by=cast.coordinator, mou=mou, section="purpose", text="Internal rewrite.", based_on=1
        )
    client = signed_in(client, cast.partner_member)

    listing = client.get(reverse("mou_list", args=[cast.district.slug])).content.decode()
    page = client.get(url("mou_detail", mou))

    assert mou.title in listing and "Changes requested" in listing
    assert never_sent.title not in listing
    assert page.status_code == 200
    body = page.content.decode()
    assert "Changes requested" in body and "You asked for changes" in body
    assert "Internal rewrite." not in body  # version 2 was never sent to the partner
    assert client.get(url("mou_detail", mou) + "?version=2").status_code == 404
    assert client.get(url("mou_detail", never_sent)).status_code == 404


# --- The PDF: tagged, in the MOU's language, downloaded from the top of the page ----------------


def test_the_mou_pdf_is_tagged_for_screen_readers(cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    with tenant_context(cast.district):
        data = mou_version_pdf(current_version(mou), district=cast.district, language="en")
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"


def test_the_document_is_in_the_mous_language_whatever_the_reader_uses(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner, language="es")
    advance(mou, cast, MOUStatus.SENT)
    cast.partner_member.user.preferred_language = "en"
    cast.partner_member.user.save(update_fields=["preferred_language"])
    with tenant_context(cast.district):
        assert MOU.objects.get(pk=mou.pk).language == "es"
        text = current_version(mou).sections["purpose"]
    assert text.startswith("Este Memorando de Entendimiento")

    page = signed_in(client, cast.partner_member).get(url("mou_detail", mou)).content.decode()
    assert 'lang="es">1. Propósito y objetivos</h3>' in page
    assert "Where this MOU stands" in page  # the interface stays in the reader's language

    with tenant_context(cast.district):
        data = mou_version_pdf(current_version(mou), district=cast.district, language="es")
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Propósito y objetivos" in " ".join(words.split())


def test_the_draft_form_chooses_the_language(client, cast, district):
    client = signed_in(client, cast.coordinator)
    form = client.get(reverse("mou_create", args=[district.slug])).content.decode()
    assert 'name="language"' in form
    response = client.post(
        reverse("mou_create", args=[district.slug]),
        {
            "partner": cast.partner.pk,
            "template": "",
            "language": "es",
            "title": "En español",
            "response_days": "5",
        },
    )
    assert response.status_code == 302
    with tenant_context(district):
        mou = MOU.objects.get(title="En español")
        assert mou.language == "es"
        assert current_version(mou).sections["purpose"].startswith("Este Memorando")


def test_the_pdf_download_sits_at_the_top_of_the_page(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    page = signed_in(client, cast.coordinator).get(url("mou_detail", mou)).content.decode()
    top = page.index('id="mou-pdf-top"')
    assert top < page.index("Where this MOU stands")
    assert page.index('id="mou-pdf-panel"') < page.index('id="terms"')


def test_partner_side_rule_uses_the_same_q(district):
    # in_force_q through a relation reads the same fields as on MOU itself.
    q = in_force_q(TODAY, prefix="mou")
    assert isinstance(q, Q)
    assert "mou__status__in" in str(q) and "mou__end_date__gte" in str(q)
