from django.db import migrations

from ketaclinic.base.db_guards import frozen_when_sql, run


def forwards(apps, schema_editor):
    run(schema_editor, frozen_when_sql(schema_editor.connection.vendor, "screening_screening",
                                       "OLD.status = 'signed'", "a signed screening cannot change"))


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
