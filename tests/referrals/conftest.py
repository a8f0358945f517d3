"""Referral fixtures: a school's care team, a student, a partner that takes referrals."""

from __future__ import annotations

import pytest

from schools.models import School
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, PartnerFactory, StudentFactory


@pytest.fixture
def school(district):
    with tenant_context(district):
        return School.objects.get(district=district, name="North High School")


@pytest.fixture
def student(district, school):
    return StudentFactory(district=district, school=school, first_name="Amara", last_name="Okafor")


@pytest.fixture
def partner(district):
    partner = PartnerFactory(district=district, name="Riverbend Counseling", intake="accepting")
    ContactFactory(
        district=district,
        partner=partner,
        name="Ivy Intake",
        email="intake@riverbend.example.org",
        roles=["intake"],
    )
    return partner


@pytest.fixture
def counselor(member):
    return member("counselor")
