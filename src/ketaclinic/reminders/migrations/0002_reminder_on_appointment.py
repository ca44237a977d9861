"""The reminder moves onto the appointment (every type is reminded, not only planned infusions).

Each existing reminder is linked to its plan slot's appointment (the booked one, else the latest) and keeps
the start it was sent for (its expiry: the reminder's link expired when the appointment started); its
answer, message and slot stay as they were, so nothing the desk saw is lost. A reminder whose slot was never
booked keeps its slot and no appointment."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def link(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Check = apps.get_model("reminders", "PreparationCheck")
    Appointment = apps.get_model("scheduling", "Appointment")
    for check in Check.objects.all():
        booked = Appointment.objects.filter(planned_infusion_id=check.planned_id)
        appointment = booked.filter(status="booked").first() or booked.order_by("-start").first()
        check.appointment = appointment
        check.starts_at = check.expires_at
        check.asks_preparation = True
        check.save(update_fields=["appointment", "starts_at", "asks_preparation"])


def unlink(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Check = apps.get_model("reminders", "PreparationCheck")
    # only the infusion reminders had a row before; the newest per slot is kept
    Check.objects.filter(planned__isnull=True).delete()
    seen: set[int] = set()
    for check in Check.objects.order_by("planned_id", "-created_at"):
        if check.planned_id in seen:
            check.delete()
        seen.add(check.planned_id)


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("scheduling", "0003_appointment_types"),
    ]

    operations = [
        migrations.AddField(
            model_name="preparationcheck",
            name="appointment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reminders",
                to="scheduling.appointment",
            ),
        ),
        migrations.AddField(
            model_name="preparationcheck",
            name="asks_preparation",
            field=models.BooleanField(
                default=True,
                help_text="An infusion's reminder: preparation and driver asked through the link.",
            ),
        ),
        migrations.AddField(
            model_name="preparationcheck",
            name="starts_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AlterField(
            model_name="preparationcheck",
            name="planned",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="preparations",
                to="plans.plannedinfusion",
            ),
        ),
        migrations.RunPython(link, unlink),
    ]
