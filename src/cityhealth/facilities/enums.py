from django.db import models
from django.utils.translation import gettext_lazy as _


class FacilityKind(models.TextChoices):
    GENERAL_HOSPITAL = "general_hospital", _("General hospital")
    SPECIALIST_HOSPITAL = "specialist_hospital", _("Specialist hospital")
    # A national hospital in the city, run by a ministry (or a national university), not by the
    # city's Department of Health.
    CENTRAL_HOSPITAL = "central_hospital", _("Central hospital (Ministry-run)")
    EMERGENCY_CENTRE = "emergency_centre", _("115 emergency centre")
    EMERGENCY_STATION = "emergency_station", _("115 emergency station")
    COMMUNE_HEALTH_STATION = "commune_health_station", _("Commune health station")


class ListingStatus(models.TextChoices):
    """How sure the shipped data is that the facility exists as described."""

    LISTED = "listed", _("Listed in the source")
    PROBABLE = "probable", _("Probable, not confirmed")
    UNCERTAIN = "uncertain", _("Uncertain")
    GENERATED = "generated", _("Generated (one per ward)")


class Specialty(models.TextChoices):
    """Specialty of a specialist hospital or of an outpatient clinic."""

    GENERAL_PRACTICE = "general_practice", _("General practice")
    INTERNAL_MEDICINE = "internal_medicine", _("Internal medicine")
    CARDIOLOGY = "cardiology", _("Cardiology")
    ENDOCRINOLOGY = "endocrinology", _("Endocrinology")
    SURGERY = "surgery", _("Surgery")
    PAEDIATRICS = "paediatrics", _("Paediatrics")
    OBSTETRICS_GYNAECOLOGY = "obstetrics_gynaecology", _("Obstetrics and gynaecology")
    ENT = "ent", _("Ear, nose and throat")
    OPHTHALMOLOGY = "ophthalmology", _("Ophthalmology")
    ODONTO_STOMATOLOGY = "odonto_stomatology", _("Odonto-stomatology")
    DERMATOLOGY = "dermatology", _("Dermatology")
    TRADITIONAL_MEDICINE = "traditional_medicine", _("Traditional medicine")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    PULMONOLOGY = "pulmonology", _("Lung diseases and tuberculosis")
    ONCOLOGY = "oncology", _("Oncology")
    NEPHROLOGY = "nephrology", _("Nephrology")
    UROLOGY = "urology", _("Urology")
    PSYCHIATRY = "psychiatry", _("Psychiatry")


class DepartmentKind(models.TextChoices):
    RECEPTION = "reception", _("Reception")
    CLINIC = "clinic", _("Outpatient clinic")
    EMERGENCY = "emergency", _("Emergency")
    LAB = "lab", _("Laboratory")
    IMAGING = "imaging", _("Imaging")
    DIAGNOSTICS = "diagnostics", _("Functional diagnostics")
    PHARMACY = "pharmacy", _("Pharmacy")
    CASHIER = "cashier", _("Cashier")
    VACCINATION = "vaccination", _("Vaccination")
    DISPATCH = "dispatch", _("Dispatch")
    AMBULANCE = "ambulance", _("Ambulances")


class ServicePointKind(models.TextChoices):
    ROOM = "room", _("Room")
    COUNTER = "counter", _("Counter")
    KIOSK = "kiosk", _("Kiosk")
    DESK = "desk", _("Desk")
    BAY = "bay", _("Ambulance bay")
