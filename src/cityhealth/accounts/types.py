"""Plain values of accounts other apps may read: SMART on FHIR scopes, what an API client's
token may do in the shared record.

Both SMART grammars are understood: v1 (`system/Observation.read`, `system/*.write`,
`system/*.*`) and v2 (`system/Observation.rs`, `patient/*.cruds`). Each is reduced to a
context (`system`, `user`, `patient`), a resource type (or `*`) and a set of the v2 letters:
c(reate), r(ead: read, vread, instance history), u(pdate, patch), d(elete), s(earch, type and
system history). The platform's older coarse scopes keep their meaning: `read_records` is
`system/*.rs`, `write_records` is `system/*.cud`. Any other scope (`dispatch`, `break_glass`)
is a plain name, granted only by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cityhealth.core.roles import Permission

ACTIONS = "cruds"
CONTEXTS = ("system", "user", "patient")
_V1_ACTIONS = {"read": "rs", "write": "cud", "*": ACTIONS}
_SMART = re.compile(r"^(system|user|patient)/([A-Z][A-Za-z]{0,63}|\*)\.([a-z*]+)$")
GRANT_TYPES = ("client_credentials",)  # OAuth2 grants the token endpoint serves
COARSE = {"read_records": "system/*.rs", "write_records": "system/*.cud"}
# The scope that lets an emergency client break the glass (a clinician's role lets a user).
BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class Scope:
    context: str
    resource_type: str  # a type name or "*"
    actions: frozenset[str]

    def covers(self, *, resource_type: str | None, action: str) -> bool:
        """Whether it allows `action` on `resource_type` (None: on some type)."""
        if action not in self.actions:
            return False
        return resource_type is None or self.resource_type in ("*", resource_type)

    def text(self) -> str:
        letters = "".join(a for a in ACTIONS if a in self.actions)
        return f"{self.context}/{self.resource_type}.{letters}"


def parse_scope(text: str) -> Scope | None:
    """The SMART scope `text` names, or None for a plain scope or one we do not understand
    (v2 scopes with a query, `?category=…`, are not supported and so not granted)."""
    text = COARSE.get(text, text)
    matched = _SMART.match(text)
    if matched is None:
        return None
    context, resource_type, actions = matched.groups()
    letters = _V1_ACTIONS.get(actions)
    if letters is None:
        ordered = "".join(a for a in ACTIONS if a in actions)
        if not actions or ordered != actions:  # v2 letters come once each, in "cruds" order
            return None
        letters = actions
    return Scope(context, resource_type, frozenset(letters))


def is_known_scope(text: str) -> bool:
    """A SMART scope we understand, or one of the platform's permission names."""
    return parse_scope(text) is not None or text in {str(p) for p in Permission} | {BREAK_GLASS}


def smart_scopes(texts: Iterable[str]) -> list[Scope]:
    return [scope for scope in map(parse_scope, texts) if scope is not None]


def allows(
    texts: Iterable[str], *, contexts: Iterable[str], resource_type: str | None, action: str
) -> bool:
    wanted = set(contexts)
    return any(
        scope.context in wanted and scope.covers(resource_type=resource_type, action=action)
        for scope in smart_scopes(texts)
    )


def narrow(requested: str, allowed: Iterable[str]) -> list[str]:
    """What of the scope `requested` the scopes `allowed` grant (RFC 6749 §3.3: the server
    may grant less than asked): `system/*.cruds` asked of a client holding
    `system/Observation.rs` gives `system/Observation.rs`."""
    allowed = list(allowed)
    wanted = parse_scope(requested)
    if wanted is None:
        return [requested] if requested in allowed else []
    granted: list[str] = []
    for scope in smart_scopes(allowed):
        if scope.context != wanted.context:
            continue
        if "*" not in (scope.resource_type, wanted.resource_type) and (
            scope.resource_type != wanted.resource_type
        ):
            continue
        resource_type = wanted.resource_type if scope.resource_type == "*" else scope.resource_type
        actions = scope.actions & wanted.actions
        if actions:
            same = actions == wanted.actions and resource_type == wanted.resource_type
            text = requested if same else Scope(wanted.context, resource_type, actions).text()
            if text not in granted:
                granted.append(text)
    return granted


def grant(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The scopes to put on a token: each requested scope narrowed to the allowed ones."""
    allowed = list(allowed)
    granted: list[str] = []
    for text in requested:
        for scope in narrow(text, allowed):
            if scope not in granted:
                granted.append(scope)
    return granted
