"""The kinds of appointment a ketamine clinic books (issue 13; the seeds' services), as clinic data a clinic
can change: length, chair or room, the staff skill needed, whether a prescriber must be on site.

Lengths are the clinic defaults a front desk starts from: an IV ketamine infusion's chair time with
observation (2 h, as the plans' slots), an esketamine session's 2 h observation (the REMS monitoring time),
a TMS session of 40 minutes, a nerve block of 60."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TYPES = [
    # code, name, minutes, chair, room, skill, prescriber on site, infusion (pathway), at home allowed
    ("consultation", "Consultation and screening", 60, False, True, "prescribes", False, False, False),
    ("infusion", "Ketamine infusion", 120, True, False, "infuses", True, True, True),
    ("follow_up", "Follow-up visit", 30, False, True, "prescribes", False, False, False),
    ("integration", "Integration therapy", 60, False, True, "", False, False, False),
    ("booster", "Booster infusion", 120, True, False, "infuses", True, True, True),
    ("esketamine", "Esketamine nasal session", 120, True, False, "infuses", True, False, False),
    ("tms", "TMS session", 40, False, True, "", True, False, False),
    ("stellate_block", "Stellate ganglion block", 60, False, True, "prescribes", True, False, False),
]


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    AppointmentType = apps.get_model("scheduling", "AppointmentType")
    for code, name, minutes, chair, room, skill, on_site, infusion, home in TYPES:
        AppointmentType.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name, duration_minutes=minutes, needs_chair=chair, needs_room=room, staff_skill=skill,
                prescriber_on_site=on_site, is_infusion=infusion, at_home_allowed=home,
            ),
        )


def unseed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("scheduling", "AppointmentType").objects.filter(code__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_no_double_booking")]

    operations = [migrations.RunPython(seed, unseed)]
