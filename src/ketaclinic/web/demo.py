"""The demo clinic: two locations, one user of each role, ~30 patients spread over the pathway.

Deterministic (seeded), loaded through the same services a clinic uses (so it is audited like real
work), and idempotent: loading it twice changes nothing the second time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.services import staff_create
from ketaclinic.core.errors import ProtocolError
from ketaclinic.outcomes.demo import demo_outcomes_load
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import allergy_record, medication_record, patient_register
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.protocols.services import protocols_load_shipped
from ketaclinic.screening.services import referral_record, screening_record, screening_sign

DEMO_PASSWORD = "ketaclinic-demo"
# Published on purpose: the demo's authenticator key (base32 JBSWY3DPEHPK3PXP). Never use in production.
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    needs_totp: bool


STAFF = [
    dict(username="dr.rivera", role="prescriber", prescriber_kind="psychiatrist", first_name="Elena", last_name="Rivera",
         credentials="MD", locations=["downtown", "northside"]),
    dict(username="dr.okafor", role="prescriber", prescriber_kind="anesthesiologist", first_name="Chidi", last_name="Okafor",
         credentials="MD", locations=["northside"]),
    dict(username="np.chen", role="prescriber", prescriber_kind="nurse_practitioner", first_name="Mei", last_name="Chen",
         credentials="PMHNP-BC", locations=["downtown"]),
    dict(username="nurse.patel", role="nurse", first_name="Asha", last_name="Patel", credentials="RN",
         locations=["downtown"]),
    dict(username="intake.jones", role="intake", first_name="Sam", last_name="Jones", locations=["downtown", "northside"]),
    dict(username="billing.kim", role="billing", first_name="Jordan", last_name="Kim", locations=["downtown", "northside"]),
    dict(username="admin.morgan", role="admin", first_name="Alex", last_name="Morgan", locations=["downtown", "northside"]),
]

GIVEN_F = ["Maria", "Jennifer", "Aisha", "Sofia", "Emily", "Grace", "Hannah", "Priya", "Olivia", "Chloe", "Leah", "Nora", "Ruth", "Ivy", "Zoe"]
GIVEN_M = ["James", "Michael", "David", "Daniel", "Marcus", "Luis", "Ethan", "Omar", "Noah", "Samuel", "Victor", "Caleb", "Henry", "Felix", "Isaac"]
FAMILY = ["Garcia", "Smith", "Johnson", "Nguyen", "Brown", "Williams", "Martinez", "Davis", "Lopez", "Wilson", "Anderson",
          "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall",
          "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams"]
ANTIDEPRESSANTS = [("sertraline", "100 mg daily"), ("escitalopram", "20 mg daily"), ("bupropion XL", "300 mg daily"),
                   ("venlafaxine XR", "225 mg daily"), ("duloxetine", "60 mg daily"), ("mirtazapine", "30 mg nightly"),
                   ("fluoxetine", "40 mg daily")]
# (indication, stage) for 30 patients: where each one is on the pathway.
PATHWAY = (
    [("trd", "signed_eligible")] * 8 + [("trd", "awaiting_signature")] * 4 + [("trd", "referred")] * 3
    + [("ptsd", "signed_eligible")] * 2 + [("ptsd", "referred")] * 1 + [("mdd", "awaiting_signature")] * 2
    + [("trd", "signed_not_eligible")] * 2 + [("anxiety", "referred")] * 1 + [("crps", "awaiting_signature")] * 2
    + [("fibromyalgia", "referred")] * 1 + [("bipolar_depression", "awaiting_signature")] * 1
    + [("postpartum_depression", "signed_eligible")] * 1 + [("trd", "registered")] * 2
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


@transaction.atomic
def demo_load(today: date | None = None) -> bool:
    """Load the demo clinic; returns False (and changes nothing) when it is already loaded."""
    protocols_load_shipped()
    if demo_loaded():
        return False
    today = today or timezone.localdate()
    rng = random.Random(20261125)  # noqa: S311 - demo data, not security
    locations = {
        "downtown": Location.objects.create(code="downtown", name="Downtown Clinic", address="120 Harbor St", city="Boston",
                                            state="MA", postal_code="02110", phone="617-555-0100"),
        "northside": Location.objects.create(code="northside", name="Northside Clinic", address="45 Elm Ave",
                                             city="Somerville", state="MA", postal_code="02144", phone="617-555-0200"),
    }
    for loc in locations.values():
        for n in range(1, 5):
            Chair.objects.create(location=loc, name=f"Chair {n}")
    users = {}
    for s in STAFF:
        s = dict(s)
        locs = [locations[c] for c in s.pop("locations")]
        users[s["username"]] = staff_create(password=DEMO_PASSWORD, locations=locs, **s)
        if s["role"] in ("prescriber", "admin"):
            TOTPDevice.objects.create(user=users[s["username"]], name="Demo authenticator", key=DEMO_TOTP_KEY_HEX, confirmed=True)
    intake, prescriber = users["intake.jones"], users["dr.rivera"]
    names = list(FAMILY)
    rng.shuffle(names)
    eligible: list[Patient] = []
    for i, (indication, stage) in enumerate(PATHWAY):
        female = rng.random() < 0.6
        given = rng.choice(GIVEN_F if female else GIVEN_M)
        age = 17 if stage == "signed_not_eligible" and i % 2 == 0 else rng.randint(22, 63)
        born = today - timedelta(days=age * 365 + rng.randint(20, 340))
        loc = locations["downtown" if i % 3 else "northside"]
        kg = round(rng.uniform(52, 112), 1)
        use_lb = rng.random() < 0.5
        patient = patient_register(
            user=intake, location=loc, given_name=given, family_name=names[i % len(names)], birth_date=born,
            sex_at_birth="female" if female else "male",
            weight=(round(kg * 2.20462, 1), "lb") if use_lb else (kg, "kg"),
            height=(rng.randint(152, 190), "cm"), phone=f"617-555-{1000 + i:04d}",
            email=f"{given.lower()}.{names[i % len(names)].lower()}@example.org",
            address=f"{rng.randint(2, 400)} {rng.choice(['Maple', 'Oak', 'Cedar', 'Beacon', 'Summer'])} St",
            city=loc.city, state="MA", postal_code=loc.postal_code,
            emergency_contact_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {names[i % len(names)]}",
            emergency_contact_phone=f"617-555-{3000 + i:04d}", emergency_contact_relation=rng.choice(["spouse", "parent", "sibling", "friend"]),
            escort_name=f"{rng.choice(GIVEN_F + GIVEN_M)} {names[i % len(names)]}", escort_phone=f"617-555-{5000 + i:04d}",
        )
        if i % 4 == 0:
            medication_record(user=intake, patient=patient, name=rng.choice(["lorazepam", "clonazepam", "Adderall XR", "lamotrigine"]),
                              dose="as prescribed")
        medication_record(user=intake, patient=patient, name=rng.choice(ANTIDEPRESSANTS)[0], dose="current")
        if i % 5 == 0:
            allergy_record(user=intake, patient=patient, substance=rng.choice(["penicillin", "sulfa drugs", "latex"]),
                           reaction="rash", severity="mild")
        if stage == "registered":
            continue
        pain = indication in ("crps", "fibromyalgia")
        referral = referral_record(
            user=intake, patient=patient, indication=indication,
            referrer_name=rng.choice(["Dr. Susan Blake", "Dr. Amir Haddad", "Karen Liu, LICSW", "Dr. Paul Ortiz"]) if not pain else "Dr. Nina Volkov",
            referrer_role="pain_specialist" if pain else rng.choice(["psychiatrist", "psychiatrist", "therapist"]),
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
            trials = [{"kind": "pain_treatment", "name": t, "weeks": 12} for t in ("gabapentin", "physical therapy")]
        answers = {q: "no" for q in ("ketamine_hypersensitivity", "uncontrolled_hypertension", "vascular_aneurysm",
                                     "intracerebral_haemorrhage", "raised_icp_iop", "psychosis_history", "pregnancy",
                                     "hepatic_impairment")}
        substance = "none"
        if stage == "awaiting_signature" and indication != "trd":
            substance = "past"
        if stage == "signed_not_eligible" and i % 2 == 1:
            substance = "active"
        screening = screening_record(user=intake, patient=patient, indication=indication, referral=referral,
                                     substance_use=substance, contraindications=answers, trials=trials,
                                     screening_date=today - timedelta(days=rng.randint(0, 2)))
        if stage.startswith("signed_"):
            outcome = "eligible" if stage == "signed_eligible" else "not_eligible"
            note = "" if screening.computed_outcome == outcome else "Reviewed history with the referring psychiatrist."
            screening_sign(user=prescriber if loc.code in ("downtown", "northside") else users["dr.okafor"],
                           screening=screening, outcome=outcome, note=note)
            if outcome == "eligible":
                eligible.append(patient)
    demo_outcomes_load(nurse=users["intake.jones"], prescriber=prescriber, patients=eligible, today=today)
    return True
