"""Provinces, former province codes and wards."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.core.models import SearchableModel
from cityhealth.core.text import fold_for_search
from cityhealth.geo.enums import WardKind


class Province(SearchableModel):
    """A province or centrally-run city after the 01/07/2025 reorganisation (34 of them)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)  # NSO code, e.g. "01"
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=40)  # "tỉnh" or "thành phố trung ương"
    # Name folded to lower-case ASCII (see core.text.fold_for_search) for diacritic-blind search.
    search_text = models.CharField(_("search text"), max_length=200, blank=True, editable=False)

    class Meta:
        db_table = "geo_provinces"
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name

    def build_search_text(self) -> str:
        return fold_for_search(self.name)


class FormerProvince(models.Model):
    """One of the 63 provinces before 07/2025; its 3-digit code still opens personal ID numbers."""

    id_code = models.CharField(_("ID code"), max_length=3, primary_key=True)  # e.g. "001"
    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="former_provinces",
        verbose_name=_("province since 07/2025"),
    )

    class Meta:
        db_table = "geo_former_provinces"
        ordering = ["id_code"]
        verbose_name = _("former province")
        verbose_name_plural = _("former provinces")

    def __str__(self) -> str:
        return f"{self.id_code} {self.name}"


class Ward(SearchableModel):
    """A commune-level unit (phường, xã or đặc khu) with its official NSO code."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=WardKind.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="wards", verbose_name=_("province")
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    formed_from = models.TextField(_("formed from"), blank=True)
    search_text = models.CharField(_("search text"), max_length=300, blank=True, editable=False)

    class Meta:
        db_table = "geo_wards"
        ordering = ["code"]
        verbose_name = _("ward")
        verbose_name_plural = _("wards")

    def __str__(self) -> str:
        return self.name

    def build_search_text(self) -> str:
        return fold_for_search(self.name)
