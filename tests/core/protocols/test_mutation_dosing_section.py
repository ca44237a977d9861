"""A protocol whose dose range or infusion duration reaches past its own hard limits is refused at load;
one exactly at the hard limit loads (mutation testing showed the edges were unpinned)."""

from __future__ import annotations

import copy

import pytest
import yaml

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.protocols.files import LIBRARY_DIR

BASE = yaml.safe_load(
    (LIBRARY_DIR / "depression-standard.yaml").read_text()
)  # hard max 2 mg/kg; duration ≥ 20


def with_dosing(**changes: object) -> dict:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        node = data["dosing"]
        *path, last = key.split("__")
        for p in path:
            node = node[p]
        node[last] = value
    return data


def limit(quantity: str) -> int:
    return next(i for i, lim in enumerate(BASE["dosing"]["limits"]) if lim["quantity"] == quantity)


def test_a_range_maximum_at_the_hard_limit_loads_and_above_it_is_refused():
    assert parse_protocol(with_dosing(range__max=2.0)).dosing.range.max == 2.0
    with pytest.raises(ProtocolError) as err:
        parse_protocol(with_dosing(range__max=2.01))
    assert "range max 2.01 mg/kg is beyond the hard limit on dose_mg_per_kg" in err.value.message


def test_a_range_minimum_below_a_hard_minimum_is_refused():
    data = with_dosing()
    data["dosing"]["limits"][limit("dose_mg_per_kg")]["hard_min"] = 0.5  # range min is 0.5: at the limit
    data["dosing"]["limits"][limit("dose_mg_per_kg")]["soft_min"] = 0.6
    assert parse_protocol(data).dosing.range.min == 0.5
    data["dosing"]["limits"][limit("dose_mg_per_kg")]["hard_min"] = 0.51
    data["dosing"]["limits"][limit("dose_mg_per_kg")]["soft_min"] = 0.6
    with pytest.raises(ProtocolError) as err:
        parse_protocol(data)
    assert "range min 0.5 mg/kg is beyond the hard limit on dose_mg_per_kg" in err.value.message


def test_an_infusion_duration_outside_the_duration_hard_limits_is_refused():
    at_min = with_dosing(infusion_duration_min=20)
    assert parse_protocol(at_min).dosing.infusion_duration_min == 20
    with pytest.raises(ProtocolError) as err:
        parse_protocol(with_dosing(infusion_duration_min=19))
    assert (
        "infusion_duration_min 19" in err.value.message and "hard limit on duration_min" in err.value.message
    )
    data = with_dosing(infusion_duration_min=60)
    data["dosing"]["limits"][limit("duration_min")]["hard_max"] = 60
    assert parse_protocol(data).dosing.infusion_duration_min == 60
    data["dosing"]["limits"][limit("duration_min")]["hard_max"] = 59
    data["dosing"]["limits"][limit("duration_min")]["soft_max"] = 59
    with pytest.raises(ProtocolError) as err:
        parse_protocol(data)
    assert "infusion_duration_min 60" in err.value.message
