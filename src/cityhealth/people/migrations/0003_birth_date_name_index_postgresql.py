"""An index on (date of birth, name key) for PostgreSQL only.

"Name + date of birth" is the search a desk makes most after the ID number. With a full name
the (name key, birth year) index answers it; with only the start of a name ("nguyen van",
thousands of keys) that index walks every key of the prefix, while this one goes straight to
the day and reads the few hundred persons born on it. SQLite's planner picks the same plan
from the single-column indexes, so it needs nothing here.

On a table that already holds millions of rows, build it by hand with CREATE INDEX
CONCURRENTLY before running this migration (IF NOT EXISTS then makes this a no-op).
"""

from django.db import migrations

INDEX = "people_birth_date_name"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} "
    "ON people_persons (birth_date, search_text varchar_pattern_ops)"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("people", "0002_name_prefix_index_postgresql")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
