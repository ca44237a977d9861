"""The audit trail becomes sixteen hash chains (shards), so audited requests no longer queue on one row.

Entries written before keep their place: they are shard 1, at their ``seq`` (the columns are added empty,
so the append-only table is not rewritten and its triggers stay). The clinic-wide ``seq`` comes from a
database sequence on PostgreSQL (no lock); SQLite serialises writers anyway. The heads' guard now checks
the shard: a head moves forward one place at a time, to its own shard's newest entry.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SHARDS = 16

PG = [
    "CREATE SEQUENCE IF NOT EXISTS audit_entry_seq;",
    "SELECT setval('audit_entry_seq', GREATEST((SELECT COALESCE(MAX(seq), 0) FROM audit_auditentry), 1), "
    "(SELECT COUNT(*) > 0 FROM audit_auditentry));",
    """
CREATE OR REPLACE FUNCTION ketaclinic_audit_head_forward() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
      SELECT 1 FROM audit_auditentry WHERE entry_hash = NEW.entry_hash AND COALESCE(shard, 1) = NEW.id
      AND COALESCE(shard_seq, seq) = NEW.seq) THEN
    RAISE EXCEPTION 'ketaclinic: % on audit_auditchainhead is refused: audit_auditchainhead only moves forward to the newest audit entry', TG_OP;
  END IF;
  RETURN NEW;
END; $$ LANGUAGE plpgsql;
""",
]

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_auditchainhead_forward;",
    "CREATE TRIGGER audit_auditchainhead_forward BEFORE UPDATE ON audit_auditchainhead "
    "WHEN NEW.id != OLD.id OR NEW.seq != OLD.seq + 1 OR NOT EXISTS ("
    "SELECT 1 FROM audit_auditentry WHERE entry_hash = NEW.entry_hash AND COALESCE(shard, 1) = NEW.id "
    "AND COALESCE(shard_seq, seq) = NEW.seq) "
    "BEGIN SELECT RAISE(ABORT, 'audit_auditchainhead only moves forward to the newest audit entry'); END;",
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in PG if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql, params=None)
    head = apps.get_model("audit", "AuditChainHead")
    for shard in range(1, SHARDS + 1):
        head.objects.get_or_create(id=shard, defaults={"seq": 0, "entry_hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_head_moves_forward")]
    operations = [
        migrations.AddField(model_name="auditentry", name="shard",
                            field=models.PositiveSmallIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="auditentry", name="shard_seq",
                            field=models.BigIntegerField(blank=True, null=True)),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(condition=models.Q(shard_seq__isnull=False), fields=("shard", "shard_seq"),
                                               name="audit_entry_one_place_per_shard")),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
