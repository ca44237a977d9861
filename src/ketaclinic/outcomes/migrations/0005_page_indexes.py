# The dashboard's endpoints at one location, and the open safety flags (a partial index: both databases).
# AddIndex creates an index without rebuilding the table (the responses' append-only triggers stay).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0004_link_dispatch_append_only"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="questionnaireresponse",
            index=models.Index(
                fields=["instrument", "location", "timepoint", "authored_at"],
                include=("patient", "id", "total", "suicidal_ideation", "indication"),
                name="qr_instrument_tp_location",
            ),
        ),
        migrations.AddIndex(
            model_name="safetyflag",
            index=models.Index(
                condition=models.Q(("status", "open")), fields=["raised_at"], name="safety_flag_open"
            ),
        ),
    ]
