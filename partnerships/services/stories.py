"""Success stories: written by staff, published only with consent and after review.

A story becomes publishable only when consent to publish is recorded (who, when, by whom)
and an administrator has reviewed it for anything that could identify a student (the
database's check constraint holds the same rule). Changing the text undoes the review
(and so publication): the new text has not been reviewed.

Rule violations raise ValidationError (keyed by form field where one applies); acting
without the capability raises PermissionDenied.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerships.models import Partner, SuccessStory
from schools.capabilities import can
from schools.models import Membership, School
from schools.tenancy import outside, require_same_district


def _check(by: Membership, story: SuccessStory | None, capability: str) -> None:
    if not can(by, capability):
        raise PermissionDenied
    require_same_district(by, *([story] if story is not None else []))


def _locked(story: SuccessStory) -> SuccessStory:
    return SuccessStory.objects.select_for_update().get(district_id=story.district_id, pk=story.pk)


def _check_links(by: Membership, partner: Partner | None, school: School | None) -> None:
    errors = {}
    if outside(by.district_id, partner):
        errors["partner"] = [_("Choose one of your district's partners.")]
    if outside(by.district_id, school):
        errors["school"] = [_("Choose one of your district's schools.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def story_create(
    *,
    by: Membership,
    title: str,
    story: str,
    date: datetime.date,
    partner: Partner | None = None,
    school: School | None = None,
) -> SuccessStory:
    """Write down a story (not publishable until consent and review)."""
    _check(by, None, "stories.manage")
    _check_links(by, partner, school)
    return SuccessStory.objects.create(
        district_id=by.district_id,
        title=title.strip(),
        story=story.strip(),
        partner=partner,
        school=school,
        date=date,
    )


@transaction.atomic
def story_update(
    *,
    by: Membership,
    story: SuccessStory,
    title: str,
    story_text: str,
    date: datetime.date,
    partner: Partner | None = None,
    school: School | None = None,
) -> SuccessStory:
    """Change a story. New wording needs a new review, so it is no longer publishable."""
    _check(by, story, "stories.manage")
    _check_links(by, partner, school)
    locked = _locked(story)
    title, story_text = title.strip(), story_text.strip()
    reworded = (title, story_text) != (locked.title, locked.story)
    locked.title, locked.story, locked.date = title, story_text, date
    locked.partner, locked.school = partner, school
    fields = ["title", "story", "date", "partner", "school", "updated_at"]
    if reworded and locked.reviewed_at is not None:
        locked.reviewed_at = locked.reviewed_by = None
        locked.publishable = False
        fields += ["reviewed_at", "reviewed_by", "publishable"]
    locked.save(update_fields=fields)
    return locked


@transaction.atomic
def story_consent_record(
    *, by: Membership, story: SuccessStory, given_by: str, given_on: datetime.date
) -> SuccessStory:
    """Record consent to publish: who gave it, on which day (not in the future), who recorded it."""
    _check(by, story, "stories.manage")
    given_by = given_by.strip()
    if not given_by:
        raise ValidationError({"given_by": [_("Say who gave consent.")]})
    if given_on > by.district.today():
        raise ValidationError({"given_on": [_("The date of consent cannot be in the future.")]})
    locked = _locked(story)
    locked.consent_given_by = given_by
    noon = datetime.time(12, tzinfo=by.district.time_zone)
    locked.consent_at = datetime.datetime.combine(given_on, noon)
    locked.consent_recorded_by = by
    locked.save(
        update_fields=["consent_given_by", "consent_at", "consent_recorded_by", "updated_at"]
    )
    return locked


@transaction.atomic
def story_consent_withdraw(*, by: Membership, story: SuccessStory) -> SuccessStory:
    """Consent was withdrawn: forget it, and stop publishing the story."""
    _check(by, story, "stories.manage")
    locked = _locked(story)
    locked.consent_given_by = ""
    locked.consent_at = None
    locked.consent_recorded_by = None
    locked.publishable = False
    locked.save(
        update_fields=[
            "consent_given_by",
            "consent_at",
            "consent_recorded_by",
            "publishable",
            "updated_at",
        ]
    )
    return locked


@transaction.atomic
def story_review(*, by: Membership, story: SuccessStory) -> SuccessStory:
    """An administrator confirms the story identifies no student (de-identification review)."""
    _check(by, story, "stories.review")
    locked = _locked(story)
    locked.reviewed_by = by
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=["reviewed_by", "reviewed_at", "updated_at"])
    return locked


@transaction.atomic
def story_publishable_set(
    *, by: Membership, story: SuccessStory, publishable: bool
) -> SuccessStory:
    """Mark a story publishable (needs consent and review) or withdraw it from publication."""
    _check(by, story, "stories.manage")
    locked = _locked(story)
    if publishable and (locked.consent_at is None or locked.reviewed_at is None):
        raise ValidationError(
            _("A story can be published only once consent is recorded and it has been reviewed.")
        )
    locked.publishable = publishable
    locked.save(update_fields=["publishable", "updated_at"])
    return locked
