"""Intake coordinators registering different patients at the same moment each get their patient registered,
with an MRN of their own.

The load test (benchmarks/load.py: twenty coordinators registering every 30-90 s) once had a registration
answered 400: two registrations had read the same "last MRN" and the later one was refused by the MRN's
uniqueness ("Patient with this MRN already exists"), a refusal that says nothing the coordinator could
correct. On PostgreSQL the requests here really run at once (one thread and connection each, released by a
barrier, ``race`` from tests/infusions/test_races.py); on the tests' SQLite one after another.
"""

from __future__ import annotations

import re

import pytest

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from tests.infusions.test_races import PG, N, people, race


@pytest.mark.django_db(transaction=PG)
def test_twelve_coordinators_registering_at_once_each_get_their_patient_with_its_own_mrn(
    patient, downtown, client_for
):
    """Twelve coordinators submit the registration page at once, each for a different person. Every one lands
    on the new patient's chart; the twelve MRNs are distinct and follow the last one (a patient registered
    before, as at a clinic), each audited once.

    Can fail: with the next MRN read from the last patient's row under that row's lock (as it was), requests
    that waited for the lock read the same last row again and all but one were refused with 400 "MRN:
    Patient with this MRN already exists" (PostgreSQL), or failed on the unique index (500) when they came
    between the lock and the check."""
    coordinators = people(Role.INTAKE, downtown)
    clients = [client_for(c) for c in coordinators]
    forms = [
        {
            "given_name": f"Given{i}",
            "family_name": f"Family{i}",
            "birth_date": f"1980-01-{i + 1:02d}",
            "sex_at_birth": "female",
            "location": str(downtown.pk),
        }
        for i in range(N)
    ]

    pairs = list(zip(clients, forms, strict=True))
    outcomes = race(lambda pair: pair[0].post("/patients/new/", pair[1]), pairs)

    refused = [re.findall(r"<li>[^<]*</li>", r.content.decode()) for _, r in outcomes if r.status_code != 302]
    assert refused == []
    patients = list(Patient.objects.filter(family_name__startswith="Family").order_by("mrn"))
    assert len(patients) == N
    for (_, r), form in zip(outcomes, forms, strict=True):
        mine = next(p for p in patients if p.family_name == form["family_name"])
        assert r["Location"] == f"/patients/{mine.external_id}/"
    numbers = [int(p.mrn[2:]) for p in patients]
    assert numbers == list(range(int(patient.mrn[2:]) + 1, int(patient.mrn[2:]) + 1 + N))
    registered = AuditEntry.objects.filter(action="create", summary__startswith="Registered patient")
    assert registered.count() == N + 1
