"""The referral list's index (issue 14, engineer "helperb"): the list newest first, and its
count, at 100,000 referrals in a district.

(district_id, referred_on, created_at, id) is the list's default order (newest first, read
backwards), so a page of fifty is read from the index; the school is included so that a
member's count (the school limit compares it) is an index-only scan. Written as SQL because
the index is not declared on the model (referrals/models.py is not this change's); moving it
into Referral.Meta.indexes (models.Index(fields=["district", "referred_on", "created_at",
"id"], include=["school"], name="referral_list_idx")) would need this operation's state.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_loop"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX referral_list_idx ON referrals_referral "
                "(district_id, referred_on, created_at, id) INCLUDE (school_id)"
            ),
            reverse_sql="DROP INDEX referral_list_idx",
        ),
    ]
