"""A prefix index on the name key, for PostgreSQL only.

`search_persons` matches the start of the name key (`search_text LIKE 'nguyen van a%'`). A
plain B-tree can serve that only under the "C" collation; `varchar_pattern_ops` makes the
index usable whatever the database's collation, with the birth year as the second column so
"name prefix + birth year" is answered from the index alone. SQLite needs nothing here: the
search adds the same prefix as a range, which its binary index serves.

On a table that already holds millions of rows, build it by hand with CREATE INDEX
CONCURRENTLY before running this migration (IF NOT EXISTS then makes this a no-op).
"""

from django.db import migrations

INDEX = "people_name_year_prefix"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} "
    "ON people_persons (search_text varchar_pattern_ops, birth_year)"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
