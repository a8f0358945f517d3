"""Cross-district references, refused by the database itself.

PostgreSQL checks a foreign key without row-level security: a key on `id` alone would
let a row of district A point at a row of district B. Every key between tenant tables is
(district_id, x_id) REFERENCES x (district_id, id) (schools/rls.py `tenant_keys()`).
These tests read the catalog for every key, then try each one as the runtime role.
"""

from __future__ import annotations

import pytest

from config.db import append_only_tables
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, PartnerFactory
from tests.security.tables import (
    TABLE_MAKERS,
    contact_attendee,
    emergency_disclosure,
    member_attendee,
)
from tests.security.test_row_level_security import attempt, copyable_columns, rows

FK_VIOLATION = "violates foreign key constraint"


def tenant_tables() -> set[str]:
    """Tables with a district_id whose own primary key is `id` (history tables are not)."""
    return {
        name
        for (name,) in rows(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_attribute d ON d.attrelid = c.oid AND d.attname = 'district_id'
            JOIN pg_attribute i ON i.attrelid = c.oid AND i.attname = 'id'
            JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'
                AND p.conkey = ARRAY[i.attnum]
            WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
            """
        )
    }


def foreign_keys() -> list[tuple[str, str, str, list[str], list[str], bool]]:
    """(constraint, from table, to table, from columns, to columns, deferrable) for every key."""
    return rows(
        """
        SELECT k.conname, c.relname, r.relname,
               ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                     ORDER BY u.o),
               ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                     ORDER BY u.o),
               k.condeferrable
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_class r ON r.oid = k.confrelid
        WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace
        ORDER BY 1
        """
    )


def tenant_keys() -> list[tuple[str, str, str]]:
    """(from table, column, to table) of every key from one tenant table to another."""
    tables = tenant_tables()
    return [
        (source, columns[1], target)
        for _, source, target, columns, _, _ in foreign_keys()
        if source in tables and target in tables and columns[0] == "district_id"
    ]


def test_every_foreign_key_to_a_tenant_table_is_composite_on_the_district(db):
    tables = tenant_tables()
    assert {"schools_student", "partnerships_mou", "schools_studentuserobjectpermission"} <= tables

    wrong = [
        f"{source}({', '.join(columns)}) -> {target}({', '.join(referenced)})"
        + (" DEFERRABLE" if deferrable else "")
        for name, source, target, columns, referenced, deferrable in foreign_keys()
        if target in tables
        and (
            source not in tables
            or len(columns) != 2
            or columns[0] != "district_id"
            or referenced != ["district_id", "id"]
            or deferrable
        )
    ]

    assert wrong == [], f"foreign keys that let a row point into another district: {wrong}"
    # And the sweep found the keys the models declare (a catalog query returning nothing
    # would pass the check above).
    assert ("partnerships_mouschool", "school_id", "schools_school") in tenant_keys()
    assert ("schools_accesslog", "student_id", "schools_student") in tenant_keys()
    assert (
        "schools_studentuserobjectpermission",
        "content_object_id",
        "schools_student",
    ) in tenant_keys()


def test_every_tenant_table_has_unique_district_and_id(db):
    missing = [
        table
        for table in sorted(tenant_tables())
        if not rows(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('u', 'p') "
            "AND ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = conrelid "
            "AND attnum = ANY(conkey) ORDER BY attname) = ARRAY['district_id', 'id']",
            [f'"{table}"'],
        )
    ]
    assert missing == []


# A copy of an append-only row must not trip a unique constraint before the key is checked.
# A value is an SQL expression, or a function(district) giving a fresh row's id (for a
# one-to-one key: a second revocation of the same consent would be refused as a duplicate).
COPY_OVERRIDES = {
    "partnerships_mousignature": {
        "party": "CASE party WHEN 'district' THEN 'partner' ELSE 'district' END"
    },
    "referrals_consentrevocation": {"consent_id": TABLE_MAKERS["referrals_consent"]},
    "referrals_emergencyoverride": {"referral_id": TABLE_MAKERS["referrals_referral"]},
}

# Source rows that must be of a kind before a key may be set at all (a check constraint
# would refuse the statement before the key is checked).
SOURCE_MAKERS = {
    ("schools_membership", "partner_id"): lambda d: (
        MembershipFactory(district=d, role="partner", partner=PartnerFactory(district=d)).pk
    ),
    # A disclosure names an emergency only when that is its basis (disclosure_basis_named).
    ("referrals_disclosure", "emergency_id"): emergency_disclosure,
    # An attendee is one person (attendee_one_person): a contact, or a member.
    ("partnerships_attendee", "contact_id"): contact_attendee,
    ("partnerships_attendee", "membership_id"): member_attendee,
    # A step has one actor (referral_step_one_actor): a member's, not a contact's.
    ("referrals_referralstep", "by_id"): lambda d: _member_step(d),
}


def _member_step(district) -> int:
    from referrals.models import ReferralStep
    from tests.factories import ReferralFactory

    referral = ReferralFactory(district=district)
    with tenant_context(district):
        return ReferralStep.objects.create(
            district=district, referral=referral, kind="updated", by=referral.referred_by
        ).pk


def _point(source: str, column: str, source_pk: int, target_pk: int, district) -> str | None:
    """As the runtime role, make a row of `source` point at `target_pk` through `column`.

    An UPDATE where the runtime role may update; for append-only tables (access log,
    audit trail) a copy of the row with a new id, as an INSERT. Returns the error or None.
    """
    if source in append_only_tables():
        columns = [c for c in copyable_columns(source) if c != "id"]
        listed = ", ".join(f'"{c}"' for c in columns)
        swapped = {
            c: value
            for c, value in COPY_OVERRIDES.get(source, {}).items()
            if c != column  # the column under test always takes the target
        }
        fresh = {c: value(district) for c, value in swapped.items() if callable(value)}
        expressions, params = [], []
        for c in columns:
            if c == column:
                expressions.append("%s")
                params.append(target_pk)
            elif c in fresh:
                expressions.append("%s")
                params.append(fresh[c])
            else:
                expressions.append(swapped.get(c, f'"{c}"'))
        chosen = ", ".join(expressions)
        _, error = attempt(
            f'INSERT INTO "{source}" ({listed}) SELECT {chosen} FROM "{source}" WHERE id = %s',
            [*params, source_pk],
        )
    else:
        _, error = attempt(
            f'UPDATE "{source}" SET "{column}" = %s WHERE id = %s', [target_pk, source_pk]
        )
    return error


def test_a_row_of_district_a_cannot_point_at_a_row_of_district_b(district, other_district):
    """Every tenant key, tried as the runtime role: B's row refused, A's own row accepted."""
    keys = tenant_keys()
    assert len(keys) >= 40  # every key the models declare, found in the catalog

    accepted_across, refused_at_home = [], []
    for source, column, target in keys:
        source_pk = SOURCE_MAKERS.get((source, column), TABLE_MAKERS[source])(district)
        foreign_pk = TABLE_MAKERS[target](other_district)
        own_pk = TABLE_MAKERS[target](district)
        with tenant_context(district):
            error = _point(source, column, source_pk, foreign_pk, district)
            if error is None or FK_VIOLATION not in error:
                accepted_across.append(f"{source}.{column} -> {target}: {error}")
            error = _point(source, column, source_pk, own_pk, district)
            if error is not None:
                refused_at_home.append(f"{source}.{column} -> {target}: {error}")

    assert accepted_across == []
    assert refused_at_home == []  # the refusal is about the district, not the statement


def test_the_orm_cannot_link_an_mou_to_another_districts_school(district, other_district):
    """The example found by hand: an MOU-school link into another district."""
    from django.db import IntegrityError

    from partnerships.models import MOUSchool
    from tests.factories import MOUFactory, SchoolFactory

    mou = MOUFactory(district=district)
    foreign_school = SchoolFactory(district=other_district)
    with pytest.raises(IntegrityError, match="foreign key"), tenant_context(district):
        MOUSchool.objects.create(district=district, mou=mou, school=foreign_school)
