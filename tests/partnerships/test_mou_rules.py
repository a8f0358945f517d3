"""What a person may do with an MOU now (mou_rules.mou_allowed_actions): the one rule the
MOU page's buttons, the views' guards and the services' assertions share."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from partnerships.models import MOU, MOU_TRANSITIONS, MOUStatus
from partnerships.mou_rules import MOU_ACTIONS, mou_allowed_actions

OWN, OTHER = 1, 2  # partner organisations


def person(role, partner_id=None, active=True):
    return SimpleNamespace(role=role, partner_id=partner_id, active=active)


def mou(status):
    return MOU(status=status, partner_id=OWN)


def test_every_action_moves_only_along_mou_transitions():
    for name, action in MOU_ACTIONS.items():
        for status in action.statuses:
            for to in action.moves_to:
                assert to in MOU_TRANSITIONS[status], (name, status, to)
            assert action.applies_to(status), f"{name} could never be taken from {status}"


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        (person("coordinator"), "draft", {"edit", "submit", "goals", "manage"}),
        (person("coordinator"), "internal_review", {"edit", "goals", "manage"}),
        (person("admin"), "internal_review", {"edit", "approve", "return", "goals", "manage"}),
        (person("coordinator"), "sent", {"edit", "withdraw", "resend", "goals", "manage"}),
        (person("partner", OWN), "sent", {"partner_review"}),
        (person("partner", OTHER), "sent", set()),
        (None, "sent", {"partner_review"}),  # the partner's verified link
        (None, "partner_signed", set()),
        (person("partner", OWN), "partner_signed", set()),
        (
            person("admin"),
            "partner_signed",
            {"edit", "withdraw", "district_sign", "goals", "manage"},
        ),
        (person("admin"), "active", {"terminate", "goals", "manage"}),
        (person("admin"), "expiring", {"terminate", "goals", "manage"}),
        (person("admin"), "expired", {"goals", "manage"}),
        (person("coordinator"), "active", {"goals", "manage"}),
        (person("viewer"), "draft", set()),
        (person("counselor"), "sent", set()),
        (person("admin", active=False), "internal_review", set()),
    ],
)
def test_allowed_actions_by_role_and_status(who, status, expected):
    assert set(mou_allowed_actions(who, mou(status))) == expected


def test_templates_read_actions_as_attributes():
    actions = mou_allowed_actions(person("coordinator"), mou(MOUStatus.DRAFT))
    assert actions.submit is True and actions.approve is False
    with pytest.raises(AttributeError):
        actions.no_such_action  # noqa: B018
