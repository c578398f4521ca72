"""Facilities, their departments and their rooms and counters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.core.models import SearchableModel
from cityhealth.core.text import fold_for_search
from cityhealth.facilities.enums import (
    DepartmentKind,
    FacilityKind,
    ListingStatus,
    ServicePointKind,
    Specialty,
)


class Facility(SearchableModel):
    """A place that gives care: hospital, 115 centre or station, commune health station."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    # The 5-character facility code (mã cơ sở KCB) used by BHYT; some facilities have none known.
    insurance_code = models.CharField(_("insurance facility code"), max_length=5, blank=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=FacilityKind.choices)
    specialty = models.CharField(
        _("specialty"), max_length=40, blank=True, choices=Specialty.choices
    )
    province = models.ForeignKey(
        "geo.Province",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    ward = models.ForeignKey(
        "geo.Ward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilities",
        verbose_name=_("ward"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_is_approximate = models.BooleanField(_("approximate location"), default=False)
    # Where the coordinates come from, e.g. "osm:way/217792888" or "centroid of Phường Láng".
    location_source = models.CharField(_("location source"), max_length=300, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent facility"),
    )
    listing_status = models.CharField(
        _("listing status"),
        max_length=20,
        choices=ListingStatus.choices,
        default=ListingStatus.LISTED,
    )
    note = models.TextField(_("note"), blank=True)
    source_note = models.CharField(_("source"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Code, names and address folded to lower-case ASCII, for diacritic-blind search.
    search_text = models.CharField(_("search text"), max_length=1000, blank=True, editable=False)

    class Meta:
        db_table = "facilities_facilities"
        ordering = ["kind", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        indexes = [models.Index(fields=["kind", "code"], name="facilities_kind_code")]

    def __str__(self) -> str:
        return self.name

    def build_search_text(self) -> str:
        return fold_for_search(
            self.code, self.insurance_code, self.name, self.name_en, self.address
        )

    @property
    def location_from_osm(self) -> bool:
        """Whether the location derives from OpenStreetMap (ODbL: show the attribution)."""
        return "osm" in self.location_source.lower()


class Department(models.Model):
    facility = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        related_name="departments",
        verbose_name=_("facility"),
    )
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    specialty = models.CharField(
        _("specialty"), max_length=40, blank=True, choices=Specialty.choices
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        db_table = "facilities_departments"
        ordering = ["facility_id", "position", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="facilities_department_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.facility.name}"


class ServicePoint(models.Model):
    """A room or counter where a person is served: a clinic room, a cashier counter, a kiosk."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="service_points",
        verbose_name=_("department"),
    )
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ServicePointKind.choices)
    # Vietnamese usage: floor 1 (tầng 1) is the ground floor.
    floor = models.SmallIntegerField(_("floor"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "facilities_service_points"
        ordering = ["department_id", "position", "code"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "code"], name="facilities_service_point_code"
            )
        ]

    def __str__(self) -> str:
        return self.name
