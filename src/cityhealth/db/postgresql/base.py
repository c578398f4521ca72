"""Django's PostgreSQL backend, with prepared statements on request and a pool that checks a
connection only when it has been idle.

Statements bound on the server. Django binds parameters on the client (psycopg writes the
values into the SQL text, parsing the whole statement in Python every time) and never
prepares, so PostgreSQL also parses and plans every statement again. For the statements every
FHIR request runs, that was much of the cost: planning a read with the caller's consent
predicate took 0.3 ms against 0.04 ms to execute it. `bound_cursor()` gives a cursor that
sends the parameters apart (psycopg keeps the converted SQL), `prepared_cursor()` one whose
statements each connection also prepares the first time and then only executes (psycopg
keeps up to 100 per connection). Prepare only statements whose best plan does not depend on
the values (a read by id, an INSERT): a prepared statement may switch to a generic plan.
Other statements are unchanged.

Pool checks.
With `CONN_HEALTH_CHECKS`, Django's pool (psycopg_pool) sends an empty query on every
checkout, so that a connection the server dropped (a restart, a failover, an idle timeout)
is replaced before a request gets it. That is one more round trip on every request: on the
FHIR API's reads (one SELECT and the trail's INSERT) it was a sixth of the database work.

Here a connection is checked when it comes out of the pool after more than
`IDLE_BEFORE_CHECK` seconds since it last went out: one that served a request a moment ago
is not asked again. A server restart is still noticed: every idle connection is checked and
replaced; a connection in use at that moment fails its statement, the request answers 500,
and the pool discards the broken connection when it comes back (psycopg_pool does not keep a
connection in a bad state).

`ENGINE`: "cityhealth.db.postgresql" (the settings choose it for every PostgreSQL URL).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base as _base

# The backend's internals this class builds on (not in django-stubs): the pool registry, the
# connection set-up, the cursor wrapper and the server-binding cursor class.
base: Any = _base

IDLE_BEFORE_CHECK = 2.0  # seconds
_last_out: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
_last_out_lock = threading.Lock()


def check_when_idle(connection: Any) -> None:
    """psycopg_pool's `check`: ping the server only if the connection was idle a while."""
    from psycopg_pool import ConnectionPool

    now = time.monotonic()
    with _last_out_lock:
        last = _last_out.get(connection)
        _last_out[connection] = now
    if last is None or now - last > IDLE_BEFORE_CHECK:
        ConnectionPool.check_connection(connection)


class PreparedCursor(base.ServerBindingCursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=True)


# psycopg prepares nothing, not even what asks for it, when a connection's threshold is None
# (Django's default); a threshold no statement reaches leaves the choice to the cursor.
_NEVER_BY_COUNT = 2**31 - 1
PREPARE_AFTER = 1  # runs before a statement of a `prepared_statements` block is prepared


class DatabaseWrapper(_base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        params["prepare_threshold"] = _NEVER_BY_COUNT
        return params

    def bound_cursor(self) -> Any:
        """A cursor (with Django's wrappers: logging, execute wrappers) whose statements
        bind their parameters on the server."""
        self.ensure_connection()
        wrapper: Any = self
        return wrapper._prepare_cursor(base.ServerBindingCursor(self.connection))

    def prepared_cursor(self) -> Any:
        """`bound_cursor`, and each statement prepared on this connection at its first run."""
        self.ensure_connection()
        wrapper: Any = self
        return wrapper._prepare_cursor(PreparedCursor(self.connection))

    @contextmanager
    def prepared_statements(self) -> Iterator[None]:
        """Cursors made in the block bind on the server, and a statement run a second time
        on this connection is prepared (psycopg's threshold). A statement whose text never
        repeats (a savepoint's unique name) is never prepared, so it cannot crowd the
        connection's prepared statements out. The connection is put back as it was."""
        self.ensure_connection()
        raw = self.connection
        factory, threshold = raw.cursor_factory, raw.prepare_threshold
        raw.cursor_factory, raw.prepare_threshold = base.ServerBindingCursor, PREPARE_AFTER
        try:
            yield
        finally:
            raw.cursor_factory, raw.prepare_threshold = factory, threshold

    @property
    def pool(self) -> Any:
        wrapper: Any = self
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in wrapper._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets the mode later
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=wrapper._configure_connection,
                check=check_when_idle if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
                **({} if pool_options is True else pool_options),
            )
            wrapper._connection_pools.setdefault(self.alias, pool)
        return wrapper._connection_pools[self.alias]
