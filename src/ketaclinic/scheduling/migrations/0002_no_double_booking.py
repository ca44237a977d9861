"""No double booking, enforced by PostgreSQL: a chair, a room, a staff member and a patient are never in two
booked appointments at once (django.contrib.postgres ExclusionConstraint over btree_gist,
``tstzrange(start, "end", '[)')``, only over rows whose status is booked).

SQLite has no exclusion constraint: there the operations below do nothing, and the booking service checks
for clashes inside a transaction SQLite serialises (IMMEDIATE). The constraints are kept out of the models'
Meta so that the migration state is the same on both databases (and SQLite's table rebuilds never try to
write them)."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class OnPostgreSQL(migrations.operations.base.Operation):
    """Add an ExclusionConstraint to the table on PostgreSQL; nothing on another database."""

    reversible = True

    def __init__(self, model_name: str, constraint: ExclusionConstraint) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass  # the database has the constraint, the models' state does not (see the module's docstring)

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_constraint(to_state.apps.get_model(app_label, self.model_name), self.constraint)

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_constraint(from_state.apps.get_model(app_label, self.model_name), self.constraint)

    def describe(self) -> str:
        return f"On PostgreSQL only: constraint {self.constraint.name} on {self.model_name}"


def no_overlap(name: str, column: str) -> OnPostgreSQL:
    return OnPostgreSQL(
        "appointment",
        ExclusionConstraint(
            name=name,
            expressions=[
                (column, RangeOperators.EQUAL),
                (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
            ],
            condition=models.Q(status="booked"),
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        no_overlap("appointment_chair_no_overlap", "chair"),
        no_overlap("appointment_room_no_overlap", "room"),
        no_overlap("appointment_staff_no_overlap", "staff"),
        no_overlap("appointment_patient_no_overlap", "patient"),
    ]
