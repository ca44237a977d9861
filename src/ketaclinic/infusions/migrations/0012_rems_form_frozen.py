from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import frozen_when_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, frozen_when_sql(schema_editor.connection.vendor, "infusions_remsmonitoringform",
                                       "OLD.submitted_at IS NOT NULL",
                                       "a REMS monitoring form marked submitted cannot change"))


class Migration(migrations.Migration):
    dependencies = [("infusions", "0011_rems_monitoring_form")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
