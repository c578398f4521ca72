"""The search parameters the shared record serves, read once from `data/fhir/
search-parameters.json` (HL7's R4 definitions, compacted; see data/fhir/SOURCE.md) and
compiled into extractors. A parameter whose expression the compiler cannot handle is kept
out of the engine and listed by `unsupported()`, so the CapabilityStatement can say so."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from cityhealth.core.datafiles import data_path
from cityhealth.records.search.compiler import Extractor, Unsupported, compile_with_keys
from cityhealth.records.types import SUPPORTED_TYPES

KINDS = ("token", "string", "reference", "date", "quantity", "uri", "number")
# Parameters answered from the current table's own columns, not from an index table.
COLUMN_PARAMS = ("_id", "_lastUpdated")


@dataclass(frozen=True)
class SearchParam:
    code: str
    kind: str
    resource_type: str
    path: str
    targets: tuple[str, ...] = ()
    extractor: Extractor | None = field(default=None, compare=False, repr=False)
    # The resource's top-level elements the expression reads.
    keys: frozenset[str] = frozenset()

    def target_types(self) -> tuple[str, ...]:
        """The types a reference may point to that this store serves."""
        if not self.targets or self.targets == ("*",):
            return SUPPORTED_TYPES
        return tuple(t for t in self.targets if t in SUPPORTED_TYPES)


@dataclass(frozen=True)
class Registry:
    by_type: dict[str, dict[str, SearchParam]]
    # type → top-level element → the extracted parameters that read it
    by_element: dict[str, dict[str, tuple[SearchParam, ...]]]
    unsupported: tuple[dict[str, Any], ...]
    choices: dict[str, tuple[str, ...]]
    compartment: dict[str, tuple[str, ...]]


@functools.cache
def raw_definitions() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        data_path("fhir", "search-parameters.json").read_text(encoding="utf-8")
    )
    return loaded


@functools.cache
def registry() -> Registry:
    raw = raw_definitions()
    choices = {path: tuple(types) for path, types in raw["choices"].items()}
    unsupported: list[dict[str, Any]] = list(raw["unsupported"])
    by_type: dict[str, dict[str, SearchParam]] = {t: {} for t in SUPPORTED_TYPES}
    for definition in raw["parameters"]:
        targets = tuple(definition.get("target", ()))
        for base, path in definition["paths"].items():
            types = SUPPORTED_TYPES if base == "Resource" else (base,)
            for resource_type in types:
                concrete = path.replace("Resource.", f"{resource_type}.")
                try:
                    extractor, keys = (
                        (None, frozenset[str]())
                        if definition["code"] in COLUMN_PARAMS
                        else compile_with_keys(concrete, choices=choices)
                    )
                except Unsupported as why:
                    if base == "Resource" and resource_type != SUPPORTED_TYPES[0]:
                        continue
                    unsupported.append(
                        {
                            "code": definition["code"],
                            "base": [base],
                            "type": definition["type"],
                            "expression": path,
                            "reason": str(why),
                        }
                    )
                    continue
                by_type[resource_type][definition["code"]] = SearchParam(
                    code=definition["code"],
                    kind=definition["type"],
                    resource_type=resource_type,
                    path=concrete,
                    targets=targets,
                    extractor=extractor,
                    keys=keys,
                )
    compartment = {t: tuple(params) for t, params in raw["patient_compartment"].items()}
    by_element: dict[str, dict[str, tuple[SearchParam, ...]]] = {}
    for resource_type, params in by_type.items():
        readers: dict[str, list[SearchParam]] = {}
        for definition in params.values():
            for key in definition.keys:
                readers.setdefault(key, []).append(definition)
        by_element[resource_type] = {key: tuple(found) for key, found in readers.items()}
    return Registry(
        by_type=by_type,
        by_element=by_element,
        unsupported=tuple(unsupported),
        choices=choices,
        compartment=compartment,
    )


def params_for(resource_type: str) -> dict[str, SearchParam]:
    """code → parameter, for one type (the common ones included)."""
    return registry().by_type.get(resource_type, {})


def readers_of(resource_type: str) -> dict[str, tuple[SearchParam, ...]]:
    """top-level element → the parameters whose extractors read it, for one type."""
    return registry().by_element.get(resource_type, {})


def param(resource_type: str, code: str) -> SearchParam | None:
    return params_for(resource_type).get(code)


def unsupported() -> tuple[dict[str, Any], ...]:
    return registry().unsupported


def compartment_params(resource_type: str) -> tuple[str, ...]:
    """The Patient compartment's parameters of a type, `subject` and `patient` first (they
    name the person the resource is about; the others may name a patient who acted)."""
    params = registry().compartment.get(resource_type, ())
    first = tuple(p for p in ("subject", "patient") if p in params)
    return first + tuple(p for p in params if p not in first)
