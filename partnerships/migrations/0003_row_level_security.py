from django.db import migrations

from schools.rls import enable_rls


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0002_initial")]

    operations = [enable_rls("partnerships_partner")]
