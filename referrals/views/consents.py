"""Consent pages: uploading a signed form, downloading it, revoking a consent, writing down a
verbal agreement; the student page's referral, consent and disclosure sections; and the
record of disclosures a family may inspect, printed as a PDF (34 CFR 99.32)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.pdf import page_counter_css, render_pdf
from referrals.models import ConsentMethod
from referrals.rules import FORM_MAX_BYTES, IDENTIFIABLE_FIELDS, ConsenterKind
from referrals.selectors import (
    access_consent_logged,
    access_referral_logged,
    consents_of,
    referrals_visible_to,
    student_disclosures,
    student_referrals,
    verbal_agreements_of,
)
from referrals.services.consents import (
    consent_record_form,
    consent_revoke,
    verbal_agreement_record,
)
from referrals.views.referrals import add_errors, with_field_labels
from schools.capabilities import can, requires
from schools.models import AccessLog
from schools.selectors import access_student, partners_in

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# A record of disclosures longer than this is a mistake, not a student's history.
PDF_MAX_PAGES = 50


# --- Uploading a signed form -----------------------------------------------------------------


class ConsentFormUpload(forms.Form):
    """A signed consent form and what it says. The rules (who may sign, dates, the file's
    content) are the service's; this is the shape of what was typed."""

    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner"),
        queryset=None,
        empty_label=gettext_lazy("Choose…"),
        help_text=gettext_lazy("The organization the form allows the school to share with."),
        error_messages={"required": gettext_lazy("Choose the partner the form names.")},
    )
    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Records the family agreed to share"),
        choices=IDENTIFIABLE_FIELDS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose the records the family agreed to share.")},
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("As the form states it, e.g. “Counseling services at school”."),
        error_messages={"required": gettext_lazy("Say what the records are shared for.")},
    )
    consenter_kind = forms.ChoiceField(
        label=gettext_lazy("Signed by"),
        choices=ConsenterKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Say whether a parent or guardian or the student signed.")
        },
    )
    consenter_name = forms.CharField(
        label=gettext_lazy("Name of the person who signed"),
        max_length=200,
        error_messages={"required": gettext_lazy("Give the name of the person who signed.")},
    )
    signed_on = forms.DateField(
        label=gettext_lazy("Date signed"),
        widget=_DATE,
        error_messages={"required": gettext_lazy("Give the date the form was signed.")},
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        widget=_DATE,
        help_text=gettext_lazy("The last day the consent allows sharing, as the form says."),
        error_messages={"required": gettext_lazy("Give the last day the consent is valid.")},
    )
    form = forms.FileField(
        label=gettext_lazy("The signed form"),
        help_text=gettext_lazy("A PDF, JPEG or PNG file of at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={"required": gettext_lazy("Upload the signed consent form.")},
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners_in(district)


class _CappedUpload(FileUploadHandler):
    """Skips a file past the size cap instead of storing all of it first."""

    too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > FORM_MAX_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _referral_of(request, student):
    """The referral named by ?referral= when it is this student's and the viewer's, else
    None (a stale or tampered link just loses its prefill)."""
    try:
        referral_id = int(request.GET.get("referral", ""))
    except ValueError:
        return None
    return (
        referrals_visible_to(request.membership)
        .filter(pk=referral_id, student_id=student.pk)
        .select_related("partner")
        .first()
    )


@requires("consent.record")
@csrf_exempt  # checked in _consent_upload, once the size cap is installed
def consent_new(request, district_slug, student_id):
    """Upload a signed consent form for a student (?referral= prefills it from a referral
    and returns to it)."""
    capped = _CappedUpload(request)
    if request.method == "POST":
        request.upload_handlers.insert(0, capped)
    return _consent_upload(request, district_slug, student_id, capped)


@csrf_protect
def _consent_upload(request, district_slug, student_id, capped):
    student = access_student(request, student_id)
    referral = _referral_of(request, student)
    today = request.district.today()
    initial = {"consenter_kind": ConsenterKind.GUARDIAN, "signed_on": today}
    if referral is not None:
        initial.update(
            {
                "partner": referral.partner,
                "fields": list(referral.shared_fields),
                "purpose": _("Referral %(reference)s") % {"reference": referral.reference},
            }
        )
    posted = request.method == "POST"
    form = ConsentFormUpload(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial=initial,
        district=request.district,
    )
    if posted and capped.too_large:
        form.is_valid()
        form.add_error(
            "form",
            _("The file is larger than %(size)s MB. Scan the form at a lower resolution.")
            % {"size": FORM_MAX_BYTES // (1024 * 1024)},
        )
    elif form.is_bound and form.is_valid():
        try:
            consent = consent_record_form(
                by=request.membership, student=student, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Consent %(reference)s recorded for %(partner)s, valid until %(until)s.")
                % {
                    "reference": consent.reference,
                    "partner": consent.partner.name,
                    "until": consent.valid_until.isoformat(),
                },
            )
            if referral is not None:
                return redirect("referral_detail", district_slug, referral.pk)
            return redirect(
                reverse("student_detail", args=[district_slug, student.pk]) + "#consents"
            )
    context = {"student": student, "referral": referral, "form": form}
    return render(request, "referrals/consents/new.html", context)


# --- The form, revoking ----------------------------------------------------------------------


@requires("consent.record")
def consent_form(request, district_slug, consent_id):
    """The uploaded form itself, as a download; written to the access log as an export."""
    # 404 before anything else, whatever the method; a refused method shows nothing.
    shown = request.method in ("GET", "HEAD")
    consent = access_consent_logged(
        request, consent_id, action=AccessLog.Action.EXPORT if shown else None, with_form=shown
    )
    if not shown:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if consent.method != ConsentMethod.SIGNED_FORM or consent.form is None:
        raise Http404("no uploaded form")
    response = HttpResponse(bytes(consent.form), content_type=consent.form_content_type)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        consent.form_content_type, "bin"
    )
    # The stored name may be anything a browser sent: the download is named by reference.
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class RevokeForm(forms.Form):
    revoked_by_name = forms.CharField(
        label=gettext_lazy("Who revoked it"),
        max_length=200,
        help_text=gettext_lazy("The name of the parent, guardian or student who withdrew it."),
        error_messages={"required": gettext_lazy("Give the name of the person who revoked it.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@requires("consent.record")
def consent_revoke_view(request, district_slug, consent_id):
    """Record that a consent was revoked: a confirmation page, then the revocation."""
    consent = access_consent_logged(request, consent_id)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            consent_revoke(by=request.membership, consent=consent, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Consent %(reference)s revoked. Nothing more will be sent under it.")
                % {"reference": consent.reference},
            )
            return redirect(
                reverse("student_detail", args=[district_slug, consent.student_id]) + "#consents"
            )
    labels = dict(IDENTIFIABLE_FIELDS)
    context = {
        "consent": consent,
        "records": [labels.get(code, code) for code in consent.fields],
        "revocation": consent.revocation if _has_revocation(consent) else None,
        "form": form,
    }
    return render(request, "referrals/consents/revoke.html", context)


def _has_revocation(consent) -> bool:
    try:
        return consent.revocation is not None
    except consent.__class__.revocation.RelatedObjectDoesNotExist:
        return False


# --- Verbal agreement ------------------------------------------------------------------------


class VerbalAgreementForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was agreed"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Who agreed, when, how (phone, in person), and to what."),
        error_messages={
            "required": gettext_lazy("Write down what was agreed, with whom and when.")
        },
    )


@requires("consent.record")
def verbal_agreement_new(request, district_slug, referral_id):
    """Write down a family's spoken agreement to a referral. It is a note: it never allows
    sending (FERPA asks for a signed and dated consent)."""
    referral = access_referral_logged(request, referral_id)
    form = VerbalAgreementForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            verbal_agreement_record(
                by=request.membership,
                student=referral.student,
                note=form.cleaned_data["note"],
                partner=referral.partner,
                referral=referral,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Verbal agreement noted. It does not allow sending: a signed consent is "
                    "still needed."
                ),
            )
            return redirect("referral_detail", district_slug, referral.pk)
    return render(request, "referrals/consents/verbal.html", {"referral": referral, "form": form})


# --- The record of disclosures (PDF) ---------------------------------------------------------


@requires("disclosures.print")
def student_disclosures_pdf(request, district_slug, student_id):
    """The student's record of disclosures (FERPA 34 CFR 99.32) as a PDF, for a family who
    asks to inspect it; written to the access log as a print."""
    shown = request.method in ("GET", "HEAD")
    student = access_student(request, student_id, action=AccessLog.Action.PRINT if shown else None)
    if not shown:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    disclosures = with_field_labels(student_disclosures(request.membership, student))
    context = {
        "district": request.district,
        "student": student,
        "disclosures": disclosures,
        "printed_on": request.district.today(),
        "printed_by": request.membership.user.full_name,
        "page_counter": page_counter_css(),
    }
    pdf = render_pdf("referrals/pdf/disclosures.html", context, max_pages=PDF_MAX_PAGES)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="record-of-disclosures-{student.pk}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Student page sections (registered in ReferralsConfig.ready) -----------------------------


def student_referrals_section(request, student) -> dict:
    """The student's referrals (one query)."""
    return {
        "referrals": student_referrals(request.membership, student),
        "can_create": can(request.membership, "referrals.create"),
    }


def student_consents_section(request, student) -> dict:
    """The student's consents, revoked ones marked with who revoked them and why, and the
    verbal agreements noted (two queries)."""
    labels = dict(IDENTIFIABLE_FIELDS)
    consents = consents_of(request.membership, student)
    today = request.district.today()
    for consent in consents:
        consent.record_labels = [labels.get(code, code) for code in consent.fields]
        consent.has_form = consent.method == ConsentMethod.SIGNED_FORM
        consent.revoked = _has_revocation(consent)
        consent.expired = consent.valid_until < today
    return {
        "consents": consents,
        # (pages2) Notes, never consents: listed apart so no one reads them as one.
        "verbal_agreements": verbal_agreements_of(request.membership, student),
    }


def student_disclosures_section(request, student) -> dict:
    """The student's record of disclosures (one query), with the PDF for administrators."""
    return {
        "disclosures": with_field_labels(student_disclosures(request.membership, student)),
        "can_print": can(request.membership, "disclosures.print"),
    }


urlpatterns = [
    path("students/<int:student_id>/consents/new/", consent_new, name="consent_new"),
    path(
        "students/<int:student_id>/disclosures.pdf",
        student_disclosures_pdf,
        name="student_disclosures_pdf",
    ),
    path("consents/<int:consent_id>/form/", consent_form, name="consent_form"),
    path("consents/<int:consent_id>/revoke/", consent_revoke_view, name="consent_revoke"),
    path("referrals/<int:referral_id>/verbal/", verbal_agreement_new, name="verbal_agreement_new"),
]
public_urlpatterns: list = []
