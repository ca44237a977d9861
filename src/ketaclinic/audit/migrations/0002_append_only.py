from django.db import migrations

from ketaclinic.base.db_guards import append_only_sql, run


def forwards(apps, schema_editor):
    run(schema_editor, append_only_sql(schema_editor.connection.vendor, "audit_auditentry"))


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
