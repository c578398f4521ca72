"""Where to take the patient, and telling that hospital the patient is coming.

The destination is the nearest hospital that can treat what the triage found (stroke,
heart attack, major trauma, a child, a birth, burns), among those not on diversion, with
the departments that say they have no bed ranked after those that have one or have not said.

Travel is computed with the hospitals as origins and the patient as destination: that is a
single call for every hospital, and at the level of precision that ranks hospitals (one-way
streets aside) driving A → B takes about as long as B → A. The pre-alert's ETA, for one
hospital, is computed in the true direction.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from cityhealth.core import clock
from cityhealth.core.errors import Conflict, not_found
from cityhealth.emergency import errors
from cityhealth.emergency.enums import HOSPITAL_KINDS
from cityhealth.emergency.models import (
    OPEN_PRE_ALERT_STATUSES,
    Capability,
    EmergencyDepartmentStatus,
    Incident,
    PreAlert,
    PreAlertStatus,
    Unit,
)
from cityhealth.emergency.routing import TravelModel, Vehicle
from cityhealth.emergency.services._shared import audit, lock_open_incident, lock_unit
from cityhealth.emergency.services.care import handover_summary
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility

# The city's own hospitals and the central (ministry-run) ones: 115 takes patients to both.
BASES = ("reference", "name", "assumed")
# Vietnamese children's hospitals take patients under 16 (Luật Trẻ em 2016: a child is < 16).
CHILD_BELOW_AGE = 16
MAX_BEDS = 2000  # more than any Hà Nội emergency department: a typing error


def capabilities_file() -> Path:
    return Path(settings.DATA_DIR) / "emergency" / "hospital_capabilities.csv"


# --- capabilities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapabilitiesLoaded:
    created: int
    updated: int
    unchanged: int
    unknown_codes: tuple[str, ...]  # rows whose hospital is not in the facility registry


def load_hospital_capabilities(*, path: Path | None = None) -> CapabilitiesLoaded:
    """Copy the capabilities file into each hospital's department row. Run it as often as
    you like: only the file's columns are written, never the beds or the diversion."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    unknown: list[str] = []
    with (path or capabilities_file()).open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            code = row["facility_code"].strip()
            capabilities, basis = _parse_row(row, line=line)
            facility = Facility.objects.filter(code=code).first()
            if facility is None:
                unknown.append(code)
                continue
            wanted = {
                "capabilities": capabilities,
                "capabilities_basis": basis,
                "capabilities_note": row.get("note", "").strip()[:300],
            }
            status, created = EmergencyDepartmentStatus.objects.get_or_create(
                facility=facility, defaults=wanted
            )
            if created:
                counts["created"] += 1
            elif any(getattr(status, name) != value for name, value in wanted.items()):
                for name, value in wanted.items():
                    setattr(status, name, value)
                status.save(update_fields=list(wanted))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return CapabilitiesLoaded(**counts, unknown_codes=tuple(unknown))


def _parse_row(row: dict[str, str], *, line: int) -> tuple[list[str], str]:
    capabilities = []
    for capability in Capability.values:
        value = (row.get(capability) or "").strip()
        if value not in ("0", "1"):
            raise ValueError(f"line {line}: {capability} must be 0 or 1, not {value!r}")
        if value == "1":
            capabilities.append(capability)
    basis = (row.get("basis") or "").strip()
    if basis not in BASES:
        raise ValueError(f"line {line}: basis must be one of {', '.join(BASES)}, not {basis!r}")
    return capabilities, basis


def required_capability(*, incident: Incident, patient_age: int | None = None) -> str:
    """What the receiving department must be able to do, from the triage's complaint and
    priority (and the patient's age where known)."""
    triage = incident.triage if isinstance(incident.triage, dict) else {}
    complaint = triage.get("complaint")
    code = str(
        (complaint.get("code") if isinstance(complaint, dict) else None) or incident.complaint
    ).upper()
    priority = str(incident.priority or triage.get("priority") or "")
    age = patient_age if patient_age is not None else _age_in_draft(incident)
    if code == "PREG":
        return Capability.OBSTETRICS
    if code == "CHILD" or (age is not None and age < CHILD_BELOW_AGE):
        return Capability.PAEDIATRICS
    if code == "STROKE":
        return Capability.STROKE
    if code == "CHEST" and priority == "P1":
        return Capability.CARDIAC_CATH
    if code in ("TRAFFIC", "FALL") and priority == "P1":
        return Capability.TRAUMA
    if code == "BURN":
        return Capability.BURNS
    return Capability.GENERAL_ED


