"""Alerts carry their level (hold or critical); an overdue-vitals alert has no reading. On SQLite adding the column rebuilds the table, which drops
its triggers: the acknowledged-alert freeze of 0002 is put back (idempotent on both databases)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import frozen_when_sql, run


def refreeze(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, frozen_when_sql(schema_editor.connection.vendor, "infusions_vitalalert",
                                       "OLD.acknowledged_at IS NOT NULL", "an acknowledged alert cannot change"))


class Migration(migrations.Migration):

    dependencies = [
        ("infusions", "0003_planned_infusion_sessions"),
    ]

    operations = [
        migrations.AddField(
            model_name="vitalalert",
            name="level",
            field=models.CharField(default="hold", help_text="hold, or critical (the highest alert).", max_length=10),
        ),
        migrations.AddConstraint(
            model_name="vitalalert",
            constraint=models.CheckConstraint(condition=models.Q(("level__in", ["hold", "critical"])),
                                              name="alert_level_known"),
        ),
        migrations.AlterField(
            model_name="vitalalert",
            name="vitals",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="alerts", to="infusions.vitalsigns",
                                    help_text="The reading that crossed a threshold (none for 'vital signs overdue')."),
        ),
        migrations.RunPython(refreeze, migrations.RunPython.noop),
    ]
