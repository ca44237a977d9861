# The readings' and alerts' external ids take the shared default (ketaclinic.base.models.ExternalIdentity).
# A default and "not editable" live in Python only, so the database is not touched: on SQLite an AlterField
# would rebuild these tables and drop their append-only triggers.

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("infusions", "0009_chair_time"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="vitalalert",
                    name="external_id",
                    field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                ),
                migrations.AlterField(
                    model_name="vitalsigns",
                    name="external_id",
                    field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                ),
            ],
            database_operations=[],
        ),
    ]
