"""Domain errors: one exception type with a stable code and a message in both languages.

Codes are part of the public contract (API clients switch on them): never rename one. The
message is for people; pick it with `message(language)`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule of the domain said no. Bad input, a missing record, a conflict: never a bug."""

    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Invalid request"

    def __init__(
        self,
        code: str,
        *,
        vi: str,
        en: str,
        field: str | None = None,
        **params: Any,
    ) -> None:
        super().__init__(f"{code}: {en}")
        self.code = code
        self.message_vi = vi
        self.message_en = en
        self.field = field
        self.params = params

    def message(self, language: str | None = None) -> str:
        """The message in `language` ("vi" or "en"); Vietnamese unless English is asked for."""
        if language and language.lower().startswith("en"):
            return self.message_en
        return self.message_vi


class InvalidInput(DomainError):
    status_code = 400
    title = "Invalid input"


class NotFound(DomainError):
    """Also what a caller gets for a record it may not see: the two must look the same."""

    status_code = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status_code = 403
    title = "Forbidden"


class AuthenticationRequired(DomainError):
    status_code = 401
    title = "Authentication required"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class ServiceUnavailable(DomainError):
    status_code = 503
    title = "Service unavailable"


def not_found(kind_en: str, kind_vi: str) -> NotFound:
    """The one answer for both a missing and a forbidden record of a kind."""
    return NotFound(
        f"{kind_en.lower().replace(' ', '_')}.not_found",
        vi=f"Không tìm thấy {kind_vi}.",
        en=f"{kind_en} not found.",
    )
