"""`cityhealth records sync-patients [--batch N] [--after ID]`: the store's Patients brought
up to date with the person registry (after a bulk load, which bypasses the registry's hook).

Each batch commits on its own and the command only writes what changed, so it can be
stopped and run again (from the last id it printed, with `--after`, to skip the rest).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhealth.records.patients import DEFAULT_BATCH, Projected, sync_patients


class Command(BaseCommand):
    help = "Maintenance of the shared health record."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="what", required=True, metavar="{sync-patients}")
        sync = commands.add_parser(
            "sync-patients", help="project every person of the registry as a FHIR Patient"
        )
        sync.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="persons per batch")
        sync.add_argument("--after", type=int, default=0, help="start after this person id")
        sync.add_argument("--no-progress", action="store_true", help="print only the summary")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "sync-patients":
            self._sync(batch=max(1, options["batch"]), after=options["after"],
                       progress=not options["no_progress"])  # fmt: skip

    def _sync(self, *, batch: int, after: int, progress: bool) -> None:
        started = time.perf_counter()
        total = Projected()
        persons = 0
        for last, counts in sync_patients(batch=batch, after=after):
            total.created += counts.created
            total.updated += counts.updated
            total.unchanged += counts.unchanged
            persons += counts.created + counts.updated + counts.unchanged
            if progress:
                self.stdout.write(f"  up to person {last}: {persons} persons")
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Patients projected: {persons} persons ({total.created} created, "
            f"{total.updated} updated, {total.unchanged} unchanged) in {seconds:.1f} s"
        )
