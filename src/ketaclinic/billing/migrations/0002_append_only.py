"""The ledger and package uses are append-only on both databases (a correction is a new entry)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import append_only_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for table in ("billing_ledgerentry", "billing_packageuse"):
        run(schema_editor, append_only_sql(schema_editor.connection.vendor, table))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
