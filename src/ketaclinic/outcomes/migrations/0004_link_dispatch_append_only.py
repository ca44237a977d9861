from django.db import migrations

from ketaclinic.base.db_guards import append_only_sql, run


def forwards(apps, schema_editor):
    run(schema_editor, append_only_sql(schema_editor.connection.vendor, "outcomes_linkdispatch"))


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0003_link_dispatch")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
