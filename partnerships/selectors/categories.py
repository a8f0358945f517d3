"""Service categories: the shipped taxonomy (SERVICE_TAXONOMY) plus the district's own."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from partnerships.models import SERVICE_TAXONOMY, ServiceCategory


def service_categories(district) -> list[tuple[str, str]]:
    """(code, label) of every service category: the shipped taxonomy, then the district's."""
    shipped = [(code, str(label)) for code, label in SERVICE_TAXONOMY]
    known = {code for code, _label in shipped}
    own = [
        (category.code, category.name)
        for category in ServiceCategory.objects.for_district(district).order_by("name")
        if category.code not in known
    ]
    return shipped + own


def service_labels(district) -> dict[str, str]:
    """Category code -> name: the shipped taxonomy plus the district's own categories."""
    return dict(service_categories(district))


def district_service_categories(district) -> list:
    """The categories the district added itself (ServiceCategory rows), by name."""
    return list(ServiceCategory.objects.for_district(district).order_by("name"))


def access_service_category(membership, category_id: int):
    """One of the district's own service categories, or 404."""
    return get_object_or_404(
        ServiceCategory.objects.for_district(membership.district_id), pk=category_id
    )
