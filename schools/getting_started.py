"""The administrator's getting-started checklist on the district home (issue 15).

Five steps, each ticked off by what the district already has: a school, someone else in it
(or an invitation sent), a student, a partner, an MOU. The whole checklist costs one query
(an Exists per step, on the district's row). Partners and MOUs belong to partnerships, an
app above schools: their models are looked up by name when the checklist is computed, never
imported here, and their pages by URL name.

Links to pages that may not exist (yet) are reversed with NoReverseMatch caught: the step is
then shown without a link rather than breaking the home page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import BooleanField, Exists, ExpressionWrapper
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from schools.capabilities import can
from schools.models import District, Invitation, Membership, School, Student

CAPABILITY = "district.settings"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    action: str  # the link's words
    url: str | None  # None when the page does not exist or the viewer may not open it
    done: bool


# key, title, why it matters, link words, URL name, capability to open the page
_STEPS = [
    (
        "schools",
        _("Add your schools"),
        _("Students, counselors and partners are all tied to a school."),
        _("Add a school"),
        "school_new",
        "district.settings",
    ),
    (
        "people",
        _("Invite your people"),
        _("Coordinators and counselors make and follow the referrals; nobody else can yet."),
        _("Invite someone"),
        "people_invite",
        "people.manage",
    ),
    (
        "roster",
        _("Import your roster"),
        _("Referrals and screenings are about students: they need to be in Trellis first."),
        _("Import a roster"),
        "roster_import",
        "students.import",
    ),
    (
        "partner",
        _("Add your first partner"),
        _("Partners are the organizations students are referred to."),
        _("Add a partner"),
        "partner_create",
        "partners.manage",
    ),
    (
        "mou",
        _("Draft your first MOU"),
        _("An MOU sets out what a partner does in your schools and how student data is shared."),
        _("Draft an MOU"),
        "mou_create",
        "mous.manage",
    ),
]


def district_url(name: str, district) -> str | None:
    """The URL of a district page by name, or None when no such page exists (yet)."""
    try:
        return reverse(name, args=[district.slug])
    except NoReverseMatch:
        return None


def getting_started_steps(membership, district) -> list[Step]:
    """The checklist's steps for an administrator, in order, done or not (one query)."""
    district_id = district.pk
    partner_model = apps.get_model("partnerships", "Partner")
    mou_model = apps.get_model("partnerships", "MOU")
    others = Membership.objects.for_district(district_id).active().exclude(pk=membership.pk)
    done = (
        District.objects.filter(pk=district_id)
        .annotate(
            schools=Exists(School.objects.for_district(district_id)),
            people=ExpressionWrapper(
                Exists(others) | Exists(Invitation.objects.for_district(district_id)),
                output_field=BooleanField(),
            ),
            roster=Exists(Student.objects.for_district(district_id)),
            partner=Exists(partner_model.objects.for_district(district_id)),
            mou=Exists(mou_model.objects.for_district(district_id)),
        )
        .values("schools", "people", "roster", "partner", "mou")
        .get()
    )
    return [
        Step(
            key=key,
            title=title,
            why=why,
            action=action,
            url=district_url(url_name, district) if can(membership, capability) else None,
            done=done[key],
        )
        for key, title, why, action, url_name, capability in _STEPS
    ]


def getting_started_panel(request) -> dict | None:
    """The home page's checklist, for administrators while a step is left; else None."""
    if not can(request.membership, CAPABILITY):
        return None
    steps = getting_started_steps(request.membership, request.district)
    if all(step.done for step in steps):
        return None
    return {"steps": steps, "done": sum(step.done for step in steps), "total": len(steps)}
