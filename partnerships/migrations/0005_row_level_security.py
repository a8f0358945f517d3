from django.db import migrations

from schools.rls import enable_rls

TENANT_TABLES = [
    "partnerships_partnerschool",
    "partnerships_servicecategory",
    "partnerships_service",
    "partnerships_contact",
    "partnerships_moutemplate",
    "partnerships_mou",
    "partnerships_mouschool",
    "partnerships_mouversion",
    "partnerships_mousignature",
    "partnerships_moucomment",
    "partnerships_moudocument",
    "partnerships_mourenewalnotice",
    "partnerships_goal",
    "partnerships_goalprogress",
    "partnerships_fundingsource",
    "partnerships_fundingpartner",
    "partnerships_fundingmou",
    "partnerships_successstory",
    "partnerships_partnerevent",
    "partnerships_mouevent",
]


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0004_directory_mous_funding")]

    operations = [enable_rls(table) for table in TENANT_TABLES]
