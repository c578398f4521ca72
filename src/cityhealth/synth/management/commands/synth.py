"""`cityhealth synth population --persons N --seed S`: a synthetic city population.

    cityhealth synth population --persons 20000 --seed 1
    cityhealth synth population --persons 8500000 --seed 1 --legacy-out var/legacy.csv
    cityhealth synth records --seed 1 --persons 10000 --trusted

`population` runs in one transaction: the population is loaded completely or not at all.
Running it again with the same persons and seed finds the population already there and does
nothing. `records` commits batch by batch and, run again, goes on where it stopped.
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cityhealth.synth.population.loading import IndexMode
from cityhealth.synth.population.service import (
    PopulationConflict,
    generate_population,
    write_legacy,
)
from cityhealth.synth.population.tables import PopulationDataError
from cityhealth.synth.records.loader import DEFAULT_BATCH, load_records


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError as error:
        raise ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 0:
        raise ArgumentTypeError("must not be negative")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise ArgumentTypeError("must be between 0 and 1")
    return value


def _quiet(line: str) -> None:
    return None


class Command(BaseCommand):
    help = "Generate synthetic data for the demo and the benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="what", required=True, metavar="{population,records}")
        population = commands.add_parser(
            "population",
            help="persons with ID history, BHYT cards and guardians, loaded into the database",
        )
        population.add_argument("--persons", type=_count, required=True)
        population.add_argument("--seed", type=int, default=1)
        population.add_argument(
            "--legacy-out",
            type=Path,
            help="also write legacy hospital records (noisy copies, non-matches, truth) here",
        )
        population.add_argument(
            "--legacy-count",
            type=_count,
            help="persons copied into the legacy file (default: 1%% of --persons)",
        )
        population.add_argument(
            "--batch-size",
            type=_count,
            help="rows per write: persons per COPY round on PostgreSQL (default 65,536), "
            "rows per executemany on SQLite (default 10,000)",
        )
        population.add_argument(
            "--indexes",
            choices=[m.value for m in IndexMode],
            default=IndexMode.AUTO.value,
            help="PostgreSQL: keep indexes during the load, or drop and rebuild them "
            "(auto: rebuild for large loads)",
        )
        population.add_argument(
            "--nguyen-share", type=_share, help="share of the Nguyễn family name (default 0.35)"
        )
        population.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )
        records = commands.add_parser(
            "records",
            help="clinical history (FHIR resources) of the first persons of the registry",
        )
        records.add_argument("--seed", type=int, default=1)
        records.add_argument(
            "--persons", type=_count, default=1000, help="the first N persons (default 1,000)"
        )
        records.add_argument(
            "--years", type=_count, help="years of history before the reference date (default 5)"
        )
        records.add_argument(
            "--batch",
            type=_count,
            default=DEFAULT_BATCH,
            help=f"resources per transaction (default {DEFAULT_BATCH:,})",
        )
        records.add_argument(
            "--workers",
            type=_count,
            default=1,
            help="processes sharing the persons (PostgreSQL; default 1)",
        )
        records.add_argument(
            "--trusted",
            action="store_true",
            help="skip validation of the generated resources (their tests validate them)",
        )
        records.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("synthetic persons do not belong in a production database")
        if options["what"] == "records":
            self._records(options)
            return
        progress = not options["no_progress"] and options["verbosity"] > 0
        legacy_out: Path | None = options["legacy_out"]
        try:
            with transaction.atomic():
                report = generate_population(
                    persons=options["persons"],
                    seed=options["seed"],
                    legacy_count=options["legacy_count"],
                    want_legacy=legacy_out is not None,
                    batch_size=options["batch_size"] or None,
                    indexes=IndexMode(options["indexes"]),
                    nguyen_share=options["nguyen_share"],
                    progress=progress,
                    log=self.stderr.write if options["verbosity"] > 1 else _quiet,
                )
        except (PopulationConflict, PopulationDataError) as error:
            raise CommandError(str(error)) from error
        if legacy_out is not None:
            write_legacy(legacy_out, report)
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
            if legacy_out is not None:
                self.stdout.write(
                    f"Legacy records: {len(report.legacy_records):,} written to {legacy_out}"
                )

    def _records(self, options: dict[str, Any]) -> None:
        if options["years"] == 0 or options["batch"] == 0:
            raise CommandError("--years and --batch must be at least 1")
        try:
            report = load_records(
                seed=options["seed"],
                persons=options["persons"],
                years=options["years"],
                batch=options["batch"],
                trusted=options["trusted"],
                workers=max(1, options["workers"]),
                progress=not options["no_progress"] and options["verbosity"] > 0,
            )
        except RuntimeError as error:  # a worker process failed: what it committed stays
            raise CommandError(str(error)) from error
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
