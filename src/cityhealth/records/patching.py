"""JSON Patch (RFC 6902) on a stored resource, one operation at a time so that a refusal can
name the operation at fault. The result is checked by the caller like any other write."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from cityhealth.core.errors import InvalidInput
from cityhealth.records import errors


def apply_json_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    """`document` changed by `operations` (a new object: `document` is left as it was).

    A patch that is not a JSON Patch document is bad input (400); one that is well formed but
    cannot be applied to this resource (a `test` that is false, a path that is not there) is
    `PatchFailed` (422). Both name the index of the operation."""
    if not isinstance(operations, list) or not operations:
        raise InvalidInput(
            "patch.malformed",
            vi="Bản vá JSON Patch phải là một mảng thao tác, không rỗng.",
            en="A JSON Patch is a non-empty array of operations.",
        )
    patched = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        try:
            step = jsonpatch.JsonPatch([operation])
            patched = step.apply(patched, in_place=True)
        except jsonpatch.InvalidJsonPatch as error:
            raise InvalidInput(
                "patch.malformed",
                vi=f"Thao tác {index} của bản vá không hợp lệ: {error}",
                en=f"Operation {index} of the patch is not valid: {error}",
                operation=index,
            ) from None
        except jsonpatch.JsonPatchTestFailed as error:
            raise errors.patch_failed(
                "patch.test_failed", index=index, operation=operation, reason=str(error)
            ) from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise errors.patch_failed(
                "patch.not_applicable", index=index, operation=operation, reason=str(error)
            ) from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
            # Values of the wrong kind (a path that is a number, an index into an object).
            raise InvalidInput(
                "patch.malformed",
                vi=f"Thao tác {index} của bản vá không hợp lệ: {error}",
                en=f"Operation {index} of the patch is not valid: {error}",
                operation=index,
            ) from None
    if not isinstance(patched, dict):
        raise errors.patch_failed(
            "patch.not_applicable",
            index=len(operations) - 1,
            operation=operations[-1],
            reason="the result is not a resource",
        )
    return patched
