"""`cityhealth load_administrative_units [--province 01]`: load data/geo/ into the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.core.errors import DomainError
from cityhealth.geo.services import load_administrative_units


class Command(BaseCommand):
    help = "Load (or refresh) provinces, former provinces and a province's wards from data/geo/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", default="01", help="2-digit province code (01 = Hà Nội)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_administrative_units(province_code=options["province"])
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message_en}") from error
        self.stdout.write(str(report))
