"""Referral documents get a public id, so the chart can link to each one (existing rows get a fresh one)."""

import uuid

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def give_ids(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    document = apps.get_model("screening", "ReferralDocument")
    for row in document.objects.using(schema_editor.connection.alias).filter(external_id__isnull=True):
        row.external_id = uuid.uuid4()
        row.save(update_fields=["external_id"])


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_signed_is_frozen")]

    operations = [
        migrations.AddField(
            model_name="referraldocument",
            name="external_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="referraldocument",
            name="external_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
