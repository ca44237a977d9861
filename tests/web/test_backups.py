"""The restore drill: a small clinic is backed up, restored into a fresh database, and the restored copy
passes ``audit_verify`` against the backed-up checkpoint with every table's row count as in the manifest; a
restored audit trail that was tampered with fails the drill; a target that holds tables is refused.

Runs on the engine of the suite: SQLite (the online backup API, restored into a new file) or PostgreSQL
(``pg_dump``/``pg_restore``, restored into a database the test creates and drops).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from ketaclinic.web.backups import (
    CHECKPOINTS,
    MANIFEST,
    NOT_EMPTY,
    BackupError,
    Manifest,
    _pg_conninfo,
    backup_restore,
    restore_check,
)
from tests.accounts.conftest import clinic  # noqa: F401  (the small clinic: staff, patients, screenings)

PG = connection.vendor == "postgresql"
# PostgreSQL: committed data (pg_dump reads them from its own connection). SQLite: the backup copies the test
# connection's own view (a flush after the test would trip the in-memory database's append-only triggers).
pytestmark = pytest.mark.django_db(transaction=PG)
EDIT = (
    "UPDATE audit_auditentry SET summary = 'nothing happened' "
    "WHERE id = (SELECT min(id) FROM audit_auditentry)"
)


@pytest.fixture
def into(tmp_path):
    """A fresh target: a new SQLite file, or a new PostgreSQL database name (dropped after the test)."""
    if not PG:
        yield str(tmp_path / "restored.sqlite3")
        return
    name = f"backup_drill_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(**_pg_conninfo(connection.settings_dict, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backed_up(clinic, client_for, tmp_path, settings):  # noqa: F811
    settings.KETACLINIC_AUDIT_CHECKPOINT_FILE = str(tmp_path / "live" / "checkpoints.jsonl")
    nurse = client_for(clinic.staff[Role.NURSE])
    for page in ("", "outcomes/"):
        nurse.get(f"/patients/{clinic.patient.external_id}/{page}")  # audited reads, in the backed-up trail
    out = StringIO()
    call_command("backup", "--to", str(tmp_path / "backups"), stdout=out)
    (directory,) = (tmp_path / "backups").iterdir()
    return directory, out.getvalue()


def tamper(target: dict) -> None:
    """Edit one audit entry in the restored database, as someone with direct access could."""
    if PG:
        with psycopg.connect(**_pg_conninfo(target, target["NAME"]), autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            conn.execute(EDIT)
        return
    with sqlite3.connect(target["NAME"]) as conn:
        conn.execute("DROP TRIGGER audit_auditentry_no_update")
        conn.execute(EDIT)


def test_a_backup_restores_into_a_fresh_database_and_passes_the_drill(backed_up, into):
    directory, said = backed_up
    manifest = Manifest.read(directory / MANIFEST)
    assert manifest.engine == ("postgresql" if PG else "sqlite")
    assert manifest.row_counts["patients_patient"] == Patient.objects.count() >= 2
    assert manifest.row_counts["audit_auditentry"] == AuditEntry.objects.count()
    assert manifest.checkpoint["size"] <= manifest.row_counts["audit_auditentry"]
    assert set(manifest.files) == {manifest.database_file, CHECKPOINTS}
    assert f"{len(manifest.row_counts)} tables" in said and str(directory) in said

    out = StringIO()
    call_command("restore", str(directory), "--into", into, stdout=out)
    text = out.getvalue()
    assert "Audit chain intact" in text and f"({manifest.checkpoint['size']} entries)" in text
    assert "every row count as in the manifest" in text

    # the drill, asked directly: the restored tables hold exactly the manifest's rows
    target = {**connection.settings_dict, "NAME": into if PG else str(Path(into).resolve())}
    drill = restore_check(directory, target)
    assert drill.passed, drill.problems
    assert drill.row_counts == manifest.row_counts


def test_a_tampered_restored_audit_trail_fails_the_drill(backed_up, into):
    directory, _ = backed_up
    target = backup_restore(directory, into=into)
    tamper(target)
    drill = restore_check(directory, target)
    assert not drill.passed
    assert any("audit_verify failed" in p and "BROKEN" in p for p in drill.problems)


def test_restore_refuses_a_target_that_holds_tables(backed_up, into):
    directory, _ = backed_up
    backup_restore(directory, into=into)
    with pytest.raises(CommandError) as exc:
        call_command("restore", str(directory), "--into", into)
    assert str(exc.value).startswith(NOT_EMPTY.split("{")[0]) and "already holds" in str(exc.value)


def test_a_damaged_backup_file_is_refused_before_anything_is_restored(backed_up, into):
    directory, _ = backed_up
    with (directory / CHECKPOINTS).open("a") as f:
        f.write(json.dumps({"at": "forged"}) + "\n")
    with pytest.raises(BackupError, match=f"Backup file {CHECKPOINTS} is damaged"):
        backup_restore(directory, into=into)
    assert not exists(into)


def exists(into: str) -> bool:
    if not PG:
        return Path(into).exists()
    with psycopg.connect(**_pg_conninfo(connection.settings_dict, "postgres")) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into]).fetchone() is not None
