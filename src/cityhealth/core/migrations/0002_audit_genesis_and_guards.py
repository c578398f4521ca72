"""The chain's head row, and database triggers that refuse edits of audit entries.

PostgreSQL refuses UPDATE and DELETE of entries. SQLite refuses UPDATE only: Django's test
flush empties tables with DELETE there. Either way `audit verify` detects what gets past.
"""

from django.db import migrations

GENESIS = "0" * 64

PG_GUARD = """
CREATE OR REPLACE FUNCTION core_audit_entries_append_only() RETURNS trigger AS $$
BEGIN
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
SQLITE_GUARD = """
CREATE TRIGGER core_audit_entries_no_update BEFORE UPDATE ON core_audit_entries
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
