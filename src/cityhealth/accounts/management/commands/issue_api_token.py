"""`cityhealth issue_api_token CLIENT [--scope ...]`: create the client if needed, print a token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.roles import Permission


class Command(BaseCommand):
    help = "Issue a bearer token for an API client; the token is shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client")
        parser.add_argument("--scope", action="append", default=[], help="permission to grant")
        parser.add_argument("--label", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        known = {str(p) for p in Permission}
        unknown = sorted(set(options["scope"]) - known)
        if unknown:
            raise CommandError(f"unknown scope(s) {unknown}; known: {sorted(known)}")
        with transaction.atomic():
            client, _ = ApiClient.objects.get_or_create(name=options["client"])
            if options["scope"]:
                client.scopes = sorted(set(client.scopes) | set(options["scope"]))
                client.save(update_fields=["scopes"])
            issued = issue_api_token(client=client, label=options["label"])
        self.stdout.write(issued.raw)
