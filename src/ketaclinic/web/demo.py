"""The demo clinic: two locations, one user of each role, ~30 patients spread over the pathway.

Deterministic (seeded), loaded through the same services a clinic uses (so it is audited like real
work), and idempotent: loading it twice changes nothing the second time.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NotRequired, TypedDict
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.services import licence_add, staff_create, staff_update
from ketaclinic.billing.demo import demo_billing_load
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.consent.services import consent_documents_load_shipped, consent_sign_in_clinic
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.codes import diagnoses_for
from ketaclinic.core.errors import ProtocolError, ValidationError
from ketaclinic.core.indications import indication_get
from ketaclinic.core.infusion.home_safety import HOME_SAFETY_CODES
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as sessions
from ketaclinic.infusions.demo import demo_rems_load
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.inquiries.services import inquiry_close, inquiry_submit
from ketaclinic.outcomes.demo import COURSES, demo_outcomes_load, demo_worklist_load
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import allergy_record, medication_record, patient_register, patient_update
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.plans.services import infusion_cancel, plan_draft, plan_sign
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.protocols.services import protocols_load_shipped
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.reminders.services import preparation_answer, preparation_reminders_send
from ketaclinic.screening.models import Screening
from ketaclinic.screening.services import referral_record, screening_record, screening_sign
from ketaclinic.web.demo_desk import demo_front_desk_load

DEMO_PASSWORD = "ketaclinic-demo"
# Published on purpose: the demo's authenticator key (base32 JBSWY3DPEHPK3PXP). Never use in production.
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef"


class StaffSeed(TypedDict):
    username: str
    role: str
    first_name: str
    last_name: str
    locations: list[str]  # location codes
    credentials: NotRequired[str]
    prescriber_kind: NotRequired[str]


class ChecklistAnswer(TypedDict):
    """One pre-infusion checklist answer, as ``checklist_record`` takes it."""

    code: str
    answer: NotRequired[str]
    value: NotRequired[Decimal | int]
    unit: NotRequired[str]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    needs_totp: bool


STAFF: list[StaffSeed] = [
    StaffSeed(
        username="dr.rivera",
        role="prescriber",
        prescriber_kind="psychiatrist",
        first_name="Elena",
        last_name="Rivera",
        credentials="MD",
        locations=["downtown", "northside"],
    ),
    StaffSeed(
        username="dr.okafor",
        role="prescriber",
        prescriber_kind="anesthesiologist",
        first_name="Chidi",
        last_name="Okafor",
        credentials="MD",
        locations=["northside"],
    ),
    StaffSeed(
        username="np.chen",
        role="prescriber",
        prescriber_kind="nurse_practitioner",
        first_name="Mei",
        last_name="Chen",
        credentials="PMHNP-BC",
        locations=["downtown"],
    ),
    StaffSeed(
        username="nurse.patel",
        role="nurse",
        first_name="Asha",
        last_name="Patel",
        credentials="RN",
        locations=["downtown"],
    ),
    StaffSeed(
        username="intake.jones",
        role="intake",
        first_name="Sam",
        last_name="Jones",
        locations=["downtown", "northside"],
    ),
    StaffSeed(
        username="billing.kim",
        role="billing",
        first_name="Jordan",
        last_name="Kim",
        locations=["downtown", "northside"],
    ),
    StaffSeed(
        username="admin.morgan",
        role="admin",
        first_name="Alex",
        last_name="Morgan",
        locations=["downtown", "northside"],
    ),
]

GIVEN_F = [
    "Maria",
    "Jennifer",
    "Aisha",
    "Sofia",
    "Emily",
    "Grace",
    "Hannah",
    "Priya",
    "Olivia",
    "Chloe",
    "Leah",
    "Nora",
    "Ruth",
    "Ivy",
    "Zoe",
]
GIVEN_M = [
    "James",
    "Michael",
    "David",
    "Daniel",
    "Marcus",
    "Luis",
    "Ethan",
    "Omar",
    "Noah",
    "Samuel",
    "Victor",
    "Caleb",
    "Henry",
    "Felix",
    "Isaac",
]
FAMILY = [
    "Garcia",
    "Smith",
    "Johnson",
    "Nguyen",
    "Brown",
    "Williams",
    "Martinez",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
]
ANTIDEPRESSANTS = [
    ("sertraline", "100 mg daily"),
    ("escitalopram", "20 mg daily"),
    ("bupropion XL", "300 mg daily"),
    ("venlafaxine XR", "225 mg daily"),
    ("duloxetine", "60 mg daily"),
    ("mirtazapine", "30 mg nightly"),
    ("fluoxetine", "40 mg daily"),
]
# (indication, stage) for 30 patients: where each one is on the pathway.
PATHWAY = (
    [("trd", "signed_eligible")] * 8
    + [("trd", "awaiting_signature")] * 4
    + [("trd", "referred")] * 3
    + [("ptsd", "signed_eligible")] * 2
    + [("ptsd", "referred")] * 1
    + [("mdd", "awaiting_signature")] * 2
    + [("trd", "signed_not_eligible")] * 2
    + [("anxiety", "referred")] * 1
    + [("crps", "awaiting_signature")] * 2
    + [("fibromyalgia", "referred")] * 1
    + [("bipolar_depression", "awaiting_signature")] * 1
    + [("postpartum_depression", "signed_eligible")] * 1
    + [("trd", "registered")] * 2
    + [("trd", "signed_eligible")]
    * 12  # patients in a series today: the day board's sessions come from their plans
)


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(s["username"], s["role"], s["role"] in ("prescriber", "admin")) for s in STAFF]


def _covered(indication: str) -> bool:
    try:
        protocol_for_indication(indication)
    except ProtocolError:
        return False
    return True


def demo_loaded() -> bool:
    return User.objects.filter(username="dr.rivera").exists()


class _Replay:
    """The demo replays today: the clinic's records are made through the services as the day happened, with
    the clock (``django.utils.timezone.now``) set back to when each thing happened and moved forward event by
    event, so every event is recorded at its time (event times may be backdated only within the protocol's
    bounds)."""

    def __init__(self, start: datetime) -> None:
        self.real_now = _REAL_NOW()
        self.offset = start - self.real_now

    def now(self) -> datetime:
        return _REAL_NOW() + self.offset

    def to(self, at: datetime) -> None:
        """Set the clock to ``at``: within one session it only moves forward; the next session of the day may
        begin earlier than the previous one ended (sessions overlap in the chairs)."""
        self.offset += at - self.now()


_REAL_NOW = timezone.now
_REPLAY: list[_Replay] = []
REPLAY_FROM_MIN = 300  # the day's first events, minutes before the real now
DOCUMENTS_IN_USE_DAYS = 30  # the consent documents were loaded before the demo's past esketamine sessions


def _clock_to(at: datetime) -> None:
    """Set the replayed clock to ``at`` (no effect outside the demo's replay)."""
    if _REPLAY:
        _REPLAY[-1].to(at)


def _real_now() -> datetime:
    return _REPLAY[-1].real_now if _REPLAY else timezone.now()


def demo_load(today: date | None = None) -> bool:
    """Load the demo clinic; returns False (and changes nothing) when it is already loaded."""
    replay = _Replay(_REAL_NOW() - timedelta(minutes=REPLAY_FROM_MIN))
    _REPLAY.append(replay)
    try:
        with mock.patch("django.utils.timezone.now", replay.now):
            return _demo_load(today or _REAL_NOW().astimezone(timezone.get_current_timezone()).date())
    finally:
        _REPLAY.pop()


@transaction.atomic
def _demo_load(today: date) -> bool:
    protocols_load_shipped()
    replay_start = timezone.now()
    _clock_to(replay_start - timedelta(days=DOCUMENTS_IN_USE_DAYS))  # in use before the past sessions
    consent_documents_load_shipped()
    _clock_to(replay_start)
    if demo_loaded():
        return False
    rng = random.Random(20261125)  # noqa: S311 - demo data, not security
    locations = {
        "downtown": Location.objects.create(
            code="downtown",
            name="Downtown Clinic",
            address="120 Harbor St",
            city="Boston",
            state="MA",
            postal_code="02110",
            phone="617-555-0100",
        ),
        "northside": Location.objects.create(
            code="northside",
            name="Northside Clinic",
            address="45 Elm Ave",
            city="Somerville",
            state="MA",
            postal_code="02144",
            phone="617-555-0200",
        ),
    }
    for loc in locations.values():
        for n in range(1, CHAIRS + 1):
            Chair.objects.create(location=loc, name=f"Chair {n}")
    locations["mobile"] = Location.objects.create(
        code="mobile",
        name="Mobile infusions (home visits)",
        kind=Location.Kind.MOBILE,
        address="120 Harbor St",
        city="Boston",
        state="MA",
        postal_code="02110",
        phone="617-555-0300",
        # homes within 12 miles of downtown Boston's ZIP centre
        service_centre_postal_code="02110",
        service_radius_miles=12,
    )
    users: dict[str, User] = {}
    for s in STAFF:
        locs = [locations[c] for c in s["locations"]]
        if s["username"] in ("dr.rivera", "nurse.patel", "intake.jones"):
            locs.append(locations["mobile"])
        users[s["username"]] = staff_create(
            username=s["username"],
            password=DEMO_PASSWORD,
            role=s["role"],
            locations=locs,
            first_name=s["first_name"],
            last_name=s["last_name"],
            prescriber_kind=s.get("prescriber_kind", ""),
            credentials=s.get("credentials", ""),
        )
        if s["role"] in ("prescriber", "admin"):
            TOTPDevice.objects.create(
                user=users[s["username"]], name="Demo authenticator", key=DEMO_TOTP_KEY_HEX, confirmed=True
            )
    intake, prescriber = users["intake.jones"], users["dr.rivera"]
    names = list(FAMILY)
    rng.shuffle(names)
    eligible: list[tuple[Patient, Screening]] = []
    for i, (indication, stage) in enumerate(PATHWAY):
        female = rng.random() < 0.6
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        age = 17 if stage == "signed_not_eligible" and i % 2 == 0 else rng.randint(22, 63)
        born = today - timedelta(days=age * 365 + rng.randint(20, 340))
        loc = locations["downtown" if i % 3 else "northside"]
        kg = round(rng.uniform(52, 112), 1)
        use_lb = rng.random() < 0.5
        patient = patient_register(
            user=intake,
            location=loc,
            given_name=given,
            family_name=names[i % len(names)],
            birth_date=born,
            sex_at_birth="female" if female else "male",
            weight=(round(kg * 2.20462, 1), "lb") if use_lb else (kg, "kg"),
            height=(rng.randint(152, 190), "cm"),
            phone=f"617-555-{1000 + i:04d}",
            email=f"{given.lower()}.{names[i % len(names)].lower()}@example.org",
            address=f"{rng.randint(2, 400)} {rng.choice(['Maple', 'Oak', 'Cedar', 'Beacon', 'Summer'])} St",
            city=loc.city,
            state="MA",
            postal_code=loc.postal_code,
            emergency_contact_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {names[i % len(names)]}",
            emergency_contact_phone=f"617-555-{3000 + i:04d}",
            emergency_contact_relation=rng.choice(["spouse", "parent", "sibling", "friend"]),
            escort_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {names[i % len(names)]}",
            escort_phone=f"617-555-{5000 + i:04d}",
        )
        if i % 4 == 0:
            medication_record(
                user=intake,
                patient=patient,
                name=rng.choice(["lorazepam", "clonazepam", "Adderall XR", "lamotrigine"]),
                dose="as prescribed",
            )
        medication_record(user=intake, patient=patient, name=rng.choice(ANTIDEPRESSANTS)[0], dose="current")
        if i % 5 == 0:
            allergy_record(
                user=intake,
                patient=patient,
                substance=rng.choice(["penicillin", "sulfa drugs", "latex"]),
                reaction="rash",
                severity="mild",
            )
        if stage == "registered":
            continue
        pain = indication in ("crps", "fibromyalgia")
        referral = referral_record(
            user=intake,
            patient=patient,
            indication=indication,
            referrer_name=rng.choice(
                ["Dr. Susan Blake", "Dr. Amir Haddad", "Karen Liu, LICSW", "Dr. Paul Ortiz"]
            )
            if not pain
            else "Dr. Nina Volkov",
            referrer_role="pain_specialist"
            if pain
            else rng.choice(["psychiatrist", "psychiatrist", "therapist"]),
            reason="Persistent symptoms despite adequate treatment; requests evaluation for IV ketamine.",
            received_on=today - timedelta(days=rng.randint(3, 60)),
        )
        if stage == "referred" or not _covered(indication):
            continue
        trials = []
        n_trials = 1 if stage == "awaiting_signature" and indication == "trd" else rng.randint(2, 4)
        for drug, dose in rng.sample(ANTIDEPRESSANTS, n_trials):
            trials.append({"kind": "antidepressant", "name": drug, "dose": dose, "weeks": rng.randint(6, 16)})
        if pain:
            trials = [
                {"kind": "pain_treatment", "name": t, "weeks": 12} for t in ("gabapentin", "physical therapy")
            ]
        answers = {
            q: "no"
            for q in (
                "ketamine_hypersensitivity",
                "uncontrolled_hypertension",
                "vascular_aneurysm",
                "intracerebral_haemorrhage",
                "raised_icp_iop",
                "psychosis_history",
                "pregnancy",
                "hepatic_impairment",
            )
        }
        substance = "none"
        if stage == "awaiting_signature" and indication != "trd":
            substance = "past"
        if stage == "signed_not_eligible" and i % 2 == 1:
            substance = "active"
        screening = screening_record(
            user=intake,
            patient=patient,
            indication=indication,
            referral=referral,
            substance_use=substance,
            contraindications=answers,
            trials=trials,
            screening_date=today - timedelta(days=rng.randint(0, 2)),
        )
        if stage.startswith("signed_"):
            outcome = "eligible" if stage == "signed_eligible" else "not_eligible"
            note = (
                ""
                if screening.computed_outcome == outcome
                else "Reviewed history with the referring psychiatrist."
            )
            screening = screening_sign(
                user=prescriber if loc.code in ("downtown", "northside") else users["dr.okafor"],
                screening=screening,
                outcome=outcome,
                note=note,
                diagnosis=_demo_diagnosis(screening.indication) if outcome == "eligible" else "",
            )
            if outcome == "eligible":
                eligible.append((patient, screening))
    _demo_plans_and_consent(today, users, locations, eligible)
    _demo_front_desk(today, users, locations)
    demo_front_desk_load(today, users, locations)
    demo_outcomes_load(
        nurse=users["intake.jones"], prescriber=prescriber, patients=_outcome_order(eligible), today=today
    )
    demo_worklist_load(nurse=users["nurse.patel"], location=locations["downtown"], today=today)
    _demo_rems(today, users, locations["downtown"])
    for loc in locations.values():
        _demo_day(loc, users, rng)
    _demo_reminders(today, locations)
    demo_billing_load(clerk=users["billing.kim"])
    return True


# Answers to the day-before reminder of today's expected patients (in slot order): prepared with a driver; no
# driver yet; no answer. The board shows each; tomorrow's patients are reminded as the daily job would.
# (light meal, no alcohol, driver, driver's name, note)
DEMO_PREPARATION = [(True, True, True, "Sam Okoro", ""), (True, True, False, "", "My sister may be late")]


def _demo_reminders(today: date, locations: dict[str, Location]) -> None:
    base = "http://127.0.0.1:8000"
    for loc in locations.values():
        preparation_reminders_send(location=loc, day=today - timedelta(days=1), base_url=base)
        preparation_reminders_send(location=loc, day=today, base_url=base)
    waiting = (
        PreparationCheck.objects.filter(
            planned__location=locations["downtown"],
            planned__status=PlannedInfusion.Status.PLANNED,
            planned__sessions__isnull=True,
            status=PreparationCheck.Status.WAITING,
            expires_at__gt=timezone.now(),
            expires_at__date__lte=today + timedelta(days=1),
        )
        .select_related("message")
        .order_by("expires_at")
    )
    for check, answer in zip(waiting, DEMO_PREPARATION, strict=False):
        assert check.message is not None
        token = check.message.body.split("/prep/", 1)[1].split("/", 1)[0]
        meal, alcohol, driver, name, note = answer
        preparation_answer(
            token=token, light_meal=meal, no_alcohol=alcohol, driver=driver, driver_name=name, note=note
        )


def _demo_rems(today: date, users: dict[str, User], location: Location) -> None:
    """Two past esketamine sessions whose REMS forms are not submitted (the prescriber's worklist), for the
    last TRD patient in an active plan (today's sessions take the first ones)."""
    flagged = set(
        SafetyFlag.objects.filter(status=SafetyFlag.Status.OPEN).values_list("patient_id", flat=True)
    )
    patient = next(
        (
            p
            for p in Patient.objects.filter(location=location).order_by("-mrn")
            if p.pk not in flagged
            and (plan := selectors.active_plan(p)) is not None
            and plan.indication == "trd"
        ),
        None,
    )
    if patient is not None:
        demo_rems_load(
            nurse=users["nurse.patel"],
            prescriber=users["dr.rivera"],
            patient=patient,
            location=location,
            today=today,
            clock_to=_clock_to,
            signature=_demo_signature_data(),
        )


# Requests for a free assessment waiting in the intake queue: (location, given, family, phone, interest,
# suggested by, hours ago).
DEMO_INQUIRIES = [
    ("downtown", "Rosa", "Quintero", "617-555-0142", "trd", "therapist", 52),
    ("downtown", "Marcus", "Bell", "617-555-0178", "ptsd", "self", 20),
    ("downtown", "Hana", "Sato", "857-555-0119", "", "primary_care", 3),
    ("northside", "Leo", "Fischer", "781-555-0165", "crps", "other", 30),
]
# Staff identifiers and licences (made-up numbers with valid check digits; each prescriber's NPI is their
# own, not the clinic's organisation NPI of the billing demo): one licence expires within
# 60 days, so the admin's staff list shows it.
DEMO_CREDENTIALS = {
    "dr.rivera": (
        "1987654328",
        "BR1234563",
        [("MD", "MA", "MD-245781", 45), ("DEA", "MA", "BR1234563", 700)],
    ),
    "np.chen": ("1245319599", "MC4175293", [("NP", "MA", "NP-99812", 300)]),
    "nurse.patel": ("", "", [("RN", "MA", "RN-2231904", 20)]),
}


def _demo_front_desk(today: date, users: dict[str, User], locations: dict[str, Location]) -> None:
    """A few open requests for an assessment (one closed), and staff NPI, DEA and licences."""
    now = timezone.now()
    for code, given, family, phone, interest, suggested, hours in DEMO_INQUIRIES:
        inquiry = inquiry_submit(
            location=locations[code],
            given_name=given,
            family_name=family,
            phone=phone,
            email=f"{given.lower()}.{family.lower()}@example.org",
            interest=interest,
            referred_by=suggested,
            consent=True,
        )
        Inquiry.objects.filter(pk=inquiry.pk).update(
            received_at=now - timedelta(hours=hours), contact_consent_at=now - timedelta(hours=hours)
        )
    spam = inquiry_submit(
        location=locations["downtown"],
        given_name="Test",
        family_name="Test",
        phone="617-555-0199",
        consent=True,
    )
    inquiry_close(user=users["intake.jones"], inquiry=spam, reason="spam", note="")
    admin = users["admin.morgan"]
    for username, (npi, dea, licences) in DEMO_CREDENTIALS.items():
        member = users[username]
        staff_update(
            user=admin,
            staff_member=member,
            locations=list(member.locations.all()),
            npi=npi,
            dea_number=dea,
        )
        for kind, state, number, days in licences:
            licence_add(
                user=admin,
                staff_member=member,
                kind=kind,
                state=state,
                number=number,
                expires_on=today + timedelta(days=days),
            )


def _demo_signature_png() -> bytes:
    """A drawn-looking signature (a wave on white), as a grayscale PNG: the demo's tablet signatures."""

    width, height = 240, 60
    ink = {
        (x, int(30 + 16 * math.sin(x / 11) * math.cos(x / 37)) + dy) for x in range(12, 228) for dy in (0, 1)
    }
    rows = b"".join(b"\x00" + bytes(0 if (x, y) in ink else 255 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _outcome_order(eligible: list[tuple[Patient, Screening]]) -> list[Patient]:
    """The eligible patients in the order the outcomes demo takes them, with the one who raises this morning's
    open safety flag (the first after the courses) a Downtown patient with a signed plan, so that Downtown's
    day board shows the flag on a slot to check in."""

    patients = [p for p, _ in eligible]
    k = len(COURSES)
    if len(patients) > k + 1 and patients[k].location.code != "downtown":
        swap = next(
            (i for i in range(k + 1, len(patients) - 1) if patients[i].location.code == "downtown"), None
        )
        if swap is not None:  # the last eligible patient's plan stays a draft: never chosen
            patients[k], patients[swap] = patients[swap], patients[k]
    return patients


def _demo_signature_data() -> str:
    return "data:image/png;base64," + base64.b64encode(_demo_signature_png()).decode()


def _demo_plans_and_consent(
    today: date,
    users: dict[str, User],
    locations: dict[str, Location],
    eligible: list[tuple[Patient, Screening]],
) -> None:
    """Every signed-eligible patient gets a plan whose series starts today (chairs at both clinics, three
    Downtown patients at home: the mobile nurse's route), all signed but one draft; most have signed consent
    on the clinic's tablet."""
    prescriber = users["dr.rivera"]
    signature = _demo_signature_data()
    weekdays = (today.weekday(), (today.weekday() + 3) % 7)
    per_location: dict[str, int] = {}
    # the nurse's route today: three Downtown patients (the mobile nurse works there) at home in the area
    visited = [n for n, (p, _) in enumerate(eligible) if p.location.code == "downtown"][: len(HOME_VISITS)]
    for n, (patient, screening) in enumerate(eligible):
        home = n in visited
        if home:
            address, city, postal_code, at = HOME_VISITS[visited.index(n)]
            patient = patient_update(
                user=users["intake.jones"],
                patient=patient,
                address=address,
                city=city,
                postal_code=postal_code,
            )
        k = per_location.get(patient.location.code, 0)
        per_location[patient.location.code] = k + 1
        if not home:
            at = time(8 + 2 * (k // 4))
        chair = (
            None
            if home
            else Chair.objects.filter(location=patient.location).order_by("name")[k % PLAN_CHAIRS]
        )
        plan = plan_draft(
            user=prescriber,
            patient=patient,
            screening=screening,
            start=today,
            weekdays=weekdays,
            at=at,
            location=locations["mobile"] if home else patient.location,
            chair=chair,
            at_home=home,
        )
        if n != len(eligible) - 1:
            plan_sign(user=prescriber, plan=plan)
        if n % 5 != 4:
            consent_sign_in_clinic(
                user=users["intake.jones"],
                patient=patient,
                document=consent_documents_load_shipped()[0],
                typed_name=f"{patient.given_name} {patient.family_name}",
                signature_data=signature,
            )


# The first eligible patients are visited at home (street, city, ZIP, time): Back Bay, Cambridge, Jamaica
# Plain, with time between the visits to drive (the route page shows each leg's estimate).
HOME_VISITS = (
    ("18 Marlborough St", "Boston", "02116", time(8, 30)),
    ("7 Hancock St", "Cambridge", "02139", time(11, 0)),
    ("52 Burroughs St", "Jamaica Plain", "02130", time(13, 30)),
)


# Chairs per clinic: the plans' series hold chairs 1-4 at 8:00 and 10:00; today's sessions (at times set from
# the moment the demo is loaded) take the first chair free for their whole chair time, so three more chairs
# guarantee one whatever the time of day.
CHAIRS = 7
PLAN_CHAIRS = 4

# Today's sessions at each location, one in every state: (state, chair number or None for a home visit,
# minutes from now of the scheduled start).
DAY = [
    ("discharged", 1, -240),
    ("recovering", 2, -85),
    ("running", 3, -40),
    ("prechecks_done", 4, -30),
    ("checked_in", None, -15),
    ("scheduled", 1, 90),
]
CONFIRMED = (
    "identity_checked",
    "consent_on_file",
    "no_heavy_meal",
    "no_alcohol_drugs",
    "medications_reviewed",
    "escort_confirmed",
)


def _demo_day(location: Location, users: dict[str, User], rng: random.Random) -> None:
    """Run today's sessions through the real services, up to each one's state (times backdated from now).

    They are for patients without a planned infusion today: those planned today stay on the board as slots
    to check in."""
    nurse = users["nurse.patel"] if location.code == "downtown" else users["dr.okafor"]
    prescriber = users["dr.rivera"]
    protocol = ProtocolVersion.objects.filter(protocol_id="depression-standard").order_by("-version").first()
    chairs = {c.name: c for c in Chair.objects.filter(location=location)}
    now = _real_now()
    # On the board of today in the location's zone even when loaded in the small hours (the events keep their
    # times).
    midnight = datetime.combine(
        now.astimezone(ZoneInfo(location.timezone)).date(), time(0, 1), tzinfo=ZoneInfo(location.timezone)
    )
    planned_today = {
        i.plan.patient_id: i
        for i in PlannedInfusion.objects.filter(
            location=location,
            plan__status="active",
            status=PlannedInfusion.Status.PLANNED,
            scheduled_start__gte=midnight - timedelta(minutes=1),
            scheduled_start__lt=midnight + timedelta(days=1),
        ).select_related("plan")
    }
    # No infusion outside the pathway: only patients in an active signed plan under this protocol's
    # indications, without an open urgent safety flag (that patient's slot stays on the board, flagged, for
    # the prescriber).
    covered = {str(i) for i in protocol.parsed.indications} if protocol is not None else set()
    flagged = set(
        SafetyFlag.objects.filter(status=SafetyFlag.Status.OPEN).values_list("patient_id", flat=True)
    )
    patients = [
        p
        for p in Patient.objects.filter(location=location).order_by("mrn")
        if p.pk not in flagged
        and (plan := selectors.active_plan(p)) is not None
        and plan.indication in covered
    ]
    for (state, chair, minutes), patient in zip(DAY, patients, strict=False):
        start = now + timedelta(minutes=minutes)
        planned = planned_today.get(patient.pk)
        if planned is not None and chair is None:  # today's infusion moves from the chair to a home visit
            infusion_cancel(
                user=prescriber,
                infusion=planned,
                reason="Moved to a home visit today (patient unwell to travel)",
            )
            planned = None
        scheduled_start = min(max(start, midnight), midnight + timedelta(hours=23, minutes=58))
        session = _demo_schedule(
            nurse,
            patient,
            protocol,
            planned,
            scheduled_start,
            None if chair is None else _chairs_from(chairs, chair),
        )
        if state != "scheduled":
            _demo_walk(session, state, nurse, prescriber, start, rng)


def _chairs_from(chairs: dict[str, Chair], first: int) -> list[Chair]:
    """The chair the day's plan names first, then every other chair of the clinic in order."""
    names = [f"Chair {first}"] + [f"Chair {n}" for n in range(1, CHAIRS + 1) if n != first]
    return [chairs[n] for n in names if n in chairs]


def _demo_schedule(
    nurse: User,
    patient: Patient,
    protocol: ProtocolVersion | None,
    planned: PlannedInfusion | None,
    start: datetime,
    chairs: list[Chair] | None,
) -> InfusionSession:
    """Schedule one of today's sessions through the service, in the first chair it finds free (the service
    refuses a chair taken by another session or another patient's planned infusion); a home visit when
    ``chairs`` is None."""
    if chairs is None:
        return sessions.session_schedule(
            user=nurse,
            patient=patient,
            protocol_version=protocol,
            planned_infusion=planned,
            added_reason="" if planned else "Home visit today instead of the clinic chair",
            scheduled_start=start,
            at_home=True,
        )
    for chair in chairs:
        try:
            return sessions.session_schedule(
                user=nurse,
                patient=patient,
                protocol_version=protocol,
                planned_infusion=planned,
                scheduled_start=start,
                chair=chair,
                added_reason="" if planned else "Seen today outside the planned series",
            )
        except ValidationError as exc:
            if exc.field != "chair":
                raise
    raise ValidationError(
        f"No chair at {patient.location} is free at {start:%H:%M} for the demo's sessions.",
        field="chair",
        value=start.isoformat(),
    )


def _fresh(session: InfusionSession) -> InfusionSession:
    return InfusionSession.objects.select_related("patient", "protocol_version", "location").get(
        pk=session.pk
    )


def _reading(
    nurse: User,
    session: InfusionSession,
    at: datetime,
    rng: random.Random,
    *,
    systolic_mmhg: int | None = None,
    diastolic_mmhg: int | None = None,
    heart_rate_bpm: int | None = None,
    sedation: str = "none",
) -> sessions.VitalsPosted:
    """A normal reading (drawn from ``rng``, always the same five draws) but for the values given."""
    systolic, diastolic, heart_rate, spo2, respiratory_rate = (
        rng.randint(118, 130),
        rng.randint(74, 82),
        rng.randint(68, 78),
        rng.randint(96, 99),
        rng.randint(12, 16),
    )
    return sessions.vitals_record(
        user=nurse,
        session=session,
        client_id=f"demo-{session.external_id}-{at:%H%M%S}",
        taken_at=at,
        systolic_mmhg=systolic if systolic_mmhg is None else systolic_mmhg,
        diastolic_mmhg=diastolic if diastolic_mmhg is None else diastolic_mmhg,
        heart_rate_bpm=heart_rate if heart_rate_bpm is None else heart_rate_bpm,
        spo2_percent=spo2,
        respiratory_rate_per_min=respiratory_rate,
        sedation=sedation,
    )


def _demo_walk(
    session: InfusionSession, state: str, nurse: User, prescriber: User, t0: datetime, rng: random.Random
) -> None:
    _clock_to(t0)
    session = sessions.session_check_in(user=nurse, session=session, expected_version=session.version, at=t0)
    if state == "checked_in":
        return
    for document in consent_on_file(session.patient).missing:  # signed on the tablet at check-in
        consent_sign_in_clinic(
            user=nurse,
            patient=session.patient,
            document=document,
            typed_name=f"{session.patient.given_name} {session.patient.family_name}",
            signature_data=_demo_signature_data(),
        )
    _clock_to(t0 + timedelta(minutes=3))
    _reading(nurse, session, t0 + timedelta(minutes=3), rng)
    confirmed = CONFIRMED + (HOME_SAFETY_CODES if session.at_home else ())
    answers: list[ChecklistAnswer] = [{"code": c, "answer": "yes"} for c in confirmed]
    weight = session.patient.measurements.filter(kind="weight").first()
    answers.append({"code": "weight_today", "value": weight.value_si if weight else 70, "unit": "kg"})
    answers.append({"code": "phq9_today", "value": rng.randint(12, 22)})
    if session.patient.sex_at_birth == "female":
        answers.append({"code": "pregnancy_status", "answer": "not_pregnant"})
    for a in answers:
        session = _fresh(session)
        sessions.checklist_record(user=nurse, session=session, expected_version=session.version, **a)
    session = _fresh(session)
    order = sessions.order_create(user=nurse, session=session, expected_version=session.version)
    session = _fresh(session)
    sessions.order_sign(user=prescriber, order=order, expected_version=session.version)
    session = sessions.checklist_complete(
        user=nurse, session=_fresh(session), expected_version=_fresh(session).version
    )
    if state == "prechecks_done":
        return
    _clock_to(t0 + timedelta(minutes=10))
    signed = selectors.signed_order(session)
    assert signed is not None
    sessions.vial_check_record(
        user=prescriber,
        session=_fresh(session),
        expected_version=_fresh(session).version,
        vial_mg_per_ml=signed.vial_mg_per_ml,
        drawn_ml=round(signed.drug_volume_ml or 0, 2),
    )
    session = _fresh(session)
    started = t0 + timedelta(minutes=12)
    _clock_to(started)
    sessions.infusion_start(user=nurse, session=session, expected_version=session.version, at=started)
    now = _real_now()
    for minute in range(10, 50, 10):
        at = started + timedelta(minutes=minute)
        if at > now:
            break
        _clock_to(at)
        if minute == 20:  # a transient rise in blood pressure: alert, acknowledged, rate reduced
            (alert, *_) = _reading(
                nurse, session, at, rng, systolic_mmhg=184, diastolic_mmhg=98, heart_rate_bpm=92
            ).alerts
            sessions.alert_acknowledge(
                user=nurse, alert=alert, note="Paused briefly, reassured; 152/88 on recheck."
            )
            session = _fresh(session)
            signed = selectors.signed_order(session)
            rate = signed.rate_mg_per_h if signed else 50
            assert rate is not None  # a signed order has its rate
            _clock_to(at + timedelta(minutes=1))
            in_person = nurse.can(
                Permission.ORDER_SIGN
            )  # a prescriber running the chair orders as themselves
            titration = sessions.infusion_rate_change(
                user=nurse,
                session=session,
                expected_version=session.version,
                rate_mg_per_h=round(rate * 0.8, 1),
                reason="Systolic 184 at 20 min: rate reduced by 20 %",
                signer=None if in_person else prescriber,
                read_back=not in_person,
                at=at + timedelta(minutes=1),
            )
            if (
                titration.verbal_order and state != "running"
            ):  # co-signed; today's running one waits on the worklist
                sessions.titration_cosign(user=prescriber, event=titration)
        else:
            _reading(nurse, session, at, rng, sedation=rng.choice(["mild", "moderate"]))
    if state == "running":
        return
    session = _fresh(session)
    ended = started + timedelta(minutes=45)
    _clock_to(ended)
    sessions.infusion_stop(user=nurse, session=session, expected_version=session.version, at=ended)
    _clock_to(ended + timedelta(minutes=15))
    _reading(nurse, session, ended + timedelta(minutes=15), rng, sedation="mild")
    if state == "recovering":
        return
    _clock_to(ended + timedelta(minutes=35))
    _reading(nurse, session, ended + timedelta(minutes=35), rng)
    session = _fresh(session)
    sessions.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=1,
        escort_present=True,
        instructions_given=True,
        escort_name=session.patient.escort_name,
    )
    session = sessions.session_discharge(
        user=nurse, session=_fresh(session), expected_version=_fresh(session).version
    )
    sessions.note_generate(user=nurse, session=session, expected_version=session.version)
    sessions.note_sign(user=prescriber, session=_fresh(session), expected_version=_fresh(session).version)


def demo_running_sessions_add(*, count: int, minutes_ago: int = 40) -> list[InfusionSession]:
    """Up to ``count`` more infusions running now, as home visits of the demo's patients in an active signed
    plan with no session today, walked through the real services like the day's running one (started about
    ``minutes_ago`` minutes ago; each has a verbal order awaiting a prescriber's co-signature). For the load
    test (benchmarks/load.py): the day's nurses each keep one open."""
    replay = _Replay(_REAL_NOW() - timedelta(minutes=minutes_ago))
    _REPLAY.append(replay)
    try:
        with mock.patch("django.utils.timezone.now", replay.now):
            return _running_sessions_add(count, minutes_ago)
    finally:
        _REPLAY.pop()


@transaction.atomic
def _running_sessions_add(count: int, minutes_ago: int) -> list[InfusionSession]:
    users = {
        u.username: u for u in User.objects.filter(username__in=["nurse.patel", "dr.okafor", "dr.rivera"])
    }
    nurses = {"downtown": users["nurse.patel"], "northside": users["dr.okafor"]}  # as in _demo_day
    prescriber = users["dr.rivera"]
    protocol = ProtocolVersion.objects.filter(protocol_id="depression-standard").order_by("-version").first()
    covered = {str(i) for i in protocol.parsed.indications} if protocol is not None else set()
    flagged = set(
        SafetyFlag.objects.filter(status=SafetyFlag.Status.OPEN).values_list("patient_id", flat=True)
    )
    start = _real_now() - timedelta(minutes=minutes_ago)
    today = start - timedelta(hours=12)
    busy = set(InfusionSession.objects.filter(created_at__gte=today).values_list("patient_id", flat=True))
    rng = random.Random(20261204)  # noqa: S311 - demo data, not security
    added: list[InfusionSession] = []
    patients = Patient.objects.filter(location__code__in=nurses).select_related("location").order_by("mrn")
    for patient in patients:
        if len(added) >= count:
            break
        if patient.pk in flagged or patient.pk in busy:
            continue
        plan = selectors.active_plan(patient)
        if plan is None or plan.indication not in covered:
            continue
        nurse = nurses[patient.location.code]
        try:
            with transaction.atomic():  # a patient the pathway refuses (spacing, eligibility) is passed over
                session = _demo_schedule(nurse, patient, protocol, None, start, None)
        except ValidationError:
            continue
        _demo_walk(session, "running", nurse, prescriber, start, rng)
        added.append(_fresh(session))
    return added


def _demo_diagnosis(indication: str) -> str:
    """The diagnosis the demo prescriber records when signing eligible: the indication's first example code
    billable for it (TRD: F32.2, a severe single episode), as a prescriber chooses from the list."""
    allowed = {code for code, _ in diagnoses_for(indication)}
    return next((c for c in indication_get(indication).icd10cm_examples if c in allowed), "")
