"""The duplicate check's phone match: the last seven digits, however either number is written, compared by
equality on an indexed column (``Patient.phone_last7``) that every write keeps, instead of a scan of the
registry for a suffix."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from ketaclinic.core.input_rules import phone_match_key
from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import Patient
from tests.conftest import register
from tests.web.test_page_costs import scans_of

pytestmark = pytest.mark.django_db


def by_phone(user, phone: str) -> list[selectors.PossibleDuplicate]:
    return selectors.duplicates_find(user=user, given_name="X", family_name="Y", birth_date=None, phone=phone)


@pytest.mark.parametrize(
    "typed",
    [
        "617.555.0123",
        "(617) 555-0123",
        "+1 617 555 0123",
        "1-617-555-0123",
        "6175550123",
        "+16175550123",
        " 617 555 0123 ",
        "555-0123",  # the seven digits alone
        "tel:617/555-0123",
    ],
)
def test_the_same_number_written_any_way_is_a_possible_duplicate(intake, downtown, typed):
    p = register(intake, downtown, phone="(617) 555-0123")
    assert p.phone == "+16175550123" and p.phone_last7 == "5550123"
    found = by_phone(intake, typed)
    assert [(d.mrn, d.why) for d in found] == [(p.mrn, "same phone")]


@pytest.mark.parametrize("typed", ["617-555-0124", "617-556-0123", "55-0123", "0123", "", "no number"])
def test_another_number_or_too_few_digits_is_not(intake, downtown, typed):
    register(intake, downtown, phone="(617) 555-0123")
    assert by_phone(intake, typed) == []


def test_the_last_seven_digits_decide_as_before_even_in_another_area_code(intake, downtown):
    p = register(intake, downtown, phone="(617) 555-0123")
    assert [d.mrn for d in by_phone(intake, "212-555-0123")] == [p.mrn]


def test_a_changed_number_is_matched_by_the_new_number_and_not_the_old(intake, downtown):
    p = register(intake, downtown, phone="(617) 555-0123")
    services.patient_update(user=intake, patient=p, phone="(617) 555-9876")
    assert [d.mrn for d in by_phone(intake, "617 555 9876")] == [p.mrn]
    assert by_phone(intake, "617 555 0123") == []
    p.refresh_from_db()
    p.phone = "+16175551111"
    p.save(update_fields=["phone"])  # a save of some fields that include the phone writes the key too
    assert Patient.objects.get(pk=p.pk).phone_last7 == "5551111"
    services.patient_update(user=intake, patient=p, phone="")
    assert Patient.objects.get(pk=p.pk).phone_last7 == ""


def test_rows_written_in_bulk_keep_the_key_whatever_their_formatting(intake, downtown):
    """The network generator and the benchmarks write patients with bulk_create, which bypasses save() and the
    input rules: the key is still written (every field's pre_save runs), from the number as it is."""
    (made,) = Patient.objects.bulk_create(
        [
            Patient(
                mrn="KC900001",
                given_name="Bulk",
                family_name="Made",
                birth_date=date(1980, 1, 1),
                sex_at_birth="female",
                location=downtown,
                phone="555-321-4567",
            )
        ]
    )
    assert Patient.objects.get(pk=made.pk).phone_last7 == "3214567"
    assert [d.mrn for d in by_phone(intake, "(555) 321 4567")] == ["KC900001"]


def test_a_match_is_found_among_many_patients_sharing_the_last_four_digits(intake, downtown):
    """The old lookup read the first 50 patients (by name) whose number ended in the same four digits and
    then compared seven: with more than 50 of those, the real match could be cut off."""
    Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"KC8{n:05d}",
                given_name="Same",
                family_name=f"Aaron{n:02d}",
                birth_date=date(1980, 1, 1),
                sex_at_birth="male",
                location=downtown,
                phone=f"+1617{n:03d}0123",
            )
            for n in range(200, 260)
        ]
    )
    target = register(intake, downtown, given_name="Zoe", family_name="Zed", phone="(617) 555-0123")
    assert [d.mrn for d in by_phone(intake, "617-555-0123")] == [target.mrn]


def test_the_phone_lookup_reads_no_full_scan_of_the_registry(intake, downtown, patient):
    register(intake, downtown, given_name="Ana", phone="(617) 555-0123")
    call = lambda: by_phone(intake, "617 555 0123")  # noqa: E731
    assert len(call()) == 1
    assert scans_of(call, "patients_patient") == []


def test_the_migration_fills_the_key_of_existing_patients_as_the_model_would(intake, downtown):
    kept = [
        register(intake, downtown, given_name=f"P{n}", phone=phone)
        for n, phone in enumerate(["(617) 555-0123", "(212) 555-0147", ""])
    ]
    odd = Patient.objects.bulk_create(
        [
            Patient(
                mrn="KC900002",
                given_name="Odd",
                family_name="Format",
                birth_date=date(1980, 1, 1),
                sex_at_birth="female",
                location=downtown,
                phone="55 01 23",  # six digits: no key
            )
        ]
    )
    Patient.objects.update(phone_last7="")  # as the rows were before the column existed
    migration = importlib.import_module("ketaclinic.patients.migrations.0005_fill_phone_last7")
    migration.fill_phone_last7(apps, SimpleNamespace(connection=connection))
    stored = dict(Patient.objects.values_list("phone", "phone_last7"))
    for p in [*kept, *odd]:
        assert stored[p.phone] == phone_match_key(p.phone) == migration.key(p.phone), p.phone
    assert stored["+16175550123"] == "5550123" and stored[""] == "" and stored["55 01 23"] == ""
