# What is due per patient (outcomes.QuestionnaireDue): filled by `ketaclinic manage outcomes_due_rebuild`, then kept
# by the services; a migration imports only Django, so the backfill is that command, not a RunPython.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_chair"),
        ("outcomes", "0005_page_indexes"),
        ("patients", "0003_email_index_mrn_capitals"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuestionnaireDue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(help_text="The item's place in the patient's schedule."),
                ),
                ("instrument", models.CharField(max_length=40)),
                (
                    "timepoint",
                    models.CharField(
                        choices=[
                            ("baseline", "Baseline"),
                            ("pre_infusion", "Before an infusion"),
                            ("follow_up", "Follow-up visit"),
                            ("post_series", "After the series"),
                            ("monthly", "Maintenance (monthly)"),
                            ("ad_hoc", "Unscheduled"),
                        ],
                        max_length=14,
                    ),
                ),
                ("infusion_number", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("label", models.CharField(max_length=120)),
                (
                    "due_on",
                    models.DateField(blank=True, help_text="Empty: due today, whatever the day.", null=True),
                ),
                ("opens_on", models.DateField(blank=True, null=True)),
                ("closes_on", models.DateField(blank=True, null=True)),
                (
                    "late_until",
                    models.DateField(blank=True, help_text="The last day a late answer counts.", null=True),
                ),
                (
                    "answered_on",
                    models.DateField(blank=True, help_text="The first day an answer counted.", null=True),
                ),
                (
                    "location",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.location"
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["patient", "position", "instrument"],
                "indexes": [
                    models.Index(fields=["location", "opens_on"], name="due_location_opens"),
                    models.Index(
                        condition=models.Q(("due_on", None)), fields=["location"], name="due_location_today"
                    ),
                    models.Index(fields=["patient", "position"], name="due_patient"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("answered_on", None),
                                ("closes_on", None),
                                ("due_on", None),
                                ("late_until", None),
                                ("opens_on", None),
                            ),
                            models.Q(
                                ("closes_on__lte", models.F("late_until")),
                                ("due_on__isnull", False),
                                ("opens_on__lte", models.F("closes_on")),
                            ),
                            _connector="OR",
                        ),
                        name="due_dated_or_today",
                    )
                ],
            },
        ),
    ]
