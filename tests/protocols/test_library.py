"""Protocol versions: loaded once, never overwritten, only ever newer; history kept in the database."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.protocols.files import shipped_protocol
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_for_indication, protocols_current
from ketaclinic.protocols.services import VERSION_CHANGED, VERSION_NOT_NEWER, protocol_load

pytestmark = pytest.mark.django_db


def doc(version: int, max_age: int = 65):
    data = shipped_protocol("depression-standard").model_dump(mode="json")
    data.update(version=version, changelog=f"version {version}")
    data["eligibility"]["age"]["max_years"] = max_age
    return parse_protocol(data)


def test_loading_the_same_version_twice_is_a_no_op():
    first, created = protocol_load(document=doc(1), user=None)
    again, created_again = protocol_load(document=doc(1), user=None)
    assert (created, created_again, first.pk) == (True, False, again.pk)


def test_a_changed_document_under_the_same_version_is_refused():
    protocol_load(document=doc(1), user=None)
    with pytest.raises(ProtocolError) as exc:
        protocol_load(document=doc(1, max_age=70), user=None)
    assert exc.value.message == VERSION_CHANGED.format(id="depression-standard", version=1)


def test_versions_only_go_up_and_history_is_kept():
    protocol_load(document=doc(1), user=None)
    protocol_load(document=doc(3, max_age=70), user=None)
    with pytest.raises(ProtocolError) as exc:
        protocol_load(document=doc(2), user=None)
    assert exc.value.message == VERSION_NOT_NEWER.format(id="depression-standard", version=2, latest=3)
    assert list(ProtocolVersion.objects.values_list("version", flat=True)) == [3, 1]
    assert protocols_current()[0].version == 3
    assert protocol_for_indication("trd").parsed.eligibility.age.max_years == 70


def test_stored_versions_cannot_be_edited():
    pv, _ = protocol_load(document=doc(1), user=None)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ProtocolVersion.objects.filter(pk=pv.pk).update(title="edited")


def test_the_load_command_reads_a_clinic_file(tmp_path, capsys):
    import yaml

    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc(4).model_dump(mode="json")))
    call_command("protocol_load", str(path))
    assert "depression-standard v4: loaded" in capsys.readouterr().out
    assert ProtocolVersion.objects.get(version=4).source_name == str(path)


def test_protocol_for_an_uncovered_indication_is_refused():
    protocol_load(document=doc(1), user=None)
    with pytest.raises(ProtocolError, match="No active protocol covers migraine"):
        protocol_for_indication("migraine")


def test_each_row_of_a_version_reads_the_one_validated_document_and_each_version_its_own():
    """The day board and the polls read many sessions of one version: it is validated once per process, and
    a newer version (another digest) is never answered from an older one's."""
    first, _ = protocol_load(document=doc(1), user=None)
    second, _ = protocol_load(document=doc(2, max_age=70), user=None)
    a, b = ProtocolVersion.objects.get(pk=first.pk), ProtocolVersion.objects.get(pk=first.pk)
    assert a.parsed is b.parsed
    newer = ProtocolVersion.objects.get(pk=second.pk).parsed
    assert (a.parsed.version, a.parsed.eligibility.age.max_years) == (1, 65)
    assert (newer.version, newer.eligibility.age.max_years) == (2, 70)
