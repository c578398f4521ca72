"""Is this valid FHIR R4? One walk of the resource over R4's own definitions
(`data/fhir/r4-structure.json`, built from HL7's R4 StructureDefinitions and value sets),
and every refusal names the element as a FHIRPath (`Observation.component[1].valueQuantity.value`).

What it checks, everywhere in the resource (data types, extensions and contained resources
included): that every element is one R4 defines there; arrays where R4 repeats an element
and single values where it doesn't; required elements, and exactly one of a required choice
`value[x]` (never two); each primitive's JSON type and R4 pattern (dates that are real
dates, integers that are integers and fit, decimals that are numbers); the codes of every
*required* binding whose value set can be listed (`Observation.status = "nope"`); references
(`Type/id`, an absolute URL, `urn:uuid:`, `#` a contained resource; a transaction's
conditional `Type?query`) and the resource types each element may point to; no `null`,
`""`, `{}` or `[]`, except the `null` placeholders of an array of primitives that has
extensions. Not checked: invariants (FHIRPath constraints), extensible and preferred
bindings, value sets that can't be listed (MIME types, languages, UCUM), the XHTML inside a
narrative beyond being a `<div>`.

Why not the `fhir.resources` models (decision 0005)? They are R4B, and for the types stored
here R4 and R4B differ in `Extension.value[x]`: R4 has `valueMeta`, which R4B dropped, and
R4B added `valueCodeableReference` and `valueRatioRange` (compared element by element,
name, cardinality and type, against R4's StructureDefinitions; nothing else differs). They
do not check codes or reference targets, they read `null` as absent, and they take 200–350 µs
for an Observation where this walk takes a fraction of it. They remain the check of a
contained resource of a type not described here.

What is stored is the resource as sent: the models' re-serialisation would have rewritten
`+00:00` as `Z`, `1.50` as `1.5` and `1.0E+245` as 246 digits. Numbers keep their text
(`core.exactjson`); only `meta.versionId`, `meta.lastUpdated` and `meta.source` are the
store's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cityhealth.core.datafiles import data_path
from cityhealth.core.exactjson import JsonDecimal, loads
from cityhealth.records import errors
from cityhealth.records.errors import Said
from cityhealth.records.types import SUPPORTED_TYPES

LOGICAL_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REFERENCE = re.compile(
    r"(?P<type>[A-Z][A-Za-z]+)(?:/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?|\?\S*)"
    r"|#\S*|urn:(?:uuid|oid):\S+|[A-Za-z][A-Za-z0-9+.\-]*://\S+"
)
_TYPE_IN_URL = re.compile(r"/([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[^/]+)?$")
_FULL_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")
_BASE64 = re.compile(r"[0-9A-Za-z+/=]*")
_INTEGER_RANGES = {
    "integer": (-(2**31), 2**31 - 1),
    "positiveInt": (1, 2**31 - 1),
    "unsignedInt": (0, 2**31 - 1),
}
_STRING_LIMIT = 1024 * 1024  # R4: a string is at most 1 MB
_MAX_ISSUES = 20
# What is wrong, in both languages (the answer picks the caller's): built once, not per issue.
_TRUE_OR_FALSE = Said("must be true or false", "phải là true hoặc false")
_NUMBER = Said("must be a JSON number", "phải là một số JSON")
_INTEGER = Said("must be a JSON integer", "phải là một số nguyên JSON")
_STRING = Said("must be a JSON string", "phải là một chuỗi JSON")
_TOO_LONG = Said("is longer than 1 MB", "dài quá 1 MB")
_XHTML = Said("must be an XHTML <div>", "phải là một thẻ XHTML <div>")
_MISSING = Said("is missing", "bị thiếu")
_REQUIRED = Said("is required", "là bắt buộc")
_NULL_OR_EMPTY = Said(
    "is null or empty (not allowed in FHIR)", "là null hoặc rỗng (FHIR không cho phép)"
)
_NOT_AN_ARRAY = Said(
    "is a single value in R4, not an array", "là một giá trị đơn trong R4, không phải mảng"
)
_AN_ARRAY = Said("must be an array", "phải là một mảng")
_NO_REQUIRED_CODE = Said(
    "has no code of its required value set", "không có mã nào thuộc tập giá trị bắt buộc của nó"
)


def _not_element(key: str) -> Said:
    return Said(
        f"is not an element of {key} in FHIR R4", f"không phải phần tử của {key} trong FHIR R4"
    )


def _not_a_code(value: Any) -> Said:
    text = str(value)[:64]
    return Said(
        f"“{text}” is not a code of its value set",
        f"«{text}» không phải mã thuộc tập giá trị của nó",
    )


class _Element(NamedTuple):
    kind: str  # a data type, a backbone element ("Observation.component") or a primitive
    repeats: bool
    choice: str | None  # "value" for valueQuantity
    codes: frozenset[str] | None  # a required binding's codes ("system|code" for Codings)
    targets: tuple[str, ...] | None  # the resource types a Reference may point to
    check: Callable[[Any], str | None] | None = None  # a primitive's: what is wrong, or None


class _Type(NamedTuple):
    elements: dict[str, _Element]
    required: tuple[str, ...]
    required_choices: tuple[str, ...]


class _Structure(NamedTuple):
    types: dict[str, _Type]
    primitives: dict[str, Callable[[Any], str | None]]
    resource_types: frozenset[str]


def element_repeats(resource_type: str, element: str) -> bool:
    """Whether a top-level element of a resource type may occur more than once."""
    return _structure().types[resource_type].elements[element].repeats


@functools.cache
def _structure() -> _Structure:
    loaded = loads(data_path("fhir", "r4-structure.json").read_bytes())
    primitives = {
        name: _primitive_check(name, pattern) for name, pattern in loaded["primitives"].items()
    }
    types: dict[str, _Type] = {}
    for key, raw in loaded["types"].items():
        elements = {
            name: _Element(
                kind=spec["t"],
                repeats="n" in spec,
                choice=spec.get("x"),
                codes=frozenset(spec["c"]) if "c" in spec else None,
                targets=tuple(spec["r"]) if "r" in spec else None,
                check=primitives.get(spec["t"]),
            )
            for name, spec in raw.items()
        }
        required = tuple(name for name, spec in raw.items() if "m" in spec and "x" not in spec)
        choices = {spec["x"] for spec in raw.values() if "m" in spec and "x" in spec}
        types[key] = _Type(elements, required, tuple(sorted(choices)))
    # The `_name` companion of a primitive: its id and extensions.
    types["Element"] = _Type(
        {
            "id": _Element("string", False, None, None, None),
            "extension": _Element("Extension", True, None, None, None),
        },
        (),
        (),
    )
    return _Structure(types, primitives, frozenset(loaded["resourceTypes"]))


def _primitive_check(name: str, pattern: str | None) -> Callable[[Any], str | None]:
    """A function saying what is wrong with a JSON value of this primitive type, or None."""
    matches = re.compile(pattern, re.ASCII).fullmatch if pattern else None
    if name == "boolean":
        return lambda value: None if isinstance(value, bool) else _TRUE_OR_FALSE
    if name == "decimal":

        def decimal(value: Any) -> str | None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return _NUMBER
            text = value.text if isinstance(value, JsonDecimal) else str(value)
            if matches and matches(text):
                return None
            return Said(
                f"{text[:32]} is not a FHIR decimal", f"{text[:32]} không phải số thập phân FHIR"
            )

        return decimal
    if name in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[name]

        def integer(value: Any) -> str | None:
            if isinstance(value, bool) or not isinstance(value, int):
                return _INTEGER
            if low <= value <= high:
                return None
            return Said(f"must be from {low} to {high}", f"phải từ {low} đến {high}")

        return integer
    if name in ("string", "markdown"):
        # R4's pattern only refuses form feeds and vertical tabs: not worth a regex per string.
        return lambda value: (
            _STRING
            if not isinstance(value, str)
            else _TOO_LONG
            if len(value) > _STRING_LIMIT
            else None
        )
    if name == "xhtml":
        return lambda value: None if isinstance(value, str) and value.startswith("<div") else _XHTML
    if name == "base64Binary":
        # R4's pattern, groups of four, backtracks for seconds on a large attachment.
        return _base64
    dated = name in ("date", "dateTime", "instant")

    def text(value: Any) -> str | None:
        if not isinstance(value, str):
            return _STRING
        if matches is not None and not matches(value):
            return Said(
                f"“{value[:64]}” is not a valid {name}", f"«{value[:64]}» không phải {name} hợp lệ"
            )
        return _real_date(value) if dated else None

    return text


def _base64(value: Any) -> str | None:
    if not isinstance(value, str):
        return _STRING
    packed = "".join(value.split())
    if len(packed) % 4 or not _BASE64.fullmatch(packed):
        return Said("is not base64", "không phải base64")
    return None


def _real_date(value: str) -> str | None:
    day = _FULL_DATE.match(value)
    if day is None:
        return None
    try:
        dt.date(int(day[1]), int(day[2]), int(day[3]))
    except ValueError:
        return Said(f"{day[0]} is not a date", f"{day[0]} không phải một ngày có thật")
    return None


def validate_resource(body: Any) -> dict[str, Any]:
    """The resource as sent, if it is valid FHIR R4; InvalidResource (every issue with the
    element it is about) if not."""
    if not isinstance(body, dict):
        raise errors.InvalidResource(
            issues=[
                ("", Said("a resource is a JSON object", "tài nguyên phải là một đối tượng JSON"))
            ]
        )
    resource_type = body.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise errors.InvalidResource(issues=[("resourceType", _MISSING)])
    if resource_type not in SUPPORTED_TYPES:
        raise errors.unsupported_type(resource_type[:64])
    if "id" in body and not (isinstance(body["id"], str) and LOGICAL_ID.fullmatch(body["id"])):
        raise errors.InvalidResource(
            issues=[
                (
                    f"{resource_type}.id",
                    Said(
                        "is 1–64 letters, digits, '-' or '.'",
                        "gồm 1–64 chữ cái, chữ số, '-' hoặc '.'",
                    ),
                )
            ]
        )
    walk = _Walk(body)
    walk.resource(body, resource_type, resource_type)
    if walk.issues:
        raise errors.InvalidResource(issues=walk.issues[:_MAX_ISSUES])
    return body


class _Walk:
    """One pass over a resource, collecting its issues."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.structure = _structure()
        self.types = self.structure.types
        self.issues: list[tuple[str, str]] = []
        contained = body.get("contained")
        self.contained_ids = {
            item.get("id")
            for item in (contained if isinstance(contained, list) else ())
            if isinstance(item, dict)
        }

    def resource(self, node: dict[str, Any], resource_type: str, path: str) -> None:
        if resource_type in self.types:
            self.node(node, resource_type, path, resource=True)
            return
        try:  # a contained resource of a type not described here: the R4B model checks it
            get_fhir_model_class(resource_type).model_validate(node)
        except (KeyError, ValueError) as error:
            found = error.errors() if isinstance(error, ValidationError) else ()
            self.issues += [_model_issue(path, item) for item in found] or [
                (
                    f"{path}.resourceType",
                    Said(
                        f"{resource_type[:64]} is not an R4 resource type",
                        f"{resource_type[:64]} không phải một loại tài nguyên R4",
                    ),
                )
            ]

    def node(self, node: dict[str, Any], key: str, path: str, *, resource: bool = False) -> None:
        described = self.types[key]
        elements = described.elements
        chosen: dict[str, str] = {}
        for name, value in node.items():
            element = elements.get(name)
            if element is None:
                if name[0] == "_" and name[1:] in elements:
                    self.companion(value, elements[name[1:]], f"{path}.{name[1:]}")
                elif not (resource and name == "resourceType"):
                    self.issues.append((f"{path}.{name}", _not_element(key)))
                continue
            if element.choice is not None:
                if element.choice in chosen:
                    self.issues.append(
                        (
                            f"{path}.{element.choice}[x]",
                            Said(
                                f"has two values, {chosen[element.choice]} and {name}",
                                f"có hai giá trị, {chosen[element.choice]} và {name}",
                            ),
                        )
                    )
                chosen[element.choice] = name
            check = element.check
            if check is not None and not element.repeats:  # most elements: built no path
                problem = _NULL_OR_EMPTY if value is None or value == "" else check(value)
                if problem is None and element.codes is not None and value not in element.codes:
                    problem = _not_a_code(value)
                if problem is not None:
                    self.issues.append((f"{path}.{name}", problem))
                continue
            where = f"{path}.{name}"
            if value is None or value == {} or value == [] or value == "":
                self.issues.append((where, _NULL_OR_EMPTY))
                continue
            self.shaped(value, element.repeats, element.kind, element, where, nulls=True)
        for name in described.required:
            if name not in node and f"_{name}" not in node:
                self.issues.append((f"{path}.{name}", _REQUIRED))
        for choice in described.required_choices:
            if choice not in chosen:
                self.issues.append((f"{path}.{choice}[x]", _REQUIRED))

    def companion(self, value: Any, element: _Element, where: str) -> None:
        if value is None or value == {} or value == []:
            self.issues.append((where, _NULL_OR_EMPTY))
        else:
            self.shaped(value, element.repeats, "Element", None, where, nulls=True)

    def shaped(
        self,
        value: Any,
        repeats: bool,
        kind: str,
        element: _Element | None,
        path: str,
        *,
        nulls: bool,
    ) -> None:
        if not repeats:
            if isinstance(value, list):
                self.issues.append((path, _NOT_AN_ARRAY))
            else:
                self.one(value, kind, element, path)
            return
        if not isinstance(value, list):
            self.issues.append((path, _AN_ARRAY))
            return
        placeholders = nulls and (kind == "Element" or kind in self.structure.primitives)
        for index, item in enumerate(value):
            if item is None and placeholders:
                continue  # "given": ["Ann", null] beside "_given": [null, {...}]
            if item is None or item == "" or item == {} or item == []:
                self.issues.append((f"{path}[{index}]", _NULL_OR_EMPTY))
            else:
                self.one(item, kind, element, f"{path}[{index}]")

    def one(self, value: Any, kind: str, element: _Element | None, path: str) -> None:
        if kind in self.types:
            if not isinstance(value, dict):
                self.issues.append(
                    (
                        path,
                        Said(
                            f"must be a JSON object ({kind})",
                            f"phải là một đối tượng JSON ({kind})",
                        ),
                    )
                )
                return
            self.node(value, kind, path)
            if element is None:
                return
            if kind == "Reference":
                self.reference(value, element.targets, path)
            elif element.codes is not None:
                self.coded(value, kind, element.codes, path)
            return
        if kind == "Resource":
            inner = value.get("resourceType") if isinstance(value, dict) else None
            if not isinstance(inner, str):
                self.issues.append((f"{path}.resourceType", _MISSING))
            else:
                self.resource(value, inner, path)
            return
        check = self.structure.primitives.get(kind)
        problem = check(value) if check is not None else None
        if problem is not None:
            self.issues.append((path, problem))
        elif element is not None and element.codes is not None and value not in element.codes:
            self.issues.append((path, _not_a_code(value)))

    def coded(self, value: dict[str, Any], kind: str, allowed: frozenset[str], path: str) -> None:
        codings = [value] if kind == "Coding" else value.get("coding")
        if not isinstance(codings, list) or not any(
            isinstance(coding, dict) and f"{coding.get('system')}|{coding.get('code')}" in allowed
            for coding in codings
        ):
            self.issues.append((path, _NO_REQUIRED_CODE))

    def reference(self, value: dict[str, Any], targets: tuple[str, ...] | None, path: str) -> None:
        literal = value.get("reference")
        if not isinstance(literal, str):
            return
        matched = _REFERENCE.fullmatch(literal)
        if matched is None:
            self.issues.append(
                (
                    f"{path}.reference",
                    Said(
                        f"“{literal[:64]}” is not a reference",
                        f"«{literal[:64]}» không phải một tham chiếu",
                    ),
                )
            )
            return
        if literal.startswith("#"):
            if literal != "#" and literal[1:] not in self.contained_ids:
                self.issues.append(
                    (
                        f"{path}.reference",
                        Said(
                            f"no contained resource has the id {literal[1:65]}",
                            f"không có tài nguyên lồng (contained) nào có id {literal[1:65]}",
                        ),
                    )
                )
            return
        in_url = _TYPE_IN_URL.search(literal) if matched["type"] is None else None
        target = matched["type"] or (in_url[1] if in_url else None)
        if target is None:
            return
        if target not in self.structure.resource_types:
            self.issues.append(
                (
                    f"{path}.reference",
                    Said(
                        f"{target[:64]} is not a resource type",
                        f"{target[:64]} không phải một loại tài nguyên",
                    ),
                )
            )
        elif targets is not None and target not in targets:
            allowed = ", ".join(targets)
            self.issues.append(
                (
                    f"{path}.reference",
                    Said(
                        f"must refer to {allowed}, not {target}",
                        f"phải tham chiếu tới {allowed}, không phải {target}",
                    ),
                )
            )


def _model_issue(root: str, item: Any) -> tuple[str, str]:
    """An issue the R4B model found (its own words are English: quoted in the Vietnamese)."""
    path = root
    for part in item["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "a").isalnum():
            path += "." + part.lstrip("_")
    detail = str(item["msg"]).removeprefix("Value error, ")
    message = Said(detail, f"không hợp lệ theo mô hình R4B: {detail}")
    if item["type"] in ("missing", "model_field_validation.missing"):
        message = _REQUIRED
    elif item["type"] == "extra_forbidden":
        message = Said(
            "is not an element of FHIR R4 here", "không phải một phần tử của FHIR R4 ở đây"
        )
    return path, message