def _age_in_draft(incident: Incident) -> int | None:
    value = (incident.draft or {}).get("age")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


# --- choosing the destination --------------------------------------------------------------


@dataclass(frozen=True)
class DestinationOption:
    facility: Facility
    eta_seconds: float
    metres: float
    method: str  # how the time was estimated: "road", "ward_graph", "straight_line"
    capability: str  # what the patient needs
    capable: bool  # the hospital is known to offer it (False: a general ED as a fallback)
    beds_free: int | None  # None: the department has not said
    on_diversion: bool
    reasons: tuple[str, ...]  # about this hospital
    notes: tuple[str, ...]  # about the choice as a whole (skipped hospitals, fallbacks)


@dataclass(frozen=True)
class _Hospital:
    facility: Facility
    status: EmergencyDepartmentStatus | None
    capabilities: frozenset[str]

    @property
    def on_diversion(self) -> bool:
        return bool(self.status and self.status.on_diversion)

    @property
    def beds_free(self) -> int | None:
        return self.status.beds_free if self.status else None


def _hospitals() -> list[_Hospital]:
    statuses = {
        s.facility_id: s for s in EmergencyDepartmentStatus.objects.filter(facility__is_active=True)
    }
    found = []
    for facility in Facility.objects.filter(is_active=True, kind__in=HOSPITAL_KINDS).order_by(
        "code"
    ):
        status = statuses.get(facility.pk)
        if status is not None:
            capabilities = frozenset(status.effective_capabilities)
        else:
            # Capabilities not loaded yet: a general hospital still has an emergency department.
            general = facility.kind == FacilityKind.GENERAL_HOSPITAL
            capabilities = frozenset({Capability.GENERAL_ED.value} if general else set())
        found.append(_Hospital(facility=facility, status=status, capabilities=capabilities))
    return found


def patient_position(*, incident: Incident, unit: Unit | None = None) -> tuple[float, float]:
    """Where the patient is now: with the unit once it reports a position, else at the scene."""
    if unit is not None and unit.latitude is not None and unit.longitude is not None:
        return unit.latitude, unit.longitude
    if incident.latitude is None or incident.longitude is None:
        raise errors.invalid(
            "incident.no_location",
            vi="Chưa xác nhận vị trí của sự vụ: chưa thể chọn bệnh viện.",
            en="The incident's location is not confirmed yet: no hospital can be proposed.",
            field="location",
        )
    return incident.latitude, incident.longitude


def choose_destination(
    *,
    incident: Incident,
    unit: Unit | None = None,
    at: dt.datetime | None = None,
    limit: int = 3,
    patient_age: int | None = None,
    model: TravelModel | None = None,
) -> list[DestinationOption]:
    """The best hospitals for this patient, best first, each with its reasons."""
    origin = patient_position(incident=incident, unit=unit)
    needed = required_capability(incident=incident, patient_age=patient_age)
    notes: list[str] = []
    hospitals = []
    for hospital in _hospitals():
        relevant = hospital.capabilities & {needed, Capability.GENERAL_ED}
        if hospital.facility.latitude is None or hospital.facility.longitude is None:
            if relevant:
                notes.append(f"no_location={hospital.facility.code}")
            continue
        if relevant:
            hospitals.append(hospital)
    candidates = [h for h in hospitals if needed in h.capabilities]
    if not candidates and needed != Capability.GENERAL_ED:
        notes.append(f"none_capable={needed}")
        candidates = [h for h in hospitals if Capability.GENERAL_ED in h.capabilities]
    open_ = [h for h in candidates if not h.on_diversion]
    if candidates and not open_:
        notes.append("all_on_diversion")
        open_ = candidates
    if not open_:
        raise errors.invalid(
            "destination.none",
            vi="Không có bệnh viện nào có toạ độ và khoa cấp cứu phù hợp.",
            en="No hospital with coordinates and a suitable emergency department.",
            field="facility",
        )
    estimate = (model or TravelModel.shared()).travel_seconds(
        origins=[(h.facility.latitude or 0.0, h.facility.longitude or 0.0) for h in open_],
        destination=origin,
        at=at or clock.now(),
        vehicle=Vehicle.CAR,
    )
    options = []
    for i, hospital in enumerate(open_):
        seconds = float(estimate.seconds[i])
        if not np.isfinite(seconds):
            notes.append(f"unreachable={hospital.facility.code}")
            continue
        options.append(
            _option(hospital, needed, seconds, float(estimate.metres[i]), estimate.method[i])
        )
    # Diversion only remains when every candidate is on it; a full department goes after
    # those with beds or silent ones (silence is not "full"), then the nearest first.
    options.sort(key=lambda o: (o.on_diversion, o.beds_free == 0, o.eta_seconds))
    shared = tuple(notes)
    return [replace(o, notes=shared) for o in options[: max(limit, 1)]]


