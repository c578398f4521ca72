"""Database backends of the platform (named by ENGINE in settings); no models, no app."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import connection
from django.db.models import Field, Model


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
    prepared on the connection from their second run on (PostgreSQL; elsewhere nothing
    changes). For a hot path of short statements whose plans do not depend on the values
    (reads by key, INSERTs, UPDATEs by key), where planning costs more than running them."""
    prepare = getattr(connection, "prepared_statements", None)
    return prepare() if prepare is not None else nullcontext()


# (model, database vendor) -> the INSERT statement and the fields it writes, in order.
_INSERTS: dict[tuple[type[Model], str], tuple[str, list[Field[Any, Any]]]] = {}


def insert_row(instance: Model) -> None:
    """Write a new model instance as `save(force_insert=True)` would (each value prepared by
    its field: defaults, `auto_now`, JSON, dates; the primary key set from RETURNING), with
    one statement made once per model instead of compiled by the ORM at every call. For the
    rows a hot path adds (a check-in's visit, its queue entry, its insurance check and log
    rows, its audit entry): it sends no `pre_save`/`post_save` signal and bypasses an
    overridden `save()`, so only for models that have neither, or whose `save()` only
    refuses updates."""
    model = type(instance)
    key = (model, connection.vendor)
    made = _INSERTS.get(key)
    if made is None:
        made = _INSERTS[key] = _insert_statement(model)
    sql, fields = made
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias


def _insert_statement(model: type[Model]) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [
        f for f in meta.concrete_fields if not (f is pk and getattr(f, "db_returning", False))
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {quote(pk.column)}"  # noqa: S608
    return sql, fields
