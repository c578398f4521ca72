"""Schema pieces migrations share."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def postgresql_index(
    name: str, table: str, columns: str, *, include: str = ""
) -> migrations.RunPython:
    """A migration operation that makes an index on PostgreSQL only (operator classes and
    INCLUDE columns that SQLite lacks). IF NOT EXISTS lets an operator build it beforehand
    with CREATE INDEX CONCURRENTLY on a large table, so the migration does not lock it."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            covering = f" INCLUDE ({include})" if include else ""
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}){covering}"
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(forwards, backwards, elidable=False)
