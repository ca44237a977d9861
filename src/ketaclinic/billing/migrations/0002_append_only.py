"""The ledger and package uses are append-only on both databases (a correction is a new entry)."""

from django.db import migrations

from ketaclinic.base.db_guards import append_only_sql, run


def forwards(apps, schema_editor):
    for table in ("billing_ledgerentry", "billing_packageuse"):
        run(schema_editor, append_only_sql(schema_editor.connection.vendor, table))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
