"""Backups that restore: the database, the audit trail's checkpoint, and a manifest to check them by.

``backup_create`` writes one directory per backup:

* ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``, restored with ``pg_restore``) or
  ``database.sqlite3`` (SQLite: the online backup API, ``sqlite3.Connection.backup``, a consistent copy
  while the clinic keeps working);
* ``audit-checkpoints.jsonl``: the audit checkpoint file as it stood, ending with a signed checkpoint taken
  just before the database was copied (so the copy holds every entry the checkpoint names);
* ``manifest.json``: when, which engine, the row count of every table *in the copy* (on PostgreSQL counted
  in the very snapshot ``pg_dump`` reads, exported with ``pg_export_snapshot()``), and the sha256 of each
  file.

``backup_restore`` checks the files' sha256, then restores into a database it creates (PostgreSQL) or a new
file (SQLite), refusing a target that already holds tables. ``restore_check`` is the drill: the restored
row counts, table by table, against the manifest, and ``audit_verify`` run against the restored database
with the backed-up checkpoint file (a separate process, exactly as an operator would run it).

Connections to PostgreSQL are passed to ``pg_dump``/``pg_restore`` in the ``PG*`` environment variables,
never on the command line (where ``ps`` would show a password).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings
from django.db import connections, transaction
from psycopg import sql

from ketaclinic.audit.checkpoints import FileSink, checkpoint_export
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record

MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints.jsonl"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FORMAT = 1
PG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

NOT_EMPTY = "The database {name!r} already holds {tables} tables: restore only into a new or empty database."
BAD_NAME = (
    "Database name {name!r} is not allowed: letters, digits and underscores, starting with a letter, "
    "at most 63 characters."
)
DAMAGED = "Backup file {name} is damaged: its sha256 is {actual}, the manifest says {expected}."
NO_MANIFEST = "No backup at {path}: expected a backup directory or its manifest.json."
UNKNOWN_ENGINE = "This database's engine {engine!r} cannot be backed up (PostgreSQL or SQLite only)."
NO_TOOL = "{tool} was not found on PATH (or in KETACLINIC_PG_BIN): install the PostgreSQL client tools."


class BackupError(Exception):
    """A refusal or a failure, with a message for the person running the backup or the restore."""


@dataclass(frozen=True)
class Manifest:
    taken_at: str
    engine: str  # "postgresql" or "sqlite"
    database: str
    files: dict[str, str]  # file name -> sha256
    row_counts: dict[str, int]
    checkpoint: dict[str, Any]  # {"at": ..., "size": ...} of the checkpoint taken just before the copy
    ketaclinic_version: str = ""
    format: int = FORMAT

    @property
    def database_file(self) -> str:
        return PG_DUMP if self.engine == "postgresql" else SQLITE_COPY

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class DrillResult:
    """What the restore drill found: an empty ``problems`` means the backup restores."""

    row_counts: dict[str, int]
    audit_output: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _engine(db: dict[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(UNKNOWN_ENGINE.format(engine=engine))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    where = os.environ.get("KETACLINIC_PG_BIN", "")
    found = shutil.which(name, path=where or None)
    if not found:
        raise BackupError(NO_TOOL.format(tool=name))
    return found


def pg_environment(db: dict[str, Any], name: str | None = None) -> dict[str, str]:
    """The ``PG*`` variables that point libpq tools at ``db`` (a Django DATABASES entry)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    pairs = {
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGDATABASE": name or db.get("NAME"),
    }
    options = db.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):
            pairs[variable] = options[option]
    env.update({k: str(v) for k, v in pairs.items() if v not in (None, "")})
    return env


def _pg_conninfo(db: dict[str, Any], name: str) -> dict[str, Any]:
    keys = {"HOST": "host", "PORT": "port", "USER": "user", "PASSWORD": "password"}
    info: dict[str, Any] = {v: db[k] for k, v in keys.items() if db.get(k)}
    info.update({k: v for k, v in (db.get("OPTIONS") or {}).items() if k in ("sslmode", "sslrootcert")})
    return {**info, "dbname": name}


