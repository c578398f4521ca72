from django.db import models
from django.utils.translation import gettext_lazy as _


class WardKind(models.TextChoices):
    """The three kinds of commune-level unit since 01/07/2025."""

    WARD = "phường", _("Ward")
    COMMUNE = "xã", _("Commune")
    SPECIAL_ZONE = "đặc khu", _("Special zone")
