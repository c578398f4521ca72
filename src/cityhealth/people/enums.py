from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class DatePrecision(models.TextChoices):
    """How much of a date of birth is known: many older residents have a year only."""

    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class IdentifierKind(models.TextChoices):
    CITIZEN_ID = "citizen_id", _("Personal ID number (12 digits)")
    OLD_ID = "old_id", _("Old ID card number (9 digits)")
    PASSPORT = "passport", _("Passport")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance number (BHXH, 10 digits)")
    HOSPITAL_RECORD = "hospital_record", _("Hospital record number")


class IdentifierStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled (re-issued)")
    RETIRED = "retired", _("Retired (merged or entered in error)")


class Relationship(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    GUARDIAN = "guardian", _("Legal guardian")


class ReviewKind(models.TextChoices):
    SCAN_CONFLICT = "scan_conflict", _("Card scan disagrees with the registry")
    ID_CLAIMED_TWICE = "id_claimed_twice", _("Two persons claim one ID")
    POSSIBLE_DUPLICATE = "possible_duplicate", _("Possible duplicate")
    MATCH_REVIEW = "match_review", _("Incoming record needs a decision")
    ID_INCONSISTENT = "id_inconsistent", _("ID digits disagree with birth year or sex")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


class MatchOutcome(models.TextChoices):
    LINK = "link", _("Link to an existing person")
    REVIEW = "review", _("Needs review")
    NEW = "new", _("New person")
