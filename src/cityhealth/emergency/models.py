"""Tables of the dispatch centre: units, their status history and positions, incidents (one
per emergency, whatever the number of calls) and the assignment of units to them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.emergency.enums import (
    AssignmentStatus,
    IncidentStatus,
    LocationMethod,
    MoveUpStatus,
    Operator,
    Priority,
    UnitKind,
    UnitStatus,
)


class Unit(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)  # "115-00-A1"
    call_sign = models.CharField(_("call sign"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=UnitKind.choices)
    operator = models.CharField(_("operator"), max_length=10, choices=Operator.choices)
    operator_name = models.CharField(_("operator name"), max_length=200, blank=True)
    # Where it waits between jobs: a 115 centre or station, or a hospital.
    home = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Where the dispatcher moved it to wait instead (a move-up), until its next job.
    standby_post = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    status_since = models.DateTimeField(_("status since"))
    incident = models.ForeignKey(
        "Incident", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The last position a device reported (AVL); older reports never overwrite a newer one.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "emergency_units"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.call_sign or self.code


class UnitStatusChange(models.Model):
    """Every status a unit went through, who set it and why: the dispatch room's evidence."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=15, choices=UnitStatus.choices)
    to_status = models.CharField(max_length=15, choices=UnitStatus.choices)
    at = models.DateTimeField()
    incident = models.ForeignKey(
        "Incident", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    actor = models.CharField(max_length=120)
    source = models.CharField(max_length=20)  # "dispatcher", "crew", "system"

    class Meta:
        db_table = "emergency_unit_status_changes"
        indexes = [models.Index(fields=["unit", "at"], name="emergency_unit_status_at")]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.from_status} → {self.to_status}"


class UnitPosition(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="positions")
    latitude = models.FloatField()
    longitude = models.FloatField()
    at = models.DateTimeField()  # when the device measured it
    received_at = models.DateTimeField()
    speed_kmh = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "emergency_unit_positions"
        indexes = [models.Index(fields=["unit", "at"], name="emergency_position_at")]

    def __str__(self) -> str:
        return f"{self.unit_id} @ {self.latitude:.5f},{self.longitude:.5f}"


