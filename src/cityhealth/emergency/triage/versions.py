"""Published versions: every protocol file is kept, the newest one in force is used.

Publishing a change means adding `protocol-v<next>.json` beside the old files (see
data/emergency/triage/SOURCE.md); old versions stay so that an incident can always be re-read
with the protocol it was triaged under.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from cityhealth.core import clock
from cityhealth.core.datafiles import data_path
from cityhealth.core.errors import NotFound
from cityhealth.emergency.triage.loader import ProtocolError, load_protocol
from cityhealth.emergency.triage.model import Protocol

PROTOCOL_DIR = ("emergency", "triage")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _protocols_in(directory: str) -> tuple[Protocol, ...]:
    protocols = sorted(
        (load_protocol(path) for path in Path(directory).glob("protocol-v*.json")),
        key=lambda p: version_key(p.version),
    )
    versions = [p.version for p in protocols]
    if len(set(versions)) != len(versions):
        raise ProtocolError("duplicate_version", directory, "two files hold the same version")
    if len({p.id for p in protocols}) > 1:
        raise ProtocolError("mixed_ids", directory, "files of different protocols")
    return tuple(protocols)


def available_protocols(*, directory: Path | None = None) -> tuple[Protocol, ...]:
    """Every published version, oldest first (loaded once per process, then cached)."""
    return _protocols_in(str(directory or data_path(*PROTOCOL_DIR)))


def reload_protocols() -> None:
    """Forget the cached files (after publishing a version without a restart)."""
    _protocols_in.cache_clear()


def current_protocol(*, today: dt.date | None = None, directory: Path | None = None) -> Protocol:
    """The version in force: the latest `effective_from` that is not in the future."""
    day = today or clock.today()
    in_force = [p for p in available_protocols(directory=directory) if p.effective_from <= day]
    if not in_force:
        raise ProtocolError("no_protocol_in_force", str(directory or PROTOCOL_DIR), f"on {day}")
    return max(in_force, key=lambda p: (p.effective_from, version_key(p.version)))


def protocol(version: str, *, directory: Path | None = None) -> Protocol:
    """One published version, in force or not: what an old incident was triaged with."""
    for candidate in available_protocols(directory=directory):
        if candidate.version == version:
            return candidate
    raise NotFound(
        "triage.protocol_not_found",
        vi=f"Không có phiên bản {version} của quy trình phân loại.",
        en=f"There is no version {version} of the triage protocol.",
        version=version,
    )
