"""`cityhealth insurance vss-simulator [--port P] [--latency-ms N] [--error-rate X] [--outage]`
serves the simulated social-security gateway on its own port for other tools;
`cityhealth insurance recheck` asks the gateway again about every pending check that is due
(what the background tasks do one by one, for a worker that was down)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cityhealth.core import clock
from cityhealth.core.errors import DomainError
from cityhealth.insurance import selectors, services
from cityhealth.insurance.contract import password_hash
from cityhealth.insurance.simulator import ServedSimulator, VssSimulator


class Command(BaseCommand):
    help = "Health insurance: the VSS gateway simulator, re-checks of pending cards."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="what", required=True, metavar="{vss-simulator,recheck}"
        )
        sim = commands.add_parser("vss-simulator", help="serve the simulated VSS gateway")
        sim.add_argument("--host", default="127.0.0.1")
        sim.add_argument("--port", type=int, default=8790, help="0: any free port")
        sim.add_argument("--latency-ms", type=int, default=0, help="delay of every answer")
        sim.add_argument(
            "--error-rate", type=float, default=0.0, help="share of requests answering 503"
        )
        sim.add_argument("--outage", action="store_true", help="answer 503 to everything")
        sim.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="USERNAME=PASSWORD",
            help="accept only these facility accounts (default: any <code>_BV account)",
        )
        sim.add_argument("--seed", type=int, default=None, help="seed of the error draws")
        commands.add_parser("recheck", help="re-check every pending card check that is due")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "vss-simulator":
            self._simulate(options)
        elif options["what"] == "recheck":
            self._recheck()

    def _simulate(self, options: dict[str, Any]) -> None:
        if not 0.0 <= options["error_rate"] <= 1.0:
            raise CommandError("--error-rate must be between 0 and 1")
        accounts = None
        if options["account"]:
            pairs = [item.split("=", 1) for item in options["account"] if "=" in item]
            accounts = {user: password_hash(password) for user, password in pairs}
        simulator = VssSimulator(
            latency_ms=max(0, options["latency_ms"]),
            error_rate=options["error_rate"],
            outage=options["outage"],
            accounts=accounts,
            seed=options["seed"],
        )
        served = ServedSimulator(simulator, host=options["host"], port=options["port"])
        self.stdout.write(f"VSS simulator listening on {served.url}")
        self.stdout.flush()
        try:
            served.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            served.close()

    def _recheck(self) -> None:
        settled = still = 0
        for check_id in selectors.due_checks(now=clock.now()):
            try:
                with transaction.atomic():
                    result = services.recheck(check_id=check_id)
            except DomainError as error:
                self.stderr.write(f"check {check_id}: {error}")
                continue
            if result.status == "pending":
                still += 1
            else:
                settled += 1
        self.stdout.write(f"Pending checks re-checked: {settled} settled, {still} still pending")
