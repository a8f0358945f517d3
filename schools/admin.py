"""Platform staff's tools: creating districts and fixing accounts. Districts run themselves.

The site itself (schools/admin_site.py) requires MFA and audits every change.
"""

import allauth.mfa.admin  # noqa: F401  (registers allauth's Authenticator admin, replaced below)
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from schools.models import District, OutgoingEmail, Role, School, User
from schools.services.people import invitation_create
from schools.tenancy import tenant_context


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "preferred_language"]}),
        (_("Platform access"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: deleting a person would cascade into the admin log and
        # orphan their history in every district.
        return False


# allauth's own admin shows `data`, the TOTP secret and recovery-code seed, in clear and
# lets staff edit it. Platform staff may see that a person has an authenticator, never
# its secret, and change nothing.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data").select_related("user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SchoolInline(admin.TabularInline):
    model = School
    extra = 0


def _product_prefixes() -> set[str]:
    """First path segments the product's own URLs use (admin, accounts, invitations, ...)."""
    from django.urls import get_resolver

    prefixes = set()
    for pattern in get_resolver().url_patterns:
        first = str(pattern.pattern).lstrip("^").split("/")[0].rstrip("$")
        if first and "<" not in first:
            prefixes.add(first.lower())
    return prefixes


class DistrictForm(forms.ModelForm):
    class Meta:
        model = District
        fields = [
            "name",
            "slug",
            "time_zone",
            "default_language",
            "mfa_required",
            "student_self_consent_age",
            "referral_response_days",
            "crisis_protocol",
            "crisis_protocol_es",
        ]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug.lower() in _product_prefixes():
            raise forms.ValidationError(
                _("“%(slug)s” is used by Trellis itself; choose another."), params={"slug": slug}
            )
        return slug


class DistrictAddForm(DistrictForm):
    first_admin_email = forms.EmailField(
        label=_("First administrator's email"),
        max_length=254,
        help_text=_(
            "They are emailed an invitation to administer the district, and invite everyone "
            "else from there."
        ),
    )


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    """Districts and their schools. Schools are tenant rows under row-level security, so
    the change page runs inside the district's context; creating a district invites its
    first administrator."""

    form = DistrictForm
    list_display = ["name", "slug", "time_zone", "default_language"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SchoolInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DistrictAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is None and "first_admin_email" in fields:
            fields.remove("first_admin_email")
            fields.insert(fields.index("slug") + 1 if "slug" in fields else 0, "first_admin_email")
        return fields

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Enter the district for reading and writing its schools, and render the page
        # (the inline formsets query lazily) before leaving it.
        district_id = None
        if object_id and str(object_id).isdigit() and int(object_id) < 2**63:
            district_id = int(object_id)
        with tenant_context(district_id):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def save_related(self, request, form, formsets, change):
        with tenant_context(form.instance):
            super().save_related(request, form, formsets, change)
            if not change:
                invitation_create(
                    by=None,
                    district=form.instance,
                    email=form.cleaned_data["first_admin_email"],
                    role=Role.ADMIN,
                )

    def has_delete_permission(self, request, obj=None):
        # A district's rows are hidden from the admin by row-level security, so Django
        # could not list what a delete would take with it. Districts are not deleted here.
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Delivery state only (bodies and headers hold one-time links); failed mail can be
    sent again with the action."""

    list_display = ["subject", "status", "failure", "attempts", "resends", "created_at", "sent_at"]
    list_filter = ["status", "failure"]
    search_fields = ["subject", "message_id"]
    fields = readonly_fields = [
        "to",
        "refused",
        "from_email",
        "subject",
        "message_id",
        "status",
        "failure",
        "last_error",
        "attempts",
        "resends",
        "first_attempt_at",
        "due_at",
        "sent_at",
        "created_at",
        "updated_at",
    ]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected undelivered messages again"))
    def send_again(self, request, queryset):
        from schools.services.email import email_retry

        count = sum(email_retry(message) for message in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again.",
                "%(count)d messages will be sent again.",
                count,
            )
            % {"count": count},
        )
