"""The FHIR R4 shapes the records generator writes: one small function per resource type,
plain dicts ready for JSON. Times are local (+07:00), as a hospital system would send them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cityhealth.synth.records.catalog import CVX, TCMR_VACCINE, Code

UCUM = "http://unitsofmeasure.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
VITAL_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
LOCAL_ZONE = dt.timezone(dt.timedelta(hours=7))

ENCOUNTER_CLASSES = {
    "AMB": "ambulatory",
    "EMER": "emergency",
    "IMP": "inpatient encounter",
}

Ref = dict[str, str]


def ref(kind: str, logical_id: str | int) -> Ref:
    return {"reference": f"{kind}/{logical_id}"}


def instant(when: dt.datetime) -> str:
    """An aware time as FHIR dateTime, in local time (the generator's times already are)."""
    if when.tzinfo is not LOCAL_ZONE:
        when = when.astimezone(LOCAL_ZONE)
    return when.isoformat(timespec="seconds")


def concept(code: Code) -> dict[str, Any]:
    """The code with its English display and the Vietnamese as the text (what the clinician
    reads)."""
    return {
        "coding": [{"system": code.system, "code": code.code, "display": code.en}],
        "text": code.vi,
    }


def bilingual(code: Code) -> dict[str, Any]:
    """A diagnosis as the Ministry's ICD-10 list shows it: Vietnamese display, with the
    English display as a translation."""
    translation = {
        "url": TRANSLATION,
        "extension": [
            {"url": "lang", "valueCode": "en"},
            {"url": "content", "valueString": code.en},
        ],
    }
    coding = {
        "system": code.system,
        "code": code.code,
        "display": code.vi,
        "_display": {"extension": [translation]},
    }
    return {"coding": [coding], "text": code.vi}


def quantity(value: float, unit: str, digits: int = 1) -> dict[str, Any]:
    return {"value": round(value, digits), "unit": unit, "system": UCUM, "code": unit}


def encounter(
    *,
    logical_id: str,
    patient: Ref,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    facility: str,
    practitioner: str,
    reason: Code,
    conditions: list[str],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": logical_id,
        "status": "finished",
        "class": {"system": V3_ACT_CODE, "code": kind, "display": ENCOUNTER_CLASSES[kind]},
        "subject": patient,
        "participant": [{"individual": ref("Practitioner", practitioner)}],
        "period": {"start": instant(start), "end": instant(end)},
        "reasonCode": [concept(reason)],
        "location": [{"location": ref("Location", facility)}],
        "serviceProvider": ref("Organization", facility),
    }
    if conditions:
        body["diagnosis"] = [
            {"condition": ref("Condition", c), "rank": rank}
            for rank, c in enumerate(conditions, start=1)
        ]
    if kind == "IMP":
        body["hospitalization"] = {
            "dischargeDisposition": {
                "coding": [{"system": DISCHARGE_DISPOSITION, "code": "home", "display": "Home"}]
            }
        }
    return body


def condition(
    *,
    logical_id: str,
    patient: Ref,
    code: Code,
    chronic: bool,
    onset: dt.datetime,
    recorded: dt.datetime,
    abated: dt.datetime | None,
    encounter_id: str | None,
    practitioner: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Condition",
        "id": logical_id,
        "clinicalStatus": {
            "coding": [{"system": CONDITION_CLINICAL, "code": "resolved" if abated else "active"}]
        },
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": CONDITION_CATEGORY,
                        "code": "problem-list-item" if chronic else "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": bilingual(code),
        "subject": patient,
        "onsetDateTime": instant(onset),
        "recordedDate": instant(recorded),
        "recorder": ref("Practitioner", practitioner),
    }
    if encounter_id:
        body["encounter"] = ref("Encounter", encounter_id)
    if abated:
        body["abatementDateTime"] = instant(abated)
    return body


def observation(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str,
    code: Code,
    when: dt.datetime,
    value: float,
    digits: int = 1,
    laboratory: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": logical_id,
        "status": "final",
        "category": [_observation_category(laboratory)],
        "code": concept(code),
        "subject": patient,
        "encounter": ref("Encounter", encounter_id),
        "effectiveDateTime": instant(when),
        "valueQuantity": quantity(value, code.unit, digits),
    }
    if code.extra:
        body["meta"] = {"profile": [VITAL_PROFILE + code.extra]}
    return body


def blood_pressure(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str,
    panel: Code,
    systolic: tuple[Code, int],
    diastolic: tuple[Code, int],
    when: dt.datetime,
) -> dict[str, Any]:
    """One Observation with two components, as the FHIR vital-signs profile asks."""
    return {
        "resourceType": "Observation",
        "id": logical_id,
        "meta": {"profile": [VITAL_PROFILE + "bp"]},
        "status": "final",
        "category": [_observation_category(False)],
        "code": concept(panel),
        "subject": patient,
        "encounter": ref("Encounter", encounter_id),
        "effectiveDateTime": instant(when),
        "component": [
            {"code": concept(code), "valueQuantity": quantity(value, code.unit, 0)}
            for code, value in (systolic, diastolic)
        ],
    }


def _observation_category(laboratory: bool) -> dict[str, Any]:
    code, display = ("laboratory", "Laboratory") if laboratory else ("vital-signs", "Vital Signs")
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}


