"""Subscriptions, R4 style, over rest-hook.

A Subscription is stored like any resource. As it is written it is checked (criteria a
search URL of a type we serve, that the search engine parses; a rest-hook channel whose
endpoint is http(s)) and, when the client asks (`requested`), made `active`. After every
committed write, the active subscriptions on the written type are found (from a list each
process keeps for a second at most, so the ingest path pays nothing when nobody subscribes);
the search engine decides whether the written resource meets a subscription's criteria
(`criteria&_id=<id>`); a match queues a `Delivery` and a task to deliver it.

Deliveries of one subscription go out strictly in the order they were queued: a run takes
the oldest pending one under a lease, and one that fails holds back those behind it until
its retry (exponential backoff), so a subscriber never sees version 3 before version 2.
Without a payload the notification is an empty POST to the endpoint; with
`application/fhir+json` the resource version that matched is PUT to `{endpoint}/{type}/{id}`
(as R4 defines a rest-hook with a payload). Every try is logged (`DeliveryAttempt`); after
`FHIR_SUBSCRIPTION_ATTEMPTS` failed tries the Subscription is set to `error` with the reason.

The hook is the store's listener of written rows (`records.hooks`), which every write path
tells, the one-by-one writes (create, update, PATCH, conditional writes) and the bulk path
(transaction Bundles, loaders) alike. A Subscription is checked and activated before it is
stored by the `Resource` model's pre_save signal (it is never written in bulk).
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from cityhealth.core import clock, exactjson
from cityhealth.core.errors import DomainError
from cityhealth.fhir.models import Delivery, DeliveryAttempt
from cityhealth.records import errors, services
from cityhealth.records.errors import Said
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.types import SUPPORTED_TYPES

SUBSCRIPTION = "Subscription"
SOURCE = "subscriptions"  # meta.source of the server's own writes to a Subscription
FHIR_JSON = "application/fhir+json"
_CACHE_SECONDS = 1.0
# A run posting a delivery keeps it this long past the timeout before another may retry it.
_LEASE_MARGIN = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Active:
    logical_id: str
    resource_type: str
    query: str


# --- checks as a Subscription is written ----------------------------------------------------


def check_subscription(body: dict[str, Any]) -> None:
    """InvalidResource unless the criteria and the channel can be served."""
    issues: list[tuple[str, str]] = []
    criteria = str(body.get("criteria") or "")
    resource_type, _, query = criteria.partition("?")
    if resource_type not in SUPPORTED_TYPES:
        issues.append(
            (
                "Subscription.criteria",
                Said(
                    f"“{criteria[:100]}” is not TYPE?query of a type served here",
                    f"«{criteria[:100]}» không có dạng LOẠI?truy-vấn của một loại máy chủ lưu",
                ),
            )
        )
    else:
        try:
            matches(resource_type=resource_type, query=query, logical_id="-")
        except DomainError as refused:
            issues.append(
                ("Subscription.criteria", Said(refused.message("en"), refused.message("vi")))
            )
    channel = body.get("channel") or {}
    if channel.get("type") != "rest-hook":
        issues.append(
            (
                "Subscription.channel.type",
                Said(
                    "the only channel served is rest-hook", "kênh duy nhất được hỗ trợ là rest-hook"
                ),
            )
        )
    endpoint = urlsplit(str(channel.get("endpoint") or ""))
    if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
        issues.append(
            (
                "Subscription.channel.endpoint",
                Said("the endpoint must be an http(s) URL", "endpoint phải là một URL http(s)"),
            )
        )
    if channel.get("payload") not in (None, "", FHIR_JSON, "application/json"):
        issues.append(
            (
                "Subscription.channel.payload",
                Said(
                    f"the payload is empty or {FHIR_JSON}", f"payload để trống hoặc là {FHIR_JSON}"
                ),
            )
        )
    for header in channel.get("header") or []:
        if ":" not in str(header):
            issues.append(
                (
                    "Subscription.channel.header",
                    Said("each header is “Name: value”", "mỗi header có dạng «Tên: giá trị»"),
                )
            )
    if issues:
        raise errors.InvalidResource(issues=issues)


def matches(*, resource_type: str, query: str, logical_id: str) -> bool:
    """Whether the current `resource_type/logical_id` meets the criteria query (the search
    engine's own evaluation, restricted to that one resource)."""
    from cityhealth.records.search import find_by_criteria

    restricted = f"{query}&_id={logical_id}" if query else f"_id={logical_id}"
    return bool(find_by_criteria(resource_type=resource_type, query=restricted, limit=1))


def on_saving(sender: type[Resource], instance: Resource, **kwargs: Any) -> None:
    """pre_save: a Subscription is checked, and a requested one activated, before it is
    stored (the body is the one the version row stores too)."""
    if instance.resource_type != SUBSCRIPTION or instance.deleted:
        return
    check_subscription(instance.body)
    if instance.body.get("status") == "requested":
        instance.body["status"] = "active"
        instance.body.pop("error", None)


def rows_written(rows: Sequence[Resource]) -> None:
    """The store's listener (`records.hooks`), told of every write, one by one or in bulk,
    inside its transaction: once the write commits, look for subscribers (a deletion
    notifies no one: a deleted resource meets no search criteria)."""
    written: list[tuple[str, str, int]] = []
    for row in rows:
        if row.resource_type == SUBSCRIPTION:
            transaction.on_commit(forget_active)
            if not row.deleted:  # reactivated: what waited for it goes out now
                transaction.on_commit(partial(_deliver_later, row.logical_id))
        if not row.deleted:
            written.append((row.resource_type, row.logical_id, row.version_id))
    if written:
        # One callback per write, however many rows: a bulk load pays nothing more per row.
        # A subscriber's trouble must never fail a write that committed (robust).
        transaction.on_commit(partial(notice_writes, written), robust=True)


# --- matching after a commit ---------------------------------------------------------------

_active: dict[str, list[Active]] = {}
_active_at = [float("-inf")]


def forget_active() -> None:
    _active_at[0] = float("-inf")


def active_for(resource_type: str) -> list[Active]:
    if time.monotonic() - _active_at[0] > _CACHE_SECONDS:
        fresh: dict[str, list[Active]] = {}
        rows = Resource.objects.filter(
            resource_type=SUBSCRIPTION, deleted=False, body__status="active"
        ).order_by("pk")
        now = clock.now()
        for row in rows:
            end = parse_end(row.body.get("end"))
            if end is not None and end <= now:  # past its `end`: the server turns it off
                continue
            on_type, _, query = str(row.body.get("criteria") or "").partition("?")
            fresh.setdefault(on_type, []).append(Active(row.logical_id, on_type, query))
        _active.clear()
        _active.update(fresh)
        _active_at[0] = time.monotonic()
    return _active.get(resource_type, [])


def parse_end(raw: Any) -> dt.datetime | None:
    try:
        end = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None
    return end if end is None or end.tzinfo else end.replace(tzinfo=dt.UTC)


def notice_writes(written: Iterable[tuple[str, str, int]]) -> int:
    """Queue the deliveries of these committed writes ((type, id, version) each); how many."""
    return sum(notice_write(*write) for write in written)


def notice_write(resource_type: str, logical_id: str, version_id: int) -> int:
    """Queue a delivery for every active subscription the write meets; how many."""
    queued = 0
    for subscription in active_for(resource_type):
        if not matches(
            resource_type=resource_type, query=subscription.query, logical_id=logical_id
        ):
            continue
        with transaction.atomic():
            Delivery.objects.create(
                subscription_id=subscription.logical_id,
                resource_type=resource_type,
                logical_id=logical_id,
                version_id=version_id,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
            transaction.on_commit(partial(_deliver_later, subscription.logical_id))
        queued += 1
    return queued


def _deliver_later(subscription_id: str, run_after: dt.datetime | None = None) -> None:
    from cityhealth.fhir.tasks import deliver_notifications

    task = deliver_notifications.using(run_after=run_after) if run_after else deliver_notifications
    task.enqueue(subscription_id=subscription_id)


# --- delivery --------------------------------------------------------------------------------


def deliver(*, subscription_id: str) -> int:
    """Deliver this subscription's pending notifications in order, until one fails or must
    wait; how many were delivered."""
    delivered = 0
    while True:
        subscription = Resource.objects.filter(
            resource_type=SUBSCRIPTION, logical_id=subscription_id, deleted=False
        ).first()
        if subscription is None or subscription.body.get("status") != "active":
            return delivered
        head = (
            Delivery.objects.filter(subscription_id=subscription_id, status=Delivery.Status.PENDING)
            .order_by("pk")
            .first()
        )
        now = clock.now()
        if head is None or head.next_attempt_at > now:
            return delivered
        timeout = float(settings.FHIR_SUBSCRIPTION_TIMEOUT_SECONDS)
        claimed = (
            Delivery.objects.filter(pk=head.pk, status=Delivery.Status.PENDING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + dt.timedelta(seconds=timeout) + _LEASE_MARGIN)
        )
        if not claimed:  # another run is posting it: it carries on after it
            return delivered
        if not _attempt(head, subscription.body, timeout=timeout):
            return delivered
        delivered += 1


def _attempt(delivery: Delivery, subscription: dict[str, Any], *, timeout: float) -> bool:
    channel = subscription.get("channel") or {}
    started = time.monotonic()
    status_code, error = post_notification(delivery, channel, timeout=timeout)
    attempt = delivery.attempts + 1
    now = clock.now()
    DeliveryAttempt.objects.create(
        delivery=delivery,
        subscription_id=delivery.subscription_id,
        resource=f"{delivery.resource_type}/{delivery.logical_id}/_history/{delivery.version_id}",
        attempt=attempt,
        status_code=status_code,
        error=error[:2000],
        at=now,
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    if not error:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED, attempts=attempt, lease_until=None
        )
        return True
    if attempt >= settings.FHIR_SUBSCRIPTION_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, attempts=attempt, lease_until=None
        )
        _set_error(
            delivery.subscription_id,
            f"{delivery.resource_type}/{delivery.logical_id} could not be delivered "
            f"after {attempt} tries: {error}",
        )
        return False
    wait = dt.timedelta(seconds=settings.FHIR_SUBSCRIPTION_RETRY_SECONDS * 2 ** (attempt - 1))
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=attempt, lease_until=None, next_attempt_at=now + wait
    )
    _deliver_later(delivery.subscription_id, run_after=now + wait)
    return False


