"""Formats of the FHIR API: what a client may ask for (`_format`, `Accept`), what it may send
(`Content-Type`), `_pretty`, and `Prefer: return=…` after a write.

Only JSON is served: a client asking for XML (or anything but JSON) gets 406 with an
OperationOutcome rather than JSON it did not ask for.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse

from cityhealth.core import exactjson
from cityhealth.core.errors import DomainError, InvalidInput

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
# What `_format` may say, and the media type each stands for.
FORMATS = {
    "json": FHIR_JSON,
    FHIR_JSON: FHIR_JSON,
    PLAIN_JSON: PLAIN_JSON,
    "application/json+fhir": FHIR_JSON,  # the DSTU2 name, still sent by old clients
}
# Accept ranges served as FHIR JSON.
_FHIR_RANGES = {FHIR_JSON, "application/json+fhir", "*/*", "application/*"}
RESOURCE_BODIES = (FHIR_JSON, PLAIN_JSON, "application/json+fhir")
PATCH_BODIES = (JSON_PATCH,)
# What a Bulk Data client may ask for when it downloads an export file (and only then).
NDJSON = ("application/fhir+ndjson", "application/ndjson")
_RETURNS = ("minimal", "representation", "OperationOutcome")
ETAG = re.compile(r'^(?:W/)?"(\d+)"$')  # a weak (or strong) ETag of a version


class NotAcceptable(DomainError):
    status_code: ClassVar[int] = 406
    title: ClassVar[str] = "Not acceptable"


class UnsupportedMediaType(DomainError):
    status_code: ClassVar[int] = 415
    title: ClassVar[str] = "Unsupported media type"


def negotiated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap every FHIR view: refuse a format we do not serve before doing any work, then
    answer in the JSON media type asked for, indented if `_pretty=true`."""

    also = tuple(getattr(view, "also_serves", ()))

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        media_type = response_type(request, also=also)
        response = view(request, *args, **kwargs)
        content_type = response.get("Content-Type", "")
        if getattr(response, "streaming", False) or not content_type.startswith(FHIR_JSON):
            return response
        if media_type != FHIR_JSON:
            response["Content-Type"] = f"{media_type}; charset=utf-8"
        if request.GET.get("_pretty") == "true" and response.content:
            document = exactjson.loads(response.content)
            response.content = exactjson.dumps(document, indent=True)
        return response

    return answer


def serves_ndjson(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that answers in NDJSON (an export file): `Accept` may ask for it there."""
    view.also_serves = NDJSON  # type: ignore[attr-defined]
    return view


def response_type(request: HttpRequest, *, also: tuple[str, ...] = ()) -> str:
    """The JSON media type to answer in, from `_format` (which wins) or `Accept`, or one of
    `also` (what the view serves besides JSON) when `Accept` asks for it; NotAcceptable if
    the client wants something else."""
    asked = request.GET.get("_format")
    if asked is not None:
        media_type = FORMATS.get(asked.strip().split(";")[0].strip().lower())
        if media_type is None:
            raise _not_acceptable(asked)
        return media_type
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return FHIR_JSON
    plain = False
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        if any(_refused(param) for param in params):
            continue
        media_range = media_range.lower()
        if media_range in _FHIR_RANGES:
            return FHIR_JSON
        if media_range in also:
            return media_range
        plain = plain or media_range == PLAIN_JSON
    if plain:
        return PLAIN_JSON
    raise _not_acceptable(accept)


def require_body_type(request: HttpRequest, allowed: tuple[str, ...] = RESOURCE_BODIES) -> None:
    """415 unless the request body is of one of the `allowed` media types."""
    sent = request.content_type or ""
    if sent.lower() not in allowed:
        raise UnsupportedMediaType(
            "request.unsupported_media_type",
            vi=f"Nội dung gửi lên phải có Content-Type {' hoặc '.join(allowed)}, "
            f"không phải «{sent[:100]}».",
            en=f"The request body must be {' or '.join(allowed)}, not “{sent[:100]}”.",
            field="Content-Type",
        )


def preferred_return(request: HttpRequest, *, default: str = "representation") -> str:
    """What `Prefer: return=` asks to get back after a write: "minimal", "representation"
    or "OperationOutcome" (`default` when it says nothing)."""
    for token in request.headers.get("Prefer", "").split(","):
        name, _, value = token.strip().partition("=")
        if name.strip() == "return" and value.strip() in _RETURNS:
            return value.strip()
    return default


def as_preferred(request: HttpRequest, response: HttpResponse, *, outcome: str) -> HttpResponse:
    """A write's answer (the resource with its ETag, Location…) cut to what `Prefer` asks:
    no body, or an OperationOutcome saying `outcome` instead of the resource."""
    wanted = preferred_return(request)
    if wanted == "minimal":
        response.content = b""
        del response["Content-Type"]
    elif wanted == "OperationOutcome":
        response.content = json.dumps(information(outcome), ensure_ascii=False).encode()
    return response


def information(text: str) -> dict[str, Any]:
    """An OperationOutcome that reports success."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }


def _refused(param: str) -> bool:
    """Whether an Accept parameter is `q=0` ("not this one")."""
    name, _, value = param.partition("=")
    if name.strip().lower() != "q":
        return False
    try:
        return float(value) == 0
    except ValueError:
        return False


def _not_acceptable(asked: str) -> NotAcceptable:
    return NotAcceptable(
        "request.format_not_supported",
        vi=f"Máy chủ chỉ trả lời JSON (application/fhir+json), không có «{asked[:100]}».",
        en=f"This server answers in JSON (application/fhir+json) only, not “{asked[:100]}”.",
        field="_format",
    )


def if_match(request: HttpRequest) -> int | None:
    """The version `If-Match: W/"n"` names (None without the header); 400 if malformed."""
    sent = request.headers.get("If-Match", "").strip()
    if not sent:
        return None
    matched = ETAG.match(sent)
    if matched is None:
        raise InvalidInput(
            "request.bad_if_match",
            vi='If-Match phải có dạng W/"số phiên bản".',
            en='If-Match is W/"version number".',
            field="If-Match",
        )
    return int(matched[1])


def patch_body(request: HttpRequest) -> Any:
    """A PATCH's JSON Patch document (415 unless `application/json-patch+json`)."""
    require_body_type(request, PATCH_BODIES)
    try:
        return exactjson.loads(request.body or b"null")  # a patched-in 1.50 stays 1.50
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "request.malformed_body",
            vi="Nội dung gửi lên không phải JSON hợp lệ.",
            en="The request body is not valid JSON.",
        ) from None
