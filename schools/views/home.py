from django.shortcuts import render

from schools.capabilities import can, requires
from schools.getting_started import getting_started_panel
from schools.inbox import INBOX_LIMIT, inbox_for
from schools.navigation import home_panels_for
from schools.selectors import schools_in


@requires("district.view")
def district_home(request, district_slug):
    """The district's home page: the administrator's getting-started checklist while a step
    is left (schools.getting_started), the inbox of what waits for the viewer, newest first
    (schools.inbox), then the panels each app registers (schools.navigation) that the viewer
    may see."""
    getting_started = getting_started_panel(request)
    inbox = inbox_for(request)
    panels = home_panels_for(request)
    waiting = (
        getting_started is not None
        or bool(inbox)
        or any(not panel["reference"] for panel in panels)
    )
    context = {
        "panels": panels,
        "waiting": waiting,
        "getting_started": getting_started,
        "inbox": inbox,
        "inbox_limit": INBOX_LIMIT,
    }
    return render(request, "schools/home.html", context)


def schools_panel(request) -> dict:
    """The home page's list of the district's schools (registered in SchoolsConfig)."""
    return {
        "schools": schools_in(request.district),
        # An administrator adds the first school here; others are told who does.
        "can_add": can(request.membership, "district.settings"),
    }
