"""JSON Patch on stored resources, the bulk create of transactions, and history pages, at the
service level."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.records import errors, selectors, services
from cityhealth.records.models import Resource, ResourceVersion

pytestmark = pytest.mark.django_db


def observation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "valueQuantity": {"value": 102.5, "unit": "cm"},
    }
    body.update(changes)
    return body


def test_a_patch_is_stored_as_a_new_version_with_method_patch():
    lid = services.create_resource(body=observation(), source="a").logical_id
    patched = services.patch_resource(
        resource_type="Observation",
        logical_id=lid,
        operations=[
            {"op": "replace", "path": "/valueQuantity/value", "value": 103},
            {"op": "copy", "from": "/status", "path": "/implicitRules"},
        ],
        source="b",
        if_match=1,
    )
    assert patched.version_id == 2
    assert patched.body["valueQuantity"]["value"] == 103
    assert patched.body["meta"]["source"] == "b"
    first = selectors.read_version(resource_type="Observation", logical_id=lid, version_id=1)
    assert first.body is not None
    assert first.body["valueQuantity"]["value"] == 102.5
    assert ResourceVersion.objects.get(logical_id=lid, version_id=2).method == "PATCH"


def test_a_failing_operation_is_named_by_its_index_and_nothing_is_written():
    lid = services.create_resource(body=observation(), source="a").logical_id
    with pytest.raises(errors.PatchFailed) as failed:
        services.patch_resource(
            resource_type="Observation",
            logical_id=lid,
            operations=[
                {"op": "replace", "path": "/status", "value": "amended"},
                {"op": "add", "path": "/note/0/text", "value": "x"},
                {"op": "test", "path": "/status", "value": "final"},
            ],
            source="b",
        )
    assert failed.value.params["operation"] == 1
    assert "1 (add /note/0/text)" in failed.value.message_en
    assert Resource.objects.get(logical_id=lid).version_id == 1
    with pytest.raises(InvalidInput) as malformed:
        services.patch_resource(
            resource_type="Observation",
            logical_id=lid,
            operations=[{"op": "replace", "path": "/status", "value": "amended"}, "nonsense"],
            source="b",
        )
    assert malformed.value.params["operation"] == 1


def test_a_deleted_or_missing_resource_cannot_be_patched():
    lid = services.create_resource(body=observation(), source="a").logical_id
    services.delete_resource(resource_type="Observation", logical_id=lid, source="a")
    change = [{"op": "replace", "path": "/status", "value": "amended"}]
    with pytest.raises(errors.ResourceGone):
        services.patch_resource(
            resource_type="Observation", logical_id=lid, operations=change, source="a"
        )
    lid2 = services.create_resource(body=observation(), source="a").logical_id
    with pytest.raises(errors.VersionConflict):
        services.patch_resource(
            resource_type="Observation", logical_id=lid2, operations=change, source="a", if_match=2
        )


def test_create_many_writes_current_rows_and_first_versions_at_one_instant():
    at = dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC)
    checked = [(f"obs-{n}", services.check_resource(body=observation())) for n in range(3)]
    when = services.create_many(resources=checked, source="BV-XANHPON", at=at)
    assert when == at
    rows = Resource.objects.order_by("logical_id")
    assert [r.logical_id for r in rows] == ["obs-0", "obs-1", "obs-2"]
    assert {r.body["meta"]["lastUpdated"] for r in rows} == {"2026-04-01T02:00:00Z"}
    assert {r.body["meta"]["source"] for r in rows} == {"BV-XANHPON"}
    assert ResourceVersion.objects.filter(method="POST", version_id=1).count() == 3


def test_create_many_names_the_resource_whose_patient_does_not_exist():
    good = services.check_resource(body=observation())
    orphan = services.check_resource(body=observation(subject={"reference": "Patient/999999"}))
    with pytest.raises(errors.InvalidResource) as refused:
        services.create_many(resources=[("a", good), ("b", orphan)], source="x")
    assert refused.value.position == 1
    consent = services.Checked(resource_type="Consent", body={"resourceType": "Consent"})
    with pytest.raises(ValueError, match="Consent"):
        services.create_many(resources=[("c", consent)], source="x")


def test_history_pages_by_key_even_when_many_versions_share_one_instant():
    at = dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC)
    with clock.frozen_at(at):
        services.create_many(
            resources=[
                (f"same-{n}", services.check_resource(body=observation())) for n in range(5)
            ],
            source="x",
        )
    seen: list[int] = []
    before = None
    for _ in range(10):
        page = selectors.history_page(count=2, resource_type="Observation", before=before)
        seen += [v.pk for v in page.versions]
        if not page.more:
            break
        last = page.versions[-1]
        before = (last.last_updated, last.pk)
    assert sorted(seen, reverse=True) == seen
    assert len(set(seen)) == len(seen) == 5
    assert selectors.history_page(count=10, resource_type="Encounter").versions == []
    with pytest.raises(NotFound):
        selectors.history_page(count=10, resource_type="Observation", logical_id="never")
