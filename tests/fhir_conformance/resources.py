"""Resources the conformance tests send."""

from __future__ import annotations

from typing import Any


def observation(
    patient: str, *, code: str = "8302-2", value: float = 102.5, **more: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": patient},
        "effectiveDateTime": "2026-03-01T08:00:00+07:00",
        "valueQuantity": {"value": value, "unit": "cm", "system": "http://unitsofmeasure.org"},
        **more,
    }
