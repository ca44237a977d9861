"""The audit chain: every entry sealed (HMAC) over its content and the seal before it; the database
refuses UPDATE and DELETE; an edit made with the guards removed is found by ``audit_verify``."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.chain import GENESIS, entry_content, entry_seal, sealed_fields
from ketaclinic.audit.models import AuditChainHead, AuditEntry
from ketaclinic.audit.selectors import audit_chain_verify
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(clinic, client_for):
    """A trail with sign-ins, reads, writes and a denial in it."""
    client = client_for(clinic.staff[Role.NURSE])
    client.get(f"/patients/{clinic.patient.external_id}/")
    client.get(f"/patients/{clinic.other_patient.external_id}/")
    client.get("/api/patients")
    return list(AuditEntry.objects.order_by("seq"))


def problems() -> list[str]:
    return [p.problem.split(":")[0] for p in audit_chain_verify()[1]]


def disable_guards() -> None:
    """Remove the append-only triggers inside this test's transaction (undone when the test rolls back),
    as someone with direct database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fire the deferred foreign-key checks of this transaction's inserts first: PostgreSQL will
            # not ALTER a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER")
        else:
            for trigger in (
                "audit_auditentry_no_update",
                "audit_auditentry_no_delete",
                "audit_auditchainhead_forward",
                "audit_auditchainhead_no_delete",
            ):
                cursor.execute(f"DROP TRIGGER {trigger}")


def run_command() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as exc:  # what manage.py turns into its exit status
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


# --- the chain ----------------------------------------------------------------------------------------


def head_of(entry: AuditEntry):
    return AuditChainHead.objects.filter(id=entry.chain[0])


def test_entries_chain_each_to_the_one_before_in_their_shard(trail):
    assert len(trail) > 10
    assert [e.seq for e in trail] == sorted({e.seq for e in trail})  # one clinic-wide order, no repeats
    shards: dict[int, list[AuditEntry]] = {}
    for entry in trail:
        shards.setdefault(entry.chain[0], []).append(entry)
    for shard, entries in shards.items():
        assert entries[0].prev_hash == GENESIS and entries[0].chain == (shard, 1)
        for before, entry in zip(entries, entries[1:], strict=False):
            assert entry.chain == (shard, before.chain[1] + 1)
            assert entry.prev_hash == before.entry_hash
            assert entry.entry_hash == entry_seal(entry.prev_hash, sealed_fields(entry))
        head = AuditChainHead.objects.get(id=shard)
        assert (head.seq, head.entry_hash) == (entries[-1].chain[1], entries[-1].entry_hash)


def test_verify_command_succeeds_on_an_intact_chain(trail):
    code, out, _ = run_command()
    assert code == 0
    assert f"Audit chain intact: {len(trail)} entries verified" in out
    assert audit_chain_verify() == (len(trail), [])


def test_an_entry_records_who_what_when_and_from_where(trail, clinic):
    view = next(e for e in trail if e.action == AuditEntry.Action.VIEW and e.patient_external_id)
    assert view.actor == clinic.staff[Role.NURSE]
    assert view.actor_label == "nurse.downtown (nurse)"
    assert (view.ip_address, view.method, view.path) == (
        "127.0.0.1",
        "GET",
        f"/patients/{clinic.patient.external_id}/",
    )
    assert view.at is not None


# --- the database guards ------------------------------------------------------------------------------


def test_the_database_refuses_to_update_an_audit_row(trail):
    entry = trail[-1]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(summary="nothing happened")
    entry.summary = "nothing happened"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET summary = 'x'")
    entry.refresh_from_db()
    assert entry.summary != "nothing happened"


def test_the_database_refuses_to_delete_an_audit_row(trail):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=trail[-1].pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == len(trail)


# --- tamper detection (guards removed) ----------------------------------------------------------------


