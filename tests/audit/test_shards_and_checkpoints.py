"""An audit trail without a global lock, that detects truncation: appends in concurrent transactions take
different shards (on PostgreSQL none waits for another), and the checkpoints exported outside the database
let ``audit_verify`` find a cut tail, a re-sealed shard and a forged checkpoint; polls are one entry."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from ketaclinic.audit.chain import entry_seal, sealed_fields
from ketaclinic.audit.checkpoints import Checkpoint, FileSink, checkpoint_export, checkpoint_last
from ketaclinic.audit.models import AuditChainHead, AuditEntry
from ketaclinic.audit.selectors import audit_chain_verify
from ketaclinic.audit.services import audit_heads_ensure, audit_record
from ketaclinic.core.access import Role
from tests.audit.test_chain import disable_guards, head_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(clinic, client_for):
    client = client_for(clinic.staff[Role.NURSE])
    for p in (clinic.patient, clinic.other_patient):
        client.get(f"/patients/{p.external_id}/")
        client.get(f"/patients/{p.external_id}/outcomes/")
    for i in range(6):
        audit_record(action=AuditEntry.Action.SYSTEM, summary=f"Nightly job {i}")
    return list(AuditEntry.objects.order_by("seq"))


def verify(checkpoint: Checkpoint | None = None) -> list[str]:
    return [p.problem.split(":")[0] for p in audit_chain_verify(checkpoint=checkpoint)[1]]


def command() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue() + str(exc)
    return 0, out.getvalue()


def test_a_checkpoint_is_signed_and_names_every_shards_size_and_last_seal(trail, settings, tmp_path):
    settings.KETACLINIC_AUDIT_CHECKPOINT_FILE = str(tmp_path / "cp.jsonl")
    cp = checkpoint_export()
    last = trail[-1]
    assert cp.valid() and cp.size == len(trail)
    assert cp.heads[str(last.chain[0])] == [last.chain[1], last.entry_hash]
    assert checkpoint_last() == cp  # read back from the file, outside the database
    assert verify(cp) == []
    code, out = command()
    assert code == 0 and f"against the checkpoint of {cp.at} ({len(trail)} entries)" in out


def test_a_cut_tail_with_the_head_wound_back_is_found_only_against_a_checkpoint(trail, settings, tmp_path):
    settings.KETACLINIC_AUDIT_CHECKPOINT_FILE = str(tmp_path / "cp.jsonl")
    checkpoint_export()
    disable_guards()
    shard = trail[-1].chain[0]
    in_shard = [e for e in trail if e.chain[0] == shard]
    keep = in_shard[:-3]
    AuditEntry.objects.filter(pk__in=[e.pk for e in in_shard[-3:]]).delete()
    head_of(trail[-1]).update(seq=keep[-1].chain[1], entry_hash=keep[-1].entry_hash)
    assert verify() == []  # the chains alone cannot tell: this is what the checkpoint is for
    assert verify(checkpoint_last()) == ["cut"]
    code, err = command()
    assert (
        code == 1
        and f"shard {shard} ends at place {keep[-1].chain[1]}" in err
        and f"saw {in_shard[-1].chain[1]} entries" in err
    )


def test_a_shard_resealed_with_the_key_after_an_edit_is_found_against_a_checkpoint(trail, settings, tmp_path):
    settings.KETACLINIC_AUDIT_CHECKPOINT_FILE = str(tmp_path / "cp.jsonl")
    checkpoint_export()
    disable_guards()
    shard = trail[-1].chain[0]
    in_shard = [e for e in trail if e.chain[0] == shard]
    target = in_shard[-4]
    AuditEntry.objects.filter(pk=target.pk).update(summary="Viewed nothing")
    prev = target.prev_hash
    for entry in in_shard[in_shard.index(target) :]:  # the forger holds the key and re-seals forward
        entry.refresh_from_db()
        seal = entry_seal(prev, sealed_fields(entry))
        AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=prev, entry_hash=seal)
        prev = seal
    head_of(target).update(entry_hash=prev)
    assert verify() == []
    assert verify(checkpoint_last()) == ["re-sealed"]


def test_a_forged_checkpoint_is_refused(trail, settings, tmp_path):
    path = tmp_path / "cp.jsonl"
    settings.KETACLINIC_AUDIT_CHECKPOINT_FILE = str(path)
    cp = checkpoint_export()
    small = {k: [1, v[1]] for k, v in cp.heads.items()}
    FileSink(path).write(Checkpoint(cp.at, len(small), small, cp.signature))
    assert verify(checkpoint_last()) == ["checkpoint forged"]


def test_a_shard_emptied_of_every_entry_is_found(trail):
    disable_guards()
    shard = trail[-1].chain[0]
    AuditEntry.objects.filter(pk__in=[e.pk for e in trail if e.chain[0] == shard]).delete()
    assert verify() == ["head mismatch"]


def test_a_page_polled_by_the_same_person_is_one_entry_until_the_repeat_window_ends(
    clinic, client_for, settings
):
    client = client_for(clinic.staff[Role.NURSE])
    url = f"/patients/{clinic.patient.external_id}/"
    views = AuditEntry.objects.filter(
        action=AuditEntry.Action.VIEW, patient_external_id=clinic.patient.external_id
    )
    for _ in range(5):
        assert client.get(url).status_code == 200
    assert views.count() == 1
    client_for(clinic.staff[Role.PRESCRIBER]).get(url)  # another person: their own entry
    assert views.count() == 2
    settings.KETACLINIC_AUDIT_READ_REPEAT_MINUTES = 0  # the window over
    client.get(url)
    assert views.count() == 3


# On PostgreSQL the threads' transactions must really commit (flushed after by TRUNCATE, which the append-only
# triggers allow); SQLite's flush would DELETE, which they refuse, and there the appends run in the test's
# own.
@pytest.mark.django_db(transaction=os.environ.get("DATABASE_URL", "").startswith("postgres"))
def test_concurrent_appends_take_different_shards_and_none_waits():
    """Eight transactions each append and then hold their shard's lock until all eight have appended. On
    PostgreSQL they must all get there (with one chain head, the second would wait for the first forever and
    the barrier would time out). SQLite serialises writers: there the appends simply follow one another."""
    n = 8
    pg = connection.vendor == "postgresql"
    barrier = threading.Barrier(n, timeout=30)

    def append(i: int) -> int:
        try:
            with transaction.atomic():
                entry = audit_record(action=AuditEntry.Action.SYSTEM, summary=f"Concurrent {i}")
                if pg:
                    barrier.wait()
            return entry.chain[0]
        finally:
            connection.close()

    audit_heads_ensure()  # made by the migration; a test database flushed by an earlier test has lost them
    if pg:
        with ThreadPoolExecutor(max_workers=n) as pool:
            shards = list(pool.map(append, range(n)))
    else:  # the in-memory SQLite of the tests takes one writer at a time (threads would only find it locked)
        shards = [
            audit_record(action=AuditEntry.Action.SYSTEM, summary=f"Concurrent {i}").chain[0]
            for i in range(n)
        ]
    if pg:
        assert len(set(shards)) == n, shards
    assert AuditEntry.objects.filter(summary__startswith="Concurrent").count() == n
    assert verify() == []
    assert sum(h.seq for h in AuditChainHead.objects.all()) == AuditEntry.objects.count()
