"""django-allauth hooks: invitation-only sign-up, and mail through the worker."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from schools.services.email import email_queue


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Invitation only: people join a district when an administrator invites them.
        return False

    def send_mail(self, template_prefix, email, context):
        # Without django.contrib.sites allauth's "site name" is empty ("Hello from !").
        site = context.get("current_site")
        context = {
            **context,
            "current_site": SimpleNamespace(name="Trellis", domain=getattr(site, "domain", "")),
        }
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mime in getattr(message, "alternatives", [])
                if mime == "text/html"
            ),
            "",
        )
        email_queue(
            to=list(message.to),
            subject=message.subject,
            body_text=message.body,
            body_html=html,
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        )
