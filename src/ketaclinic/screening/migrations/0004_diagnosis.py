"""The screening records the prescriber's ICD-10-CM diagnosis. On SQLite adding the column rebuilds the table,
which drops its triggers: the signed-screening freeze of 0002 is put back (idempotent on both databases)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import frozen_when_sql, run


def refreeze(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, frozen_when_sql(schema_editor.connection.vendor, "screening_screening",
                                       "OLD.status = 'signed'", "a signed screening cannot change"))


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0003_referral_document_external_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="screening",
            name="diagnosis",
            field=models.CharField(
                blank=True,
                help_text="The billable ICD-10-CM code the prescriber records when signing; claims and "
                "superbills carry it.",
                max_length=8,
                verbose_name="Diagnosis (ICD-10-CM)",
            ),
        ),
        migrations.RunPython(refreeze, migrations.RunPython.noop),
    ]
