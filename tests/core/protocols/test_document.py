"""The one protocol format: every shipped file validates; bad documents are refused with every problem
named."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import PROTOCOL_FORMAT, parse_protocol, protocol_json_schema
from ketaclinic.protocols.files import LIBRARY_DIR, protocol_file_read, shipped_protocol, shipped_protocols


def raw(protocol_id: str = "depression-standard") -> dict:
    return yaml.safe_load((LIBRARY_DIR / f"{protocol_id}.yaml").read_text())


def test_every_shipped_protocol_validates_and_has_sources():
    docs = shipped_protocols()
    assert "depression-standard" in docs
    for doc in docs.values():
        assert doc.format == PROTOCOL_FORMAT
        assert doc.sources, f"{doc.id} cites no source"
        assert doc.eligibility.age.min_years <= doc.eligibility.age.max_years


def test_default_age_range_is_18_to_65_per_the_seeds():
    e = shipped_protocol("depression-standard").eligibility
    assert (e.age.min_years, e.age.max_years) == (18, 65)


def test_the_hash_is_stable_and_changes_with_content():
    a = parse_protocol(raw())
    b = parse_protocol(raw())
    assert a.sha256() == b.sha256()
    changed = raw()
    changed["eligibility"]["age"]["max_years"] = 70
    assert parse_protocol(changed).sha256() != a.sha256()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("version"), "version: Field required"),
        (lambda d: d.update(version=0), "version: Input should be greater than or equal to 1"),
        (lambda d: d.update(format="other/1"), "format: Input should be 'ketaclinic.protocol/1'"),
        (lambda d: d.update(id="Bad Id"), "id: String should match pattern"),
        (lambda d: d.update(indications=["insomnia"]), "unknown indications insomnia"),
        (lambda d: d["eligibility"]["age"].update(min_years=70), "min_years (70) is above max_years (65)"),
        (
            lambda d: d["eligibility"].update(unexpected=1),
            "eligibility.unexpected: Extra inputs are not permitted",
        ),
        (
            lambda d: d["eligibility"]["contraindications"].append(
                dict(d["eligibility"]["contraindications"][0])
            ),
            "contraindication codes repeat: ketamine_hypersensitivity",
        ),
        (
            lambda d: d["eligibility"]["contraindications"][0].update(action="maybe"),
            "action: Input should be",
        ),
    ],
)
def test_invalid_documents_are_refused_naming_the_problem(mutate, message):
    doc = copy.deepcopy(raw())
    mutate(doc)
    with pytest.raises(ProtocolError) as exc:
        parse_protocol(doc)
    assert message in exc.value.message
    assert exc.value.message.startswith(f"Protocol {doc.get('id', '?')} is invalid")


def test_a_non_mapping_is_refused():
    with pytest.raises(ProtocolError, match="must be a mapping, not list"):
        parse_protocol([1, 2])


def test_a_file_that_is_not_yaml_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed")
    with pytest.raises(ProtocolError, match="broken.yaml is not valid YAML"):
        protocol_file_read(bad)


def test_an_unknown_shipped_protocol_names_the_known_ones():
    with pytest.raises(ProtocolError, match="depression-standard"):
        shipped_protocol("nope")


def test_the_json_schema_describes_the_document():
    schema = protocol_json_schema()
    assert schema["title"] == "ProtocolDocument"
    assert {"format", "id", "version", "eligibility"} <= set(schema["required"])
    json.dumps(schema)  # serialisable for docs/protocol.schema.json


def test_the_shipped_library_is_read_again_when_a_file_changes(tmp_path, monkeypatch):
    """The library is validated once and shared, but an edited or added file is never answered from the old
    reading."""
    from ketaclinic.protocols import files

    (tmp_path / "depression-standard.yaml").write_text((LIBRARY_DIR / "depression-standard.yaml").read_text())
    monkeypatch.setattr(files, "LIBRARY_DIR", tmp_path)
    first = shipped_protocols()
    assert shipped_protocols()["depression-standard"] is first["depression-standard"]
    edited = raw()
    edited["title"] = "Edited on disk"
    (tmp_path / "depression-standard.yaml").write_text(yaml.safe_dump(edited))
    (tmp_path / "ptsd-standard.yaml").write_text((LIBRARY_DIR / "ptsd-standard.yaml").read_text())
    again = shipped_protocols()
    assert again["depression-standard"].title == "Edited on disk"
    assert set(again) == {"depression-standard", "ptsd-standard"}
