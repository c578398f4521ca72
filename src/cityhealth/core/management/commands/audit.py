"""`cityhealth audit verify|seal`: check the audit chain, or seal what waits to be sealed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.core.audit import seal_pending, verify_chain


class Command(BaseCommand):
    help = (
        "Audit log tools. 'verify' walks the hash chain and reports any break; 'seal' puts "
        "entries written since the last sealing into the chain (the worker does it too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "seal"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seal":
            self.stdout.write(f"audit entries sealed: {seal_pending()}")
            return
        report = verify_chain()
        for line in report.problems:
            self.stderr.write(f"BROKEN: {line}")
        if not report.intact:
            raise CommandError(
                f"audit chain broken: {len(report.problems)} problem(s) in {report.checked} entries"
            )
        self.stdout.write(f"audit chain intact: {report.checked} entries verified")
        if report.unsealed:
            self.stdout.write(
                f"{report.unsealed} newer entries wait to be sealed (`cityhealth audit seal`)"
            )
