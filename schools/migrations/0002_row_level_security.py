from django.db import migrations

from schools.rls import enable_rls, own_rows_policy

TENANT_TABLES = [
    "schools_school",
    "schools_membership",
    "schools_membershipschool",
    "schools_student",
    "schools_invitation",
    "schools_accesslog",
    "schools_membershipevent",
    "schools_studentevent",
]


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]

    operations = [
        *[enable_rls(table) for table in TENANT_TABLES],
        # Which districts may this person open? Read before any district is chosen.
        own_rows_policy("schools_membership"),
    ]
