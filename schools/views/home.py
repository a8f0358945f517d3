from django.shortcuts import render

from schools.capabilities import requires
from schools.navigation import home_panels_for
from schools.selectors import schools_in


@requires("district.view")
def district_home(request, district_slug):
    """The district's home page: the panels each app registers (schools.navigation) that
    the viewer may see."""
    panels = home_panels_for(request)
    waiting = any(not panel["reference"] for panel in panels)
    return render(request, "schools/home.html", {"panels": panels, "waiting": waiting})


def schools_panel(request) -> dict:
    """The home page's list of the district's schools (registered in SchoolsConfig)."""
    return {"schools": schools_in(request.district)}
