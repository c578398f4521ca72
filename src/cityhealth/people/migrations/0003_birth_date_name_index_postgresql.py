"""An index on (date of birth, name key) for PostgreSQL only.

"Name + date of birth" is the search a desk makes most after the ID number. With a full name
the (name key, birth year) index answers it; with only the start of a name ("nguyen van",
thousands of keys) that index walks every key of the prefix, while this one goes straight to
the day and reads the few hundred persons born on it. The matcher's date-of-birth blocking
rule uses it too: with the id and the ward in the index it filters the persons born that day
on index entries alone and reads only the rows that pass (docs/decisions/0004). SQLite's
planner serves these searches from the single-column indexes, so it needs nothing here.
"""

from django.db import migrations

from cityhealth.core.schema import postgresql_index


class Migration(migrations.Migration):
    dependencies = [("people", "0002_name_prefix_index_postgresql")]

    operations = [
        postgresql_index(
            "people_birth_date_name",
            "people_persons",
            "birth_date, search_text varchar_pattern_ops",
            include="id, ward_id",
        )
    ]
