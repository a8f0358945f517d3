# The partner's search words stored with the row (issue 19): directory search read
# to_tsvector(search_text) for every partner of the district on every request.

import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0016_directory_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector(
                    "search_text", config="simple"
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
    ]
