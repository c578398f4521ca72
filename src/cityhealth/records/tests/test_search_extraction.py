"""The compiled extractors against a real FHIRPath engine: for every HL7 R4 example resource
of the served types (vendored in `data/fhir/examples/`, CC0) and every search parameter of
its type, the extractor selects exactly what fhirpathpy selects. Also the parts the engine
depends on: the compiler's subset, dates as ranges, the string folding."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from cityhealth.core.datafiles import data_path
from cityhealth.core.text import fold_for_search
from cityhealth.records.search import definitions
from cityhealth.records.search.compiler import Unsupported, compile_path, reference_type
from cityhealth.records.search.dates import LATEST, date_range
from cityhealth.records.search.extract import extract
from cityhealth.records.types import SUPPORTED_TYPES


def examples() -> list[dict[str, Any]]:
    """HL7's example resources of the served types: {"file", "resource"}."""
    found = []
    for path in sorted(data_path("fhir", "examples").glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource.get("resourceType") in SUPPORTED_TYPES:
            found.append({"file": path.name, "resource": resource})
    assert len(found) > 250  # the vendored examples are there
    return found


def _plain(value: Any) -> Any:
    """fhirpathpy's and our values in one comparable form (its decimals, dates and nodes)."""
    value = getattr(value, "data", value)
    if isinstance(value, dict):
        return json.dumps({k: _plain(v) for k, v in value.items()}, sort_keys=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return str(Decimal(str(value)).normalize())
    if isinstance(value, str):
        try:
            return str(Decimal(value).normalize())
        except ArithmeticError:
            return value
    return str(value)


def test_every_extractor_selects_what_fhirpath_selects_on_every_hl7_example():
    fhirpathpy = pytest.importorskip("fhirpathpy")
    from fhirpathpy.engine.nodes import ResourceNode
    from fhirpathpy.models import models

    evaluated: list[dict[str, Any]] = []  # the example being evaluated, for resolve()

    def resolve(collection: list[Any]) -> list[Any]:
        # resolve() is only asked its type (`is Patient`): the type the reference names.
        root = evaluated[-1]
        found = (reference_type(getattr(n, "data", n), root) for n in collection)
        return [ResourceNode.create_node({"resourceType": t}, t) for t in found if t]  # type: ignore[no-untyped-call]

    options = {"userInvocationTable": {"resolve": {"fn": resolve, "arity": {0: []}}}}
    compiled: dict[str, Callable[..., list[Any]]] = {}

    def evaluate(resource: dict[str, Any], path: str) -> list[Any]:
        # Parsed once per expression (parsing is nearly all of fhirpathpy.evaluate's time).
        if path not in compiled:
            compiled[path] = fhirpathpy.compile(path, models["r4"], options)
        return compiled[path](resource, {})

    checked = 0
    differences: list[str] = []
    for example in examples():
        resource = example["resource"]
        evaluated.append(resource)
        for code, definition in definitions.params_for(resource["resourceType"]).items():
            if definition.extractor is None:
                continue
            try:
                wanted = evaluate(resource, definition.path)
            except ValueError:
                # FHIRPath's `as` takes one item; search engines apply it to each, as ofType().
                per_item = re.sub(r" as (\w+)\)", r".ofType(\1))", definition.path)
                wanted = evaluate(resource, per_item)
            got = definition.extractor(resource)
            checked += 1
            if sorted(map(_plain, wanted), key=str) != sorted(map(_plain, got), key=str):
                differences.append(f"{example['file']} {code}: {wanted!r} != {got!r}")
    assert checked > 6000
    assert differences == []


def test_every_example_is_indexed_without_error_and_yields_rows():
    rows = 0
    for example in examples():
        entries = extract(example["resource"]["resourceType"], example["resource"])
        rows += sum(len(getattr(entries, kind)) for kind in definitions.KINDS)
    assert rows > 3000


def test_the_definitions_cover_every_served_type_and_report_what_is_not_compiled():
    assert definitions.param("Observation", "code") is not None
    assert definitions.param("Patient", "identifier") is not None
    assert definitions.param("Encounter", "_lastUpdated") is not None
    assert definitions.param("Subscription", "_tag") is not None
    unsupported = {(u["code"], u["reason"]) for u in definitions.unsupported()}
    assert ("code-value-quantity", "composite") in unsupported
    assert ("near", "special") in unsupported
    assert definitions.compartment_params("Observation") == ("subject", "performer")


@pytest.mark.parametrize(
    "expression",
    [
        "Observation.code.memberOf('http://x')",
        "Observation.code.first()",
        "Observation.subject as Reference",  # `as` on an element that is not a choice
        "Observation.value as Money",
        "Observation.status = 'final'",
    ],
)
def test_an_expression_outside_the_subset_is_refused_at_compile_time(expression):
    with pytest.raises(Unsupported):
        compile_path(expression, choices=definitions.registry().choices)


def test_compiled_forms_pick_choice_types_references_and_literals():
    choices = definitions.registry().choices
    resource = {
        "resourceType": "Observation",
        "valueQuantity": {"value": 3},
        "subject": {"reference": "https://other.example/fhir/Group/7/_history/2"},
        "performer": [{"reference": "Patient/1"}, {"reference": "#p"}],
        "contained": [{"resourceType": "Patient", "id": "p"}],
    }
    assert compile_path("Observation.value", choices=choices)(resource) == [{"value": 3}]
    assert compile_path("Observation.value.as(string)", choices=choices)(resource) == []
    typed = compile_path("Observation.performer.where(resolve() is Patient)", choices=choices)
    assert typed(resource) == resource["performer"]
    groups = compile_path("Observation.subject.where(resolve() is Group)", choices=choices)
    assert groups(resource) == [resource["subject"]]
    telecom = compile_path("Practitioner.telecom.where(system='email')", choices=choices)
    contacts = {"telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "a"}]}
    assert telecom(contacts) == [{"system": "email", "value": "a"}]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2024", "2023-12-31T17:00:00+00:00", "2024-12-31T16:59:59.999999+00:00"),
        ("2024-02", "2024-01-31T17:00:00+00:00", "2024-02-29T16:59:59.999999+00:00"),
        ("2024-12", "2024-11-30T17:00:00+00:00", "2024-12-31T16:59:59.999999+00:00"),
        ("2024-03-01", "2024-02-29T17:00:00+00:00", "2024-03-01T16:59:59.999999+00:00"),
        ("2024-03-01T10:00Z", "2024-03-01T10:00:00+00:00", "2024-03-01T10:00:59.999999+00:00"),
        ("2024-03-01T10:00:05Z", "2024-03-01T10:00:05+00:00", "2024-03-01T10:00:05.999999+00:00"),
        (
            "2024-03-01T10:00:05.5Z",
            "2024-03-01T10:00:05.500000+00:00",
            "2024-03-01T10:00:05.599999+00:00",
        ),
        (
            "2024-03-01T10:00:00-05:00",
            "2024-03-01T15:00:00+00:00",
            "2024-03-01T15:00:00.999999+00:00",
        ),
    ],
)
def test_a_date_is_the_whole_span_of_its_precision_in_hanoi_time(text, low, high):
    assert date_range(text) == (dt.datetime.fromisoformat(low), dt.datetime.fromisoformat(high))


def test_impossible_dates_are_not_dates_and_the_last_year_has_an_end():
    assert date_range("2024-02-30") is None
    assert date_range("2024-13") is None
    assert date_range("March 2024") is None
    found = date_range("9999")
    assert found is not None
    assert found[1] == LATEST


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Nguyễn", "nguyen"), ("ĐẶNG VĂN ĐỨC", "dang van duc"), ("Hường  Thị", "huong thi")],
)
def test_vietnamese_names_fold_to_plain_lower_case(text, folded):
    assert fold_for_search(text) == folded
