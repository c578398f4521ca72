"""`cityhealth load_facilities [--province 01]`: load data/facilities/ into the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.core.errors import DomainError
from cityhealth.facilities.services import load_facilities


class Command(BaseCommand):
    help = (
        "Load (or refresh) a province's hospitals, 115 network and commune health stations with "
        "their departments and service points. Load the administrative units first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", default="01", help="2-digit province code (01 = Hà Nội)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_facilities(province_code=options["province"])
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message_en}") from error
        self.stdout.write(str(report))
