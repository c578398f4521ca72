"""The feeds into the dispatch centre over real HTTP: the API client against the running
app, and the telephone and AVL simulators speaking the same contract."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core import clock
from cityhealth.emergency import services
from cityhealth.emergency.feeds import DispatchClient, FeedError, FeedUnavailable, Position
from cityhealth.emergency.feeds.avl import AvlSimulator, UnitStart, run_avl, starts_from_api
from cityhealth.emergency.feeds.phone import MOBILE_PREFIXES, plan_calls, run_phone
from cityhealth.emergency.feeds.trips import metres_between
from cityhealth.emergency.models import HandsetLocation, Incident, Unit, UnitPosition

LIVE = pytest.mark.django_db(transaction=True)
HOAN_KIEM = (21.0285, 105.8542)
BA_DINH = (21.0368, 105.8342)


def feed_client(url: str, *scopes: str) -> DispatchClient:
    system = ApiClient.objects.create(name=f"feed-{'-'.join(scopes)}", scopes=list(scopes))
    token = issue_api_token(client=system).raw
    return DispatchClient(base_url=url, token=token, retries=0)


def make_unit(code: str = "115-00-A1", point: tuple[float, float] | None = None) -> Unit:
    lat, lon = point or (None, None)
    return Unit.objects.create(
        code=code,
        call_sign=code,
        kind="als",
        operator="centre",
        status_since=clock.now(),
        latitude=lat,
        longitude=lon,
        position_at=clock.now() - dt.timedelta(minutes=1) if point else None,
    )


# --- the client against the running app ----------------------------------------------------


@LIVE
def test_a_call_reported_twice_is_one_incident(live_server):
    pbx = feed_client(live_server.url, "report_calls")
    first = pbx.report_call(call_id="pbx-1", caller_number="0912345678")
    again = pbx.report_call(call_id="pbx-1", caller_number="0912345678")
    assert (first.created, again.created) == (True, False)
    assert first.incident["id"] == again.incident["id"]
    assert Incident.objects.count() == 1


@LIVE
def test_positions_out_of_order_keep_the_latest(live_server):
    unit = make_unit()
    device = feed_client(live_server.url, "report_unit_status")
    now = clock.now()
    newest = Position(HOAN_KIEM[0], HOAN_KIEM[1], now, speed_kmh=30, heading=90)
    older = Position(BA_DINH[0], BA_DINH[1], now - dt.timedelta(seconds=20))
    answer = device.report_positions(code=unit.code, positions=[newest, older])
    assert answer == {"stored": 2, "latest_moved": True, "rejected": []}
    late = Position(BA_DINH[0], BA_DINH[1], now - dt.timedelta(seconds=10))
    assert device.report_positions(code=unit.code, positions=[late])["latest_moved"] is False
    unit.refresh_from_db()
    assert (unit.latitude, unit.longitude) == pytest.approx(HOAN_KIEM)
    assert UnitPosition.objects.filter(unit=unit).count() == 3


@LIVE
def test_a_refusal_carries_the_problem_code(live_server):
    unit = make_unit()
    device = feed_client(live_server.url, "report_unit_status")
    with pytest.raises(FeedError) as refused:
        device.report_status(code=unit.code, status="flying")
    assert (refused.value.status, refused.value.code) == (400, "unit.bad_status")
    pbx = feed_client(live_server.url, "report_calls")
    with pytest.raises(FeedError) as forbidden:
        pbx.report_status(code=unit.code, status="en_route")
    assert forbidden.value.status == 403
    assert not isinstance(forbidden.value, FeedUnavailable)  # a 4xx is not retried


# --- retries, against a stub that fails first ----------------------------------------------


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, list[int]]]:
    """A server answering 503 twice, then 201: the list holds the statuses it sent."""
    sent: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = 503 if len(sent) < 2 else 201
            sent.append(status)
            body: dict[str, object] = (
                {"code": "unavailable"} if status == 503 else {"id": 1, "number": "X"}
            )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", sent
    server.shutdown()
    server.server_close()


def test_a_503_is_retried_with_backoff(flaky_server):
    url, sent = flaky_server
    pauses: list[float] = []
    client = DispatchClient(base_url=url, token="t", retries=3, backoff=0.5, sleep=pauses.append)
    answer = client.report_call(call_id="pbx-1", caller_number="")
    assert answer.created
    assert sent == [503, 503, 201]
    assert pauses == [0.5, 1.0]


def test_giving_up_says_why(flaky_server):
    url, sent = flaky_server
    client = DispatchClient(base_url=url, token="t", retries=1, sleep=lambda _: None)
    with pytest.raises(FeedUnavailable) as failed:
        client.report_call(call_id="pbx-1")
    assert (failed.value.status, failed.value.code, sent) == (503, "unavailable", [503, 503])
    nobody = DispatchClient(base_url="http://127.0.0.1:9", token="t", retries=0)
    with pytest.raises(FeedUnavailable, match="connection"):
        nobody.report_call(call_id="pbx-2")


# --- the telephone simulator ---------------------------------------------------------------


def test_the_call_plan_is_fixed_by_the_seed():
    plan = plan_calls(count=40, seed=7, rate_per_min=6, prefix="t")
    assert plan == plan_calls(count=40, seed=7, rate_per_min=6, prefix="t")
    assert plan != plan_calls(count=40, seed=8, rate_per_min=6, prefix="t")
    assert len({r.call_id for r in plan}) == 40
    assert any(r.repeat for r in plan)  # a webhook delivered twice
    assert any(b.rang_s < a.rang_s for a, b in itertools.pairwise(plan))  # overtaken
    numbers = [r.caller_number for r in plan]
    assert all(n == "" or (len(n) == 10 and n[:3] in MOBILE_PREFIXES) for n in numbers)


@LIVE
def test_the_phone_simulator_opens_one_incident_per_call(live_server):
    pbx = feed_client(live_server.url, "report_calls")
    plan = plan_calls(count=12, seed=3, rate_per_min=60, prefix="sim")
    run = run_phone(client=pbx, reports=plan, speedup=1e6, sleep=lambda _: None, now=clock.now)
    assert (run.created, run.repeated, run.failed) == (12, len(plan) - 12, [])
    assert Incident.objects.count() == 12
    hidden = sum(1 for r in plan if not r.caller_number and not r.repeat)
    assert Incident.objects.filter(caller_number="").count() == hidden
    # Each phone that sent its position finds its call; none is stored twice.
    sent = [r for r in plan if r.handset and r.caller_number and not r.repeat]
    assert sent
    assert run.handset_locations == len(sent)
    joined = HandsetLocation.objects.filter(incident__isnull=False)
    assert joined.count() == len(sent)
    assert all(h.incident and h.incident.caller_number == h.caller_number for h in joined)


# --- the AVL simulator ---------------------------------------------------------------------


@LIVE
def test_the_avl_simulator_drives_a_unit_to_its_incident(live_server):
    unit = make_unit(point=BA_DINH)
    make_unit("115-00-B2", point=HOAN_KIEM)  # free: roams
    with transaction.atomic():  # the services lock rows (PostgreSQL insists on a transaction)
        incident = services.receive_call(call_id="pbx-1", caller_number="", actor="pbx").incident
        services.answer_call(incident=incident, actor="taker")
        services.confirm_location(
            incident=incident,
            latitude=HOAN_KIEM[0],
            longitude=HOAN_KIEM[1],
            method="map",
            actor="taker",
        )
        services.assign_unit(incident=incident, unit=unit, actor="dispatcher")
    client = feed_client(live_server.url, "report_unit_status", "dispatch")
    starts = starts_from_api(client)
    assert UnitStart(unit.code, BA_DINH, HOAN_KIEM) in starts
    simulator = AvlSimulator(
        units=starts, started_at=clock.now() - dt.timedelta(hours=1), interval=30, late_share=0
    )
    trip = next(d.trip for d in simulator.devices if d.code == unit.code)
    ticks = int(trip.seconds // 30) + 3  # the whole drive, and a little waiting on scene
    run = run_avl(client=client, simulator=simulator, ticks=ticks, sleep=lambda _: None)
    assert run.failed == []
    assert run.stored == run.sent == 2 * ticks
    track = UnitPosition.objects.filter(unit=unit).order_by("at")
    distances = [metres_between((p.latitude, p.longitude), HOAN_KIEM) for p in track]
    # Streets wind, so not every fix is closer as the crow flies; the trend is.
    halves = len(distances) // 2
    assert sum(distances[halves:]) < sum(distances[:halves])
    assert distances[0] > 500
    assert distances[-1] < 50  # it got there and stays


def test_a_device_in_a_tunnel_sends_late_and_a_silent_one_stops():
    starts = [UnitStart("A", BA_DINH, HOAN_KIEM), UnitStart("B", HOAN_KIEM)]
    simulator = AvlSimulator(
        units=starts, started_at=clock.now(), interval=10, late_share=1.0, silent_after=25
    )
    assert simulator.silent_code == "A"  # the one on a job
    batches = [b for _ in range(6) for b in simulator.tick()]
    assert {b.code for b in batches} == {"B"}  # A fell silent before its tunnel ended
    late = batches[0].positions
    assert len(late) == 3
    assert late[0].at > late[-1].at  # the backlog, newest first


@LIVE
def test_the_avl_simulator_stops_on_a_token_without_the_scope(live_server):
    make_unit()
    pbx = feed_client(live_server.url, "report_calls")
    simulator = AvlSimulator(units=[UnitStart("115-00-A1", HOAN_KIEM)], started_at=clock.now())
    with pytest.raises(FeedError) as refused:
        run_avl(client=pbx, simulator=simulator, ticks=3, sleep=lambda _: None)
    assert refused.value.status == 403
