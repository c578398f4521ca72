"""The shared record's store: create, read, update with If-Match, delete, versions, and
resources that are not valid FHIR R4."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.records import errors, selectors, services
from cityhealth.records.models import Resource, ResourceVersion

pytestmark = pytest.mark.django_db


def observation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "subject": {"display": "Nguyễn Văn An"},
        "effectiveDateTime": "2026-03-01T08:00:00+07:00",
        "valueQuantity": {"value": 102.5, "unit": "cm", "system": "http://unitsofmeasure.org"},
    }
    body.update(changes)
    return body


def test_a_resource_is_created_read_and_carries_its_meta():
    created = services.create_resource(body=observation(id="ignored"), source="BV-XANHPON")
    read = selectors.read_resource(resource_type="Observation", logical_id=created.logical_id)
    assert read.version_id == 1
    assert read.body["id"] == created.logical_id != "ignored"
    assert read.body["meta"]["versionId"] == "1"
    assert read.body["meta"]["source"] == "BV-XANHPON"
    assert read.body["valueQuantity"]["value"] == 102.5
    assert ResourceVersion.objects.get().method == "POST"


def test_an_update_makes_a_new_version_and_if_match_guards_it():
    created = services.create_resource(body=observation(), source="a")
    lid = created.logical_id
    updated, was_created = services.update_resource(
        resource_type="Observation",
        logical_id=lid,
        body=observation(id=lid, status="amended"),
        source="b",
        if_match=1,
    )
    assert (updated.version_id, was_created) == (2, False)
    with pytest.raises(errors.VersionConflict):  # another screen still holds version 1
        services.update_resource(
            resource_type="Observation", logical_id=lid, body=observation(), source="c", if_match=1
        )
    old = selectors.read_version(resource_type="Observation", logical_id=lid, version_id=1)
    assert old.body is not None
    assert old.body["status"] == "final"
    history = selectors.resource_history(resource_type="Observation", logical_id=lid)
    assert [v.version_id for v in history] == [2, 1]


def test_update_as_create_uses_the_id_of_the_url():
    made, created = services.update_resource(
        resource_type="Observation", logical_id="height-1", body=observation(), source="a"
    )
    assert created is True
    assert made.body["id"] == "height-1"
    with pytest.raises(errors.InvalidResource):  # the body names another resource
        services.update_resource(
            resource_type="Observation",
            logical_id="height-1",
            body=observation(id="height-2"),
            source="a",
        )


def test_a_deleted_resource_is_gone_but_its_history_stays():
    created = services.create_resource(body=observation(), source="a")
    lid = created.logical_id
    services.delete_resource(resource_type="Observation", logical_id=lid, source="a")
    services.delete_resource(resource_type="Observation", logical_id=lid, source="a")  # twice
    with pytest.raises(errors.ResourceGone):
        selectors.read_resource(resource_type="Observation", logical_id=lid)
    history = selectors.resource_history(resource_type="Observation", logical_id=lid)
    assert [(v.version_id, v.method) for v in history] == [(2, "DELETE"), (1, "POST")]
    with pytest.raises(NotFound):
        selectors.read_resource(resource_type="Observation", logical_id="never")
    assert (
        services.delete_resource(resource_type="Observation", logical_id="never", source="a")
        is None
    )


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ("not an object", "resource.invalid", ""),
        ({"status": "final"}, "resource.invalid", "resourceType"),
        ({"resourceType": "Spaceship"}, "resource.unsupported_type", "resourceType"),
        (observation(status="nope"), "resource.invalid", "Observation.status"),
        (observation(code=None), "resource.invalid", "Observation.code"),  # required element
        (
            observation(effectiveDateTime="2026-13-40"),
            "resource.invalid",
            "Observation.effectiveDateTime",
        ),
        (observation(id="bad id!"), "resource.invalid", "Observation.id"),
        ({"resourceType": "Patient", "gender": "x"}, "resource.invalid", "Patient.gender"),
    ],
)
def test_invalid_resources_are_refused_with_the_element_and_nothing_is_stored(body, code, where):
    with pytest.raises(InvalidInput) as refused:
        services.create_resource(body=body, source="a")
    assert refused.value.code == code
    assert (refused.value.field or "").startswith(where)
    assert Resource.objects.count() == 0


def test_the_time_of_a_write_comes_from_the_clock():
    at = dt.datetime(2026, 5, 1, 1, 2, 3, tzinfo=dt.UTC)
    made = services.create_resource(body=observation(), source="a", at=at)
    assert made.body["meta"]["lastUpdated"] == "2026-05-01T01:02:03Z"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_version_one_wins_the_other_is_told():
    """Real concurrent transactions with If-Match on the same version: the row lock queues
    the second writer, which then finds the version moved on."""
    import threading

    from django.db import connection, transaction

    lid = services.create_resource(body=observation(), source="a").logical_id
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def write(status: str) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                services.update_resource(
                    resource_type="Observation",
                    logical_id=lid,
                    body=observation(status=status),
                    source=status,
                    if_match=1,
                )
            outcomes.append("written")
        except errors.VersionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(s,))
        for s in ("amended", "corrected", "final", "cancelled")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "written"]
    assert ResourceVersion.objects.filter(logical_id=lid).count() == 2
