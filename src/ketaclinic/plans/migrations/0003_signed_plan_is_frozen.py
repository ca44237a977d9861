from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ketaclinic.base.db_guards import fields_frozen_when_sql, run

# A signed plan's clinical content never changes (a change is a new plan version that supersedes it);
# only its status may move on (completed, stopped, superseded). Columns as stored (foreign keys end in _id).
FIELDS = ["patient_id", "screening_id", "indication", "protocol_version_id", "dose_strategy", "series_count",
          "max_per_week", "min_spacing_hours", "evaluation_after", "booster_policy", "booster_min_days",
          "home_infusions", "notes", "supersedes_id", "signed_by_id", "signed_at"]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    run(schema_editor, fields_frozen_when_sql(schema_editor.connection.vendor, "plans_treatmentplan",
                                              "OLD.status <> 'draft'", FIELDS, "a signed treatment plan cannot change"))


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_booster_min_days")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
