"""Registering patients: units, refusals that name the field and range, nothing half-saved, duplicates,
search."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import BodyMeasurement, Patient
from tests.conftest import register

pytestmark = pytest.mark.django_db


def test_register_stores_weight_in_kg_and_keeps_what_was_entered(intake, downtown):
    p = register(intake, downtown, weight=("180", "lb"), height=("70", "in"))
    weight = p.measurements.get(kind="weight")
    assert (weight.value_si, weight.entered_value, weight.entered_unit) == (
        Decimal("81.65"),
        Decimal("180"),
        "lb",
    )
    assert p.measurements.get(kind="height").value_si == Decimal("177.80")
    assert p.mrn.startswith("KC") and len(p.mrn) == 8


def test_mrns_are_unique_and_sequential(intake, downtown):
    a = register(intake, downtown)
    b = register(intake, downtown, given_name="Ana", birth_date=date(1990, 1, 1))
    assert int(b.mrn[2:]) == int(a.mrn[2:]) + 1


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"birth_date": date.today() + timedelta(days=1)}, "birth_date", "is in the future"),
        ({"birth_date": date(1890, 1, 1)}, "birth_date", "more than 120 years ago"),
        ({"weight": ("0", "kg")}, "weight", "outside the allowed range 20.0–350.0 kg"),
        ({"weight": ("900", "kg")}, "weight", "outside the allowed range 20.0–350.0 kg"),
        ({"weight": ("70", None)}, "weight", "needs a unit"),
        ({"height": ("170", "ft")}, "height", "unit 'ft' is unknown"),
        ({"given_name": "  "}, "given_name", "Given name is required"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_impossible_data_is_refused_and_nothing_is_saved(intake, downtown, overrides, field, text):
    before = (
        Patient.objects.count(),
        BodyMeasurement.objects.count(),
        AuditEntry.objects.filter(action="create").count(),
    )
    with pytest.raises(ValidationError) as exc:
        register(intake, downtown, **overrides)
    assert text in exc.value.message
    assert exc.value.field == field
    after = (
        Patient.objects.count(),
        BodyMeasurement.objects.count(),
        AuditEntry.objects.filter(action="create").count(),
    )
    assert after == before


def test_staff_register_only_at_their_own_locations(intake, northside):
    with pytest.raises(ValidationError, match="only at your own locations"):
        register(intake, northside)


def test_measurements_are_append_only_in_the_database(patient):
    m = patient.measurements.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        BodyMeasurement.objects.filter(pk=m.pk).update(value_si=Decimal("99"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        BodyMeasurement.objects.filter(pk=m.pk).delete()


def test_a_new_weight_is_a_new_record_and_the_chart_shows_the_latest(intake, patient):
    services.measurement_record(user=intake, patient=patient, kind="weight", value="154", unit="lb")
    chart = selectors.patient_chart_get(user=intake, patient=patient)
    assert chart.latest_weight.value_si == Decimal("69.85")
    assert patient.measurements.filter(kind="weight").count() == 2
    assert chart.bmi == round(69.85 / 1.65**2, 1)


def test_a_measurement_in_the_future_is_refused(intake, patient):
    with pytest.raises(ValidationError, match="in the future"):
        services.measurement_record(
            user=intake,
            patient=patient,
            kind="weight",
            value="70",
            unit="kg",
            measured_at=timezone.now() + timedelta(hours=1),
        )


def test_interacting_medications_are_flagged_on_record(intake, patient):
    med = services.medication_record(user=intake, patient=patient, name="Klonopin", dose="0.5 mg bid")
    assert med.interaction_classes == ["benzodiazepine"]
    assert (
        "interacts: benzodiazepine"
        in AuditEntry.objects.filter(patient_external_id=patient.external_id).first().summary
    )
    assert (
        services.medication_record(user=intake, patient=patient, name="sertraline").interaction_classes == []
    )


def test_changing_demographics_audits_old_and_new_values(intake, patient):
    services.patient_update(user=intake, patient=patient, phone="617-555-9999")
    entry = AuditEntry.objects.filter(action="update").first()
    assert entry.detail["changes"]["phone"] == {"from": "", "to": "+16175559999"}


class TestDuplicates:
    def test_same_name_and_birth_date_is_a_possible_duplicate(self, intake, patient):
        found = selectors.duplicates_find(
            user=intake, given_name="maria", family_name="GARCIA", birth_date=patient.birth_date
        )
        assert [d.mrn for d in found] == [patient.mrn]
        assert "same birth date" in found[0].why

    def test_same_phone_is_a_possible_duplicate(self, intake, downtown):
        p = register(intake, downtown, phone="(617) 555-0123")
        found = selectors.duplicates_find(
            user=intake, given_name="X", family_name="Y", birth_date=None, phone="617.555.0123"
        )
        assert [d.mrn for d in found] == [p.mrn]

    def test_a_duplicate_at_another_location_reveals_nothing_about_the_person(self, intake, other_patient):
        """Being a patient of a ketamine clinic is itself protected: a match elsewhere says only that it
        exists."""
        for kw in (
            {"birth_date": other_patient.birth_date},
            {"birth_date": None, "email": other_patient.email or "x"},
            {"birth_date": None, "phone": other_patient.phone or "x"},
        ):
            found = selectors.duplicates_find(user=intake, given_name="James", family_name="Nguyen", **kw)
            if not found:
                continue
            (d,) = found
            assert (d.mrn, d.birth_date, d.why, d.visible) == (None, None, "", False)
            assert d.name == selectors.ELSEWHERE and "Northside" not in d.location
            assert d.patient_id == str(other_patient.external_id)  # the way to break-glass

    def test_every_duplicate_lookup_is_audited(self, intake, patient, other_patient):
        from ketaclinic.audit.models import AuditEntry

        before = AuditEntry.objects.count()
        selectors.duplicates_find(
            user=intake, given_name="James", family_name="Nguyen", birth_date=other_patient.birth_date
        )
        entry = AuditEntry.objects.order_by("-seq").first()
        assert AuditEntry.objects.count() == before + 1 and entry.action == "view"
        assert str(other_patient.external_id) in entry.detail["patients"]

    def test_a_different_person_is_not_flagged(self, intake, patient):
        assert (
            selectors.duplicates_find(
                user=intake, given_name="Maria", family_name="Garcia", birth_date=date(1999, 1, 1)
            )
            == []
        )


class TestSearch:
    def test_by_name_birth_date_and_mrn(self, intake, patient, downtown):
        register(intake, downtown, given_name="Lucas", family_name="Brown", birth_date=date(1970, 2, 3))
        assert selectors.patient_search(user=intake, query="garc") == [patient]
        assert selectors.patient_search(user=intake, query="maria garcia") == [patient]
        assert selectors.patient_search(user=intake, query="1985-04-12") == [patient]
        assert selectors.patient_search(user=intake, query="04/12/1985") == [patient]
        assert selectors.patient_search(user=intake, query=patient.mrn.lower()) == [patient]
        assert len(selectors.patient_search(user=intake, query="")) == 2

    def test_search_never_shows_other_locations(self, intake, patient, other_patient):
        assert selectors.patient_search(user=intake, query="Nguyen") == []
        assert selectors.patient_search(user=intake, query=other_patient.mrn) == []
        assert selectors.patient_find_elsewhere(user=intake, mrn=other_patient.mrn) == other_patient

    def test_search_runs_a_bounded_number_of_queries(self, intake, downtown, django_assert_max_num_queries):
        for i in range(15):
            register(intake, downtown, given_name=f"P{i}", birth_date=date(1980, 1, 1 + i))
        # 8: the break-glass accesses are read on their own (one query) so the list uses the location index
        with django_assert_max_num_queries(8):
            patients = selectors.patient_search(user=intake, query="")
            assert [p.location.name for p in patients]


def test_regression_the_duplicate_api_shows_no_other_locations_identifiers(client_for, staff, other_patient):
    """A Downtown-only clinician posting a Northside patient's name and birth date, email or phone learns only
    that a match exists elsewhere: no MRN, birth date or clinic."""
    c = client_for(staff[Role.PRESCRIBER])
    base = {"sex_at_birth": "male", "location": "downtown"}
    for body in (
        {**base, "given_name": "James", "family_name": "Nguyen", "birth_date": "1979-09-30"},
        {
            **base,
            "given_name": "James",
            "family_name": "Nguyen",
            "birth_date": "1990-01-01",
            "email": other_patient.email or "none@example.org",
        },
    ):
        r = c.post("/api/patients/duplicates", body, content_type="application/json")
        assert r.status_code == 200, r.content
        text = r.content.decode()
        assert other_patient.mrn not in text and "1979-09-30" not in text and "Northside" not in text
        if body["birth_date"] == "1979-09-30":  # the match is found, and told as "elsewhere" only
            assert [d["visible"] for d in r.json()] == [False]
