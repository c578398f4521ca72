"""Server-sent events fed by polling the database: live screens (the 115 console, the halls'
queue boards) ask `poll` for the text to send at a fixed pace. Nothing is sent while nothing
changed but a comment line now and then, which keeps proxies from closing the stream; after
`stream_seconds` the stream ends and the browser's EventSource reconnects, so a worker is
never held forever. Under ASGI the waits cost no thread; under WSGI (a threaded server) the
same stream holds one while it lasts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

logger = logging.getLogger(__name__)
KEEP_ALIVE_SECONDS = 15.0
_KEEP_ALIVE = ": keep-alive\n\n"

# The next event-stream text to send, or None when nothing changed since the last call.
Poll = Callable[[], str | None]


class _Pace:
    """When a quiet stream owes a keep-alive line, and when it is over."""

    def __init__(self, stream_seconds: float) -> None:
        self.started = self.quiet_since = time.monotonic()
        self.stream_seconds = stream_seconds

    def chunk(self, polled: str | None) -> str | None:
        now = time.monotonic()
        if polled:
            self.quiet_since = now
            return polled
        if now - self.quiet_since > KEEP_ALIVE_SECONDS:
            self.quiet_since = now
            return _KEEP_ALIVE
        return None

    def over(self) -> bool:
        return time.monotonic() - self.started > self.stream_seconds


async def _async_stream(
    poll: Poll, name: str, pace: _Pace, every: float, once: bool
) -> AsyncIterator[str]:
    while True:
        try:
            polled = await sync_to_async(poll)()
        except Exception:  # the database went away: end the stream, the browser reconnects
            logger.warning("%s stream ended by an error", name, exc_info=True)
            return
        chunk = pace.chunk(polled)
        if chunk:
            yield chunk
        if once or pace.over():
            return
        await asyncio.sleep(every)


def _sync_stream(poll: Poll, name: str, pace: _Pace, every: float, once: bool) -> Iterator[str]:
    while True:
        try:
            polled = poll()
        except Exception:  # as above
            logger.warning("%s stream ended by an error", name, exc_info=True)
            return
        chunk = pace.chunk(polled)
        if chunk:
            yield chunk
        if once or pace.over():
            return
        time.sleep(every)


def event_stream(
    request: HttpRequest,
    poll: Poll,
    *,
    name: str,
    poll_seconds: float,
    stream_seconds: float,
    once: bool = False,
) -> StreamingHttpResponse:
    """The response streaming what `poll` returns, asked every `poll_seconds` (`once`: a
    single poll, for tests and scripts)."""
    pace = _Pace(stream_seconds)
    stream = (
        _async_stream(poll, name, pace, poll_seconds, once)
        if isinstance(request, ASGIRequest)
        else _sync_stream(poll, name, pace, poll_seconds, once)
    )
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
