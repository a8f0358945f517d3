"""An MOU's measurable goals and the progress recorded against them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, Goal, GoalProgress
from partnerships.services.mous.common import _authorize
from schools.models import Membership


@transaction.atomic
def goal_create(
    *, by: Membership, mou: MOU, description: str, target: Decimal, unit: str, period: str
) -> Goal:
    """A measurable goal of the MOU (what, target, unit, period)."""
    _authorize(by, mou, "goals")
    if target is None or target <= 0:
        raise ValidationError({"target": [_("The target must be more than zero.")]})
    return Goal.objects.create(
        district_id=mou.district_id,
        mou=mou,
        description=description.strip(),
        target=target,
        unit=unit.strip(),
        period=period.strip(),
    )


@transaction.atomic
def goal_progress_add(
    *, by: Membership, goal: Goal, date: datetime.date, value: Decimal, note: str = ""
) -> GoalProgress:
    """Record where a goal stands on a date (the total reached so far, not an increase)."""
    _authorize(by, goal.mou, "goals")
    if value is None or value < 0:
        raise ValidationError({"value": [_("Enter zero or more.")]})
    return GoalProgress.objects.create(
        district_id=goal.district_id,
        goal=goal,
        date=date,
        value=value,
        note=note.strip(),
        recorded_by=by,
    )
