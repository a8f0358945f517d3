"""Resolve `/<district-slug>/...` to the district and the person's membership."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login

from schools.selectors import access_membership


class TenantMiddleware:
    """Puts `request.district` and `request.membership` on every district URL.

    District URLs are those whose pattern captures `district_slug`. An anonymous
    visitor is sent to sign in; a signed-in person who is not an active member gets
    404. Everything else (sign-in, health, admin) has neither attribute set to a value.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.district = None
        request.membership = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("district_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = access_membership(request.user, slug)
        request.membership = membership
        request.district = membership.district
        if request.user.last_district_slug != slug:
            request.user.last_district_slug = slug
            request.user.save(update_fields=["last_district_slug"])
        return None
