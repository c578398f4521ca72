"""Builds `search-parameters.json` from HL7's R4 package (see SOURCE.md).

    .venv/bin/python data/fhir/build_search_parameters.py /path/to/hl7.fhir.r4.examples-4.0.1

Keeps the parameters of the types the shared record stores plus the common ones, each
compacted to what the search engine needs, the choice elements those paths may cross (from
fhirpathpy's R4 model, a development dependency), and the Patient compartment's parameters.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))

from cityhealth.records.types import SUPPORTED_TYPES  # noqa: E402

COMMON = ("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source")
KINDS = ("token", "string", "reference", "date", "quantity", "uri", "number")
# Every R4 resource type, to write a target list naming all of them as "*".
ALL_TYPES_AT_LEAST = 100


def per_type_paths(expression: str, types: list[str]) -> dict[str, str]:
    parts = [part.strip() for part in expression.split(" | ")]
    paths: dict[str, str] = {}
    for resource_type in types:
        mine = [
            part
            for part in parts
            if re.match(rf"^\(?{resource_type}[.\s)]", part + " ") or part == resource_type
        ]
        if mine:
            paths[resource_type] = " | ".join(mine)
    return paths


def build(package: Path) -> dict[str, Any]:
    from fhirpathpy.models import models  # type: ignore[import-untyped]

    ours = set(SUPPORTED_TYPES)
    parameters: list[dict[str, Any]] = []
    unsupported: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(package.glob("SearchParameter-*.json")):
        definition = json.loads(path.read_text())
        if definition.get("resourceType") != "SearchParameter" or not definition.get("base"):
            continue
        if not definition["url"].startswith("http://hl7.org/fhir/SearchParameter/"):
            continue
        if definition.get("experimental"):  # HL7's examples and extension parameters
            continue
        code, kind = definition["code"], definition["type"]
        bases = [b for b in definition["base"] if b in ours]
        if definition["base"] == ["DomainResource"]:  # _text
            unsupported.append(
                {"code": code, "base": ["Resource"], "type": kind, "reason": "special"}
            )
            continue
        if definition["base"] == ["Resource"]:
            if code not in COMMON:
                if code not in ("_query", "_filter", "_content", "_text"):
                    continue
                unsupported.append(
                    {"code": code, "base": ["Resource"], "type": kind, "reason": "special"}
                )
                continue
            bases = ["Resource"]
        if not bases:
            continue
        if code in ("_text", "_content"):
            unsupported.append({"code": code, "base": bases, "type": kind, "reason": "special"})
            continue
        expression = definition.get("expression") or ""
        if kind not in KINDS:
            reason = "composite" if kind == "composite" else "special"
            unsupported.append(
                {
                    "code": code,
                    "base": bases,
                    "type": kind,
                    "expression": expression,
                    "reason": reason,
                }
            )
            continue
        paths = (
            {"Resource": expression} if bases == ["Resource"] else per_type_paths(expression, bases)
        )
        for base in bases:
            if (base, code) in seen:
                raise SystemExit(f"{base}.{code} defined twice")
            seen.add((base, code))
        targets = definition.get("target") or []
        entry: dict[str, Any] = {
            "code": code,
            "type": kind,
            "base": bases,
            "expression": expression,
            "paths": paths,
        }
        if targets:
            entry["target"] = ["*"] if len(targets) >= ALL_TYPES_AT_LEAST else sorted(targets)
        parameters.append(entry)

    choices = {
        path: types
        for path, types in sorted(models["r4"]["choiceTypePaths"].items())
        if path.split(".")[0] in ours
    }
    compartment_definition = json.loads(
        (package / "CompartmentDefinition-patient.json").read_text()
    )
    compartment = {
        item["code"]: item["param"]
        for item in compartment_definition["resource"]
        if item["code"] in ours and item.get("param")
    }
    return {
        "source": "hl7.fhir.r4.examples 4.0.1 (HL7 FHIR R4, CC0): SearchParameter-*.json, "
        "CompartmentDefinition-patient.json; choice elements from fhirpathpy's R4 model",
        "parameters": parameters,
        "unsupported": unsupported,
        "choices": choices,
        "patient_compartment": compartment,
    }


def main() -> None:
    package = Path(sys.argv[1])
    built = build(package)
    target = HERE / "search-parameters.json"
    target.write_text(json.dumps(built, ensure_ascii=False, indent=1, sort_keys=False) + "\n")
    print(f"{len(built['parameters'])} parameters, {len(built['unsupported'])} unsupported")


if __name__ == "__main__":
    main()
