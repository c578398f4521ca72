"""Server-sent events from a poll: changes are sent as they come, a quiet stream only sends a
keep-alive line now and then, an error or the time limit ends it (the browser reconnects)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from cityhealth.core import streams


def _body(response: object) -> list[str]:
    chunks = response.streaming_content  # type: ignore[attr-defined]
    return [bytes(chunk).decode() for chunk in chunks]


def test_changes_then_keep_alive_lines_then_the_end(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(streams, "KEEP_ALIVE_SECONDS", 0.0)
    polled = iter(["event: a\ndata: 1\n\n", None, None, "event: a\ndata: 2\n\n"])
    response = streams.event_stream(
        RequestFactory().get("/"), lambda: next(polled, None), name="test",
        poll_seconds=0.01, stream_seconds=0.03,
    )  # fmt: skip
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    sent = _body(response)
    assert sent[0] == "event: a\ndata: 1\n\n"
    assert ": keep-alive\n\n" in sent
    assert len(sent) < 20  # ended by the time limit


def test_nothing_changed_sends_nothing_until_keep_alive_is_due():
    response = streams.event_stream(
        RequestFactory().get("/"), lambda: None, name="test", poll_seconds=0.0,
        stream_seconds=60, once=True,
    )  # fmt: skip
    assert _body(response) == []


def test_an_error_ends_the_stream(caplog: pytest.LogCaptureFixture):
    def broken() -> str | None:
        raise RuntimeError("database went away")

    response = streams.event_stream(
        RequestFactory().get("/"), broken, name="test", poll_seconds=0.0, stream_seconds=60
    )
    assert _body(response) == []
    assert "test stream ended by an error" in caplog.text
