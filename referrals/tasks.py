"""Celery tasks of the referrals app: thin wrappers that call services.

Sweeps run their service in every district with `core.districts.run_in_every_district`
(each district's context and time zone in turn; one district's failure does not stop the
others, and fails the task once all have run).
"""

from __future__ import annotations

from celery import shared_task

from core.districts import run_in_every_district
from referrals.services import overdue


@shared_task
def referral_overdue_sweep() -> int:
    """Every 15 minutes: remind the partner, then the counselor, of an answer overdue
    (each once per due date). Returns how many reminders went out."""
    results = run_in_every_district(overdue.overdue_sweep_district)
    return sum(result.partner + result.counselor for result in results.values())
