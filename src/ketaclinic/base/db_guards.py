"""Database-level guards for clinical records that must never change (ARCHITECTURE rule 5 and 9).

The same guard on SQLite and PostgreSQL: a trigger that aborts UPDATE and DELETE on an append-only
table, or UPDATE of a row once a condition holds (a signed screening). Services never try such writes;
the triggers make sure nothing else (a shell, a bug, a raw query) can either.

Frozen: migrations import this module and must replay the same SQL forever, so its text is pinned
(tests/test_architecture.py). A new or different guard goes in a new module and a new migration.
"""

from __future__ import annotations

from typing import Any

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ketaclinic_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ketaclinic: % on % is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0];
END; $$ LANGUAGE plpgsql;
"""


def append_only_sql(vendor: str, table: str) -> list[str]:
    msg = f"{table} is append-only"
    if vendor == "postgresql":
        return [PG_FUNCTION, f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ketaclinic_refuse_change('{msg}');"]
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{msg}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{msg}'); END;"]


def frozen_when_sql(vendor: str, table: str, condition: str, what: str) -> list[str]:
    """Refuse UPDATE and DELETE of rows whose OLD values satisfy ``condition`` (SQL over OLD.*)."""
    if vendor == "postgresql":
        return [PG_FUNCTION, f"DROP TRIGGER IF EXISTS {table}_frozen ON {table};",
                f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW "
                f"WHEN ({condition}) EXECUTE FUNCTION ketaclinic_refuse_change('{what}');"]
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_update BEFORE UPDATE ON {table} WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{what}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_delete BEFORE DELETE ON {table} WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{what}'); END;"]


def run(schema_editor: Any, statements: list[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)


def fields_frozen_when_sql(vendor: str, table: str, condition: str, fields: list[str], what: str) -> list[str]:
    """Refuse an UPDATE that changes any of ``fields`` of a row whose OLD values satisfy ``condition``,
    and any DELETE of such a row; other columns (a status moving on) may still change."""
    if vendor == "postgresql":
        changed = " OR ".join(f"NEW.{f} IS DISTINCT FROM OLD.{f}" for f in fields)
        return [PG_FUNCTION, f"DROP TRIGGER IF EXISTS {table}_fields_frozen ON {table};",
                f"CREATE TRIGGER {table}_fields_frozen BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (({condition}) AND ({changed})) EXECUTE FUNCTION ketaclinic_refuse_change('{what}');",
                f"DROP TRIGGER IF EXISTS {table}_frozen_delete ON {table};",
                f"CREATE TRIGGER {table}_frozen_delete BEFORE DELETE ON {table} FOR EACH ROW "
                f"WHEN ({condition}) EXECUTE FUNCTION ketaclinic_refuse_change('{what}');"]
    changed = " OR ".join(f"NEW.{f} IS NOT OLD.{f}" for f in fields)
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_fields_frozen BEFORE UPDATE ON {table} "
            f"WHEN ({condition}) AND ({changed}) BEGIN SELECT RAISE(ABORT, '{what}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_delete BEFORE DELETE ON {table} WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{what}'); END;"]


def settable_once_sql(vendor: str, table: str, condition: str, fixed: list[str], marker: str, what: str) -> list[str]:
    """For rows whose OLD values satisfy ``condition``: refuse DELETE, and refuse an UPDATE that changes any of
    ``fixed`` or that happens once ``marker`` is set. The other columns (a review, a void) may be set once, from
    null; the row is then frozen. Replaces the table's append-only or frozen trigger."""
    if vendor == "postgresql":
        changed = " OR ".join(f"NEW.{f} IS DISTINCT FROM OLD.{f}" for f in fixed)
        return [PG_FUNCTION, f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_frozen ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_set_once ON {table};",
                f"CREATE TRIGGER {table}_set_once BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (({condition}) AND (OLD.{marker} IS NOT NULL OR {changed})) "
                f"EXECUTE FUNCTION ketaclinic_refuse_change('{what}');",
                f"DROP TRIGGER IF EXISTS {table}_set_once_delete ON {table};",
                f"CREATE TRIGGER {table}_set_once_delete BEFORE DELETE ON {table} FOR EACH ROW "
                f"WHEN ({condition}) EXECUTE FUNCTION ketaclinic_refuse_change('{what}');"]
    changed = " OR ".join(f"NEW.{f} IS NOT OLD.{f}" for f in fixed)
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;",
            f"DROP TRIGGER IF EXISTS {table}_frozen_update;", f"DROP TRIGGER IF EXISTS {table}_frozen_delete;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_set_once BEFORE UPDATE ON {table} "
            f"WHEN ({condition}) AND (OLD.{marker} IS NOT NULL OR {changed}) BEGIN SELECT RAISE(ABORT, '{what}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_set_once_delete BEFORE DELETE ON {table} WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{what}'); END;"]
