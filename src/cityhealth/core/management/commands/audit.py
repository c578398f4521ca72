"""`cityhealth audit verify`: check that no audit entry was edited or deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.core.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. 'verify' walks the hash chain and reports any break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        for line in report.problems:
            self.stderr.write(f"BROKEN: {line}")
        if not report.intact:
            raise CommandError(
                f"audit chain broken: {len(report.problems)} problem(s) in {report.checked} entries"
            )
        self.stdout.write(f"audit chain intact: {report.checked} entries verified")
