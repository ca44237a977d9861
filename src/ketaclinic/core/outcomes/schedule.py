"""When questionnaires are due, from the dates of a patient's infusions (pure).

The rule (DOMAIN.md §1 "Follow-up", issue 5 §2; the day offsets are a protocol's ``outcomes`` section,
clinic defaults):

* **baseline** — on the day of the first infusion, before it (or today when no infusion is planned);
* **before every infusion** — on the infusion's day, one per series infusion (``pre_infusion``, numbered);
* **follow-up** — ``follow_up_days`` (default 3) after the first infusion, the clinician visit "several
  days after the first infusion" (seeds 000, 001);
* **after the series** — ``post_series_weeks`` (default 1, 2, 4, 6) weeks after the last series infusion;
* **maintenance** — then every ``monthly_days`` (default 30) days, ``monthly_count`` times (default 6).

Each due item names the instruments to give (the protocol's ``instruments``, default PHQ-9 and GAD-7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from ketaclinic.core.errors import ValidationError

MSG_UNSORTED = "Infusion dates must be in order; {value} comes after a later date."


@dataclass(frozen=True)
class MeasurementSchedule:
    instruments: tuple[str, ...] = ("phq9", "gad7")
    follow_up_days: int = 3
    post_series_weeks: tuple[int, ...] = (1, 2, 4, 6)
    monthly_days: int = 30
    monthly_count: int = 6


@dataclass(frozen=True)
class DueQuestionnaire:
    timepoint: str  # baseline | pre_infusion | follow_up | post_series | monthly
    due_on: date
    label: str
    instruments: tuple[str, ...] = field(default=())
    infusion_number: int | None = None


def due_schedule(
    infusion_dates: Sequence[date], *, today: date, schedule: MeasurementSchedule | None = None
) -> tuple[DueQuestionnaire, ...]:
    """Every questionnaire due for a series given on ``infusion_dates`` (oldest first), in date order."""
    s = schedule or MeasurementSchedule()
    for earlier, later in zip(infusion_dates, infusion_dates[1:], strict=False):
        if later < earlier:
            raise ValidationError(
                MSG_UNSORTED.format(value=earlier.isoformat()), field="infusion_dates", value=earlier
            )
    inst = s.instruments
    if not infusion_dates:
        return (DueQuestionnaire("baseline", today, "Baseline", inst),)
    first, last = infusion_dates[0], infusion_dates[-1]
    due = [DueQuestionnaire("baseline", first, "Baseline (before infusion 1)", inst)]
    due += [
        DueQuestionnaire("pre_infusion", d, f"Before infusion {n}", inst, n)
        for n, d in enumerate(infusion_dates, start=1)
        if n > 1
    ]
    due.append(
        DueQuestionnaire(
            "follow_up",
            first + timedelta(days=s.follow_up_days),
            f"Follow-up visit, {s.follow_up_days} days after infusion 1",
            inst,
        )
    )
    due += [
        DueQuestionnaire(
            "post_series", last + timedelta(weeks=w), f"{w} week{'s' if w > 1 else ''} after the series", inst
        )
        for w in s.post_series_weeks
    ]
    start = last + timedelta(weeks=max(s.post_series_weeks, default=0))
    due += [
        DueQuestionnaire(
            "monthly", start + timedelta(days=s.monthly_days * m), f"Maintenance, month {m}", inst
        )
        for m in range(1, s.monthly_count + 1)
    ]
    return tuple(sorted(due, key=lambda d: (d.due_on, d.infusion_number or 0)))
