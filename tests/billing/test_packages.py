"""A package's infusions: a checked-in session takes one, a completed session keeps it, a cancelled session
gives it back; with none left the session is billed on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.billing import services as b
from ketaclinic.billing.models import Package, PackageUse
from ketaclinic.billing.packages import sales_with_units_left
from ketaclinic.infusions import services as s
from tests.infusions.conftest import schedule, walk

pytestmark = pytest.mark.django_db


def left(patient) -> int:
    return sum(n for _, n in sales_with_units_left(b.account_for(patient)))


def test_a_completed_session_uses_one_infusion_of_the_package(
    clerk, patient, series, session, nurse, prescriber
):
    b.package_sell(user=clerk, patient=patient, package=series)
    assert left(patient) == 6
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    assert left(patient) == 5
    assert PackageUse.objects.filter(session=session).count() == 1


def test_a_cancelled_session_gives_its_infusion_back(clerk, patient, series, session, nurse):
    b.package_sell(user=clerk, patient=patient, package=series)
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version)
    assert left(patient) == 5
    s.session_cancel(
        user=nurse, session=session, expected_version=session.version, reason="Felt unwell at arrival"
    )
    assert left(patient) == 6
    assert list(PackageUse.objects.filter(session=session).values_list("kind", flat=True)) == [
        "use",
        "return",
    ]


def test_the_oldest_package_is_used_first_and_a_used_up_package_takes_no_more(
    clerk, patient, nurse, depression, chair
):
    single = Package.objects.get(code="maintenance-1")
    first = b.package_sell(user=clerk, patient=patient, package=single)
    one = schedule(nurse, patient, depression, chair)
    s.session_check_in(user=nurse, session=one, expected_version=one.version)
    assert PackageUse.objects.get(session=one).sale == first
    two = schedule(nurse, patient, depression, None, when=timezone.now() + timedelta(days=3))
    two.refresh_from_db()
    s.session_check_in(user=nurse, session=two, expected_version=two.version)
    assert not PackageUse.objects.filter(session=two).exists()  # billed on its own: the worklist shows it
    assert left(patient) == 0


def test_a_patient_without_a_package_is_checked_in_as_usual(patient, session, nurse):
    checked = s.session_check_in(user=nurse, session=session, expected_version=session.version)
    assert checked.checked_in_at is not None and not PackageUse.objects.exists()
