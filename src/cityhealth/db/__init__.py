"""Database backends of the platform (named by ENGINE in settings); no models, no app."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import connection


def prepared_cursor() -> Any:
    """A cursor for a statement run on every request whose plan does not depend on its
    values (a read by id, an INSERT): on PostgreSQL prepared once per connection
    (`cityhealth.db.postgresql`), elsewhere Django's ordinary cursor. Its SQL must bind
    every value as a parameter (`%s`) for the prepared form to be reused."""
    prepare = getattr(connection, "prepared_cursor", None)
    return prepare() if prepare is not None else connection.cursor()


def bound_cursor() -> Any:
    """A cursor for a large statement run often (a search): on PostgreSQL its parameters
    are bound on the server, not written into the SQL text by Python; planned every time."""
    bind = getattr(connection, "bound_cursor", None)
    return bind() if bind is not None else connection.cursor()


def prepared_statements() -> Any:
    """A block whose statements (the ORM's too) bind their values on the server and are
    prepared on the connection once they have run twice (PostgreSQL; elsewhere nothing
    changes). For a hot path of short statements whose plans do not depend on the values
    (reads by key, INSERTs, UPDATEs by key), where planning costs more than running them."""
    prepare = getattr(connection, "prepared_statements", None)
    return prepare() if prepare is not None else nullcontext()
