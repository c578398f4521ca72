"""`cityhealth accounts create-client --name … [--facility CODE] --scope …`: an OAuth2 client.

Prints the client id and secret once (only a hash of the secret is kept) and the token URL.
Run again with the same name, it sets a new secret and the given scopes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cityhealth.accounts.services import create_api_client
from cityhealth.core.errors import DomainError
from cityhealth.facilities.models import Facility


class Command(BaseCommand):
    help = "Accounts tools. 'create-client' makes an OAuth2 client and prints its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-client", help="an OAuth2 client (client credentials)")
        create.add_argument("--name", required=True)
        create.add_argument("--facility", default="", help="code of the facility it acts for")
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            help="a SMART scope (system/*.read, system/Observation.rs, …) or a permission; "
            "repeat, or separate with spaces",
        )
        create.add_argument("--person", type=int, default=None, help="a resident's own client")
        create.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="shown in the token URL"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = [s for given in options["scope"] for s in given.split()]
        if not scopes:
            raise CommandError("give at least one --scope")
        facility = None
        if options["facility"]:
            facility = Facility.objects.filter(code=options["facility"]).first()
            if facility is None:
                raise CommandError(f"no facility with code {options['facility']!r}")
        try:
            with transaction.atomic():
                made = create_api_client(
                    name=options["name"],
                    scopes=scopes,
                    facility=facility,
                    person_id=options["person"],
                    created_by="command:accounts",
                )
        except DomainError as error:
            raise CommandError(error.message("en")) from None
        base = options["base_url"].rstrip("/")
        self.stdout.write(f"client_id:     {made.client_id}")
        self.stdout.write(f"client_secret: {made.secret}")
        self.stdout.write(f"scope:         {' '.join(made.client.scopes)}")
        self.stdout.write(f"token URL:     {base}/oauth/token")
