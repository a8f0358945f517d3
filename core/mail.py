"""Templated mail: the one way Trellis writes an email.

An email is three templates, `<prefix>-subject.txt`, `<prefix>-body.txt` and
`<prefix>-body.html`; the bodies extend `email/base.txt` and `email/base.html` (the one
layout, with the unsubscribe footer when the mail carries an unsubscribe link).
`send_templated` renders them in the recipient's language and the district's time zone
(`district_locale`) and stores one OutgoingEmail row through the outbox
(`schools.services.email.email_queue`): the worker sends it once the transaction commits.

Links in mail are always built from settings.SITE_URL (`absolute_url`), never from a
request, so a sweep and a person's request write the same link; without SITE_URL mail
is refused loudly (ImproperlyConfigured), never sent without its link or dropped.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string

from core.languages import base_code, parse_language
from schools.models import OutgoingEmail
from schools.services.email import email_queue
from schools.tenancy import district_locale


def absolute_url(path: str) -> str:
    """`path` (from reverse()) on the public address of Trellis, settings.SITE_URL.

    Raises ImproperlyConfigured when SITE_URL is empty (DEBUG gives it a default): a link
    to nowhere would reach the reader as a broken email.
    """
    if not path.startswith("/"):
        raise ValueError(f"absolute_url takes a path from the site's root, not {path[:40]!r}")
    site = (settings.SITE_URL or "").rstrip("/")
    if not site:
        raise ImproperlyConfigured(
            "SITE_URL is not set: Trellis cannot write links in mail. "
            "Set it to the public address, for example https://trellis.example.org."
        )
    return site + path


def language_code(value: str) -> str | None:
    """The site language for a stored language ("es", "es-mx", and the names written before
    languages were codes: "Spanish", "Español"); None when Trellis does not speak it.

    Read through core.languages (the one way to read a language), then by base language:
    mail to a family or contact with "es-mx" is written in Spanish.
    """
    code = parse_language(value or "")
    if not code:
        return None
    base = base_code(code)
    return base if base in {site for site, _name in settings.LANGUAGES} else None


def mail_language(stored: str | None, district=None) -> str:
    """The language of a letter to someone whose stored preference is `stored`: the one
    rule for every email. Their language when Trellis speaks it (read by `language_code`:
    "es-MX" and "Spanish" are Spanish); else the district's default; else the site's.

    A preference Trellis does not speak ("vi") is never passed on as the letter's language:
    the text would fall back to English while its `lang` said Vietnamese.
    """
    own = language_code(stored or "")
    if own:
        return own
    if district is not None:
        default = language_code(district.default_language or "")
        if default:
            return default
    return settings.LANGUAGE_CODE


def recipient_language(person, district=None) -> str:
    """The language mail to `person` is written in (`mail_language` of their preference).

    `person` is a User, a Membership (its user), a partner Contact (its preferred language,
    an ISO 639 code read by `language_code`), or None (someone Trellis knows only by
    address).
    """
    person = getattr(person, "user", person)
    return mail_language(getattr(person, "preferred_language", "") or "", district)


def link_page_language(request, person=None, district=None) -> str:
    """The language of a page reached from a link in mail to `person` (a partner contact's
    signed link): the one the reader chose on this site (the language cookie the language
    menu sets) when Trellis speaks it, else the language the mail was written in."""
    chosen = language_code(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
    return chosen or recipient_language(person, district)


def render_templated(template_prefix: str, context: dict, *, language: str, district=None):
    """(subject, body_text, body_html) of `<prefix>-subject.txt`, `-body.txt`, `-body.html`,
    rendered in `language` and the district's zone (UTC without a district)."""
    with district_locale(district, language):
        return tuple(
            render_to_string(f"{template_prefix}-{part}", context)
            for part in ("subject.txt", "body.txt", "body.html")
        )


def send_templated(
    template_prefix: str,
    *,
    to: str,
    context: dict,
    language: str | None,
    district=None,
    unsubscribe_url: str = "",
    from_email: str = "",
    attachments: list[dict] | None = None,
) -> OutgoingEmail:
    """Render one email for one recipient and queue it (sent after commit).

    - `language`: the recipient's (`recipient_language`); read by `mail_language`, so None
      or a language Trellis does not speak means the district's default, then the site's.
    - `district`: whose time zone dates are shown in; None for mail outside any district.
    - `unsubscribe_url`: for mail to someone without an account (DESIGN.md, Email). The
      footer shows it and the message carries List-Unsubscribe (RFC 8058).
    - `attachments`: text files sent with it (`email_queue`), such as an invitation.

    Refuses an empty address: a caller with nobody to write to decides that itself.
    """
    if not to or not isinstance(to, str):
        raise ValueError("send_templated needs one recipient address")
    language = mail_language(language, district)
    context = {**context, "unsubscribe_url": unsubscribe_url}
    subject, body_text, body_html = render_templated(
        template_prefix, context, language=language, district=district
    )
    return email_queue(
        to=[to],
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        unsubscribe_url=unsubscribe_url,
        district=district,
        attachments=attachments,
    )