def _option(
    hospital: _Hospital, needed: str, seconds: float, metres: float, method: str
) -> DestinationOption:
    capable = needed in hospital.capabilities
    beds = hospital.beds_free
    reasons = [
        f"eta={seconds / 60:.1f}min",
        f"distance={metres / 1000:.1f}km",
        f"capability={needed}" if capable else f"capability=general_ed (no {needed})",
        "beds=unknown" if beds is None else f"beds={beds}",
    ]
    if hospital.on_diversion:
        reason = hospital.status.diversion_reason if hospital.status else ""
        reasons.append(f"diversion={reason}")
    if hospital.status is not None and hospital.status.capabilities_basis:
        reasons.append(f"basis={hospital.status.capabilities_basis}")
    return DestinationOption(
        facility=hospital.facility,
        eta_seconds=seconds,
        metres=metres,
        method=method,
        capability=needed,
        capable=capable,
        beds_free=beds,
        on_diversion=hospital.on_diversion,
        reasons=tuple(reasons),
        notes=(),
    )


# --- the pre-alert -------------------------------------------------------------------------


def _hospital_located(facility: Facility) -> tuple[float, float]:
    if facility.kind not in HOSPITAL_KINDS or not facility.is_active:
        raise errors.invalid(
            "pre_alert.not_a_hospital",
            vi=f"«{facility.name}» không phải là bệnh viện nhận bệnh nhân cấp cứu.",
            en=f"“{facility.name}” is not a hospital that receives emergency patients.",
            field="facility",
        )
    if facility.latitude is None or facility.longitude is None:
        raise errors.invalid(
            "pre_alert.no_location",
            vi=f"Chưa có toạ độ của «{facility.name}»: không tính được giờ đến.",
            en=f"“{facility.name}” has no coordinates: no arrival time can be computed.",
            field="facility",
        )
    return facility.latitude, facility.longitude


def pre_alert_summary(*, incident: Incident) -> dict[str, Any]:
    """What the department reads before the patient arrives: the complaint and the triage's
    words, then per patient the latest vital signs, GCS and what was done and given."""
    handover = handover_summary(incident=incident)
    triage = incident.triage if isinstance(incident.triage, dict) else {}
    complaint = triage.get("complaint")
    summary = triage.get("summary")
    return {
        "incident": handover.incident,
        "complaint": handover.complaint,
        "complaint_code": (complaint.get("code") if isinstance(complaint, dict) else None)
        or incident.complaint,
        "triage_summary": summary if isinstance(summary, dict) else None,
        "determinant": triage.get("determinant"),
        "care": triage.get("care"),
        "patients_count": incident.patients,
        "patients": [
            {
                key: patient.get(key)
                for key in (
                    "patient",
                    "unit",
                    "latest_vitals",
                    "gcs",
                    "interventions",
                    "medications",
                    "findings",
                )
            }
            for patient in asdict(handover)["patients"]
        ],
        "times": handover.times,
    }


