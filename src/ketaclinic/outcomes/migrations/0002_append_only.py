from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import append_only_sql, frozen_when_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    run(schema_editor, append_only_sql(vendor, "outcomes_questionnaireresponse"))
    run(schema_editor, frozen_when_sql(vendor, "outcomes_safetyflag", "OLD.status = 'assessed'",
                                       "an assessed safety flag cannot change"))


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
