"""Consent: whose record an accessor may see, as SQL over the compartment's `person_id`.

A resident's active Consent resources become rows of `ConsentRule` when they are written
(`sync_consent_rules`), so the check is an indexed lookup, never a parse of JSON. The rules
(decision 0006):

1. A resource in nobody's compartment (an Organization, a Practitioner) is not personal data
   under consent: anyone with the scope reads it.
2. Break-glass opens every record (the access is flagged and audited by the caller).
3. A resident sees only their own compartment.
4. Otherwise, for the accessor's organization (its facility code) and purpose of use, the
   most specific rules decide, and among equally specific ones a deny beats a permit:
   a deny naming the organization; else a permit naming it; else a deny for anyone; else a
   permit for anyone; else the default: shared for treatment (TREAT) with the city's
   public hospitals (and staff holding their clinical role city-wide), with nobody else.

`access_predicate` gives this as a SQL condition for searches, `_include`, `$everything` and
export; `may_access` answers it for one resource through the same SQL.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver

from cityhealth.core import clock
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility
from cityhealth.people.selectors import family_of
from cityhealth.records.models import ConsentRule, Resource

# Purposes of use (HL7 v3 ActReason, as the VN Core consent purpose CodeSystem draft lists
# them): what an accessor declares in `X-Purpose-Of-Use`.
PURPOSES: dict[str, str] = {
    "TREAT": "treatment",
    "ETREAT": "emergency treatment",
    "HPAYMT": "healthcare payment",
    "HOPERAT": "healthcare operations",
    "PUBHLTH": "public health",
    "HRESCH": "healthcare research",
    "ERESRCH": "research",
    "PATRQT": "patient requested",
    "HLEGAL": "legal",
}
DEFAULT_PURPOSE = "TREAT"
PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
# Who shares a record with no Consent, for TREAT: the city's public hospitals.
SHARED_BY_DEFAULT = frozenset(
    {
        FacilityKind.GENERAL_HOSPITAL,
        FacilityKind.SPECIALIST_HOSPITAL,
        FacilityKind.CENTRAL_HOSPITAL,
    }
)
# Types outside the Patient compartment that a resident may read like anyone.
OUTSIDE_COMPARTMENT = ("Organization", "Practitioner", "PractitionerRole", "Location")
_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class Accessor:
    """Who asks, as consent sees them."""

    organization: str = ""  # the caller's facility code; "" for none
    purpose: str = DEFAULT_PURPOSE
    break_glass: bool = False
    person_id: int | None = None  # a resident, who sees only their own record
    # Staff holding a clinical role city-wide (the health department's own services, not
    # one facility's): shared with by default like a public hospital.
    city_wide: bool = False


_default_cache: dict[str, tuple[float, bool]] = {}


def shared_by_default(organization: str) -> bool:
    """Whether the facility is one of the city's public hospitals (cached: kinds of
    facilities change by registry reloads, not per request)."""
    if not organization:
        return False
    now = time.monotonic()
    cached = _default_cache.get(organization)
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    shared = Facility.objects.filter(
        code=organization, kind__in=SHARED_BY_DEFAULT, is_active=True
    ).exists()
    _default_cache[organization] = (now, shared)
    return shared


_RULE_SQL = (
    "SELECT 1 FROM records_consent_rules c WHERE c.person_id = {person}"
    " AND c.permit = %s AND c.organization = %s AND c.purpose IN ('', %s)"
    " AND (c.starts_at IS NULL OR c.starts_at <= %s) AND (c.ends_at IS NULL OR c.ends_at > %s)"
)


def access_predicate(
    accessor: Accessor,
    *,
    person_column: str,
    type_column: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[str, list[Any]]:
    """A SQL condition (with its parameters) true for the rows the accessor may see.

    `person_column` is the SQL expression of the row's compartment person id (say
    `"r.person_id"`); `type_column` its resource type, needed only to let a resident see the
    types outside any compartment. Plug it into a WHERE clause with AND."""
    if accessor.break_glass:
        return "1 = 1", []
    if accessor.person_id is not None:
        if type_column is None:
            return f"{person_column} = %s", [accessor.person_id]
        marks = ", ".join(["%s"] * len(OUTSIDE_COMPARTMENT))
        return (
            f"({person_column} = %s OR ({person_column} IS NULL AND {type_column} IN ({marks})))",
            [accessor.person_id, *OUTSIDE_COMPARTMENT],
        )
    when = at or clock.now()
    rule = _RULE_SQL.format(person=person_column)

    def exists(*, permit: bool, organization: str) -> tuple[str, list[Any]]:
        return f"EXISTS ({rule})", [permit, organization, accessor.purpose, when, when]

    default = accessor.purpose == DEFAULT_PURPOSE and (
        accessor.city_wide or shared_by_default(accessor.organization)
    )
    deny_any, deny_any_params = exists(permit=False, organization="")
    permit_any, permit_any_params = exists(permit=True, organization="")
    condition = f"(NOT {deny_any} AND ({permit_any} OR %s))"
    params = [*deny_any_params, *permit_any_params, default]
    if accessor.organization:
        deny_own, deny_own_params = exists(permit=False, organization=accessor.organization)
        permit_own, permit_own_params = exists(permit=True, organization=accessor.organization)
        condition = f"(NOT {deny_own} AND ({permit_own} OR {condition}))"
        params = [*deny_own_params, *permit_own_params, *params]
    return f"({person_column} IS NULL OR {condition})", params


def may_access(accessor: Accessor, *, person_id: int | None, resource_type: str) -> bool:
    """Whether the accessor may see one resource of `person_id`'s compartment (None: in no
    compartment): `access_predicate` asked of one row."""
    if person_id is None:
        return accessor.person_id is None or resource_type in OUTSIDE_COMPARTMENT
    if accessor.break_glass:
        return True
    if accessor.person_id is not None:
        return accessor.person_id == person_id
    condition, params = access_predicate(accessor, person_column="t.person_id")
    sql = f"SELECT 1 FROM (SELECT CAST(%s AS BIGINT) AS person_id) t WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [person_id, *params])
        return cursor.fetchone() is not None


# --- rules from Consent resources, at write time --------------------------------------------


def _person_of(body: dict[str, Any]) -> int | None:
    reference = str((body.get("patient") or {}).get("reference") or "")
    kind, _, logical_id = reference.rpartition("/")
    return int(logical_id) if kind.endswith("Patient") and logical_id.isdigit() else None


def _organization_of(actor: dict[str, Any]) -> str | None:
    """The facility code an actor reference names: `Organization/<code>`, an identifier
    (the provider code), or a stored Organization carrying one. None: not an organization."""
    reference = actor.get("reference") or {}
    identifier = reference.get("identifier") or {}
    if identifier.get("value"):
        return str(identifier["value"])[:64]
    kind, _, logical_id = str(reference.get("reference") or "").rpartition("/")
    if not kind.endswith("Organization") or not logical_id:
        return None
    stored = Resource.objects.filter(
        resource_type="Organization", logical_id=logical_id, deleted=False
    ).first()
    for item in (stored.body.get("identifier") or []) if stored else []:
        if str(item.get("system", "")).endswith("/sid/provider-code") and item.get("value"):
            return str(item["value"])[:64]
    return logical_id[:64]


def _instant(text: Any, *, end: bool) -> dt.datetime | None:
    if not text:
        return None
    text = str(text)
    try:
        if len(text) == 10:  # a date: the whole day
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(
                day + dt.timedelta(days=1) if end else day, dt.time(), tzinfo=dt.UTC
            )
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _provisions(
    provision: dict[str, Any], inherited: tuple[dt.datetime | None, dt.datetime | None]
) -> Iterator[tuple[dict[str, Any], tuple[dt.datetime | None, dt.datetime | None]]]:
    period = provision.get("period") or {}
    window = (
        _instant(period.get("start"), end=False) or inherited[0],
        _instant(period.get("end"), end=True) or inherited[1],
    )
    yield provision, window
    for nested in provision.get("provision") or []:
        yield from _provisions(nested, window)


def rules_of(row: Resource) -> list[ConsentRule]:
    """The rules an active Consent resource states (none for any other status)."""
    body = row.body or {}
    person_id = _person_of(body)
    if row.deleted or body.get("status") != "active" or person_id is None:
        return []
    # A person merged into another is the same human: the rules bind the records filed under
    # every id of the merged family (resources keep the id they were filed under).
    family = family_of(person_id)
    rules: list[ConsentRule] = []
    for provision, (starts, ends) in _provisions(body.get("provision") or {}, (None, None)):
        if provision.get("type") not in ("permit", "deny"):
            continue
        organizations = [
            code
            for code in (_organization_of(actor) for actor in provision.get("actor") or [])
            if code is not None
        ] or [""]
        purposes = [
            str(coding.get("code"))[:20]
            for coding in provision.get("purpose") or []
            if coding.get("code")
        ] or [""]
        rules.extend(
            ConsentRule(
                consent=row,
                person_id=member,
                permit=provision["type"] == "permit",
                organization=organization,
                purpose=purpose,
                starts_at=starts,
                ends_at=ends,
            )
            for member in family
            for organization in organizations
            for purpose in purposes
        )
    return rules


def sync_consent_rules(rows: Iterable[Resource]) -> None:
    """Replace the rules of these Consent resources by what their current versions state.
    Every writer of Consent resources calls it (save() does, through the signal below; bulk
    writers call it themselves)."""
    consents = [row for row in rows if row.resource_type == "Consent"]
    if not consents:
        return
    ConsentRule.objects.filter(consent__in=[row.pk for row in consents]).delete()
    ConsentRule.objects.bulk_create([rule for row in consents for rule in rules_of(row)])


def refresh_family_rules(person_ids: Iterable[int]) -> None:
    """After a merge or an unmerge (the registry's hook): the rules of every Consent that
    bound one of these persons, restated for the family as it is now."""
    consent_ids = set(
        ConsentRule.objects.filter(person_id__in=list(person_ids)).values_list(
            "consent_id", flat=True
        )
    )
    if consent_ids:
        sync_consent_rules(Resource.objects.filter(pk__in=consent_ids))


@receiver(post_save, sender=Resource, dispatch_uid="records.consent.sync")
def _consent_saved(sender: type[Resource], instance: Resource, **kwargs: Any) -> None:
    if instance.resource_type == "Consent":
        sync_consent_rules([instance])
