"""A FHIR search as a `searchset` Bundle: the matches and what `_include`/`_revinclude`
brought (search.mode match/include), absolute self/next/previous links that page by keyset,
the total when asked, `_summary` and `_elements` applied to each resource, and a warning
entry for the parameters `Prefer: handling=lenient` let through."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from django.http import HttpRequest
from fhir.resources.R4B import get_fhir_model_class

from cityhealth.core import exactjson
from cityhealth.fhir.access import access_of
from cityhealth.records import selectors
from cityhealth.records.models import Resource

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
_ALWAYS = ("resourceType", "id", "meta")


def search_params(request: HttpRequest) -> list[tuple[str, str]]:
    """The search's parameters: the query string, and for `POST …/_search` the form body
    too (FHIR allows both at once)."""
    params = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    if request.method == "POST":  # Django parsed the form (urlencoded, as FHIR asks, or multipart)
        params += [(name, value) for name, values in request.POST.lists() for value in values]
    return params


def is_lenient(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(p.strip() == "handling=lenient" for p in prefer.split(";") + prefer.split(","))


def search_bundle(
    request: HttpRequest,
    *,
    resource_type: str,
    params: list[tuple[str, str]] | None = None,  # a Bundle entry's, not the request's
) -> dict[str, Any]:
    result = selectors.search_resources(
        resource_type=resource_type,
        params=search_params(request) if params is None else params,
        lenient=is_lenient(request),
        accessor=access_of(request).consent,
        text=True,
    )
    base = request.build_absolute_uri("/fhir/R4/")
    link_base = f"{base}{resource_type}"
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    links = [{"relation": "self", "url": _url(link_base, result.understood)}]
    if result.next_page:
        links.append(
            {
                "relation": "next",
                "url": _url(link_base, [*result.understood, ("_page", result.next_page)]),
            }
        )
    if result.previous_page:
        links.append(
            {
                "relation": "previous",
                "url": _url(link_base, [*result.understood, ("_page", result.previous_page)]),
            }
        )
    bundle["link"] = links
    entries = [
        _entry(base, row, "match", result.summary, result.elements) for row in result.matches
    ]
    entries += [
        _entry(base, row, "include", result.summary, result.elements) for row in result.included
    ]
    if result.warnings:
        entries.append(
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "warning", "code": "not-supported", "diagnostics": warning}
                        for warning in result.warnings
                    ],
                },
                "search": {"mode": "outcome"},
            }
        )
    if entries:
        bundle["entry"] = entries
    return bundle


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def _entry(
    base: str, row: Resource, mode: str, summary: str | None, elements: list[str]
) -> dict[str, Any]:
    # The stored text goes out as it is (orjson embeds it), unless the answer cuts it.
    stored = row.body_text
    assert stored is not None  # searched with text=True
    resource: Any = orjson.Fragment(stored)
    if summary or elements:
        resource = shaped(exactjson.loads(stored), summary=summary, elements=elements)
    return {
        "fullUrl": f"{base}{row.resource_type}/{row.logical_id}",
        "resource": resource,
        "search": {"mode": mode},
    }


def shaped(body: dict[str, Any], *, summary: str | None, elements: list[str]) -> dict[str, Any]:
    """The resource as `_summary` or `_elements` ask, marked SUBSETTED when cut."""
    if summary in ("true", "text"):
        keep = _summary_elements(body["resourceType"], text=summary == "text")
        return _subset(body, lambda key: key in keep)
    if summary == "data":
        return _subset(body, lambda key: key != "text")
    if elements:
        wanted = set(elements)
        return _subset(body, lambda key: key in wanted or _choice_of(key) in wanted)
    return body


def _subset(body: dict[str, Any], keep: Any) -> dict[str, Any]:
    cut = {k: v for k, v in body.items() if k in _ALWAYS or keep(k)}
    meta = dict(cut.get("meta") or {})
    meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
    cut["meta"] = meta
    return cut


def _choice_of(key: str) -> str:
    """`valueQuantity` → `value` (so `_elements=value` keeps whichever value[x] is there)."""
    for index, char in enumerate(key[1:], start=1):
        if char.isupper():
            return key[:index]
    return key


@functools.cache
def _summary_elements(resource_type: str, *, text: bool) -> frozenset[str]:
    """The elements `_summary=true` keeps (those R4 marks isSummary; the R4B models carry
    the flag), or for `_summary=text` the text and the mandatory elements."""
    model = get_fhir_model_class(resource_type)
    flag = "element_required" if text else "summary_element_property"
    names = {
        field.alias or name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get(flag)
    }
    return frozenset(names | ({"text"} if text else set()))


RESULT_PARAMETERS = ("_sort", "_count", "_include", "_revinclude", "_total", "_summary",
                     "_elements", "_has")  # fmt: skip


def search_capability(resource_type: str) -> dict[str, Any]:
    """The CapabilityStatement's search part of one type: every parameter with its type and
    the modifiers served, the includes, and the parameters of the type that are not served."""
    params = selectors.searchable(resource_type)
    references = sorted(code for code, (kind, _) in params.items() if kind == "reference")
    not_served = selectors.not_searchable(resource_type)
    return {
        "searchInclude": ["*", *(f"{resource_type}:{code}" for code in references)],
        "searchRevInclude": ["*"],
        "searchParam": [
            {
                "name": code,
                "type": kind,
                "documentation": "modifiers: "
                + (", ".join(modifiers) or "none")
                + ("; chains and _has" if kind == "reference" else ""),
            }
            for code, (kind, modifiers) in sorted(params.items())
        ],
        "documentation": "Not searchable here: "
        + (", ".join(not_served) or "none")
        + f". Also served: {', '.join(RESULT_PARAMETERS)}; prefixes eq ne gt lt ge le sa eb ap "
        "on dates, numbers and quantities; paging by keyset (_page).",
    }
