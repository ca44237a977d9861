from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import frozen_when_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, frozen_when_sql(schema_editor.connection.vendor, "screening_screening",
                                       "OLD.status = 'signed'", "a signed screening cannot change"))


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
