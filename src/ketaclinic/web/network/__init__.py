"""A synthetic clinic network for measuring pages at scale (``ketaclinic manage network_generate``).

Locations with chairs and staff, patients with realistic histories (referral, signed screening, signed
plan, infusion sessions with signed orders and vitals every five minutes, questionnaires on the plan's
schedule with their safety flags, audit entries sealed into the trail's chains), written in bulk (see
``store``), and optionally a registry of patients at other locations that the network's staff cannot see.
Seeded: the same arguments on the same day give the same network. Only for a database of its own.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.consent.services import consent_documents_load_shipped
from ketaclinic.core.errors import ProtocolError
from ketaclinic.outcomes.services import outcome_summaries_rebuild
from ketaclinic.outcomes.services.due import due_rebuild
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.protocols.services import protocols_load_shipped
from ketaclinic.web.network.context import Chairs
from ketaclinic.web.network.histories import History
from ketaclinic.web.network.people import PatientDraft, clinics_create, network_staff_create, patients_add
from ketaclinic.web.network.store import Store
from ketaclinic.web.network.visits import session_add

NOT_EMPTY = (
    "This database already holds {count} patients; the network is generated only into an empty one "
    "(give --force to add to it anyway)."
)
INDICATIONS = ("trd", "trd", "trd", "mdd", "ptsd", "bipolar_depression")
HISTORY_DAYS = 1095
STAGES = (("treated", 0.86), ("referred", 0.05), ("not_eligible", 0.05), ("registered", 0.04))
REGISTRY_CLINICS = 20


class NetworkNotEmpty(Exception):  # noqa: N818 - the name says what the database is
    pass


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(s for _, s in self.seconds)


def _protocols() -> dict[str, ProtocolVersion]:
    out = {}
    for indication in INDICATIONS:
        try:
            pv = protocol_for_indication(indication)
        except ProtocolError:
            continue
        doc = pv.parsed
        if doc.series and doc.dosing and doc.monitoring and doc.checklist and doc.discharge:
            out[indication] = pv
    return out


def _chairs_needed(patients_per_clinic: int) -> int:
    """Chairs for the series and boosters of a clinic's patients over the history, with room to spare."""
    per_week = patients_per_clinic * 0.86 * 10 / (HISTORY_DAYS / 7)
    return max(4, math.ceil(per_week / (5 * 4) * 2.5)) + 2


def network_generate(
    *,
    locations: int = 9,
    patients: int = 10_000,
    registry: int = 0,
    seed: int = 1,
    force: bool = False,
    now: datetime | None = None,
    log: object = None,
) -> Report:
    """Generate the network; refuses a database that holds patients unless ``force``."""
    count = Patient.objects.count()
    if count and not force:
        raise NetworkNotEmpty(NOT_EMPTY.format(count=count))
    report = Report()
    now = (now or timezone.now()).astimezone(UTC)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security

    def part(name: str, t0: float) -> float:
        t = time.perf_counter()
        report.seconds.append((name, t - t0))
        if callable(log):
            log(f"{name}: {t - t0:.1f} s")
        return t

    with transaction.atomic():
        t = time.perf_counter()
        protocols_load_shipped()
        consent_documents_load_shipped()
        protocols = _protocols()
        chairs = _chairs_needed(patients // max(locations, 1))
        clinics = clinics_create(count=locations, chairs=chairs)
        staff = network_staff_create([c.location for c in clinics])
        t = part("locations and staff", t)
        store = Store()
        drafts = patients_add(
            store, clinics=clinics, n=patients, rng=rng, today=now.date(), days_back=HISTORY_DAYS
        )
        t = part("patients", t)
        starts = (clock(8), clock(10, 15), clock(12, 30), clock(14, 45))
        h = History(
            store=store,
            rng=rng,
            now=now,
            today=now.date(),
            chairs={c.location.pk: Chairs(chairs, starts) for c in clinics},
            protocols=protocols,
        )
        weights = [w for _, w in STAGES]
        for d in drafts:
            h.today = now.astimezone(d.clinic.tz).date()
            (stage,) = rng.choices([s for s, _ in STAGES], weights)
            h.patient(d, stage)
        _running_now(h, drafts, now)
        store.flush()
        t = part("histories", t)
        if connection.vendor == "postgresql":
            # The questionnaire windows below read what was just written, still uncommitted: without the
            # planner's statistics of these rows (ANALYZE in the same transaction counts them) it takes the
            # tables for empty and scans the answers whole for every batch of patients, a cost that grows with
            # the square of the network (the 30,000-patient run spent its time there).
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
            t = part("statistics before the windows (ANALYZE)", t)
        # what is due per patient, as the services would have kept it (the histories are written in bulk)
        report.counts["outcomes.QuestionnaireDue"] = due_rebuild(batch_size=1000)
        t = part("questionnaire windows", t)
        if registry:
            others = clinics_create(count=REGISTRY_CLINICS, chairs=4, code="other", staffed=False)
            reg = Store()
            patients_add(
                reg,
                clinics=others,
                n=registry,
                rng=rng,
                today=now.date(),
                days_back=HISTORY_DAYS,
                measured=False,
            )
            reg.flush()
            report.counts["registry patients"] = reg.counts.get("patients.Patient", 0)
            t = part("registry", t)
    store.audit_seal()  # after the records it describes are committed, in transactions of its own
    t = part("audit entries", t)
    # the answers were written in bulk, past the services that keep the dashboard's summaries: build them
    report.counts["outcome summaries for patients"] = outcome_summaries_rebuild().patients
    t = part("outcome summaries", t)
    if connection.vendor == "postgresql":  # the planner's statistics, as a database in use has them
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        part("statistics (ANALYZE)", t)
    report.counts.update({k: v for k, v in sorted(store.counts.items())})
    report.counts = dict(sorted(report.counts.items()))
    report.counts["staff accounts"] = sum(len(c.prescribers) + len(c.nurses) + 1 for c in clinics) + len(
        staff
    )
    report.counts["sessions running now"] = h.tally.running
    report.counts["open safety flags"] = h.tally.open_flags
    return report


def _running_now(h: History, drafts: list[PatientDraft], now: datetime) -> None:
    """Two sessions running now at every clinic, in the two chairs kept free for the day's added sessions."""
    by_clinic: dict[int, int] = {}
    for d in drafts:
        loc = d.clinic.location.pk
        if by_clinic.get(loc, 0) >= 2 or d.patient.pk not in h.plans:
            continue
        k = by_clinic[loc] = by_clinic.get(loc, 0) + 1
        plan, pv = h.plans[d.patient.pk]
        start = now - timedelta(minutes=20 + 10 * k)
        session_add(
            h,
            d,
            plan,
            pv,
            None,
            d.clinic.prescribers[0],
            start=start,
            chair=d.clinic.chairs[-k],
            added_reason="Seen today outside the planned series",
        )
