"""The store's copy of the person registry: `Patient/{person id}` for every person.

The registry is the master of patients (decision 0005): `GET Patient/{id}` reads it, and a
Patient a hospital sends is matched there, never stored here as it came. The store keeps a
projection so that search, chains, `_include`, `$everything` and export treat Patients like
any resource: each person rendered by the registry (`people.fhir.person_as_fhir_patient`,
identifiers under the VN Core systems), in its own compartment, written from source
`registry`, with a new version only when the rendering changed.

Kept current by the registry's hook (`people.hooks`, registered in `RecordsConfig.ready`):
every use case that changes a person projects it inside its own transaction. Bulk loaders
bypass the use cases; `cityhealth records sync-patients` catches up (`sync_patients`).

A person merged into another keeps its Patient, `active: false` with a `link` of type
`replaced-by` to the survivor (whose Patient lists it as `replaces`): resources filed under
the old id still resolve, a search for `active=true` leaves it out, and an unmerge makes it
active again as a new version. It is never deleted: a reference to it must keep working.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cityhealth.people.models import Guardianship, Person
from cityhealth.people.selectors import patient_resources
from cityhealth.records.bulk import NewResource, write_new_resources
from cityhealth.records.models import Resource
from cityhealth.records.services import _write

PATIENT = "Patient"
SOURCE = "registry"
DEFAULT_BATCH = 2000


@dataclass
class Projected:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def project_patient(*, person_id: int) -> Resource:
    """Write or refresh `Patient/{person_id}` from the registry; the stored row."""
    project_patients(person_ids=[person_id])
    return Resource.objects.get(resource_type=PATIENT, logical_id=str(person_id))


def project_patients(*, person_ids: list[int]) -> Projected:
    """Project these persons (in one batch of queries). The persons' rows are locked first,
    in id order, so two transactions projecting one person queue, and the second renders
    what the first committed instead of both creating the Patient."""
    ids = sorted(set(person_ids))
    counts = Projected()
    if not ids:
        return counts
    with transaction.atomic():
        list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        rendered = patient_resources(person_ids=ids)
        stored = {
            row.logical_id: row
            for row in Resource.objects.filter(
                resource_type=PATIENT, logical_id__in=[str(pk) for pk in rendered]
            )
        }
        new: list[NewResource] = []
        for pk, patient in rendered.items():
            body = _without_meta(patient)
            current = stored.get(str(pk))
            if current is None:
                new.append(NewResource(body=body, person_id=pk))
            elif current.deleted or _without_meta(current.body) != body:
                _write(
                    PATIENT, str(pk), body, source=SOURCE, method="PUT", at=None, current=current
                )
                counts.updated += 1
            else:
                counts.unchanged += 1
        if new:
            # The registry's own rendering (its tests validate it): not validated again.
            write_new_resources(resources=new, source=SOURCE, trusted=True)
            counts.created = len(new)
    return counts


def project_changed_persons(person_ids: list[int]) -> None:
    """The registry's hook: project the persons that changed, and the children whose
    Patient names one of them as a guardian (`contact`)."""
    children = Guardianship.objects.filter(guardian_id__in=person_ids).values_list(
        "child_id", flat=True
    )
    project_patients(person_ids=[*person_ids, *children])


def sync_patients(*, batch: int = DEFAULT_BATCH, after: int = 0) -> Iterator[tuple[int, Projected]]:
    """Project every person, `batch` at a time in id order, each batch in its own
    transaction; yields (last person id of the batch, its counts). Memory stays bounded
    by the batch; running it again (or from `after`, the last id reported) resumes: what
    is already current is left as it is."""
    last = after
    while True:
        ids = list(
            Person.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return
        counts = project_patients(person_ids=ids)
        last = ids[-1]
        yield last, counts


def _without_meta(body: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (body or {}).items() if key != "meta"}
