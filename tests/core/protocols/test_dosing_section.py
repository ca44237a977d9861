from __future__ import annotations

import copy

import pytest
import yaml

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.core.protocols.dosing import DosingSection, Route
from ketaclinic.protocols.files import LIBRARY_DIR, shipped_protocols

EXPECTED = {"depression-standard", "ptsd-standard", "chronic-pain", "crps-schwartzman", "esketamine-nasal"}


def test_every_shipped_protocol_validates_with_dosing_and_eligibility() -> None:
    docs = shipped_protocols()
    assert EXPECTED <= set(docs)
    for doc in docs.values():
        assert doc.eligibility is not None
        assert doc.dosing is not None, doc.id
        assert doc.sources, doc.id
        for limit in doc.dosing.limits:
            assert len(limit.source) >= 3


def test_iv_protocols_predict_with_a_known_model() -> None:
    for doc in shipped_protocols().values():
        if doc.dosing.route is Route.IV:
            assert doc.dosing.pk_model in PK_MODELS


def test_depression_defaults_match_domain() -> None:
    d = shipped_protocols()["depression-standard"].dosing
    assert (d.basis.value, d.default, d.infusion_duration_min, d.titration_step) == (
        "mg_per_kg",
        0.5,
        40,
        0.1,
    )
    (dose_limit,) = [lim for lim in d.limits if lim.quantity.value == "dose_mg_per_kg"]
    assert (dose_limit.soft_min, dose_limit.soft_max, dose_limit.hard_max) == (0.2, 1.0, 2.0)
    assert "clinic default" in dose_limit.source


def test_crps_matches_schwartzman() -> None:
    d = shipped_protocols()["crps-schwartzman"].dosing
    limits = {lim.quantity.value: lim for lim in d.limits}
    assert d.default == 0.35
    assert d.max_rate_mg_per_h == 25
    assert d.infusion_duration_min == 240
    assert limits["rate_mg_per_h"].hard_max == 25
    assert limits["dose_mg"].hard_max == 100


def _depression() -> dict:
    return yaml.safe_load((LIBRARY_DIR / "depression-standard.yaml").read_text())


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("default",), 3.0, "outside range"),
        (("limits", 0, "soft_max"), 3.0, "hard_min <= soft_min <= soft_max <= hard_max"),
        (("pk_model",), "hornik", "unknown pk_model"),
        (("route",), "intranasal", "intranasal protocol"),
        (("pump", "default_vial_mg_per_ml"), 20, "not one of the allowed vial strengths"),
        (("range", "max"), 2.5, "beyond the hard limit"),
        (("infusion_duration_min",), -5, "greater than 0"),
        (("basis",), "mg/kg", "dosing.basis"),
    ],
)
def test_invalid_dosing_sections_are_refused(path: tuple, value: object, fragment: str) -> None:
    data = copy.deepcopy(_depression())
    node = data["dosing"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ProtocolError) as exc:
        parse_protocol(data)
    assert fragment in exc.value.message


def test_no_second_format_dosing_is_a_section_of_the_one_document() -> None:
    data = _depression()
    doc = parse_protocol(data)
    assert isinstance(doc.dosing, DosingSection)
    again = parse_protocol(doc.model_dump(mode="json"))
    assert again.sha256() == doc.sha256()


def test_dosing_section_is_optional() -> None:
    data = _depression()
    del data["dosing"]
    assert parse_protocol(data).dosing is None


@pytest.mark.parametrize(
    ("drop", "fragment"),
    [
        ("dose_mg_per_kg", "needs a limit with hard_max on dose_mg_per_kg or dose_mg"),
        ("rate_mg_per_kg_per_h", "needs a limit with hard_max on rate_mg_per_kg_per_h or rate_mg_per_h"),
    ],
)
def test_a_protocol_without_dose_or_rate_limits_does_not_load(drop: str, fragment: str) -> None:
    data = copy.deepcopy(_depression())
    data["dosing"]["limits"] = [lim for lim in data["dosing"]["limits"] if lim["quantity"] != drop]
    with pytest.raises(ProtocolError) as exc:
        parse_protocol(data)
    assert fragment in exc.value.message


def test_an_iv_protocol_says_who_cosigns_verbal_orders_and_a_ceiling_needs_a_pk_model() -> None:
    data = copy.deepcopy(_depression())
    del data["dosing"]["verbal_orders"]
    with pytest.raises(ProtocolError, match="verbal_orders"):
        parse_protocol(data)
    data = copy.deepcopy(_depression())
    del data["dosing"]["pk_model"]
    with pytest.raises(ProtocolError, match="max_predicted_peak needs a pk_model"):
        parse_protocol(data)


def test_every_shipped_protocol_declares_dose_and_rate_limits() -> None:
    from ketaclinic.protocols.files import shipped_protocols

    for doc in shipped_protocols().values():
        assert doc.dosing is not None
        hard = {lim.quantity.value for lim in doc.dosing.limits if lim.hard_max is not None}
        assert hard & {"dose_mg_per_kg", "dose_mg"}, doc.id
        if doc.dosing.route.value == "iv":
            assert hard & {"rate_mg_per_kg_per_h", "rate_mg_per_h"}, doc.id
            assert doc.dosing.verbal_orders is not None and doc.dosing.max_predicted_peak is not None, doc.id
