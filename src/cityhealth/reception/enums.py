from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.IntegerChoices):
    """Order of service inside a queue: higher first, then by arrival (Luật KCB 2023, Đ3.2)."""

    NORMAL = 0, _("Normal")
    PRIORITY = 1, _("Priority")
    EMERGENCY = 2, _("Emergency")


class PriorityGroup(models.TextChoices):
    """The statutory priority groups; the age-based ones are found from the date of birth."""

    EMERGENCY = "emergency", _("Emergency")
    UNDER_6 = "under_6", _("Child under 6")
    AGED_75 = "aged_75", _("Aged 75 and over")
    PREGNANT = "pregnant", _("Pregnant")
    DISABILITY = "disability", _("Severe disability")
    MERIT = "merit", _("Person with revolutionary merit")


# Groups a staff member declares (they cannot be read off the card).
DECLARED_GROUPS = (
    PriorityGroup.EMERGENCY,
    PriorityGroup.PREGNANT,
    PriorityGroup.DISABILITY,
    PriorityGroup.MERIT,
)


class Channel(models.TextChoices):
    """Where the visit started."""

    KIOSK = "kiosk", _("Kiosk")
    DESK = "desk", _("Reception desk")
    API = "api", _("Hospital system")


class IdentifiedBy(models.TextChoices):
    """How the person was identified at check-in."""

    CCCD_QR = "cccd_qr", _("Citizen ID card, QR code")
    CITIZEN_ID = "citizen_id", _("Citizen ID number")
    GUARDIAN = "guardian", _("A guardian's citizen ID")
    PASSPORT = "passport", _("Passport")
    UNIDENTIFIED = "unidentified", _("Not identified")


class VisitStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    DONE = "done", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class EntryState(models.TextChoices):
    """One visit's stay in one queue."""

    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    DONE = "done", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    TRANSFERRED = "transferred", _("Transferred")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (EntryState.WAITING, EntryState.CALLED)
