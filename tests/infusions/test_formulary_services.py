"""The session services only call the formulary core: the seen cases of the issue, end to end."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import MAJOR_INTERACTION_NEEDS_PRESCRIBER
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import MedicationAdministration
from ketaclinic.patients.services import allergy_record, medication_record
from tests.infusions.conftest import fresh, walk


def _give(user, session, **kw):
    session = fresh(session)
    return s.administration_record(user=user, session=session, expected_version=session.version, **kw)


def test_regression_unordered_and_oversized_doses_are_not_saved(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    for kw in (
        {"medication": "ketamine", "dose": "200", "unit": "mg", "route": "iv"},
        {"medication": "midazolam", "dose": "200", "unit": "mg", "route": "iv"},
        {"medication": "clonidine", "dose": "100", "unit": "mg", "route": "po"},
        {"medication": "ondansetron", "dose": "4000", "unit": "mg", "route": "iv"},
    ):
        with pytest.raises(ValidationError):
            _give(prescriber, session, **kw)
    with pytest.raises(ValidationError, match="needs a prescriber's order"):
        _give(nurse, session, medication="midazolam", dose="1", unit="mg", route="iv")
    assert not MedicationAdministration.objects.filter(session=session).exists()
    given = _give(prescriber, session, medication="clonidine", dose="100", unit="mcg", route="po")
    assert (given.dose, given.unit) == (100, "mcg")


def test_regression_a_midazolam_allergy_stops_midazolam(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    allergy_record(user=prescriber, patient=session.patient, substance="Midazolam", reaction="rash")
    with pytest.raises(ValidationError, match="charted allergy to 'Midazolam'"):
        _give(prescriber, session, medication="midazolam", dose="1", unit="mg", route="iv")


def test_regression_a_ketamine_allergy_stops_the_order(session, nurse, prescriber):
    allergy_record(user=prescriber, patient=session.patient, substance="ketamine", reaction="anaphylaxis")
    with pytest.raises(ValidationError, match="no Ketamine order can be calculated, signed or started"):
        walk(session, "running", nurse=nurse, prescriber=prescriber)


def test_regression_maoi_needs_the_prescribers_sign_off(session, nurse, prescriber):
    medication_record(user=prescriber, patient=session.patient, name="phenelzine 15 mg")
    with pytest.raises(ValidationError) as e:
        walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    assert e.value.message.startswith(
        MAJOR_INTERACTION_NEEDS_PRESCRIBER.split("{value}")[0].format(
            question="Current medications reviewed, including "
            "benzodiazepines and other interacting medications?"
        )
    )


# --- the page
# ------------------------------------------------------------------------------------------------


def _page(session) -> str:
    return f"/sessions/{session.external_id}/"


def test_the_page_lists_the_protocols_formulary_and_never_guesses_a_unit(
    session, nurse, prescriber, client_for
):
    import re

    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    body = client_for(nurse).get(_page(session)).content.decode()
    form = body[body.index('action="' + _page(session) + 'administration/"') :]
    form = form[: form.index("</form>")]
    offered = re.findall(r'<option value="([a-z_]+)"', form[: form.index('name="dose"')])
    assert offered == [d.code for d in session.protocol_version.parsed.formulary.as_needed]
    assert "ketamine" not in offered and "esketamine" not in offered
    unit = form[form.index('name="unit"') :]
    unit = unit[: unit.index("</select>")]
    assert "selected" not in unit.replace('value="" selected', "")  # no unit is chosen for the nurse


def test_the_page_refuses_a_missing_unit_and_records_a_prescribers_override(
    session, nurse, prescriber, client_for
):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    url = _page(session) + "administration/"
    c = client_for(prescriber)
    r = c.post(
        url,
        {
            "expected_version": fresh(session).version,
            "medication": "ondansetron",
            "dose": "4",
            "unit": "",
            "route": "iv",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400 and not MedicationAdministration.objects.filter(session=session).exists()
    r = c.post(
        url,
        {
            "expected_version": fresh(session).version,
            "medication": "ondansetron",
            "dose": "6",
            "unit": "mg",
            "route": "iv",
            "reason": "Vomiting",
            "override_reason": "Vomiting persists after 4 mg; 6 mg ordered",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200, r.content.decode()[-2000:]
    given = MedicationAdministration.objects.get(session=session)
    assert (given.dose, given.unit) == (6, "mg") and "6 mg ordered" in given.reason
