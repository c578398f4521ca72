"""Exit 0 when a PostgreSQL server answers at the URL given, 1 otherwise."""

from __future__ import annotations

import sys

import psycopg


def main(url: str) -> int:
    # Connect to the maintenance database: the test database itself may not exist yet.
    conninfo = psycopg.conninfo.make_conninfo(url, dbname="postgres", connect_timeout=3)
    try:
        with psycopg.connect(conninfo) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(
        main(sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/postgres")
    )
