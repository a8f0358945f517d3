"""The district context outside requests: Celery tasks and cross-district sweeps."""

from schools.models import District, Student
from schools.tenancy import current_district_id, in_district, tenant_context
from tests.factories import StudentFactory


@in_district
def count_students(district_id):
    """Stands for a Celery task body: it gets only an id, and sees only that district."""
    return Student.objects.count(), current_district_id()


def test_a_task_sees_only_its_own_districts_rows(district, other_district):
    StudentFactory.create_batch(2, district=district)
    StudentFactory(district=other_district)

    assert count_students(district.pk) == (2, district.pk)
    assert count_students(other_district.pk) == (1, other_district.pk)
    assert current_district_id() is None  # and leaves nothing behind


def test_a_sweep_enters_each_district_in_turn(district, other_district):
    StudentFactory(district=district)
    StudentFactory.create_batch(3, district=other_district)

    seen = {}
    for d in District.objects.order_by("slug"):
        with tenant_context(d):
            seen[d.slug] = Student.objects.count()

    assert seen == {"north": 1, "south": 3}


def test_an_exception_inside_a_context_leaves_no_district_behind(district):
    StudentFactory(district=district)
    try:
        with tenant_context(district):
            assert Student.objects.count() == 1
            raise RuntimeError("task failed")
    except RuntimeError:
        pass

    assert current_district_id() is None
    assert Student.objects.count() == 0


def test_nested_contexts_restore_the_outer_district(district, other_district):
    with tenant_context(district):
        with tenant_context(other_district):
            assert current_district_id() == other_district.pk
        assert current_district_id() == district.pk
