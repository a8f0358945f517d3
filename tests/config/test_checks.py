"""The system check that every district page declares its capability (config/checks.py)."""

from __future__ import annotations

import re

from django.core.checks import Tags, run_checks
from django.http import HttpResponse
from django.urls import include, path, re_path

from config.checks import district_capability_problems
from schools.capabilities import requires


def undeclared(request, district_slug=None, **kwargs):
    return HttpResponse("no capability asked")


declared = requires("district.view")(undeclared)


def mistyped(request, district_slug=None):
    return HttpResponse("a capability the table does not know")


mistyped.capability = "reports.veiw"

# The URLconf of the last test: one undeclared district page among declared ones, and
# pages outside any district that need no capability.
urlpatterns = [
    path("healthz", undeclared, name="outside_healthz"),
    path("p/verify/<str:token>/", undeclared, name="outside_signed_link"),
    path(
        "<slug:district_slug>/",
        include(
            [
                path("", declared, name="declared_home"),
                path("reports/", undeclared, name="undeclared_reports"),
                path("deep/", include([path("<int:report_id>/", declared, name="declared_deep")])),
            ]
        ),
    ),
]


def codes(problems) -> list[tuple[str, str]]:
    """(id, URL name) of each problem."""
    return [
        (problem.id, re.search(r"\((\w+)\) (?:has|declares)", problem.msg).group(1))
        for problem in problems
    ]


def test_the_projects_district_pages_all_declare_their_capability():
    from django.urls import get_resolver

    assert district_capability_problems(get_resolver().url_patterns) == []


def test_a_district_page_without_a_capability_is_an_error():
    problems = district_capability_problems(urlpatterns)

    assert codes(problems) == [("trellis.E001", "undeclared_reports")]
    assert "'<slug:district_slug>/reports/'" in problems[0].msg
    assert "@requires" in problems[0].hint


def test_a_regex_district_prefix_and_nested_includes_are_walked_too():
    patterns = [
        re_path(
            r"^(?P<district_slug>[-\w]+)/",
            include([path("a/", include([path("b/", undeclared, name="nested")]))]),
        )
    ]

    assert codes(district_capability_problems(patterns)) == [("trellis.E001", "nested")]


def test_a_capability_the_table_does_not_know_is_an_error():
    patterns = [path("<slug:district_slug>/typo/", mistyped, name="typo")]

    assert codes(district_capability_problems(patterns)) == [("trellis.E002", "typo")]


def test_the_check_is_registered_and_reads_the_root_urlconf(settings):
    settings.ROOT_URLCONF = __name__

    problems = [p for p in run_checks(tags=[Tags.urls]) if p.id.startswith("trellis.")]

    assert codes(problems) == [("trellis.E001", "undeclared_reports")]