class CrewShift(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    crew = models.JSONField(default=list)  # [{"name": ..., "role": "doctor"|"nurse"|"driver"}]

    class Meta:
        db_table = "emergency_crew_shifts"
        indexes = [models.Index(fields=["unit", "starts_at"], name="emergency_shift_start")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    """One emergency from the first ring to the unit free again, with every timestamp."""

    number = models.CharField(_("number"), max_length=20, unique=True)  # "260412-0001"
    # The telephone system's id of the call: a repeated webhook finds the same incident.
    call_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    caller_number = models.CharField(_("caller number"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.RECEIVED
    )
    call_taker = models.CharField(max_length=120, blank=True)
    # Whatever the call-taker has typed so far, saved at every keystroke pause; `version`
    # grows with each save so that two screens never overwrite each other unseen.
    draft = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)

    address = models.CharField(_("address"), max_length=300, blank=True)
    ward = models.ForeignKey(
        "geo.Ward", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_method = models.CharField(max_length=10, choices=LocationMethod.choices, blank=True)
    car_reachable = models.BooleanField(null=True, blank=True)  # can a car reach the door?
    walk_metres = models.PositiveIntegerField(default=0)  # from the last car-accessible point
    patients = models.PositiveSmallIntegerField(default=1)
    complaint = models.CharField(_("chief complaint"), max_length=40, blank=True)
    priority = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    triage = models.JSONField(default=dict, blank=True)  # the protocol's outcome, as recorded
    possible_duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancel_reason = models.CharField(max_length=200, blank=True)

    received_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    location_confirmed_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    patient_contact_at = models.DateTimeField(null=True, blank=True)
    left_scene_at = models.DateTimeField(null=True, blank=True)
    at_hospital_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    unit_free_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "emergency_incidents"
        indexes = [
            models.Index(fields=["status", "received_at"], name="emergency_incident_queue"),
            models.Index(fields=["received_at"], name="emergency_incident_received"),
        ]

    def __str__(self) -> str:
        return self.number


class Assignment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    assigned_at = models.DateTimeField()
    assigned_by = models.CharField(max_length=120)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "emergency_assignments"
        constraints = [
            # A unit works one incident at a time: the database says no to a second.
            models.UniqueConstraint(
                fields=["unit"],
                condition=models.Q(status="active"),
                name="emergency_one_active_assignment_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.incident_id} ({self.status})"


class CareRecord(models.Model):
    """The crew's pre-hospital care record of one patient: vitals over time, GCS, what was
    done and given, and when; it becomes the handover summary at the hospital."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="care_records")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="care_records")
    patient_label = models.CharField(max_length=40, default="1")  # "1", "2" … on a multi-casualty
    # Lists of timestamped entries, appended to, never rewritten:
    # vitals [{"at", "hr", "sbp", "dbp", "rr", "spo2", "temp", "glucose", "gcs_e/v/m"}]
    vitals = models.JSONField(default=list, blank=True)
    # interventions / medications [{"at", "what", "dose"?, "route"?, "by"}]
    interventions = models.JSONField(default=list, blank=True)
    medications = models.JSONField(default=list, blank=True)
    findings = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "emergency_care_records"
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "unit", "patient_label"],
                name="emergency_one_record_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}/{self.unit_id}/{self.patient_label}"


# --- destination hospitals and pre-alerts --------------------------------------------------


class Capability(models.TextChoices):
    """What a hospital's emergency department can take, beyond a general adult emergency."""

    GENERAL_ED = "general_ed", _("General emergency department")
    STROKE = "stroke", _("Stroke centre")
    CARDIAC_CATH = "cardiac_cath", _("Cardiac catheterisation")
    TRAUMA = "trauma", _("Major trauma")
    PAEDIATRICS = "paediatrics", _("Paediatric emergency")
    OBSTETRICS = "obstetrics", _("Obstetric emergency")
    BURNS = "burns", _("Burns")


class EmergencyDepartmentStatus(models.Model):
    """A hospital emergency department as the dispatch room sees it: what it can take and
    what it publishes now (free beds, diversion).

    One row per hospital, updated in place: choosing a destination reads the current state of
    every hospital at once, and the history of changes is in the audit log.
    """

    facility = models.OneToOneField(
        "facilities.Facility",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facility"),
    )
    # From data/emergency/hospital_capabilities.csv; reloading the file rewrites only these.
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    capabilities_basis = models.CharField(_("basis of the capabilities"), max_length=20, blank=True)
    capabilities_note = models.CharField(_("note on the capabilities"), max_length=300, blank=True)
    # What the department itself publishes instead (None: the file's list stands).
    capabilities_override = models.JSONField(
        _("capabilities published by the department"), null=True, blank=True
    )
    beds_free = models.PositiveIntegerField(_("free beds"), null=True, blank=True)  # None: unknown
    on_diversion = models.BooleanField(_("on diversion"), default=False)
    diversion_reason = models.CharField(_("diversion reason"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by = models.CharField(_("updated by"), max_length=120, blank=True)

    class Meta:
        db_table = "emergency_department_statuses"
        verbose_name = _("emergency department status")
        verbose_name_plural = _("emergency department statuses")

    def __str__(self) -> str:
        return f"{self.facility_id}: beds={self.beds_free} diversion={self.on_diversion}"

    @property
    def effective_capabilities(self) -> list[str]:
        if self.capabilities_override is not None:
            return list(self.capabilities_override)
        return list(self.capabilities)


class PreAlertStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_PRE_ALERT_STATUSES = (PreAlertStatus.SENT, PreAlertStatus.ACKNOWLEDGED)


class PreAlert(models.Model):
    """The receiving hospital told that a patient is coming: when, how urgent and how the
    patient is (a copy of the care record at the time of sending)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="pre_alerts", verbose_name=_("incident")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="pre_alerts", verbose_name=_("unit")
    )
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facility"),
    )
    status = models.CharField(
        _("status"), max_length=15, choices=PreAlertStatus.choices, default=PreAlertStatus.SENT
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, blank=True)
    created_at = models.DateTimeField(_("sent at"))
    created_by = models.CharField(_("sent by"), max_length=120)
    eta_at = models.DateTimeField(_("expected arrival"))
    # {"complaint", "complaint_code", "triage_summary", "patients": [{latest_vitals, gcs, …}]}
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=120, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        db_table = "emergency_pre_alerts"
        verbose_name = _("pre-alert")
        verbose_name_plural = _("pre-alerts")
        indexes = [
            models.Index(fields=["facility", "status", "eta_at"], name="emergency_pre_alert_inbox")
        ]
        constraints = [
            # A unit carries its patient to one hospital: a new destination replaces the old.
            models.UniqueConstraint(
                fields=["incident", "unit"],
                condition=models.Q(status__in=["sent", "acknowledged"]),
                name="emergency_one_open_pre_alert_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}/{self.unit_id} → {self.facility_id} ({self.status})"


class HandsetLocation(models.Model):
    """A position the caller's phone sent by itself (Advanced Mobile Location: an SMS or an
    HTTPS message the handset emits when it dials the emergency number). It may come before
    the telephone system reports the call, so it waits for the call by the caller's number."""

    message_id = models.CharField(max_length=64, unique=True)  # a retried message finds it
    caller_number = models.CharField(max_length=20)
    latitude = models.FloatField()
    longitude = models.FloatField()
    accuracy_m = models.PositiveIntegerField()
    positioned_at = models.DateTimeField()  # when the handset had the fix
    received_at = models.DateTimeField()
    source = models.CharField(max_length=10)  # "sms", "https"
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        related_name="handset_locations",
        null=True,
        blank=True,
    )

    class Meta:
        db_table = "emergency_handset_locations"
        indexes = [
            models.Index(fields=["caller_number", "received_at"], name="emergency_handset_caller"),
        ]

    def __str__(self) -> str:
        return f"{self.caller_number} ±{self.accuracy_m} m"


class MoveUp(models.Model):
    """A suggestion, made after an assignment, to move a standing unit to another post so that
    the city stays covered; the dispatcher orders it or dismisses it."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="move_ups")
    post = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    after_incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Expected share of the city's demand reached within 15 minutes gained (MEXCLP), and the
    # residents that share stands for.
    gain_share = models.FloatField()
    gain_residents = models.PositiveIntegerField()
    drive_seconds = models.FloatField()
    status = models.CharField(
        max_length=10, choices=MoveUpStatus.choices, default=MoveUpStatus.PROPOSED
    )
    suggested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=120, blank=True)

    class Meta:
        db_table = "emergency_move_ups"
        indexes = [models.Index(fields=["status", "suggested_at"], name="emergency_move_up_open")]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.post_id}"
