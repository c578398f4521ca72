"""ASGI entry point (uvicorn cityhealth.asgi:application; `python -m cityhealth.serve`).

Django's ASGI handler runs a request of synchronous views and middleware in a thread made
for that request, hopping between the event loop and that thread for the middleware and the
view, and again to close the response. The FHIR API is synchronous from end to end
(django-ninja views, the access trail's middleware) and is called hundreds of times a second
by hospital systems: its requests run the synchronous middleware chain in one hop on a
thread that is kept (`ThreadedHandler`), which took about half the CPU off a read; its
reads and searches by a hospital system's token take a shorter path still
(`fhir_hot_path`). The JSON APIs under /api/ (reception's check-ins from hospital systems,
the ambulances' reports) take the same kept thread. Everything else (pages, the dispatch
console's and the queue boards' event streams) keeps Django's handler.
"""

from __future__ import annotations

import asyncio
import gc
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
django.setup(set_prefix=False)  # before the imports below, as get_asgi_application does

from django.core import signals  # noqa: E402
from django.core.exceptions import RequestAborted  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, get_script_prefix  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.http import FileResponse, HttpResponseBase  # noqa: E402
from django.urls import set_script_prefix  # noqa: E402

from cityhealth.fhir_hot_path import HotPath, hot_route  # noqa: E402

# The JSON APIs are synchronous too (django-ninja; no stream is served under /api/).
THREADED_PREFIXES = ("/fhir/", "/api/")


class ThreadedHandler(ASGIHandler):
    """Requests under `THREADED_PREFIXES` through the synchronous middleware chain, in one
    hop to a pooled thread (as a threaded WSGI server runs them); the others as Django does.
    A database connection stays with the thread that used it: the response is closed (which
    hands the connection back to the pool) in that thread before it is sent, or, when it
    streams (a file), after."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self._sync = BaseHandler()
        self._sync.load_middleware(is_async=False)
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
        self._hot = HotPath()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(THREADED_PREFIXES):
            await self._threaded(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _threaded(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self._threads, self._respond, scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await loop.run_in_executor(self._threads, response.close)
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = error_response
        elif (route := hot_route(scope)) is not None:
            response = self._hot.respond(request, route)
        else:
            response = self._sync.get_response(request)
        assert response is not None  # create_request gives a request or an error response
        setattr(response, "_handler_class", self.__class__)  # noqa: B010 — as Django's handler
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # request_finished, in the thread that holds the connection
        return response


def _threads() -> int:
    from django.conf import settings

    return int(getattr(settings, "DATABASE_POOL_SIZE", 20))


application = ThreadedHandler(_threads())

# What is loaded by now (Django, the apps, the URL map, the templates' code) lives as long
# as the process: kept out of the collector's full passes, which otherwise walked it all
# every few hundred requests and stalled the requests in flight.
gc.freeze()
