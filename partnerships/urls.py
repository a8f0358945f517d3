"""Partnerships URLs: each area's module lists its own patterns (kept apart so areas grow
independently)."""

from partnerships.views import (
    directory,
    documents,
    exports,
    funding,
    meeting_links,
    meetings,
    stories,
    unsubscribe,
)
from partnerships.views.mous import urls as mous

_AREAS = (
    directory,
    exports,
    mous,
    documents,
    funding,
    meetings,
    meeting_links,
    stories,
    unsubscribe,
)

# Under /<district_slug>/ (config/urls.py).
urlpatterns = [pattern for area in _AREAS for pattern in area.urlpatterns]
