"""The chain's head row, and database triggers that refuse edits of audit entries.

PostgreSQL refuses DELETE and any UPDATE but the sealing of an unsealed entry. SQLite refuses
the same UPDATEs but not DELETE: Django's test flush empties tables with DELETE there. Either
way `audit verify` detects what gets past.
"""

from django.db import migrations

GENESIS = "0" * 64

# The sealer may fill in seq, prev_hash and entry_hash of an entry not yet sealed; nothing
# else may change, and nothing may be deleted.
_CONTENT = (
    "occurred_at", "actor", "actor_label", "action", "target_type", "target_id",
    "facility_code", "reason", "source_ip", "details",
)
PG_GUARD = f"""
CREATE OR REPLACE FUNCTION core_audit_entries_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id
     AND ({", ".join("NEW." + c for c in _CONTENT)})
         IS NOT DISTINCT FROM ({", ".join("OLD." + c for c in _CONTENT)}) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_audit_entries_no_update BEFORE UPDATE OR DELETE ON core_audit_entries
  FOR EACH ROW EXECUTE FUNCTION core_audit_entries_append_only();
"""
PG_UNGUARD = """
DROP TRIGGER IF EXISTS core_audit_entries_no_update ON core_audit_entries;
DROP FUNCTION IF EXISTS core_audit_entries_append_only();
"""
SQLITE_GUARD = f"""
CREATE TRIGGER core_audit_entries_no_update BEFORE UPDATE ON core_audit_entries
WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.id IS NOT OLD.id
  OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)}
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
SQLITE_UNGUARD = "DROP TRIGGER IF EXISTS core_audit_entries_no_update;"


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "entry_hash": GENESIS})


def add_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_GUARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_GUARD)


def remove_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UNGUARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UNGUARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(add_guards, remove_guards),
    ]
