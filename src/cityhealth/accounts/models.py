"""Staff users, role memberships and API clients."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityhealth.accounts.types import COARSE, allows
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
    # OAuth2 client credentials (RFC 6749 §2.3.1): the public id and a hash of the secret,
    # which is shown once when the client is made. Clients from before OAuth have neither.
    client_id = models.CharField(max_length=40, unique=True, null=True, blank=True)
    secret_hash = models.CharField(max_length=64, blank=True)
    # A resident's own client (the portal acting for one person): its tokens see only that
    # person's compartment (`patient/` scopes). A plain id, not a foreign key: `people` sits
    # above `accounts` in the layers.
    person_id = models.BigIntegerField(null=True, blank=True)

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
    # What the token grants: the scopes asked for at the token endpoint, narrowed to the
    # client's. None (tokens issued by hand) means the client's scopes.
    scopes = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "accounts_api_tokens"

    def __str__(self) -> str:
        return f"{self.client} · {self.key_id}"

    @property
    def granted_scopes(self) -> list[str]:
        return list(self.client.scopes if self.scopes is None else self.scopes)

    def has_permission(self, permission: Permission) -> bool:
        # An API client is granted permissions by name in its scopes; SMART scopes imply the
        # record permissions (and a system client reading Patients may look persons up).
        if not self.client.is_active:
            return False
        granted = self.granted_scopes
        if str(permission) in granted:
            return True
        if permission == Permission.VIEW_PERSONS:  # only a SMART scope naming reads of Patient
            granted = [scope for scope in granted if scope not in COARSE]
        contexts = ("system", "user") if self.client.person_id is None else ("patient",)
        implied = _IMPLIED.get(permission)
        if implied is None or (permission == Permission.VIEW_PERSONS and "patient" in contexts):
            return False
        resource_type, actions = implied
        return any(
            allows(granted, contexts=contexts, resource_type=resource_type, action=action)
            for action in actions
        )


# The permissions SMART scopes imply: any type's read or search, any write, a Patient read.
_IMPLIED: dict[Permission, tuple[str | None, str]] = {
    Permission.READ_RECORDS: (None, "rs"),
    Permission.WRITE_RECORDS: (None, "cud"),
    Permission.VIEW_PERSONS: ("Patient", "r"),
}
