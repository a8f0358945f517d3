"""django-guardian object grants on a student use the direct foreign-key table."""

from guardian.shortcuts import assign_perm, get_perms

from schools.models import StudentUserObjectPermission
from schools.tenancy import tenant_context
from tests.factories import StudentFactory, UserFactory


def test_a_grant_on_one_student_is_stored_with_a_direct_foreign_key(district):
    student, other = StudentFactory.create_batch(2, district=district)
    clinician = UserFactory()

    with tenant_context(district):
        assign_perm("schools.view_student", clinician, student)

        assert StudentUserObjectPermission.objects.filter(content_object=student).count() == 1
        assert clinician.has_perm("schools.view_student", student)
        assert not clinician.has_perm("schools.view_student", other)
        assert get_perms(clinician, student) == ["view_student"]
