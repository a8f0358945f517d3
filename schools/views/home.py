from django.shortcuts import render

from schools.capabilities import requires
from schools.selectors import schools_in


@requires("district.view")
def district_home(request, district_slug):
    """The district's home page; later issues fill it with each role's work."""
    return render(request, "schools/home.html", {"schools": schools_in(request.district)})
