"""Background work of the insurance app (run by the task worker, after the commit that
asked for it)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from cityhealth.insurance import services


@task()
def recheck_eligibility(*, check_id: int) -> str:
    """Ask the gateway again about a pending check; the check's status afterwards."""
    with transaction.atomic():
        return str(services.recheck(check_id=check_id).status)
