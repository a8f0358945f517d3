"""htmx is answered one way (core.htmx): the page's inline fragment for htmx, the whole page
otherwise, and both say `Vary: HX-Request`, so no cache (the browser's included, on the
back button) hands out the fragment for the page or the page for the fragment.

The walk requests every district URL as an administrator, with and without HX-Request;
wherever the htmx answer is a fragment, both answers must vary on the header. A page that
starts answering htmx with a fragment is covered the moment its URL exists.
"""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, MOUVersionFactory, enable_totp
from tests.security.urls import district_urls, make_values

HTMX = {"HX-Request": "true"}

# Pages known to answer htmx with a fragment: the walk must find at least these, so it
# cannot pass by finding none.
KNOWN_FRAGMENTS = {"people_list", "student_list", "partner_list", "mou_list", "mou_pdfs"}


def _varies_on_htmx(response) -> bool:
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    return "hx-request" in vary


def _is_fragment(response) -> bool:
    return (
        response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and b"<html" not in response.content
    )


@pytest.fixture
def admin(client, district):
    admin = MembershipFactory(district=district, role="admin")
    enable_totp(admin.user)
    client.force_login(admin.user)
    return admin


def test_every_page_that_answers_htmx_with_a_fragment_varies_on_hx_request(client, district, admin):
    # A draft with a version: its sections can be edited inline (an active MOU's cannot).
    draft = MOUVersionFactory(district=district, mou__district=district, mou__status="draft").mou
    fragments, missing_vary = set(), []
    for url in district_urls():
        values = make_values(url.arguments, district)
        if "mou_id" in values:
            values["mou_id"] = draft.pk
        path = url.build(district.slug, values)
        page, fragment = client.get(path), client.get(path, headers=HTMX)
        if not _is_fragment(fragment):
            continue
        fragments.add(url.name)
        for kind, response in (("page", page), ("fragment", fragment)):
            if not _varies_on_htmx(response):
                missing_vary.append(f"{url.name} ({kind}): Vary={response.get('Vary')!r}")

    assert KNOWN_FRAGMENTS | {"mou_section"} <= fragments
    assert not missing_vary, "\n".join(missing_vary)


@pytest.mark.parametrize(
    "name, query",
    [
        ("people_list", "?q=nobody&role=admin"),
        ("mou_list", "?status=draft"),
        ("mou_detail", "?section=purpose"),  # the inline editor's Cancel
    ],
)
def test_filtered_lists_and_a_section_vary_on_hx_request_both_ways(
    client, district, admin, name, query
):
    draft = MOUVersionFactory(district=district, mou__district=district, mou__status="draft").mou
    url = next(u for u in district_urls() if u.name == name)
    values = make_values(url.arguments, district)
    values.update({"mou_id": draft.pk} if "mou_id" in values else {})
    path = url.build(district.slug, values) + query

    page, fragment = client.get(path), client.get(path, headers=HTMX)

    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.content and b"<html" not in fragment.content
    assert _varies_on_htmx(page) and _varies_on_htmx(fragment)


def test_history_restore_gets_the_whole_page(client, district, admin):
    path = f"/{district.slug}/people/"
    restore = client.get(path, headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert b"<html" in restore.content
    assert _varies_on_htmx(restore)