def lab_report(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str,
    code: Code,
    when: dt.datetime,
    issued: dt.datetime,
    facility: str,
    results: list[str],
) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": logical_id,
        "status": "final",
        "category": [{"coding": [{"system": DIAGNOSTIC_SERVICE, "code": "LAB"}]}],
        "code": concept(code),
        "subject": patient,
        "encounter": ref("Encounter", encounter_id),
        "effectiveDateTime": instant(when),
        "issued": instant(issued),
        "performer": [ref("Organization", facility)],
        "result": [ref("Observation", r) for r in results],
    }


def medication_request(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str,
    medication: Code,
    authored: dt.datetime,
    days: int,
    active: bool,
    practitioner: str,
    reason_id: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": logical_id,
        "status": "active" if active else "completed",
        "intent": "order",
        "medicationCodeableConcept": concept(medication),
        "subject": patient,
        "encounter": ref("Encounter", encounter_id),
        "authoredOn": instant(authored),
        "requester": ref("Practitioner", practitioner),
        "dosageInstruction": [{"text": medication.extra}],
        "dispenseRequest": {
            "expectedSupplyDuration": {"value": days, "unit": "days", "system": UCUM, "code": "d"}
        },
    }
    if reason_id:
        body["reasonReference"] = [ref("Condition", reason_id)]
    return body


def procedure(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str,
    code: Code,
    when: dt.datetime,
    practitioner: str,
    reason_id: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": logical_id,
        "status": "completed",
        "code": concept(code),
        "subject": patient,
        "encounter": ref("Encounter", encounter_id),
        "performedDateTime": instant(when),
        "performer": [{"actor": ref("Practitioner", practitioner)}],
    }
    if reason_id:
        body["reasonReference"] = [ref("Condition", reason_id)]
    return body


def immunization(
    *,
    logical_id: str,
    patient: Ref,
    encounter_id: str | None,
    vaccine: Any,
    dose: int,
    when: dt.datetime,
    facility: str,
    practitioner: str,
    lot: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": logical_id,
        "status": "completed",
        "vaccineCode": {
            "coding": [
                {"system": CVX, "code": vaccine.cvx},
                {"system": TCMR_VACCINE, "code": vaccine.code, "display": vaccine.display},
            ],
            "text": vaccine.display,
        },
        "patient": patient,
        "occurrenceDateTime": instant(when),
        "primarySource": True,
        "location": ref("Location", facility),
        "lotNumber": lot,
        "performer": [{"actor": ref("Practitioner", practitioner)}],
        "protocolApplied": [{"series": "TCMR", "doseNumberPositiveInt": dose}],
    }
    if encounter_id:
        body["encounter"] = ref("Encounter", encounter_id)
    return body


def allergy(
    *, logical_id: str, patient: Ref, code: Code, recorded: dt.datetime, high: bool
) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": logical_id,
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": "confirmed"}]},
        "type": "allergy",
        "category": [code.extra],
        "criticality": "high" if high else "low",
        "code": concept(code),
        "patient": patient,
        "recordedDate": instant(recorded),
    }
