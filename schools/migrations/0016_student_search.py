# The student name keys fold accents as well as case (core.search.Fold), so "garcia" finds
# "García". PostgreSQL 16 cannot change a generated column's expression in place (SET
# EXPRESSION is PostgreSQL 17) and Django refuses to alter one: each key and its
# (district, key) index are dropped and made again; PostgreSQL computes the new column for
# every existing row while adding it (the backfill; DDL is not subject to row-level
# security).

import core.search
from django.db import migrations, models

KEYS = (
    ("last_name_key", "last_name", 100, "student_last_key_idx"),
    ("first_name_key", "first_name", 100, "student_first_key_idx"),
    ("preferred_name_key", "preferred_name", 100, "student_pref_key_idx"),
    ("local_id_key", "local_id", 64, "student_local_key_idx"),
)


def _operations():
    drop, add = [], []
    for key, source, max_length, index in KEYS:
        drop.append(migrations.RemoveIndex(model_name="student", name=index))
        drop.append(migrations.RemoveField(model_name="student", name=key))
        add.append(
            migrations.AddField(
                model_name="student",
                name=key,
                field=models.GeneratedField(
                    db_persist=True,
                    expression=core.search.Fold(source),
                    output_field=models.CharField(db_collation="C", max_length=max_length),
                ),
            )
        )
        add.append(
            migrations.AddIndex(
                model_name="student",
                index=models.Index(fields=["district", key], name=index),
            )
        )
    return drop + add


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0015_school_closed_on"),
    ]

    operations = _operations()
