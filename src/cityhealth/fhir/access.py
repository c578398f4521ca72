"""Who may do what in the shared record (decision 0006): SMART scopes per type and
interaction, the resident's compartment, purpose of use, break-glass and consent.

Every FHIR route passes `authorize` (through `fhir.common.actor`), which answers 401/403 or
returns the caller's `Access`, kept on the request for the access trail (`fhir.trail`).
Single reads then pass `guard_read`, which answers 404 for a resource the caller may not see,
as for one that does not exist. Searches, `_include`, `$everything` and export filter in SQL
with `records.consent.access_predicate(access.consent, ...)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from cityhealth.accounts.models import ApiToken, User
from cityhealth.accounts.selectors import actor_label_of, actor_of, facility_codes_of
from cityhealth.accounts.types import BREAK_GLASS, allows
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from cityhealth.core.roles import Permission, Role
from cityhealth.records import consent, errors
from cityhealth.records.models import Resource
from cityhealth.records.types import SUPPORTED_TYPES

PURPOSE_HEADER = "X-Purpose-Of-Use"
BREAK_GLASS_HEADER = "X-Break-Glass"
FACILITY_HEADER = "X-Facility"
# The SMART v2 letter each interaction needs (None: checked entry by entry by the callee).
ACTION: dict[str, str | None] = {
    "read": "r", "vread": "r", "history-instance": "r", "operation": "r",
    "search-type": "s", "search-system": "s", "history-type": "s", "history-system": "s",
    "create": "c", "update": "u", "patch": "u", "delete": "d", "batch": None,
}  # fmt: skip
_KEY = "_fhir_access"


@dataclass(frozen=True)
class Access:
    """The caller of one FHIR request, as authorization, consent and the trail see them."""

    actor: str  # "user:12", "client:3"
    actor_label: str
    organization: str  # the facility code the caller acts for ("" for none)
    person_id: int | None  # a resident: only this person's compartment
    scopes: tuple[str, ...] | None  # a token's granted scopes; None for a staff session
    purpose: str
    break_glass_reason: str
    source_ip: str

    @property
    def consent(self) -> consent.Accessor:
        return consent.Accessor(
            organization=self.organization,
            purpose=self.purpose,
            break_glass=bool(self.break_glass_reason),
            person_id=self.person_id,
            city_wide=self.scopes is None and not self.organization,
        )


def _denied(en: str, vi: str, **extra: str) -> PermissionDenied:
    return PermissionDenied("access.scope_missing", vi=vi, en=en, **extra)


def _purpose(request: HttpRequest) -> str:
    purpose = (request.headers.get(PURPOSE_HEADER) or consent.DEFAULT_PURPOSE).strip().upper()
    if purpose not in consent.PURPOSES:
        raise InvalidInput(
            "access.bad_purpose",
            vi=f"Mục đích truy cập không hợp lệ; dùng một trong {', '.join(consent.PURPOSES)}.",
            en=f"Unknown purpose of use; use one of {', '.join(consent.PURPOSES)}.",
            field=PURPOSE_HEADER,
        )
    return purpose


def _organization(request: HttpRequest, principal: object) -> str:
    if isinstance(principal, ApiToken):
        return principal.client.facility.code if principal.client.facility else ""
    codes = facility_codes_of(principal) if isinstance(principal, User) else []
    chosen = (request.headers.get(FACILITY_HEADER) or "").strip()
    if chosen and chosen not in codes:
        raise PermissionDenied(
            "access.not_member",
            vi=f"Bạn không làm việc tại cơ sở {chosen[:20]}.",
            en=f"You do not work at {chosen[:20]}.",
        )
    return chosen or (codes[0] if codes else "")


def _break_glass(request: HttpRequest, principal: object, person_id: int | None) -> str:
    header = request.headers.get(BREAK_GLASS_HEADER)
    if header is None:
        return ""
    reason = " ".join(header.split())[:300]
    if not reason:
        raise InvalidInput(
            "access.break_glass_reason",
            vi="Truy cập khẩn cấp (break-glass) phải ghi lý do.",
            en="Break-glass access needs a reason.",
            field=BREAK_GLASS_HEADER,
        )
    entitled = (
        Role.CLINICIAN in principal.roles
        if isinstance(principal, User)
        else isinstance(principal, ApiToken)
        and person_id is None
        and BREAK_GLASS in principal.granted_scopes
    )
    if not entitled:
        raise PermissionDenied(
            "access.break_glass_forbidden",
            vi="Chỉ bác sĩ hoặc ứng dụng cấp cứu có quyền break_glass được truy cập khẩn cấp.",
            en="Only a clinician or an emergency client with the break_glass scope may "
            "break the glass.",
        )
    return reason


def access_of(request: HttpRequest) -> Access:
    """The caller, worked out once per request."""
    found = request.__dict__.get(_KEY)
    if isinstance(found, Access):
        return found
    principal = api_principal(request)
    if principal is None or not getattr(principal, "is_authenticated", True):
        raise AuthenticationRequired(
            "access.not_signed_in", vi="Bạn cần đăng nhập.", en="You need to sign in."
        )
    token = principal if isinstance(principal, ApiToken) else None
    person_id = token.client.person_id if token else None
    access = Access(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        organization=_organization(request, principal),
        person_id=person_id,
        scopes=tuple(token.granted_scopes) if token else None,
        purpose=_purpose(request),
        break_glass_reason=_break_glass(request, principal, person_id),
        source_ip=request.META.get("REMOTE_ADDR", "")[:45],
    )
    request.__dict__[_KEY] = access
    return access


def current_access(request: HttpRequest) -> Access | None:
    """The caller if the request got as far as authorization (for the trail)."""
    found = request.__dict__.get(_KEY)
    return found if isinstance(found, Access) else None


def authorize(
    request: HttpRequest,
    *,
    resource_type: str | None,
    interaction: str,
    permission: Permission | None = None,
) -> Access:
    """The caller, if they may perform `interaction` on `resource_type` (None: on the
    system); else 401, or 403 naming the scope needed. Staff sessions hold their roles'
    READ_RECORDS / WRITE_RECORDS; tokens their SMART scopes (`read_records` and
    `write_records` being `system/*.rs` and `system/*.cud`)."""
    access = access_of(request)
    action = ACTION.get(interaction, "r")
    needed = permission or (
        Permission.READ_RECORDS if action in (None, "r", "s") else Permission.WRITE_RECORDS
    )
    if resource_type == "AuditEvent" and action is not None and action in "rs":
        return _authorize_audit_read(request, access)
    if access.scopes is None:
        ensure_permission(api_principal(request), needed)
        return access
    context = "patient" if access.person_id is not None else "system"
    contexts = ("patient",) if context == "patient" else ("system", "user")
    if action is None:  # a batch: each entry is authorized on its own
        ensure_permission(api_principal(request), needed)
        return access
    # On the whole system (system history and search, export) only a `*` scope will do.
    wanted = resource_type or "*"
    if not allows(access.scopes, contexts=contexts, resource_type=wanted, action=action):
        scope = f"{context}/{resource_type or '*'}.{action}"
        raise _denied(
            en=f"This token's scopes do not allow {interaction}; it needs the scope {scope}.",
            vi=f"Phạm vi quyền của mã truy cập không cho phép {interaction}; cần phạm vi {scope}.",
            scope=scope,
        )
    if access.person_id is not None and interaction in ("update", "patch", "delete"):
        _ensure_own(request, access, resource_type)
    return access


def _ensure_own(request: HttpRequest, access: Access, resource_type: str | None) -> None:
    """A resident changes only resources of their own compartment (another's: not found)."""
    match = request.resolver_match
    logical_id = str(match.kwargs.get("logical_id", "")) if match else ""
    if not resource_type or not logical_id:
        return
    owner = (
        Resource.objects.filter(resource_type=resource_type, logical_id=logical_id)
        .values_list("person_id", flat=True)
        .first()
    )
    if owner is not None and owner != access.person_id:
        raise errors.resource_not_found(resource_type, logical_id)


def guard_write(request: HttpRequest, touched: Touched) -> None:
    """Note what a write touched; a resident's write must land in their own compartment
    (raised after the write, the request's transaction rolls it back)."""
    note_touched(request, touched)
    access = access_of(request)
    if access.person_id is not None and touched.person_id != access.person_id:
        raise PermissionDenied(
            "access.not_own_record",
            vi="Người dân chỉ ghi được vào hồ sơ của chính mình.",
            en="A resident writes only to their own record.",
        )


def _authorize_audit_read(request: HttpRequest, access: Access) -> Access:
    """The access trail: staff who may read the audit log, clients with a scope naming
    AuditEvent, and residents for their own record (they see who read it)."""
    if access.scopes is None:
        ensure_permission(api_principal(request), Permission.VIEW_AUDIT_LOG)
        return access
    contexts = ("patient",) if access.person_id is not None else ("system", "user")
    # Who read whose record is itself sensitive: a system needs a scope naming AuditEvent
    # (`system/*.read` does not reach the trail); a resident's own trail is theirs to see.
    scopes = [
        scope
        for scope in access.scopes
        if access.person_id is not None or scope.split(".")[0].endswith("/AuditEvent")
    ]
    if not allows(scopes, contexts=contexts, resource_type="AuditEvent", action="s"):
        context = contexts[0]
        raise _denied(
            en=f"Reading the access trail needs the scope {context}/AuditEvent.rs.",
            vi=f"Cần phạm vi {context}/AuditEvent.rs để đọc nhật ký truy cập.",
            scope=f"{context}/AuditEvent.rs",
        )
    return access


def interaction_of(request: HttpRequest) -> tuple[str | None, str]:
    """(resource type, interaction) of a FHIR request, from its method and route."""
    match = request.resolver_match
    kwargs = match.kwargs if match else {}
    path = request.path_info.rstrip("/")
    method = request.method or "GET"
    # A route of one type (`/AuditEvent`) names it in its path rather than a parameter.
    first = path.removeprefix("/fhir/R4/").split("/")[0]
    resource_type = kwargs.get("resource_type") or (first if first in SUPPORTED_TYPES else None)
    if "$" in path:
        return resource_type, "operation"
    if resource_type is None:
        return None, "history-system" if path.endswith("_history") else (
            "batch" if method == "POST" else "search-system"
        )
    if method in ("PUT", "PATCH", "DELETE"):
        return resource_type, {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    if "logical_id" in kwargs:
        if "version_id" in kwargs:
            return resource_type, "vread"
        return resource_type, "history-instance" if path.endswith("_history") else "read"
    if path.endswith("_history"):
        return resource_type, "history-type"
    if method == "POST" and not path.endswith("_search"):
        return resource_type, "create"
    return resource_type, "search-type"


@dataclass(frozen=True)
class Touched:
    """What a request read or wrote, for the trail: whose record, which resource."""

    person_id: int | None
    logical_id: str = ""
    version_id: int | None = None


def note_touched(request: HttpRequest, touched: Touched) -> None:
    request.__dict__["_fhir_touched"] = touched


def note_person(request: HttpRequest, person_id: int | None) -> None:
    """Remember whose record the request touched (an operation on one person's record)."""
    if person_id is not None:
        note_touched(request, Touched(person_id))


def touched_by(request: HttpRequest) -> Touched | None:
    found = request.__dict__.get("_fhir_touched")
    return found if isinstance(found, Touched) else None


def guard_read(
    request: HttpRequest,
    *,
    resource_type: str,
    logical_id: str,
    person_id: int | None,
    visible: bool | None = None,
) -> None:
    """NotFound, exactly as for a missing resource, unless the caller may see it. `visible`:
    the caller's consent already evaluated by the statement that read the resource."""
    access = access_of(request)
    note_touched(request, Touched(person_id))
    if visible is None:
        visible = consent.may_access(
            access.consent, person_id=person_id, resource_type=resource_type
        )
    if not visible:
        raise errors.resource_not_found(resource_type, logical_id)
