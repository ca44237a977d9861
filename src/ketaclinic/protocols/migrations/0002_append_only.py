from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import append_only_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, append_only_sql(schema_editor.connection.vendor, "protocols_protocolversion"))


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
