"""What drawing a network's histories shares: the rows waiting to be written, the seeded random source, the
clock, the clinics' chairs, and the counts of what was made."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.web.network.people import PatientDraft
from ketaclinic.web.network.store import AuditEvent, Store


@dataclass
class Tally:
    treated: int = 0
    sessions_today: int = 0
    running: int = 0
    open_flags: int = 0
    alerts: int = 0


@dataclass(frozen=True)
class Slot:
    """Where a clinic's sessions go: chair ``chair`` at the ``n``-th start of the day."""

    chair: int
    n: int


class Chairs:
    """Which chair is taken at which start, per clinic; a series keeps one chair and one start time. The
    last two chairs are kept free for the sessions added today (see ``generate``)."""

    def __init__(self, chairs: int, starts: tuple[time, ...]) -> None:
        self.chairs, self.starts = chairs, starts
        self.taken: set[tuple[int, date, int]] = set()

    def free(self, day: date, slot: Slot) -> bool:
        return (slot.chair, day, slot.n) not in self.taken

    def take(self, day: date, slot: Slot) -> None:
        self.taken.add((slot.chair, day, slot.n))

    def slots(self, rng: random.Random, k: int) -> list[Slot]:
        """``k`` distinct chair-and-start slots drawn at random (the two kept chairs left out), in the time
        ``k`` takes, not the clinic's size: it is drawn for every patient and booster, and building and
        shuffling every slot each time made the generation's cost grow with patients times chairs."""
        n = len(self.starts)
        total = (self.chairs - 2) * n
        return [Slot(i // n, i % n) for i in rng.sample(range(total), min(k, total))]

    def free_slot(self, day: date, rng: random.Random) -> Slot | None:
        """A free slot on ``day`` drawn at random, or None when every slot is taken: a few random draws
        (chairs are planned with room to spare), then every slot in random order."""
        drawn = next((s for s in self.slots(rng, 16) if self.free(day, s)), None)
        if drawn is not None:
            return drawn
        every = self.slots(rng, (self.chairs - 2) * len(self.starts))
        return next((s for s in every if self.free(day, s)), None)


@dataclass
class Context:
    """What every part of a history needs; ``now`` is the real time of the run (UTC)."""

    store: Store
    rng: random.Random
    now: datetime
    today: date
    chairs: dict[int, Chairs]
    protocols: dict[str, ProtocolVersion]
    tally: Tally = field(default_factory=Tally)
    plans: dict[int, tuple[TreatmentPlan, ProtocolVersion]] = field(default_factory=dict)

    def audit(
        self, at: datetime, actor: User, action: str, summary: str, d: PatientDraft, **detail: Any
    ) -> None:
        self.store.audit_add(
            AuditEvent(
                at=at,
                actor=actor,
                action=action,
                summary=summary,
                patient=d.patient.external_id,
                location_code=d.clinic.location.code,
                detail={k: str(v) for k, v in detail.items()},
            )
        )

    def at(self, d: PatientDraft, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, d.clinic.tz).astimezone(UTC)
