from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import append_only_sql, frozen_when_sql, run


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    run(schema_editor, append_only_sql(vendor, "consent_consentdocument"))
    run(schema_editor, append_only_sql(vendor, "consent_consentsignature"))
    # A link changes once (used_at set when it is used); after that, never.
    run(schema_editor, frozen_when_sql(vendor, "consent_consentlink", "OLD.used_at IS NOT NULL",
                                       "a used consent link cannot change"))


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
