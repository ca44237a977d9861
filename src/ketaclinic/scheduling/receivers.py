"""What scheduling answers for the apps below it: a planned slot may not take a chair an appointment is booked
in then (``base.signals.slot_chair_requested``, sent by the plans services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.core.errors import ValidationError
from ketaclinic.plans.services._common import CHAIR_TAKEN
from ketaclinic.scheduling.models import Appointment


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def on_slot_chair(
    sender: Any,
    *,
    chair: Chair,
    start: datetime,
    end: datetime,
    label: str,
    location: Location,
    exclude: int | None,
    **kwargs: Any,
) -> None:
    """Refuse the slot when an appointment other than its own is booked in the chair then."""
    booked = Appointment.objects.filter(
        chair=chair, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start
    )
    if exclude is not None:
        booked = booked.exclude(planned_infusion_id=exclude)
    other = booked.select_related("type").order_by("start").first()
    if other is None:
        return
    tz = ZoneInfo(location.timezone)
    raise ValidationError(
        CHAIR_TAKEN.format(
            chair=chair.name,
            start=_when(other.start, tz),
            end=other.end.astimezone(tz).strftime("%H:%M"),
            other=other.type.name.lower(),
            label=label,
            my_start=_when(start, tz),
            my_end=end.astimezone(tz).strftime("%H:%M"),
        ),
        field="chair",
        value=chair.name,
    )
