"""Parsers of the identifiers a person brings to the desk: the 12-digit personal ID, the QR
text of a chip ID card and the BHYT card code.

Each parser returns a frozen dataclass or raises `InvalidInput` with a stable code; things that
look wrong but must not block the desk come back as `IdentifierWarning`s.
"""

from cityhealth.core.identifiers.bhyt import (
    NOMINAL_BENEFIT_PERCENT,
    BhytCode,
    BhytForm,
    BhytGroup,
    bhyt_groups,
    parse_bhyt_code,
)
from cityhealth.core.identifiers.cccd_qr import CccdQr, OldIdKind, parse_cccd_qr
from cityhealth.core.identifiers.citizen_id import (
    CitizenId,
    FormerProvince,
    IdentifierWarning,
    Sex,
    century_sex_digit,
    check_consistency,
    former_provinces,
    parse_citizen_id,
)

__all__ = [
    "NOMINAL_BENEFIT_PERCENT",
    "BhytCode",
    "BhytForm",
    "BhytGroup",
    "CccdQr",
    "CitizenId",
    "FormerProvince",
    "IdentifierWarning",
    "OldIdKind",
    "Sex",
    "bhyt_groups",
    "century_sex_digit",
    "check_consistency",
    "former_provinces",
    "parse_bhyt_code",
    "parse_cccd_qr",
    "parse_citizen_id",
]
