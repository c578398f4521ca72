"""Bulk Data `$export` over HTTP: kick-off, status polling, the manifest, NDJSON files only
their requester may fetch, cancelling, the levels (system, Patient, Group), the byte limit,
consent, and a run that dies and is resumed without writing anything twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from cityhealth.fhir import export
from cityhealth.fhir.models import ExportJob
from cityhealth.fhir.tests.operation_factories import his, observation, organization, person, store

pytestmark = pytest.mark.django_db
RUN_EXPORT = "cityhealth.fhir.tasks.run_export"


@pytest.fixture(autouse=True)
def export_dir(settings: Any, tmp_path: Path) -> Path:
    settings.FHIR_EXPORT_DIR = tmp_path / "export"
    return Path(settings.FHIR_EXPORT_DIR)


def run_queued_exports() -> int:
    """What the worker does: run every queued export task (each queues its follow-up)."""
    ran = 0
    while True:
        queued = list(DBTaskResult.objects.filter(task_path=RUN_EXPORT, status="READY"))
        if not queued:
            return ran
        for row in queued:
            row.status = "SUCCESSFUL"
            row.save(update_fields=["status"])
            row.task.call(*row.task_result.args, **row.task_result.kwargs)
            ran += 1


def kick_off(client: Client, url: str, django_capture_on_commit_callbacks: Any) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            url, headers={"Prefer": "respond-async", "Accept": "application/fhir+json"}
        )
    assert response.status_code == 202, response.content
    return str(response["Content-Location"]).split("testserver", 1)[-1]


def finished_manifest(client: Client, status_url: str, capture: Any) -> dict[str, Any]:
    """Poll as a client would, with the worker running what is queued between polls."""
    for _ in range(10):
        with capture(execute=True):
            response = client.get(status_url)
        if response.status_code != 202:
            break
        with capture(execute=True):
            assert run_queued_exports() or True
    assert response.status_code == 200, response.content
    manifest: dict[str, Any] = json.loads(response.content)
    return manifest


def lines(client: Client, manifest: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    found = []
    for item in manifest["output"]:
        if item["type"] != resource_type:
            continue
        response = client.get(item["url"].split("testserver", 1)[-1])
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        text = response.getvalue().decode()
        parsed = [json.loads(line) for line in text.splitlines()]
        assert len(parsed) == item["count"]
        found.extend(parsed)
    return found


def test_a_system_export_runs_in_the_background_and_serves_ndjson_to_its_requester(
    django_capture_on_commit_callbacks,
):
    anh = person()
    obs = [observation(anh.pk) for _ in range(3)]
    lab = organization()
    store(*((body, anh.pk) for body in obs), (lab, None))
    client = his()

    status_url = kick_off(client, "/fhir/R4/$export", django_capture_on_commit_callbacks)
    assert status_url.startswith("/fhir/R4/$export-status/")
    waiting = client.get(status_url)
    assert waiting.status_code == 202
    assert waiting["Retry-After"]
    assert waiting["X-Progress"]

    manifest = finished_manifest(client, status_url, django_capture_on_commit_callbacks)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/R4/$export")
    assert manifest["error"] == []
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {"Observation": 3, "Organization": 1}
    assert sorted(r["id"] for r in lines(client, manifest, "Observation")) == sorted(
        b["id"] for b in obs
    )
    # Another client (even one with the same rights) learns nothing of the job or its files.
    stranger = his()
    assert stranger.get(status_url).status_code == 404
    first_file = manifest["output"][0]["url"].split("testserver", 1)[-1]
    assert stranger.get(first_file).status_code == 404
    assert Client().get(first_file).status_code == 401


def test_type_since_and_the_levels_choose_what_is_exported(django_capture_on_commit_callbacks):
    anh, binh, other = person(), person(), person()
    a_obs, b_obs, o_obs = observation(anh.pk), observation(binh.pk), observation(other.pk)
    condition = {
        "resourceType": "Condition",
        "id": "c-exp",
        "subject": {"reference": f"Patient/{anh.pk}"},
    }
    cohort = {
        "resourceType": "Group",
        "id": "cohort-exp",
        "type": "person",
        "actual": True,
        "member": [
            {"entity": {"reference": f"Patient/{anh.pk}"}},
            {"entity": {"reference": f"Patient/{binh.pk}"}},
        ],
    }
    store((a_obs, anh.pk), (b_obs, binh.pk), (o_obs, other.pk), (condition, anh.pk))
    store((organization(), None), (cohort, None))
    client = his()
    capture = django_capture_on_commit_callbacks

    typed = finished_manifest(
        client, kick_off(client, "/fhir/R4/$export?_type=Condition", capture), capture
    )
    assert [item["type"] for item in typed["output"]] == ["Condition"]

    patients = finished_manifest(
        client, kick_off(client, "/fhir/R4/Patient/$export", capture), capture
    )
    assert "Organization" not in {item["type"] for item in patients["output"]}
    assert len(lines(client, patients, "Observation")) == 3

    group = finished_manifest(
        client,
        kick_off(client, "/fhir/R4/Group/cohort-exp/$export?_type=Observation", capture),
        capture,
    )
    assert sorted(r["id"] for r in lines(client, group, "Observation")) == sorted(
        [a_obs["id"], b_obs["id"]]
    )

    later = finished_manifest(
        client, kick_off(client, "/fhir/R4/$export?_since=2999-01-01T00:00:00Z", capture), capture
    )
    assert later["output"] == []

    assert client.get("/fhir/R4/Group/nobody/$export").status_code == 404
    assert client.get("/fhir/R4/$export?_outputFormat=text/csv").status_code == 400
    assert client.get("/fhir/R4/$export?_typeFilter=Observation%3Fnope%3D1").status_code == 400
    assert client.get("/fhir/R4/$export?_typeFilter=Nope%3Fcode%3D1").status_code == 400
    assert his("write_records").get("/fhir/R4/$export").status_code == 403


def test_files_are_cut_at_the_byte_limit_and_hold_every_resource_once(
    settings, django_capture_on_commit_callbacks
):
    anh = person()
    made = [observation(anh.pk) for _ in range(25)]
    store(*((body, anh.pk) for body in made))
    settings.FHIR_EXPORT_FILE_BYTES = 1200  # a handful of Observations per file
    client = his()

    manifest = finished_manifest(
        client,
        kick_off(client, "/fhir/R4/$export", django_capture_on_commit_callbacks),
        django_capture_on_commit_callbacks,
    )

    parts = [item for item in manifest["output"] if item["type"] == "Observation"]
    assert len(parts) > 3
    assert sorted(r["id"] for r in lines(client, manifest, "Observation")) == sorted(
        b["id"] for b in made
    )
    job = ExportJob.objects.get()
    for entry in job.cursor["files"]:
        size = (export.job_dir(job.pk) / export.FILE_NAME.format(**entry)).stat().st_size
        assert size == entry["bytes"]
        assert size <= 1200 + 1000


def test_consent_applies_to_the_export(django_capture_on_commit_callbacks):
    anh, binh = person(), person()
    a_obs, b_obs = observation(anh.pk), observation(binh.pk)
    denial = {
        "resourceType": "Consent",
        "id": "deny-exp",
        "status": "active",
        "patient": {"reference": f"Patient/{binh.pk}"},
        "provision": {"type": "deny"},
    }
    store((a_obs, anh.pk), (b_obs, binh.pk), (denial, binh.pk))
    client = his()
    capture = django_capture_on_commit_callbacks

    manifest = finished_manifest(
        client, kick_off(client, "/fhir/R4/$export?_type=Observation", capture), capture
    )

    assert [r["id"] for r in lines(client, manifest, "Observation")] == [a_obs["id"]]


def test_a_run_that_dies_is_resumed_with_the_same_output_and_nothing_twice(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    anh = person()
    store(
        *((observation(anh.pk), anh.pk) for _ in range(20)),
        *((organization(), None) for _ in range(6)),
    )
    settings.FHIR_EXPORT_FILE_BYTES = 2500
    monkeypatch.setattr(export, "CHUNK", 3)
    monkeypatch.setattr(export, "CHECKPOINT_SECONDS", 0.0)
    client = his()
    capture = django_capture_on_commit_callbacks
    whole = finished_manifest(client, kick_off(client, "/fhir/R4/$export", capture), capture)

    crashing_url = kick_off(client, "/fhir/R4/$export", capture)
    crashing = ExportJob.objects.exclude(status=ExportJob.Status.COMPLETED).get()
    real_sync = export._Writers.sync
    calls = {"n": 0}

    def sync_then_die(self: Any) -> None:
        calls["n"] += 1
        real_sync(self)  # what the dead run wrote reaches the disk, past its last checkpoint
        if calls["n"] == 4:
            raise SystemExit("worker killed")

    monkeypatch.setattr(export._Writers, "sync", sync_then_die)
    with pytest.raises(SystemExit):
        export.run_slice(job_id=str(crashing.pk))
    monkeypatch.setattr(export._Writers, "sync", real_sync)
    crashing.refresh_from_db()
    assert crashing.status == ExportJob.Status.RUNNING
    assert 0 < crashing.exported < 26
    on_disk = sum(p.stat().st_size for p in export.job_dir(crashing.pk).iterdir())
    assert on_disk > sum(f["bytes"] for f in crashing.cursor["files"])  # a tail to cut off

    # A fresh poll sees no life in it and hands it to a new run, which carries on.
    settings.FHIR_EXPORT_STALL_SECONDS = 0
    DBTaskResult.objects.filter(task_path=RUN_EXPORT).update(status="SUCCESSFUL")
    resumed = finished_manifest(client, crashing_url, capture)

    for resource_type in ("Observation", "Organization"):
        before = lines(client, whole, resource_type)
        after = lines(client, resumed, resource_type)
        assert [r["id"] for r in after] == [r["id"] for r in before]
        assert len({r["id"] for r in after}) == len(after)
    assert [i["count"] for i in resumed["output"]] == [i["count"] for i in whole["output"]]


def test_deleting_the_status_url_cancels_the_job_and_its_files(
    export_dir, django_capture_on_commit_callbacks
):
    anh = person()
    store((observation(anh.pk), anh.pk))
    client = his()
    capture = django_capture_on_commit_callbacks
    status_url = kick_off(client, "/fhir/R4/$export", capture)
    finished_manifest(client, status_url, capture)
    job = ExportJob.objects.get()
    assert export.job_dir(job.pk).is_dir()

    assert his().delete(status_url).status_code == 404  # not someone else's to cancel
    assert client.delete(status_url).status_code == 202

    assert client.get(status_url).status_code == 404
    assert not export.job_dir(job.pk).exists()


def test_type_filters_narrow_their_type_and_leave_the_others(django_capture_on_commit_callbacks):
    anh = person()
    pulse, weight, height = (
        observation(anh.pk, "8867-4"),
        observation(anh.pk, "29463-7"),
        observation(anh.pk, "8302-2"),
    )
    store((pulse, anh.pk), (weight, anh.pk), (height, anh.pk), (organization(), None))
    client = his()
    capture = django_capture_on_commit_callbacks
    filters = (
        "_typeFilter=Observation%3Fcode%3Dhttp://loinc.org|8867-4"
        "&_typeFilter=Observation%3Fcode%3D29463-7"
    )

    manifest = finished_manifest(
        client, kick_off(client, f"/fhir/R4/$export?{filters}", capture), capture
    )

    assert sorted(r["id"] for r in lines(client, manifest, "Observation")) == sorted(
        [pulse["id"], weight["id"]]
    )
    assert len(lines(client, manifest, "Organization")) == 1


def test_the_capability_statement_declares_the_operations():
    statement = Client().get("/fhir/R4/metadata").json()
    rest = statement["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    assert {"everything", "export"} <= {o["name"] for o in by_type["Patient"]["operation"]}
    assert [o["name"] for o in by_type["Group"]["operation"]] == ["export"]
    assert [o["name"] for o in rest["operation"]] == ["export"]
    assert "rest-hook" in by_type["Subscription"]["documentation"]
    assert statement["instantiates"] == [
        "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
    ]


def test_a_long_export_hands_over_from_task_to_task_until_done(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    anh = person()
    made = [observation(anh.pk) for _ in range(10)]
    store(*((body, anh.pk) for body in made))
    monkeypatch.setattr(export, "CHUNK", 3)
    settings.FHIR_EXPORT_SLICE_SECONDS = 0  # each task writes one chunk, then queues the next
    client = his()
    capture = django_capture_on_commit_callbacks

    manifest = finished_manifest(client, kick_off(client, "/fhir/R4/$export", capture), capture)

    assert sorted(r["id"] for r in lines(client, manifest, "Observation")) == sorted(
        b["id"] for b in made
    )
    ran = DBTaskResult.objects.filter(task_path=RUN_EXPORT).count()
    assert ran >= 4


@pytest.mark.django_db(transaction=True)
def test_a_worker_s_run_reads_ahead_on_its_own_connection_and_writes_everything(monkeypatch):
    from django.db import transaction

    from cityhealth.records.consent import Accessor

    monkeypatch.setattr(export, "CHUNK", 4)
    with transaction.atomic():
        anh = person()
        made = [observation(anh.pk) for _ in range(11)]
        store(*((body, anh.pk) for body in made))
        job = export.kick_off(
            owner="client:worker-test",
            accessor=Accessor(break_glass=True),
            request_url="/fhir/R4/$export",
            asked=export.ExportRequest(level="system", types=frozenset({"Observation"})),
        )

    assert export.run_slice(job_id=str(job.pk)) == "done"  # as the worker runs it

    job.refresh_from_db()
    (entry,) = job.cursor["files"]
    text = (export.job_dir(job.pk) / export.FILE_NAME.format(**entry)).read_text()
    assert sorted(json.loads(line)["id"] for line in text.splitlines()) == sorted(
        b["id"] for b in made
    )
    assert export.progress(job).startswith("100%")


def test_a_file_download_accepts_the_ndjson_media_types_and_nothing_else_does(
    django_capture_on_commit_callbacks,
):
    anh = person()
    store((observation(anh.pk), anh.pk))
    client = his()
    status_url = kick_off(client, "/fhir/R4/$export", django_capture_on_commit_callbacks)
    manifest = finished_manifest(client, status_url, django_capture_on_commit_callbacks)
    file_url = manifest["output"][0]["url"].split("testserver", 1)[-1]
    for accept in ("application/fhir+ndjson", "application/ndjson", "application/ndjson;q=0.9"):
        response = client.get(file_url, headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.status_code)
        assert json.loads(response.getvalue().decode().splitlines()[0])["id"]
    assert client.get(file_url, headers={"Accept": "application/xml"}).status_code == 406
    # NDJSON is the format of export files only: a search asking for it is refused.
    refused = client.get("/fhir/R4/Observation", headers={"Accept": "application/fhir+ndjson"})
    assert refused.status_code == 406


def test_a_type_filter_s_has_passes_only_through_what_the_caller_may_see(
    django_capture_on_commit_callbacks,
):
    anh, binh = person(), person()
    seen_by, hidden_by = (
        {"resourceType": "Practitioner", "id": pid, "name": [{"text": pid}]}
        for pid in ("bs-seen", "bs-hidden")
    )
    denial = {
        "resourceType": "Consent",
        "id": "deny-has",
        "status": "active",
        "patient": {"reference": f"Patient/{binh.pk}"},
        "provision": {"type": "deny"},
    }
    store(
        (seen_by, None),
        (hidden_by, None),
        (observation(anh.pk, "5195-3", performer=[{"reference": "Practitioner/bs-seen"}]), anh.pk),
        (
            observation(binh.pk, "5195-3", performer=[{"reference": "Practitioner/bs-hidden"}]),
            binh.pk,
        ),
        (denial, binh.pk),
    )
    client = his()
    capture = django_capture_on_commit_callbacks
    has = "_typeFilter=Practitioner%3F_has:Observation:performer:code%3D5195-3"

    manifest = finished_manifest(
        client, kick_off(client, f"/fhir/R4/$export?_type=Practitioner&{has}", capture), capture
    )

    # Binh's Observation (denied) must not tell that its performer treated someone for it.
    assert [r["id"] for r in lines(client, manifest, "Practitioner")] == ["bs-seen"]
