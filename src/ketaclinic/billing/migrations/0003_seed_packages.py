"""The seeds' packages and prices, clinic-wide in US dollars (a clinic edits them or adds its own lists):
"$3,475 for 6 infusions without integration therapy, $4,466 with integration therapy"; maintenance sessions
"around $475–$673" (the lower figure, one infusion)."""

import datetime

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PACKAGES = [
    ("series-6", "6-infusion series", 6, 0, 347500),
    ("series-6-integration", "6-infusion series with integration therapy", 6, 6, 446600),
    ("maintenance-1", "Maintenance infusion", 1, 0, 47500),
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    """Idempotent (update or create by code and list name), so a test that committed data and emptied the
    tables can put the seeds back with this same function."""
    Package = apps.get_model("billing", "Package")
    PriceList = apps.get_model("billing", "PriceList")
    Price = apps.get_model("billing", "Price")
    prices, _ = PriceList.objects.get_or_create(
        name="Standard prices",
        location=None,
        defaults={
            "currency": "USD",
            "effective_from": datetime.date(2024, 1, 1),
            "late_cancel_hours": 24,
            "late_cancel_fee_cents": 10000,
        },
    )
    for code, name, infusions, integration, cents in PACKAGES:
        package, _ = Package.objects.update_or_create(
            code=code, defaults={"name": name, "infusions": infusions, "integration_sessions": integration}
        )
        Price.objects.update_or_create(price_list=prices, package=package, defaults={"amount_cents": cents})


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_append_only")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