def post_notification(
    delivery: Delivery, channel: dict[str, Any], *, timeout: float
) -> tuple[int | None, str]:
    """Send one notification: (HTTP status or None, error text; "" when it was taken)."""
    endpoint = str(channel.get("endpoint") or "")
    headers = {"User-Agent": "cityhealth-subscriptions"}
    for header in channel.get("header") or []:
        name, _, value = str(header).partition(":")
        headers[name.strip()] = value.strip()
    data = b""
    method = "POST"
    if channel.get("payload"):
        version = ResourceVersion.objects.filter(
            resource_type=delivery.resource_type,
            logical_id=delivery.logical_id,
            version_id=delivery.version_id,
        ).first()
        if version is not None and version.body is not None:
            data = exactjson.dumps(version.body)  # decimals as they were written
            endpoint = f"{endpoint.rstrip('/')}/{delivery.resource_type}/{delivery.logical_id}"
            method = "PUT"
            headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    request = urllib.request.Request(endpoint, data=data, method=method, headers=headers)  # noqa: S310 — http(s) only, checked on write
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, ""
    except urllib.error.HTTPError as refused:
        return refused.code, f"HTTP {refused.code} {refused.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as failed:
        reason = getattr(failed, "reason", failed)
        return None, f"{type(reason).__name__}: {reason}"[:500] or "no answer"


def _set_error(subscription_id: str, text: str) -> None:
    """The Subscription as a new version with status `error` and why."""
    with transaction.atomic():
        current = Resource.objects.filter(
            resource_type=SUBSCRIPTION, logical_id=subscription_id, deleted=False
        ).first()
        if current is None:
            return
        body = {**current.body, "status": "error", "error": text[:1000]}
        services.update_resource(
            resource_type=SUBSCRIPTION, logical_id=subscription_id, body=body, source=SOURCE
        )
