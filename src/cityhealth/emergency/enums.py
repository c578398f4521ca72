from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.facilities.enums import FacilityKind


class UnitKind(models.TextChoices):
    ALS_AMBULANCE = "als", _("Ambulance, advanced life support")
    BLS_AMBULANCE = "bls", _("Ambulance, basic life support")
    MOTORBIKE = "motorbike", _("Motorbike first responder")


class Operator(models.TextChoices):
    """Who runs a unit: the 115 centre and its stations, a hospital, or a private provider."""

    CENTRE = "centre", _("115 centre")
    STATION = "station", _("115 station")
    HOSPITAL = "hospital", _("Hospital")
    PRIVATE = "private", _("Private provider")


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    AT_HOSPITAL = "at_hospital", _("At hospital")
    RETURNING = "returning", _("Returning")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class IncidentStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # the telephone system reported the call
    TAKING = "taking", _("Being taken")  # a call-taker answered
    PENDING = "pending", _("Waiting for a unit")  # location and triage done
    ASSIGNED = "assigned", _("Unit assigned")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_INCIDENT_STATUSES = (
    IncidentStatus.RECEIVED,
    IncidentStatus.TAKING,
    IncidentStatus.PENDING,
    IncidentStatus.ASSIGNED,
)


class Priority(models.TextChoices):
    P1 = "P1", _("P1 life-threatening")
    P2 = "P2", _("P2 emergency")
    P3 = "P3", _("P3 urgent")
    P4 = "P4", _("P4 non-urgent")


class LocationMethod(models.TextChoices):
    ADDRESS = "address", _("Address")
    MAP = "map", _("Map click")
    HANDSET = "handset", _("Handset location")


class MoveUpStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ORDERED = "ordered", _("Ordered")
    DISMISSED = "dismissed", _("Dismissed")
    EXPIRED = "expired", _("Expired")  # a newer suggestion replaced it


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOOD_DOWN = "stood_down", _("Stood down")
    COMPLETED = "completed", _("Completed")


# Facilities that receive 115 patients (their emergency departments publish a status).
HOSPITAL_KINDS: tuple[str, ...] = (
    FacilityKind.GENERAL_HOSPITAL,
    FacilityKind.SPECIALIST_HOSPITAL,
    FacilityKind.CENTRAL_HOSPITAL,
)
