"""The chain head may only move forward, one entry at a time, to an entry that exists; it is never deleted.

Without this guard someone with database access could delete the newest audit rows (after dropping the
append-only triggers) and wind the head back to match, and the truncation would not show. With it, the
head's own trigger must be removed too.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PG = [
    """
CREATE OR REPLACE FUNCTION ketaclinic_audit_head_forward() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
      SELECT 1 FROM audit_auditentry WHERE seq = NEW.seq AND entry_hash = NEW.entry_hash) THEN
    RAISE EXCEPTION 'ketaclinic: % on audit_auditchainhead is refused: audit_auditchainhead only moves forward to the newest audit entry', TG_OP;
  END IF;
  RETURN NEW;
END; $$ LANGUAGE plpgsql;
""",
    "DROP TRIGGER IF EXISTS audit_auditchainhead_forward ON audit_auditchainhead;",
    "CREATE TRIGGER audit_auditchainhead_forward BEFORE UPDATE OR DELETE ON audit_auditchainhead "
    "FOR EACH ROW EXECUTE FUNCTION ketaclinic_audit_head_forward();",
]

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_auditchainhead_forward BEFORE UPDATE ON audit_auditchainhead "
    "WHEN NEW.id != OLD.id OR NEW.seq != OLD.seq + 1 OR NOT EXISTS ("
    "SELECT 1 FROM audit_auditentry WHERE seq = NEW.seq AND entry_hash = NEW.entry_hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditchainhead only moves forward to the newest audit entry'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_auditchainhead_no_delete BEFORE DELETE ON audit_auditchainhead "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditchainhead only moves forward to the newest audit entry'); END;",
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in PG if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
