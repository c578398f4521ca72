"""`cityhealth seed_demo`: reference data, demo accounts and demo data. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cityhealth.synth.demo import seed_demo


class Command(BaseCommand):
    help = "Load the city's reference data and create one demo account per role."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo creates accounts with a known password: not in production"
            )
        with transaction.atomic():
            summary = seed_demo(password=settings.CITYHEALTH_DEMO_PASSWORD)
        for line in summary.lines():
            self.stdout.write(line)
