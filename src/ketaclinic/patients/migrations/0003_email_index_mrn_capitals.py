# The duplicate check's email lookup is served by an index on the email's capitals (Upper: the same expression
# on SQLite and PostgreSQL). MRNs are looked up exactly on their unique index, in capitals as the registry
# writes them; any MRN stored otherwise is written in capitals here (unless that would collide with another).
# AddIndex creates an index without rebuilding the table.

import django.db.models.functions.text
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def mrns_in_capitals(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    patient = apps.get_model("patients", "Patient")
    taken = set(patient.objects.values_list("mrn", flat=True))
    for pk, mrn in patient.objects.exclude(mrn__regex=r"^[^a-z]*$").values_list("pk", "mrn"):
        if mrn.upper() not in taken:
            patient.objects.filter(pk=pk).update(mrn=mrn.upper())
            taken.add(mrn.upper())


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_append_only")]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(django.db.models.functions.text.Upper("email"), name="patient_email_ci"),
        ),
        migrations.RunPython(mrns_in_capitals, migrations.RunPython.noop),
    ]
