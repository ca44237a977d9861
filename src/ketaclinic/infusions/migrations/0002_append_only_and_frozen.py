from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import append_only_sql, frozen_when_sql, run

APPEND_ONLY = ("infusions_vitalsigns", "infusions_rateevent", "infusions_medicationadministration",
               "infusions_noteaddendum", "infusions_adverseevent", "infusions_dischargeassessment")


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY:
        run(schema_editor, append_only_sql(vendor, table))
    run(schema_editor, frozen_when_sql(vendor, "infusions_infusionorder", "OLD.signed_at IS NOT NULL",
                                       "a signed infusion order cannot change"))
    run(schema_editor, frozen_when_sql(vendor, "infusions_sessionnote", "OLD.signed_at IS NOT NULL",
                                       "a signed session note cannot change; add an addendum"))
    run(schema_editor, frozen_when_sql(vendor, "infusions_vitalalert", "OLD.acknowledged_at IS NOT NULL",
                                       "an acknowledged alert cannot change"))


class Migration(migrations.Migration):
    dependencies = [("infusions", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
