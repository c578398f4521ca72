"""Plain values of the shared record that other apps may read."""

from __future__ import annotations

# The resource types the shared record stores (Patient comes from the person registry).
SUPPORTED_TYPES: tuple[str, ...] = (
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Encounter",
    "EpisodeOfCare", "Condition", "Observation", "Procedure", "MedicationRequest",
    "MedicationStatement", "AllergyIntolerance", "Immunization", "DiagnosticReport",
    "DocumentReference", "ServiceRequest", "Appointment", "Composition", "Consent", "Coverage",
    "Provenance", "AuditEvent", "Subscription",
    # Not among the 24: stored so that a Group of Patients can be exported ($export).
    "Group",
)  # fmt: skip
