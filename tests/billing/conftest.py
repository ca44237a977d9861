"""Billing fixtures: the infusion fixtures (sessions, walk), a billing clerk, the seeded packages, a package
sold, the clinic's billing details, a workers' compensation policy with a prior authorization, and a session
given and charged (the set-up the pages, the API and the claims tests share)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.billing import services as b
from ketaclinic.billing.models import (
    BillingProvider,
    InsurancePolicy,
    Package,
    PackageSale,
    Payer,
    PriorAuthorization,
)
from ketaclinic.core.access import Role
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient
from tests.infusions.conftest import chair, depression, nurse, session, walk
from tests.plans.conftest import chairs, eligible
from tests.scheduling.conftest import desk, signed

__all__ = [
    "chair",
    "chairs",
    "depression",
    "desk",
    "eligible",
    "nurse",
    "session",
    "signed",
]


@pytest.fixture
def clerk(staff) -> User:
    return staff[Role.BILLING]


SEED_PACKAGES = importlib.import_module("ketaclinic.billing.migrations.0003_seed_packages")


@pytest.fixture(autouse=True)
def seeded_packages(db) -> None:
    """The seeds' packages and prices, put back by the migration's own (idempotent) function: a test on
    committed data (``transaction=True``, the PostgreSQL races) empties every table when it ends, migration
    data included."""
    from django.apps import apps

    SEED_PACKAGES.forwards(apps, None)


@pytest.fixture
def series(db) -> Package:
    return Package.objects.get(code="series-6")


@pytest.fixture
def sold(clerk: User, patient: Patient, series: Package) -> PackageSale:
    """The 6-infusion series sold to the patient ($3,475.00 owed)."""
    return b.package_sell(user=clerk, patient=patient, package=series)


@pytest.fixture
def provider(db) -> BillingProvider:
    """The clinic's billing details: legal name, NPI, tax id, address, the ketamine vials' NDC."""
    return BillingProvider.objects.create(
        name="Downtown Ketamine Clinic LLC",
        npi="1234567893",
        tax_id="12-3456789",
        address="1 Main St",
        city="Boston",
        state="MA",
        postal_code="02108",
        ketamine_ndc="42023-0113-10",
        phone="617-555-0100",
    )


@pytest.fixture
def insured(patient: Patient) -> InsurancePolicy:
    """A workers' compensation policy covering 100% with prior authorization PA20260042 for 6 sessions from
    five days ago to 60 days ahead; the patient's address, which a claim needs."""
    payer = Payer.objects.create(
        name="State Fund Workers Comp", kind=Payer.Kind.WORKERS_COMP, payer_id="SFWC1"
    )
    policy = InsurancePolicy.objects.create(
        patient=patient, payer=payer, member_id="WC88231", coverage_percent=100
    )
    today = timezone.localdate()
    PriorAuthorization.objects.create(
        policy=policy,
        number="PA20260042",
        approved_units=6,
        first_day=today - timedelta(days=5),
        last_day=today + timedelta(days=60),
    )
    patient.address, patient.city, patient.state, patient.postal_code = "12 Elm St", "Boston", "MA", "02110"
    patient.save()
    return policy


@pytest.fixture
def given(session: InfusionSession, nurse: User, prescriber: User, clerk: User) -> InfusionSession:
    """The session given (walked to discharge, the order signed by a prescriber with an NPI) and charged."""
    return give(session, nurse, prescriber, clerk)


def give(session: InfusionSession, nurse: User, prescriber: User, clerk: User) -> InfusionSession:
    """``given`` for a session the test made itself."""
    get_user_model().objects.filter(pk=prescriber.pk).update(npi="1245319599")
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    session.refresh_from_db()
    b.session_charge(user=clerk, session=session)
    return session
