# The duplicate check matches a phone number by its last seven digits. It used to read every patient
# (`phone LIKE '%1234'`, then the digits in Python); now each patient keeps those digits in `phone_last7`
# (written by the row itself on save and bulk_create: patients.models.PhoneMatchKeyField) and the check is an
# equality on its index. This migration only adds the column (PostgreSQL 11+ adds a column with a constant
# default without rewriting the table; SQLite rebuilds it, and patients_patient has no triggers of ours to
# lose); 0005 fills it and builds the index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_email_index_mrn_capitals")]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="phone_last7",
            field=models.CharField(blank=True, default="", editable=False, max_length=7),
        ),
    ]
