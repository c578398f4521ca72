"""Background work of the FHIR boundary (database tasks, enqueued after commit)."""

from __future__ import annotations

from django_tasks import task

from cityhealth.fhir import export, subscriptions


@task()
def run_export(job_id: str) -> str:
    """One slice of a bulk export; queues the next slice itself until the job is done. Each
    checkpoint commits on its own (not one transaction for the slice), so a poller sees the
    progress and a crash loses at most the work since the last checkpoint."""
    return export.run_slice(job_id=job_id)


@task()
def deliver_notifications(subscription_id: str) -> int:
    """Deliver a subscription's pending notifications, in order."""
    return subscriptions.deliver(subscription_id=subscription_id)
