"""The registry: every shipped definition loads and cites sources; malformed definitions are refused."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import (
    INSTRUMENT_FORMAT,
    InstrumentDefinitionError,
    get_instrument,
    instrument_json_schema,
    parse_instrument,
    registry_from_definitions,
    shipped_instruments,
)
from ketaclinic.core.instruments.registry import (
    LIBRARY_PACKAGE,
    MSG_DUPLICATE_INSTRUMENT,
    MSG_UNKNOWN_INSTRUMENT,
    definition_from_yaml,
)
from ketaclinic.core.instruments.schema import MSG_DEFINITION_NOT_MAPPING

EXPECTED = {"phq9", "gad7", "pcl5", "pain_nrs", "cssrs_screener", "cadss", "dissociation_observation"}


def raw(instrument_id: str) -> dict:
    text = resources.files(LIBRARY_PACKAGE).joinpath(f"{instrument_id}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_shipped_file_loads_under_its_file_name():
    files = {f.name[:-5] for f in resources.files(LIBRARY_PACKAGE).iterdir() if f.name.endswith(".yaml")}
    registry = shipped_instruments()
    assert set(registry) == files == EXPECTED
    for instrument in registry.values():
        assert instrument.format == INSTRUMENT_FORMAT
        assert instrument.sources, f"{instrument.id} cites no source"
        assert len(instrument.licence) > 3


def test_codes_match_domain_md():
    phq9 = get_instrument("phq9")
    assert (phq9.loinc_panel, phq9.loinc_result) == ("44249-1", "44261-6")
    assert [i.loinc for i in phq9.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    gad7 = get_instrument("gad7")
    assert (gad7.loinc_panel, gad7.loinc_result) == ("69737-5", "70274-6")
    assert [i.loinc for i in gad7.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    pcl5 = get_instrument("pcl5")
    assert (pcl5.loinc_panel, pcl5.loinc_result) == ("101697-1", "101698-9")
    assert get_instrument("pain_nrs").loinc_result == "72514-3"
    cssrs = get_instrument("cssrs_screener")
    assert (cssrs.loinc_panel, cssrs.loinc_result) == ("93373-9", "93374-7")
    assert [i.loinc for i in cssrs.items] == [
        "93246-7",
        "93247-5",
        "93248-3",
        "93249-1",
        "93250-9",
        "93267-3",
        "93269-9",
    ]


def test_copyrighted_instruments_ship_no_wording_and_the_observation_is_not_validated():
    registry = shipped_instruments()
    assert registry["cssrs_screener"].wording_missing
    assert registry["cadss"].wording_missing
    assert all(i.text is None for i in registry["cssrs_screener"].items + registry["cadss"].items)
    assert not registry["phq9"].wording_missing
    assert registry["dissociation_observation"].validated is False
    assert "not a validated scale" in registry["dissociation_observation"].name


def test_unknown_instrument_is_refused_with_the_known_ids():
    with pytest.raises(ValidationError) as err:
        get_instrument("phq10")
    assert err.value.field == "instrument"
    assert err.value.value == "phq10"
    assert err.value.message == MSG_UNKNOWN_INSTRUMENT.format(
        id="phq10", known=", ".join(sorted(shipped_instruments()))
    )


def _broken(mutate) -> dict:
    data = copy.deepcopy(raw("phq9"))
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.pop("missing"), "missing"),
        (lambda d: d.update(format="ketaclinic.instrument/2"), "format"),
        (lambda d: d["scoring"].update(max_total=30), "scoring range must be 0..27"),
        (lambda d: d["bands"][1].update(min=4), "overlaps"),
        (lambda d: d["bands"].pop(), "bands must cover 0..27"),
        (lambda d: d["items"][0].update(text=None), "has no text but wording is shipped"),
        (lambda d: d["items"][1].update(code="phq9_1"), "item codes repeat"),
        (lambda d: d["items"][0].update(loinc="not-a-code"), "loinc"),
        (lambda d: d["flags"][0]["rule"]["any_of"][0][0].update(item="phq9_10"), "refers to an unknown item"),
        (lambda d: d["missing"].update(max_missing=9), "below the number of items"),
        (lambda d: d["missing"].update(method="refuse"), "refuse takes max_missing 0"),
        (lambda d: d.update(colour="blue"), "colour"),
        (
            lambda d: d["items"][0]["options"].append({"value": 0, "label": "again"}),
            "repeats an answer value",
        ),
    ],
)
def test_a_malformed_definition_is_refused_naming_the_problem(mutate, problem):
    with pytest.raises(InstrumentDefinitionError) as err:
        parse_instrument(_broken(mutate))
    assert problem in err.value.message
    assert err.value.message.startswith("Instrument definition phq9 is invalid")


def test_a_classification_without_a_default_level_is_refused():
    data = copy.deepcopy(raw("cssrs_screener"))
    data["scoring"]["classification"].pop()
    with pytest.raises(InstrumentDefinitionError, match="ending with a default"):
        parse_instrument(data)


def test_a_condition_needs_exactly_one_test():
    data = copy.deepcopy(raw("cssrs_screener"))
    data["scoring"]["classification"][0]["rule"]["any_of"][0][0]["at_least"] = 1
    with pytest.raises(InstrumentDefinitionError, match="exactly one of equals, at_least, unanswered"):
        parse_instrument(data)


def test_duplicate_ids_and_non_mappings_and_bad_yaml_are_refused():
    with pytest.raises(InstrumentDefinitionError) as err:
        registry_from_definitions([raw("phq9"), raw("phq9")])
    assert err.value.message == MSG_DUPLICATE_INSTRUMENT.format(id="phq9")
    with pytest.raises(InstrumentDefinitionError) as err:
        parse_instrument(["not", "a", "mapping"])
    assert err.value.message == MSG_DEFINITION_NOT_MAPPING.format(kind="list")
    with pytest.raises(InstrumentDefinitionError, match="broken.yaml is not valid YAML"):
        definition_from_yaml("broken.yaml", "id: [unclosed")


def test_a_new_instrument_is_data_only():
    data = copy.deepcopy(raw("gad7"))
    data.update(id="gad2", name="GAD-2 (first two GAD-7 items)", items=data["items"][:2], bands=[])
    data["scoring"].update(max_total=6)
    registry = registry_from_definitions([data])
    assert registry["gad2"].scoring.max_total == 6


def test_json_schema_exports():
    schema = instrument_json_schema()
    assert "items" in schema["properties"]
    assert "missing" in schema["required"]