def send_pre_alert(
    *,
    incident: Incident,
    unit: Unit,
    facility: Facility,
    actor: str,
    at: dt.datetime | None = None,
    model: TravelModel | None = None,
) -> PreAlert:
    """Tell `facility` that `unit` is bringing the patient: ETA from where the unit is, the
    triage and the care record so far. A pre-alert the unit sent before is cancelled."""
    destination = _hospital_located(facility)
    incident = lock_open_incident(incident.pk)
    unit = lock_unit(unit.pk)
    if (
        unit.incident_id != incident.pk
        and not incident.assignments.filter(unit=unit, status="active").exists()
    ):
        raise errors.invalid(
            "pre_alert.unit_not_on_incident",
            vi=f"Xe {unit.code} không đang làm nhiệm vụ của sự vụ {incident.number}.",
            en=f"Unit {unit.code} is not working incident {incident.number}.",
            field="unit",
        )
    now = at or clock.now()
    estimate = (model or TravelModel.shared()).travel_seconds(
        origins=[patient_position(incident=incident, unit=unit)],
        destination=destination,
        at=now,
        vehicle=Vehicle.CAR,
    )
    seconds = float(estimate.seconds[0])
    if not np.isfinite(seconds):
        raise errors.invalid(
            "pre_alert.unreachable",
            vi="Không tính được đường đến bệnh viện này.",
            en="No way to this hospital could be computed.",
            field="facility",
        )
    for previous in PreAlert.objects.select_for_update().filter(
        incident=incident, unit=unit, status__in=OPEN_PRE_ALERT_STATUSES
    ):
        _close(previous, PreAlertStatus.CANCELLED, actor=actor, at=now, why="replaced")
    alert = PreAlert.objects.create(
        incident=incident,
        unit=unit,
        facility=facility,
        priority=incident.priority,
        created_at=now,
        created_by=actor,
        eta_at=now + dt.timedelta(seconds=seconds),
        summary=pre_alert_summary(incident=incident),
    )
    status = EmergencyDepartmentStatus.objects.filter(facility=facility).first()
    audit(
        "pre_alert.sent",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={
            "pre_alert": alert.pk,
            "unit": unit.code,
            "facility": facility.code,
            "eta": alert.eta_at.isoformat(),
            "eta_seconds": round(seconds),
            "priority": alert.priority,
            # Sent to a department on diversion: allowed (the crew may have no choice), noted.
            "on_diversion": bool(status and status.on_diversion),
        },
    )
    return alert


def _locked_alert(pre_alert: PreAlert, facility: Facility | None) -> PreAlert:
    alert = PreAlert.objects.select_for_update().get(pk=pre_alert.pk)
    if facility is not None and alert.facility_id != facility.pk:
        # Another hospital's alert looks the same as one that does not exist.
        raise not_found("Pre-alert", "báo trước")
    return alert


def acknowledge_pre_alert(
    *, pre_alert: PreAlert, facility: Facility, actor: str, at: dt.datetime | None = None
) -> PreAlert:
    """The department has read the alert. Acknowledging twice (two nurses) changes nothing."""
    alert = _locked_alert(pre_alert, facility)
    if alert.status == PreAlertStatus.ACKNOWLEDGED:
        return alert
    if alert.status != PreAlertStatus.SENT:
        raise _closed(alert)
    alert.status = PreAlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = at or clock.now()
    alert.acknowledged_by = actor
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    audit(
        "pre_alert.acknowledged",
        actor=actor,
        target_type="incident",
        target_id=alert.incident_id,
        details={"pre_alert": alert.pk, "facility": facility.code},
    )
    return alert


def close_pre_alert(
    *,
    pre_alert: PreAlert,
    outcome: str,
    actor: str,
    facility: Facility | None = None,
    at: dt.datetime | None = None,
) -> PreAlert:
    """The patient arrived, or is not coming after all (`outcome` arrived or cancelled).
    With `facility` (the receiving hospital closing it) another hospital's alert is not
    found. Closing an arrival twice (two nurses) changes nothing."""
    if outcome not in (PreAlertStatus.ARRIVED, PreAlertStatus.CANCELLED):
        raise errors.invalid(
            "pre_alert.bad_outcome",
            vi="Kết quả là arrived (đã đến) hoặc cancelled (huỷ).",
            en="The outcome is arrived or cancelled.",
            field="outcome",
        )
    alert = _locked_alert(pre_alert, facility)
    if alert.status == outcome:
        return alert
    if alert.status not in OPEN_PRE_ALERT_STATUSES:
        raise _closed(alert)
    _close(alert, PreAlertStatus(outcome), actor=actor, at=at or clock.now(), why=outcome)
    return alert


