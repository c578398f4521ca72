"""Background work of the kernel."""

from __future__ import annotations

from django_tasks import task

from cityhealth.core.audit import seal_pending


@task()
def seal_audit_log() -> int:
    """Seal every audit entry written so far; enqueued after commits that wrote some."""
    return seal_pending()
