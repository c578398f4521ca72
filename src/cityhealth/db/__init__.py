"""Database backends of the platform (named by ENGINE in settings); no models, no app."""

from __future__ import annotations

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