def _close(
    alert: PreAlert, status: PreAlertStatus, *, actor: str, at: dt.datetime, why: str
) -> None:
    alert.status = status
    alert.closed_at = at
    alert.save(update_fields=["status", "closed_at"])
    audit(
        f"pre_alert.{status.value}",
        actor=actor,
        target_type="incident",
        target_id=alert.incident_id,
        details={"pre_alert": alert.pk, "facility_id": alert.facility_id, "why": why},
    )


def _closed(alert: PreAlert) -> Conflict:
    return Conflict(
        "pre_alert.closed",
        vi="Báo trước này đã kết thúc (bệnh nhân đã đến hoặc đã huỷ).",
        en="This pre-alert is over (the patient arrived or it was cancelled).",
        status=alert.status,
    )


# --- the department's published status ------------------------------------------------------


def update_ed_status(
    *,
    facility: Facility,
    beds_free: int | None,
    on_diversion: bool,
    reason: str,
    actor: str,
    capabilities: Sequence[str] | None = None,
    at: dt.datetime | None = None,
) -> EmergencyDepartmentStatus:
    """What the department publishes: free beds (None: not saying), diversion and why, and
    optionally its own capabilities (they then win over the shipped file)."""
    _ensure_hospital(facility)
    if beds_free is not None and beds_free < 0:
        raise errors.invalid(
            "ed_status.negative_beds",
            vi="Số giường trống không thể âm.",
            en="Free beds cannot be negative.",
            field="beds_free",
        )
    if beds_free is not None and beds_free > MAX_BEDS:
        raise errors.invalid(
            "ed_status.implausible_beds",
            vi=f"Số giường trống quá lớn (tối đa {MAX_BEDS}).",
            en=f"Too many free beds (at most {MAX_BEDS}).",
            field="beds_free",
        )
    text = reason.strip()[:200]
    if on_diversion and not text:
        raise errors.invalid(
            "ed_status.reason_required",
            vi="Cần ghi lý do khi báo khoa cấp cứu không nhận bệnh nhân.",
            en="Give the reason when the department goes on diversion.",
            field="reason",
        )
    unknown = sorted(set(capabilities or ()) - set(Capability.values))
    if unknown:
        raise errors.invalid(
            "ed_status.unknown_capability",
            vi=f"Không có năng lực «{unknown[0][:30]}».",
            en=f"There is no capability “{unknown[0][:30]}”.",
            field="capabilities",
        )
    status, _created = EmergencyDepartmentStatus.objects.select_for_update().get_or_create(
        facility=facility
    )
    before = {"beds_free": status.beds_free, "on_diversion": status.on_diversion}
    status.beds_free = beds_free
    status.on_diversion = on_diversion
    status.diversion_reason = text if on_diversion else ""
    if capabilities is not None:
        status.capabilities_override = sorted(set(capabilities))
    status.updated_at = at or clock.now()
    status.updated_by = actor
    status.save()
    audit(
        "ed_status.updated",
        actor=actor,
        target_type="facility",
        target_id=facility.code,
        details={
            "before": before,
            "beds_free": beds_free,
            "on_diversion": on_diversion,
            "reason": status.diversion_reason,
            "capabilities": status.capabilities_override if capabilities is not None else None,
        },
    )
    return status


def _ensure_hospital(facility: Facility) -> None:
    if facility.kind not in HOSPITAL_KINDS:
        raise errors.invalid(
            "ed_status.not_a_hospital",
            vi=f"«{facility.name}» không phải là bệnh viện.",
            en=f"“{facility.name}” is not a hospital.",
            field="facility",
        )
