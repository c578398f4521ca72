"""Errors of the shared record; the FHIR API turns each into an OperationOutcome."""

from __future__ import annotations

from typing import ClassVar

from cityhealth.core.errors import Conflict, DomainError, InvalidInput, NotFound


class Said(str):
    """A message in both languages: the string itself is English, `vi` its Vietnamese. It
    passes wherever a message string does (an issue of `InvalidResource`)."""

    __slots__ = ("vi",)
    vi: str

    def __new__(cls, en: str, vi: str) -> Said:
        said = super().__new__(cls, en)
        said.vi = vi
        return said


def in_language(message: str, language: str | None) -> str:
    """`message` in `language` (Vietnamese unless English is asked for, like
    `DomainError.message`); a plain string has only the one it was written in."""
    if isinstance(message, Said) and not (language and language.lower().startswith("en")):
        return message.vi
    return str(message)


class InvalidResource(InvalidInput):
    """A resource that is not valid FHIR R4: `issues` says where and why, element by element
    (each message a `Said` in both languages, or a plain string)."""

    def __init__(self, *, issues: list[tuple[str, str]], position: int | None = None) -> None:
        first = issues[0] if issues else ("", "")
        super().__init__(
            "resource.invalid",
            vi=f"Tài nguyên FHIR không hợp lệ: {first[0]} {in_language(first[1], 'vi')}".strip(),
            en=f"The FHIR resource is not valid: {first[0]} {first[1]}".strip(),
            field=first[0] or None,
        )
        self.issues = issues
        self.position = position  # which resource of a batch write, when there were many


class ResourceGone(DomainError):
    status_code: ClassVar[int] = 410
    title: ClassVar[str] = "Gone"


class VersionConflict(Conflict):
    """If-Match named a version that is no longer the current one."""

    status_code: ClassVar[int] = 412
    title: ClassVar[str] = "Precondition failed"


def resource_not_found(resource_type: str, logical_id: str) -> NotFound:
    return NotFound(
        "resource.not_found",
        vi=f"Không có {resource_type}/{logical_id}.",
        en=f"There is no {resource_type}/{logical_id}.",
    )


def resource_gone(resource_type: str, logical_id: str) -> ResourceGone:
    return ResourceGone(
        "resource.deleted",
        vi=f"{resource_type}/{logical_id} đã bị xoá.",
        en=f"{resource_type}/{logical_id} was deleted.",
    )


def version_conflict(*, expected: int, current: int) -> VersionConflict:
    return VersionConflict(
        "resource.version_conflict",
        vi=f"Tài nguyên đã được sửa (phiên bản {current}, không phải {expected}); hãy đọc lại.",
        en=f"The resource changed (version {current}, not {expected}); read it again.",
        expected=expected,
        current=current,
    )


def unsupported_type(resource_type: str) -> InvalidInput:
    return InvalidInput(
        "resource.unsupported_type",
        vi=f"Máy chủ không lưu loại tài nguyên «{resource_type}».",
        en=f"This server does not store “{resource_type}” resources.",
        field="resourceType",
    )


class PatchFailed(DomainError):
    """A well-formed JSON Patch that cannot be applied to the resource as it is."""

    status_code: ClassVar[int] = 422
    title: ClassVar[str] = "Unprocessable entity"


def patch_failed(code: str, *, index: int, operation: object, reason: str) -> PatchFailed:
    op = operation.get("op", "?") if isinstance(operation, dict) else "?"
    path = operation.get("path", "") if isinstance(operation, dict) else ""
    return PatchFailed(
        code,
        vi=f"Không áp dụng được thao tác {index} ({op} {path}) của bản vá: {reason}",
        en=f"Operation {index} ({op} {path}) of the patch cannot be applied: {reason}",
        operation=index,
    )
