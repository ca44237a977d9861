"""The network's places and people: locations with chairs, staff at each location, and patients.

Staff are made through the accounts service (a few dozen accounts, audited as usual); locations, chairs and
patients are rows written in bulk. Every patient's registration is checked by the same pure rules the
registration page uses (``ketaclinic.core.body`` for weight and height) before it is written.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.services import staff_create
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.body import Measurement, height_measure, weight_measure
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.web.demo import FAMILY, GIVEN_F, GIVEN_M
from ketaclinic.web.network.store import AuditEvent, Store, keys_take

PASSWORD = "ketaclinic-network"  # synthetic accounts on a benchmark database; never a real clinic's
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
CITIES = (
    ("Boston", "MA", "02110"),
    ("Chicago", "IL", "60601"),
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Atlanta", "GA", "30303"),
    ("Houston", "TX", "77002"),
    ("Phoenix", "AZ", "85004"),
    ("Portland", "OR", "97204"),
    ("Miami", "FL", "33130"),
)
STREETS = ("Maple", "Oak", "Cedar", "Beacon", "Summer", "Pine", "Lake", "Hill", "Park", "River")


@dataclass(frozen=True)
class Clinic:
    location: Location
    chairs: tuple[Chair, ...]
    prescribers: tuple[User, ...]
    nurses: tuple[User, ...]
    intake: User

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.location.timezone)


@contextmanager
def _one_hash() -> Iterator[None]:
    """Every synthetic account gets the same password, hashed once (Argon2 takes most of a second a hash:
    about a minute for the staff of nine clinics otherwise)."""
    hashed = make_password(PASSWORD)

    def set_password(self: User, raw: str | None) -> None:
        self.password = hashed

    with mock.patch.object(User, "set_password", set_password):
        yield


def clinics_create(*, count: int, chairs: int, code: str = "net", staffed: bool = True) -> list[Clinic]:
    """``count`` clinics (codes ``net-01``...) with ``chairs`` chairs each and, when ``staffed``, two
    prescribers, four nurses and an intake coordinator who work there only."""
    with _one_hash():
        return _clinics_create(count=count, chairs=chairs, code=code, staffed=staffed)


def _clinics_create(*, count: int, chairs: int, code: str, staffed: bool) -> list[Clinic]:
    out = []
    for n in range(1, count + 1):
        city, state, postal = CITIES[(n - 1) % len(CITIES)]
        loc = Location.objects.create(
            code=f"{code}-{n:02d}",
            name=f"{city} Clinic {n}" if code == "net" else f"Network clinic {n} ({city})",
            address=f"{100 + n} Main St",
            city=city,
            state=state,
            postal_code=postal,
            phone=f"555-01{n % 100:02d}-0100",
            timezone=ZONES[(n - 1) % len(ZONES)],
        )
        made = Chair.objects.bulk_create(
            [Chair(location=loc, name=f"Chair {c}") for c in range(1, chairs + 1)]
        )
        if not staffed:
            out.append(Clinic(loc, tuple(made), (), (), None))  # type: ignore[arg-type]
            continue

        def person(role: str, i: int, kind: str = "", loc: Location = loc, n: int = n) -> User:
            return staff_create(
                username=f"{role}.{n:02d}.{i}",
                password=PASSWORD,
                role=role,
                locations=[loc],
                first_name=GIVEN_F[(n + i) % len(GIVEN_F)],
                last_name=FAMILY[(3 * n + i) % len(FAMILY)],
                prescriber_kind=kind,
                credentials={"prescriber": "MD", "nurse": "RN"}.get(role, ""),
            )

        out.append(
            Clinic(
                loc,
                tuple(made),
                (person("prescriber", 1, "psychiatrist"), person("prescriber", 2, "anesthesiologist")),
                tuple(person("nurse", i) for i in range(1, 5)),
                person("intake", 1),
            )
        )
    return out


def network_staff_create(locations: list[Location]) -> dict[str, User]:
    """Who works across the network: an administrator and a biller."""
    with _one_hash():
        return _network_staff_create(locations)


def _network_staff_create(locations: list[Location]) -> dict[str, User]:
    return {
        role: staff_create(
            username=f"{role}.network",
            password=PASSWORD,
            role=role,
            locations=locations,
            first_name="Network",
            last_name=role.title(),
        )
        for role in ("admin", "billing")
    }


@dataclass
class PatientDraft:
    patient: Patient
    clinic: Clinic
    registered: datetime
    weight: Measurement
    height: Measurement


def patients_add(
    store: Store,
    *,
    clinics: list[Clinic],
    n: int,
    rng: random.Random,
    today: date,
    days_back: int,
    measured: bool = True,
) -> list[PatientDraft]:
    """``n`` patients spread over ``clinics``, registered over the last ``days_back`` days (queued in
    ``store``, with their weight and height when ``measured``)."""
    keys = keys_take(Patient, n)
    m_keys = iter(keys_take(BodyMeasurement, 2 * n if measured else 0))
    drafts = []
    for i, pk in enumerate(keys):
        clinic = clinics[i % len(clinics)]
        female = rng.random() < 0.6
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        family = rng.choice(FAMILY)
        age = rng.randint(19, 78)
        reg_day = today - timedelta(days=rng.randint(0, days_back))
        registered = datetime.combine(reg_day, time(9, rng.randint(0, 59)), clinic.tz).astimezone(UTC)
        kg = min(max(round(rng.gauss(80 if not female else 70, 13)), 45), 150)  # whole kg, as scales show
        weight = weight_measure(kg, "kg")
        height = height_measure(rng.randint(152, 193) if not female else rng.randint(148, 180), "cm")
        city, state, postal = clinic.location.city, clinic.location.state, clinic.location.postal_code
        p = Patient(
            pk=pk,
            external_id=uuid.uuid4(),
            created_at=registered,
            updated_at=registered,
            created_by=clinic.intake,
            updated_by=clinic.intake,
            mrn=f"KC{1000 + pk:06d}",
            given_name=given,
            family_name=family,
            birth_date=reg_day - timedelta(days=age * 365 + rng.randint(0, 364)),
            sex_at_birth="female" if female else "male",
            phone=f"555-{rng.randint(200, 999)}-{pk % 10000:04d}",
            email=f"{given.lower()}.{family.lower()}.{pk}@example.org",
            address=f"{rng.randint(2, 900)} {rng.choice(STREETS)} St",
            city=city,
            state=state,
            postal_code=postal,
            location=clinic.location,
            emergency_contact_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {family}",
            emergency_contact_phone=f"555-{rng.randint(200, 999)}-{(pk * 7) % 10000:04d}",
            emergency_contact_relation=rng.choice(["spouse", "parent", "sibling", "friend"]),
            escort_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {family}",
            escort_phone=f"555-{rng.randint(200, 999)}-{(pk * 3) % 10000:04d}",
        )
        store.add(p)
        if measured:
            for kind, m in (("weight", weight), ("height", height)):
                store.add(
                    BodyMeasurement(
                        pk=next(m_keys),
                        patient_id=pk,
                        kind=kind,
                        value_si=m.value_si,
                        entered_value=m.entered_value,
                        entered_unit=m.entered_unit,
                        measured_at=registered,
                        recorded_by=clinic.intake,
                        recorded_at=registered,
                    )
                )
        if clinic.intake is not None:
            store.audit_add(
                AuditEvent(
                    at=registered,
                    actor=clinic.intake,
                    action=AuditEntry.Action.CREATE,
                    summary=f"Registered patient {p.mrn}",
                    patient=p.external_id,
                    location_code=clinic.location.code,
                    detail={"mrn": p.mrn},
                )
            )
        drafts.append(PatientDraft(p, clinic, registered, weight, height))
    return drafts
