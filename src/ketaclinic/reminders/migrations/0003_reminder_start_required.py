"""Every reminder names the start it was sent for (filled by 0002), and an appointment is reminded once
per start: a moved appointment is reminded again for its new time. Apart from 0002 so that PostgreSQL
alters the table outside the transaction that updated its rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reminders", "0002_reminder_on_appointment")]

    operations = [
        migrations.AlterField(
            model_name="preparationcheck",
            name="starts_at",
            field=models.DateTimeField(help_text="The appointment's start the reminder was sent for."),
        ),
        migrations.AddConstraint(
            model_name="preparationcheck",
            constraint=models.UniqueConstraint(
                fields=("appointment", "starts_at"), name="one_reminder_per_appointment_time"
            ),
        ),
    ]
