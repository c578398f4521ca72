"""FHIR R4 validation cost (`records.validation.validate_resource`), no database.

    .venv/bin/python bench/fhir_validation.py            # full: 7 rounds
    .venv/bin/python bench/fhir_validation.py --smoke    # one round; what CI may run

Per resource, in process CPU time (other processes on the machine do not count), the best of
the rounds: a small Observation as a hospital sends one, HL7's Observation example, its
blood-pressure panel, and every HL7 R4 example of the stored types (data/fhir/examples/),
median, 90th percentile and mean; and, beside it, the `fhir.resources` R4B model alone on
the small Observation (what decision 0005 first planned to validate with).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SMALL = (
    b'{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":'
    b'"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],'
    b'"code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"subject":'
    b'{"reference":"Patient/1"},"effectiveDateTime":"2026-03-01T08:00:00+07:00",'
    b'"valueQuantity":{"value":102.5,"unit":"cm","system":"http://unitsofmeasure.org",'
    b'"code":"cm"}}'
)


def _cpu_us(run: Callable[[], object], *, number: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(number):
            run()
        best = min(best, (time.process_time() - started) / number)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.smoke else 7
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
    import django

    django.setup()
    from fhir.resources.R4B import get_fhir_model_class

    from cityhealth.core.exactjson import loads
    from cityhealth.records import errors
    from cityhealth.records.validation import validate_resource

    folder = ROOT / "data" / "fhir" / "examples"
    examples = {path.name: loads(path.read_bytes()) for path in sorted(folder.glob("*.json"))}

    def check(body: dict[str, Any]) -> None:
        # (HL7's two examples with a reference to a forbidden type are refused: still timed)
        with contextlib.suppress(errors.InvalidResource):
            validate_resource(body)

    small = loads(SMALL)
    check(small)
    number = 100 if args.smoke else 2000
    for label, body in (
        ("small Observation (a hospital's vital sign)", small),
        ("HL7 Observation-example.json", examples["Observation-example.json"]),
        ("HL7 Observation-blood-pressure.json", examples["Observation-blood-pressure.json"]),
    ):
        cost = _cpu_us(functools.partial(check, body), number=number, rounds=rounds)
        print(f"{label:<46} {cost:8.1f} µs")
    model = get_fhir_model_class("Observation")
    model_us = _cpu_us(lambda: model.model_validate(small), number=number, rounds=rounds)
    print(f"{'  (R4B model alone, same small Observation)':<46} {model_us:8.1f} µs")

    each = []
    for body in examples.values():
        runs = 3 if args.smoke else 20
        each.append(_cpu_us(functools.partial(check, body), number=runs, rounds=rounds))
    each.sort()
    print(
        f"{len(each)} HL7 examples: median {statistics.median(each):.0f} µs, "
        f"90th percentile {each[int(len(each) * 0.9)]:.0f} µs, "
        f"mean {statistics.fmean(each):.0f} µs, largest {each[-1] / 1000:.1f} ms "
        "(the 760 kB DiagnosticReport with a PDF inside)"
    )


if __name__ == "__main__":
    main()
