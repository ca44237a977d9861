"""A session holds its chair (and its patient) from its start to its end: never two at once.

PostgreSQL enforces it with exclusion constraints (btree_gist): two sessions that are not cancelled may not
overlap in the same chair, nor for the same patient. SQLite has no exclusion constraint: the service checks in a
transaction that SQLite serialises (IMMEDIATE), so the result is the same. Sessions made before this migration
have no end and are not covered (they are in the past)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist;",
    """ALTER TABLE infusions_infusionsession ADD CONSTRAINT session_chair_no_overlap EXCLUDE USING gist
       (chair_id WITH =, tstzrange(scheduled_start, scheduled_end, '[)') WITH &&)
       WHERE (chair_id IS NOT NULL AND scheduled_end IS NOT NULL AND state <> 'cancelled');""",
    """ALTER TABLE infusions_infusionsession ADD CONSTRAINT session_patient_no_overlap EXCLUDE USING gist
       (patient_id WITH =, tstzrange(scheduled_start, scheduled_end, '[)') WITH &&)
       WHERE (scheduled_end IS NOT NULL AND state <> 'cancelled');""",
]
PG_DOWN = [
    "ALTER TABLE infusions_infusionsession DROP CONSTRAINT IF EXISTS session_chair_no_overlap;",
    "ALTER TABLE infusions_infusionsession DROP CONSTRAINT IF EXISTS session_patient_no_overlap;",
]


def up(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_UP:
            schema_editor.execute(sql)


def down(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("infusions", "0008_discharge")]

    operations = [
        migrations.AddField(
            model_name="infusionsession", name="scheduled_end",
            field=models.DateTimeField(blank=True, null=True,
                                       help_text="When the chair is free again: the start plus the protocol's chair time."),
        ),
        migrations.RunPython(up, down),
    ]