def _tables_pg(cur: Any) -> list[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [str(r[0]) for r in cur.fetchall()]


def _count_pg(cur: Any, tables: Iterable[str]) -> dict[str, int]:
    counts = {}
    for t in tables:
        cur.execute(f"SELECT count(*) FROM {_quoted(t)}")  # noqa: S608 - a table name the catalogue gave
        counts[t] = int(cur.fetchone()[0])
    return counts


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _count_sqlite(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {t: int(conn.execute(f"SELECT count(*) FROM {_quoted(t)}").fetchone()[0]) for t in tables}  # noqa: S608


def _dump_postgresql(alias: str, out: Path) -> dict[str, int]:
    """``pg_dump`` of the very snapshot the rows are counted in (``pg_export_snapshot``)."""
    db = connections[alias].settings_dict
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = str(cur.fetchone()[0])
        counts = _count_pg(cur, _tables_pg(cur))
        run = subprocess.run(  # noqa: S603 - fixed arguments, connection in the environment
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                "-f",
                str(out),
            ],
            env=pg_environment(db),
            capture_output=True,
            text=True,
            check=False,
        )
    if run.returncode:
        raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
    return counts


def _copy_sqlite(alias: str, out: Path) -> dict[str, int]:
    """SQLite's online backup API: a consistent copy page by page while the clinic keeps writing."""
    conn = connections[alias]
    conn.ensure_connection()
    target = sqlite3.connect(out)
    try:
        if conn.in_atomic_block:  # the backup API would wait forever for this transaction's own write lock
            image = sqlite3.connect(":memory:")
            image.deserialize(conn.connection.serialize())  # this connection's own view of the database
            image.backup(target)
            image.close()
        else:
            conn.connection.backup(target)
        return _count_sqlite(target)
    finally:
        target.close()


def backup_create(*, to_dir: Path, alias: str = "default") -> tuple[Path, Manifest]:
    """Back up the database and the audit checkpoint into a new directory under ``to_dir``."""
    db = connections[alias].settings_dict
    engine = _engine(db)
    now = datetime.now(UTC)
    out = Path(to_dir) / f"ketaclinic-{now:%Y%m%dT%H%M%S%fZ}"
    out.mkdir(parents=True, exist_ok=False)
    audit_record(action=AuditEntry.Action.SYSTEM, summary="Backup of the whole database taken")
    checkpoint = checkpoint_export()  # to every sink, as audit_checkpoint does; the copy comes after it
    source = Path(settings.KETACLINIC_AUDIT_CHECKPOINT_FILE)
    last = FileSink(source).last() if source.exists() else None
    if last == checkpoint:
        shutil.copyfile(source, out / CHECKPOINTS)
    else:  # no file sink configured: the backup keeps the checkpoint it took
        FileSink(out / CHECKPOINTS).write(checkpoint)
    database_file = out / (PG_DUMP if engine == "postgresql" else SQLITE_COPY)
    counts = (_dump_postgresql if engine == "postgresql" else _copy_sqlite)(alias, database_file)
    try:
        release = version("ketaclinic")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        release = ""
    manifest = Manifest(
        taken_at=now.isoformat(),
        engine=engine,
        database=Path(str(db["NAME"])).name if engine == "sqlite" else str(db["NAME"]),
        files={p.name: _sha256(p) for p in (database_file, out / CHECKPOINTS)},
        row_counts=counts,
        checkpoint={"at": checkpoint.at, "size": checkpoint.size},
        ketaclinic_version=release,
    )
    manifest.write(out)
    return out, manifest


def backup_open(path: Path) -> tuple[Path, Manifest]:
    """The backup directory and its manifest, every file's sha256 checked."""
    directory = path.parent if path.name == MANIFEST else path
    if not (directory / MANIFEST).is_file():
        raise BackupError(NO_MANIFEST.format(path=path))
    manifest = Manifest.read(directory / MANIFEST)
    for name, expected in manifest.files.items():
        actual = _sha256(directory / name)
        if actual != expected:
            raise BackupError(DAMAGED.format(name=name, actual=actual, expected=expected))
    return directory, manifest


def target_settings(into: str, alias: str = "default") -> dict[str, Any]:
    """The DATABASES entry of the restore target: a URL, or a name on this server, or a SQLite file."""
    if "://" in into:
        return dict(dj_database_url.parse(into))
    current = dict(connections[alias].settings_dict)
    if _engine(current) == "sqlite":
        return {**current, "NAME": str(Path(into).resolve())}
    return {**current, "NAME": into}


def database_url(db: dict[str, Any]) -> str:
    """A DATABASE_URL for ``db`` (what the restored site and ``audit_verify`` are started with)."""
    if _engine(db) == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = str(db.get("USER") or "")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    at = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{at}{db.get('HOST') or ''}{port}/{db['NAME']}"


def backup_restore(path: Path, *, into: str, alias: str = "default") -> dict[str, Any]:
    """Restore a backup into a new database (or an empty one); returns the target's DATABASES entry."""
    directory, manifest = backup_open(path)
    target = target_settings(into, alias)
    if _engine(target) != manifest.engine:
        raise BackupError(
            f"This backup is of a {manifest.engine} database; the target {into!r} is {_engine(target)}."
        )
    source = directory / manifest.database_file
    if manifest.engine == "sqlite":
        _restore_sqlite(source, Path(target["NAME"]))
    else:
        _restore_postgresql(source, target)
    return target


def _restore_sqlite(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size:
        with sqlite3.connect(target) as existing:
            tables = len(_count_sqlite(existing))
        if tables:
            raise BackupError(NOT_EMPTY.format(name=str(target), tables=tables))
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _restore_postgresql(source: Path, target: dict[str, Any]) -> None:
    name = str(target["NAME"])
    if not PG_NAME.match(name):
        raise BackupError(BAD_NAME.format(name=name))
    with psycopg.connect(**_pg_conninfo(target, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if exists:
        with psycopg.connect(**_pg_conninfo(target, name)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
            tables = int(cur.fetchone()[0])  # type: ignore[index]
        if tables:
            raise BackupError(NOT_EMPTY.format(name=name, tables=tables))
    run = subprocess.run(  # noqa: S603 - fixed arguments, connection in the environment
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--no-password",
            "--dbname",
            name,
            str(source),
        ],
        env=pg_environment(target, name),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode:
        raise BackupError(f"pg_restore failed: {run.stderr.strip()}")


def row_counts(db: dict[str, Any]) -> dict[str, int]:
    """Rows in every table of the database ``db`` names (its own connection, not Django's)."""
    if _engine(db) == "sqlite":
        with sqlite3.connect(f"file:{db['NAME']}?mode=ro", uri=True) as lite:
            return _count_sqlite(lite)
    with psycopg.connect(**_pg_conninfo(db, str(db["NAME"]))) as pg, pg.cursor() as cur:
        return _count_pg(cur, _tables_pg(cur))


def restore_check(path: Path, target: dict[str, Any]) -> DrillResult:
    """The drill: row counts against the manifest, and ``audit_verify`` against the backed-up checkpoint."""
    directory, manifest = backup_open(path)
    counts = row_counts(target)
    problems = [
        f"table {t}: {manifest.row_counts.get(t, 'no')} rows in the backup, {counts.get(t, 'no')} restored"
        for t in sorted(set(manifest.row_counts) | set(counts))
        if manifest.row_counts.get(t) != counts.get(t)
    ]
    run = subprocess.run(  # noqa: S603 - this Python, fixed arguments
        [
            sys.executable,
            "-m",
            "ketaclinic.cli",
            "manage",
            "audit_verify",
            "--checkpoints",
            str(directory / CHECKPOINTS),
        ],
        env={**os.environ, "DATABASE_URL": database_url(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    output = (run.stdout + run.stderr).strip()
    if run.returncode:
        problems.append(f"audit_verify failed on the restored database: {output}")
    return DrillResult(row_counts=counts, audit_output=output, problems=problems)
