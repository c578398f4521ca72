"""Staff users, role memberships and API clients."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.core.roles import Permission, Role, permissions_of


class User(AbstractUser):
    """A member of staff. Residents are persons in `people`, not users."""

    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # The VSS gateway asks for the checking staff member's own 12-digit ID with every lookup.
    citizen_id = models.CharField(_("citizen ID"), max_length=12, blank=True)

    class Meta:
        db_table = "accounts_users"
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def roles(self) -> frozenset[Role]:
        cached: frozenset[Role] | None = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(
                Role(value) for value in self.memberships.values_list("role", flat=True)
            )
            self._roles_cache = cached
        return cached

    def has_permission(self, permission: Permission) -> bool:
        return self.is_active and permission in permissions_of(self.roles)


class Membership(models.Model):
    """A role a user holds, at one facility or (facility empty) city-wide."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_memberships"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "facility"], name="accounts_membership_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(facility__isnull=True),
                name="accounts_membership_citywide_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.facility or 'city-wide'}"


class ApiClient(models.Model):
    """Another system (a hospital HIS, a bank, a device) that calls our API."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, null=True, blank=True
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_api_clients"
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token of an API client. Only a hash of the secret is kept."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_api_tokens"

    def __str__(self) -> str:
        return f"{self.client} · {self.key_id}"

    def has_permission(self, permission: Permission) -> bool:
        # An API client is granted permissions by name in its scopes.
        return self.client.is_active and str(permission) in self.client.scopes
