"""The crew's pre-hospital care record, and the handover summary made from it.

Entries are appended with their time and author, never edited: what the crew measured at
10:42 stays what it was, and a correction is a new entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.models import CareRecord, Incident, Unit
from cityhealth.emergency.services._shared import audit, lock_incident

# Plausible ranges (anything outside is a typing error on a phone, not a patient).
VITAL_RANGES: dict[str, tuple[float, float]] = {
    "hr": (0, 300),  # beats/min (0: no pulse)
    "sbp": (0, 300),  # mmHg
    "dbp": (0, 200),
    "rr": (0, 80),  # breaths/min
    "spo2": (0, 100),  # %
    "temp": (25, 45),  # °C
    "glucose": (0.5, 50),  # mmol/L
    "gcs_e": (1, 4),
    "gcs_v": (1, 5),
    "gcs_m": (1, 6),
}


def _record(incident: Incident, unit: Unit, patient: str) -> CareRecord:
    if unit.incident_id != incident.pk and not incident.assignments.filter(unit=unit).exists():
        raise errors.invalid(
            "care.unit_not_on_incident",
            vi="Xe này không được điều đến sự vụ này.",
            en="This unit was not sent to this incident.",
            field="unit",
        )
    record, _created = CareRecord.objects.get_or_create(
        incident=incident, unit=unit, patient_label=(patient.strip() or "1")[:40]
    )
    return record


def record_vitals(
    *,
    incident: Incident,
    unit: Unit,
    values: dict[str, float | None],
    actor: str,
    patient: str = "1",
    at: dt.datetime | None = None,
) -> CareRecord:
    """One set of vital signs (any subset), checked against plausible ranges."""
    entry: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name not in VITAL_RANGES:
            raise errors.invalid(
                "care.unknown_vital",
                vi=f"Không có chỉ số «{name[:20]}».",
                en=f"There is no vital sign “{name[:20]}”.",
                field=name[:20],
            )
        low, high = VITAL_RANGES[name]
        if not low <= float(value) <= high:
            raise errors.invalid(
                "care.implausible_vital",
                vi=f"Giá trị {value} của «{name}» nằm ngoài khoảng {low:g}–{high:g}.",
                en=f"{value} is outside {low:g}–{high:g} for “{name}”.",
                field=name,
            )
        entry[name] = float(value)
    if not entry:
        raise errors.invalid(
            "care.empty", vi="Chưa nhập chỉ số nào.", en="No value was entered.", field="hr"
        )
    incident = lock_incident(incident.pk)
    record = _record(incident, unit, patient)
    entry |= {"at": (at or clock.now()).isoformat(), "by": actor}
    record.vitals = [*record.vitals, entry]
    record.save(update_fields=["vitals", "updated_at"])
    audit(
        "care.vitals_recorded",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"unit": unit.code, "patient": record.patient_label},
    )
    return record


def record_treatment(
    *,
    incident: Incident,
    unit: Unit,
    kind: str,
    what: str,
    actor: str,
    dose: str = "",
    patient: str = "1",
    at: dt.datetime | None = None,
) -> CareRecord:
    """An intervention (airway, CPR, defibrillation, splint …) or a medication given."""
    if kind not in ("intervention", "medication"):
        raise errors.invalid(
            "care.bad_kind",
            vi="Loại là intervention hoặc medication.",
            en="The kind is intervention or medication.",
            field="kind",
        )
    text = what.strip()[:200]
    if not text:
        raise errors.invalid(
            "care.empty", vi="Chưa ghi nội dung.", en="Nothing was entered.", field="what"
        )
    incident = lock_incident(incident.pk)
    record = _record(incident, unit, patient)
    entry = {"at": (at or clock.now()).isoformat(), "what": text, "by": actor}
    if dose.strip():
        entry["dose"] = dose.strip()[:60]
    if kind == "intervention":
        record.interventions = [*record.interventions, entry]
        record.save(update_fields=["interventions", "updated_at"])
    else:
        record.medications = [*record.medications, entry]
        record.save(update_fields=["medications", "updated_at"])
    audit(
        f"care.{kind}_recorded",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"unit": unit.code, "patient": record.patient_label, "what": text},
    )
    return record


@dataclass(frozen=True)
class HandoverSummary:
    """What the receiving emergency department is told (MIST-like: mechanism or complaint,
    injuries or findings, signs, treatment), with the incident's times."""

    incident: str
    priority: str
    complaint: str
    times: dict[str, str | None]
    patients: list[dict[str, Any]]


def handover_summary(*, incident: Incident) -> HandoverSummary:
    triage = incident.triage or {}
    name = triage.get("complaint", {}).get("name", {}) if isinstance(triage, dict) else {}
    patients = []
    for record in incident.care_records.select_related("unit").order_by("patient_label"):
        gcs = None
        if record.vitals:
            last = record.vitals[-1]
            if all(k in last for k in ("gcs_e", "gcs_v", "gcs_m")):
                gcs = int(last["gcs_e"] + last["gcs_v"] + last["gcs_m"])
        patients.append(
            {
                "patient": record.patient_label,
                "unit": record.unit.code,
                "latest_vitals": record.vitals[-1] if record.vitals else None,
                "gcs": gcs,
                "vitals_count": len(record.vitals),
                "interventions": record.interventions,
                "medications": record.medications,
                "findings": record.findings,
            }
        )
    stamps = ("received_at", "on_scene_at", "patient_contact_at", "left_scene_at")
    return HandoverSummary(
        incident=incident.number,
        priority=incident.priority,
        complaint=str(name.get("vi") or incident.complaint),
        times={
            s.removesuffix("_at"): (
                getattr(incident, s).isoformat() if getattr(incident, s) else None
            )
            for s in stamps
        },
        patients=patients,
    )
