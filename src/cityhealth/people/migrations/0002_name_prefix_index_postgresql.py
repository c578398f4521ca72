"""A prefix index on the name key, for PostgreSQL only.

`search_persons` matches the start of the name key (`search_text LIKE 'nguyen van a%'`). A
plain B-tree can serve that only under the "C" collation; `varchar_pattern_ops` makes the
index usable whatever the database's collation, with the birth year as the second column so
"name prefix + birth year" is answered from the index alone. SQLite needs nothing here: the
search adds the same prefix as a range, which its binary index serves.
"""

from django.db import migrations

from cityhealth.core.schema import postgresql_index


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [
        postgresql_index(
            "people_name_year_prefix",
            "people_persons",
            "search_text varchar_pattern_ops, birth_year",
        )
    ]