def test_an_edited_summary_breaks_the_seal_and_the_command_fails(trail):
    target = trail[len(trail) // 2]
    disable_guards()
    AuditEntry.objects.filter(pk=target.pk).update(summary="Viewed nothing")
    count, found = audit_chain_verify()
    assert count == len(trail)
    assert [(p.seq, p.problem.split(":")[0]) for p in found] == [(target.seq, "seal mismatch")]
    code, _, err = run_command()
    assert code == 1
    assert f"entry #{target.seq}: seal mismatch" in err
    assert "Audit chain BROKEN" in err


@pytest.mark.parametrize(
    "field", ["actor_label", "patient_external_id", "ip_address", "path", "detail", "at"]
)
def test_any_edited_field_is_found(field, trail):
    from datetime import timedelta

    target = trail[2]
    values = {
        "actor_label": "someone else",
        "patient_external_id": uuid.uuid4(),
        "ip_address": "10.9.9.9",
        "path": "/elsewhere/",
        "detail": {"read": ["nothing"]},
        "at": target.at - timedelta(days=1),
    }
    disable_guards()
    AuditEntry.objects.filter(pk=target.pk).update(**{field: values[field]})
    assert problems() == ["seal mismatch"]


def test_deleting_the_last_entry_is_found_at_the_head(trail):
    disable_guards()
    AuditEntry.objects.filter(pk=trail[-1].pk).delete()
    found = audit_chain_verify()[1]
    assert [p.problem.split(":")[0] for p in found] == ["head mismatch"]
    assert run_command()[0] == 1


def test_deleting_an_entry_in_the_middle_breaks_the_sequence_and_the_link(trail):
    disable_guards()
    AuditEntry.objects.filter(pk=trail[3].pk).delete()
    assert problems() == ["sequence gap", "link broken"]


def test_the_database_refuses_to_wind_back_skip_or_delete_the_chain_head(trail):
    head = head_of(trail[-1]).get()
    for seq, entry_hash in (
        (head.seq - 1, trail[-2].entry_hash),  # wound back to hide a deleted entry
        (head.seq + 1, "f" * 64),  # to an entry that does not exist
        (head.seq, "e" * 64),
    ):  # re-pointed in place
        with pytest.raises(DatabaseError), transaction.atomic():
            head_of(trail[-1]).update(seq=seq, entry_hash=entry_hash)
    other = AuditChainHead.objects.exclude(id=head.id).first()
    with pytest.raises(DatabaseError), transaction.atomic():  # another shard's head may not take this entry
        AuditChainHead.objects.filter(id=other.id).update(seq=other.seq + 1, entry_hash=trail[-1].entry_hash)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditChainHead.objects.all().delete()
    assert head_of(trail[-1]).get().seq == trail[-1].chain[1]


def test_truncating_the_chain_and_winding_back_the_head_is_refused_with_the_entry_guards_off(trail):
    with connection.cursor() as cursor:  # only the entries' guards removed, as in the tests below
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_auditentry_no_delete")
    AuditEntry.objects.filter(pk=trail[-1].pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        head_of(trail[-1]).update(seq=trail[-2].chain[1], entry_hash=trail[-2].entry_hash)
    assert problems() == ["head mismatch"]


def test_removing_the_chain_head_is_found(trail):
    disable_guards()
    AuditChainHead.objects.all().delete()
    assert problems() == ["head missing"]


def _reseal(entry: AuditEntry, seal) -> None:
    AuditEntry.objects.filter(pk=entry.pk).update(entry_hash=seal(entry.prev_hash, sealed_fields(entry)))


def plain_sha256(prev: str, fields: dict) -> str:
    return hashlib.sha256((prev + "|" + entry_content(fields)).encode()).hexdigest()


def other_key(prev: str, fields: dict) -> str:
    return hmac.new(
        b"a guessed key", (prev + "|" + entry_content(fields)).encode(), hashlib.sha256
    ).hexdigest()


@pytest.mark.parametrize("seal", [plain_sha256, other_key], ids=["plain-sha256", "another-key"])
def test_an_edit_resealed_without_the_key_is_still_found(seal, trail):
    """The forger edits the last entry, re-seals it and moves the head along: only the key is missing."""
    target = trail[-1]
    disable_guards()
    AuditEntry.objects.filter(pk=target.pk).update(summary="Viewed nothing")
    target.refresh_from_db()
    _reseal(target, seal)
    target.refresh_from_db()
    head_of(target).update(entry_hash=target.entry_hash)
    assert problems() == ["seal mismatch"]


def test_only_the_audit_key_can_reseal(trail, settings):
    """The control for the test above: re-sealed with the right key, the same forgery would pass, so what
    protects the chain is the key (KETACLINIC_AUDIT_KEY), which the database does not hold."""
    target = trail[-1]
    disable_guards()
    AuditEntry.objects.filter(pk=target.pk).update(summary="Viewed nothing")
    target.refresh_from_db()
    _reseal(target, entry_seal)
    target.refresh_from_db()
    head_of(target).update(entry_hash=target.entry_hash)
    assert problems() == []
    settings.KETACLINIC_AUDIT_KEY = "another deployment's key"
    assert "seal mismatch" in problems()


def test_appending_after_verification_keeps_the_chain_intact(trail):
    audit_record(action=AuditEntry.Action.SYSTEM, summary="Nightly check")
    assert problems() == []


def test_the_guards_are_back_after_the_tamper_tests(trail):
    """The tamper tests removed the triggers inside their own transaction only (run after them)."""
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=trail[-1].pk).update(summary="nothing happened")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=trail[-1].pk).delete()
