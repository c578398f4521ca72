"""The Django admin, open only to the admin role and signed in through our login page."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cityhealth.core.roles import Permission


class CityHealthAdminSite(AdminSite):
    site_header = _("cityhealth administration")
    site_title = _("cityhealth administration")
    index_title = _("Reference data and accounts")
    login_template = "accounts/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and getattr(user, "has_permission", lambda _p: False)(Permission.USE_ADMIN)
        )


class CityHealthAdminConfig(AdminConfig):
    default_site = "cityhealth.web.admin_site.CityHealthAdminSite"
