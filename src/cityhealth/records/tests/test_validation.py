"""Broken variants of HL7's R4 examples: each is refused, and the refusal names the element at
fault as a FHIRPath (what an OperationOutcome's `expression` carries).

Two corpora: hand-made variants, one per kind of fault (wrong JSON types, unknown elements,
missing required elements, codes outside a required binding, malformed dates, ids and
references, two values of one choice, a wrong `resourceType`...), and variants generated from
every example (each required element removed, each date made impossible, an unknown element
added). On both, the `fhir.resources` R4B models serve as a second opinion: whatever they
refuse is refused here too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cityhealth.core.datafiles import data_path
from cityhealth.core.errors import InvalidInput
from cityhealth.core.exactjson import JsonDecimal, loads
from cityhealth.records import errors
from cityhealth.records.tests import hl7_examples
from cityhealth.records.types import SUPPORTED_TYPES
from cityhealth.records.validation import validate_resource

Change = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Change:
    """Set the element at a dotted path (`component.0.valueString`), creating nothing else."""

    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _drop(path: str) -> Change:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


def _both(*changes: Change) -> Change:
    def change(body: dict[str, Any]) -> None:
        for one in changes:
            one(body)

    return change


BP = "Observation-blood-pressure.json"
MEDRX = "MedicationRequest-medrx0302.json"
ALLERGY = "AllergyIntolerance-example.json"
CONDITION = "Condition-example.json"
# (case, example, change, the element named)
BROKEN: list[tuple[str, str, Change, str]] = [
    # wrong JSON types
    ("a code given as a number", BP, _set("status", 5), "Observation.status"),
    ("a decimal given as a string", BP, _set("component.0.valueQuantity.value", "107"),
     "Observation.component[0].valueQuantity.value"),
    ("a boolean given as a string", ALLERGY, _set("code.coding.0.userSelected", "true"),
     "AllergyIntolerance.code.coding[0].userSelected"),
    ("an integer with a fraction", "Observation-example.json",
     _both(_drop("valueQuantity"), _set("valueInteger", JsonDecimal("5.0"))),
     "Observation.valueInteger"),
    ("an integer beyond 32 bits", "Observation-example.json",
     _both(_drop("valueQuantity"), _set("valueInteger", 2**31)), "Observation.valueInteger"),
    ("a repeating element given once", BP, _set("identifier", {"value": "x"}),
     "Observation.identifier"),
    ("a single element given as an array", BP, _set("subject", [{"reference": "Patient/1"}]),
     "Observation.subject"),
    ("an object given as a string", BP, _set("code", "85354-9"), "Observation.code"),
    ("a string given as an object", BP, _set("code.text", {"value": "x"}), "Observation.code.text"),
    # unknown elements
    ("an element R4 has not", BP, _set("colour", "red"), "Observation.colour"),
    ("an element of another type", BP, _set("component.1.gender", "male"),
     "Observation.component[1].gender"),
    ("an element in a data type", BP, _set("code.coding.0.version2", "1"),
     "Observation.code.coding[0].version2"),
    ("R4B's valueRatioRange in an extension", BP,
     _set("extension", [{"url": "http://example.org/x", "valueRatioRange": {"denominator": {}}}]),
     "Observation.extension[0].valueRatioRange"),
    ("an R5 name", CONDITION, _set("participant", [{"actor": {"reference": "Practitioner/1"}}]),
     "Condition.participant"),
    # missing required elements
    ("no status", BP, _drop("status"), "Observation.status"),
    ("no code", BP, _drop("code"), "Observation.code"),
    ("no code in a component", BP, _drop("component.0.code"), "Observation.component[0].code"),
    ("no medication", MEDRX, _drop("medicationReference"), "MedicationRequest.medication[x]"),
    ("no url on an extension", BP, _set("extension", [{"valueString": "x"}]),
     "Observation.extension[0].url"),
    # codes outside a required binding
    ("a status that is not one", BP, _set("status", "done"), "Observation.status"),
    ("an intent that is not one", MEDRX, _set("intent", "wish"), "MedicationRequest.intent"),
    ("an identifier use that is not one", BP, _set("identifier.0.use", "primary"),
     "Observation.identifier[0].use"),
    ("a quantity comparator that is not one", BP, _set("component.0.valueQuantity.comparator", "~"),
     "Observation.component[0].valueQuantity.comparator"),
    ("a clinical status from another code system", ALLERGY,
     _set("clinicalStatus.coding.0.system", "http://snomed.info/sct"),
     "AllergyIntolerance.clinicalStatus"),
    ("a code in a contained resource", MEDRX, _set("contained.0.status", "gone"),
     "MedicationRequest.contained[0].status"),
    ("a code in an extension's value", BP,
     _set("extension", [{"url": "http://example.org/x", "valueContactPoint": {"system": "fax2"}}]),
     "Observation.extension[0].valueContactPoint.system"),
    # malformed dates, times, ids, uris
    ("a month 13", BP, _set("effectiveDateTime", "1999-13-01"), "Observation.effectiveDateTime"),
    ("the 30th of February", BP, _set("effectiveDateTime", "2012-02-30"),
     "Observation.effectiveDateTime"),
    ("a time without its offset", BP, _set("effectiveDateTime", "2012-09-17T10:00:00"),
     "Observation.effectiveDateTime"),
    ("an instant without a time", BP, _set("issued", "2012-09-17"), "Observation.issued"),
    ("a date in words", ALLERGY, _set("recordedDate", "yesterday"),
     "AllergyIntolerance.recordedDate"),
    ("a logical id with a space", BP, _set("id", "blood pressure"), "Observation.id"),
    ("a logical id of 65 characters", BP, _set("id", "x" * 65), "Observation.id"),
    ("a code with a double space", BP, _set("code.coding.0.code", "85354  9"),
     "Observation.code.coding[0].code"),
    ("a uri with a space", BP, _set("code.coding.0.system", "http://loinc .org"),
     "Observation.code.coding[0].system"),
    ("base64 that is not", "DiagnosticReport-gingival-mass.json",
     _set("presentedForm.0.data", "not base64!"), "DiagnosticReport.presentedForm[0].data"),
    ("a narrative that is not a div", BP, _set("text.div", "<p>hi</p>"), "Observation.text.div"),
    # malformed references
    ("a reference without an id", BP, _set("subject", {"reference": "Patient/"}),
     "Observation.subject.reference"),
    ("a reference to a misspelt type", BP, _set("subject", {"reference": "Patinet/example"}),
     "Observation.subject.reference"),
    ("a reference with a space", BP, _set("subject", {"reference": "Patient/ex ample"}),
     "Observation.subject.reference"),
    ("a reference to a type the element forbids", BP,
     _set("subject", {"reference": "Encounter/1"}), "Observation.subject.reference"),
    ("an absolute reference to a forbidden type", BP,
     _set("subject", {"reference": "http://example.org/fhir/Medication/1"}),
     "Observation.subject.reference"),
    ("a local reference to nothing contained", BP, _set("subject", {"reference": "#p1"}),
     "Observation.subject.reference"),
    # choices
    ("two values", BP, _set("component.0.valueString", "107"), "Observation.component[0].value[x]"),
    ("two effective times", BP, _set("effectivePeriod", {"start": "2012-09-17"}),
     "Observation.effective[x]"),
    ("a choice type R4 does not allow there", BP, _set("component.0.valueUri", "http://x"),
     "Observation.component[0].valueUri"),
    # nulls and empties
    ("a null", BP, _set("issued", None), "Observation.issued"),
    ("an empty string", BP, _set("code.text", ""), "Observation.code.text"),
    ("an empty object", BP, _set("subject", {}), "Observation.subject"),
    ("an empty array", BP, _set("category", []), "Observation.category"),
    ("a null in an array of objects", BP, _set("category", [None]), "Observation.category[0]"),
    # resourceType
    ("a resourceType that is not R4", BP, _set("resourceType", "Observations"), "resourceType"),
    ("no resourceType", BP, _drop("resourceType"), "resourceType"),
    ("a contained resource of no type", MEDRX, _drop("contained.0.resourceType"),
     "MedicationRequest.contained[0].resourceType"),
    ("a contained resource of an unknown type", MEDRX,
     _set("contained.0.resourceType", "Medicine"), "MedicationRequest.contained[0].resourceType"),
]  # fmt: skip


def _broken(name: str, change: Change) -> dict[str, Any]:
    body = hl7_examples.example(name)
    change(body)
    return body


def _named(body: Any) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        validate_resource(body)
    issues = getattr(refused.value, "issues", None)
    return [path for path, _ in issues] if issues else [refused.value.field or ""]


@pytest.mark.parametrize(
    ("name", "change", "element"),
    [pytest.param(name, change, element, id=case) for case, name, change, element in BROKEN],
)
def test_a_broken_resource_is_refused_naming_the_element(name, change, element):
    assert _named(_broken(name, change)) == [element]


@pytest.mark.parametrize(
    ("name", "change"), [pytest.param(name, change, id=case) for case, name, change, _ in BROKEN]
)
def test_every_issue_is_said_in_vietnamese_and_in_english(name, change):
    with pytest.raises(InvalidInput) as refused:
        validate_resource(_broken(name, change))
    for _path, message in getattr(refused.value, "issues", None) or []:
        assert isinstance(message, errors.Said)
        assert message.vi != message
        assert not message.vi.isascii()  # with its diacritics


def test_every_issue_is_reported_not_only_the_first():
    body = _broken(BP, _both(_set("status", "done"), _drop("code"), _set("colour", "red")))
    assert sorted(_named(body)) == ["Observation.code", "Observation.colour", "Observation.status"]


def test_r4s_extension_value_meta_is_accepted_though_r4b_dropped_it():
    meta = {"versionId": "3", "tag": [{"system": "http://example.org", "code": "x"}]}
    body = _broken(BP, _set("extension", [{"url": "http://example.org/m", "valueMeta": meta}]))
    assert validate_resource(body) is body
    with pytest.raises(ValidationError):
        get_fhir_model_class("Observation").model_validate(body)
    meta["versionId"] = ""
    assert _named(body) == ["Observation.extension[0].valueMeta.versionId"]


def test_null_placeholders_of_a_primitive_array_with_extensions_are_fine():
    person = {
        "resourceType": "RelatedPerson",
        "id": "rp",
        "patient": {"reference": "Patient/1"},
        "name": [{"given": ["Lan", None], "_given": [None, {"extension": [_ext()]}]}],
    }
    body = _broken(BP, _set("contained", [person]))
    assert validate_resource(body) is body


def _ext() -> dict[str, Any]:
    return {
        "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier",
        "valueCode": "CL",
    }


def test_nan_and_infinity_are_not_json():
    with pytest.raises(ValueError, match="NaN"):
        loads(b'{"resourceType": "Observation", "valueDecimal": NaN}')


def test_r4s_definitions_describe_every_type_the_store_keeps():
    # data/fhir/build_r4_structure.py is rerun when SUPPORTED_TYPES grows.
    structure = loads(data_path("fhir", "r4-structure.json").read_bytes())
    assert set(SUPPORTED_TYPES) <= set(structure["types"])


def test_a_type_the_store_does_not_keep_is_refused_as_such():
    with pytest.raises(InvalidInput) as refused:
        validate_resource({"resourceType": "Medication", "status": "active"})
    assert (refused.value.code, refused.value.field) == (
        "resource.unsupported_type",
        "resourceType",
    )


def _generated() -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """Variants of every example: each present required element removed (R4B's models say
    which are required, a second opinion on ours), each full date made impossible, an
    unknown element added."""
    for name in hl7_examples.names():
        if name in hl7_examples.ERRATA:
            continue
        example = hl7_examples.example(name)
        resource_type = example["resourceType"]
        model = get_fhir_model_class(resource_type)
        for field_name, field in model.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            required = field.is_required() or extra.get("element_required")
            key = field.alias or field_name
            if required and key in example and key != "resourceType":
                body = copy.deepcopy(example)
                del body[key]
                yield f"{name} without {key}", name, body, f"{resource_type}.{key}"
        for key, value in example.items():
            if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" == value[7:8]:
                body = copy.deepcopy(example)
                body[key] = "2023-02-29" + value[10:]
                yield f"{name} {key} on 29 February 2023", name, body, f"{resource_type}.{key}"
        body = copy.deepcopy(example)
        body["madeUp"] = True
        yield f"{name} with madeUp", name, body, f"{resource_type}.madeUp"


GENERATED = list(_generated())


def test_the_generated_corpus_is_large_and_covers_every_example():
    assert len(GENERATED) > 500
    assert {name for _, name, _, _ in GENERATED} == set(hl7_examples.names()) - set(
        hl7_examples.ERRATA
    )


def test_each_generated_variant_is_refused_naming_the_element():
    wrong = {
        case: named for case, _, body, element in GENERATED if (named := _named(body)) != [element]
    }
    assert wrong == {}


def test_whatever_the_r4b_models_refuse_is_refused_here_too():
    variants = [_broken(name, change) for _, name, change, _ in BROKEN]
    # (the R4B models take seconds over the 700 kB attachment of gingival-mass's variants)
    variants += [body for _, name, body, _ in GENERATED if "gingival" not in name]
    missed = []
    for body in variants:
        try:
            get_fhir_model_class(body.get("resourceType") or "").model_validate(body)
        except (ValidationError, KeyError, ValueError):
            try:
                validate_resource(body)
            except errors.InvalidResource:
                continue
            except InvalidInput:
                continue
            missed.append(body)
    assert missed == []
