"""The scalar parameters of the synthetic population (`data/synth/parameters.json`), typed."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cityhealth.core.datafiles import data_path


@dataclass(frozen=True)
class NameParams:
    young_from: int  # given names follow the "younger" weights from this birth year
    old_until: int  # ... and the "older" weights up to this one; linear in between


@dataclass(frozen=True)
class IdentityParams:
    unregistered_newborn_days: int
    unregistered_newborn_share: float
    old_id_born_before: int
    old_id_share: float
    old_id_first_issued: dt.date
    number_first_issued: dt.date
    number_issued_until: dt.date
    reissue_share: float
    reissue_reasons: dict[str, float]  # birth_year / sex / registration → share


@dataclass(frozen=True)
class ContactParams:
    phone_share_from_age: tuple[tuple[int, float], ...]  # step function of age
    eid_share_from_age: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class GuardianParams:
    child_age_below: int
    mother_age_min: int
    mother_age_max: int
    mother_age_mean: float
    mother_age_sd: float
    father_share: float
    father_age_gap_mean: float
    father_age_gap_sd: float
    father_age_gap_min: int
    father_age_gap_max: int


@dataclass(frozen=True)
class InsuranceParams:
    primary_care_nearest_weights: tuple[float, ...]
    bhxh_number_home_province_share: float
    validity: dict[str, tuple[str, ...]]  # rule → groups; groups not listed: employment rule


@dataclass(frozen=True)
class LegacyParams:
    default_share: float
    non_match_share: float
    namesake_share_of_non_matches: float
    rates: dict[str, float]  # noise kind (or field presence) → probability


@dataclass(frozen=True)
class Parameters:
    as_of: dt.date
    nguyen_share: float
    names: NameParams
    identity: IdentityParams
    contact: ContactParams
    guardians: GuardianParams
    insurance: InsuranceParams
    legacy: LegacyParams


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _steps(value: Any) -> tuple[tuple[int, float], ...]:
    return tuple((int(age), float(share)) for age, share in value)


def load_parameters() -> Parameters:
    raw = json.loads(data_path("synth", "parameters.json").read_text(encoding="utf-8"))
    identity = raw["identity"]
    legacy = dict(raw["legacy"])
    return Parameters(
        as_of=_date(raw["as_of"]),
        nguyen_share=float(raw["nguyen_share"]),
        names=NameParams(
            young_from=int(raw["names"]["young_from"]), old_until=int(raw["names"]["old_until"])
        ),
        identity=IdentityParams(
            unregistered_newborn_days=int(identity["unregistered_newborn_days"]),
            unregistered_newborn_share=float(identity["unregistered_newborn_share"]),
            old_id_born_before=int(identity["old_id_born_before"]),
            old_id_share=float(identity["old_id_share"]),
            old_id_first_issued=_date(identity["old_id_first_issued"]),
            number_first_issued=_date(identity["number_first_issued"]),
            number_issued_until=_date(identity["number_issued_until"]),
            reissue_share=float(identity["reissue_share"]),
            reissue_reasons={k: float(v) for k, v in identity["reissue_reasons"].items()},
        ),
        contact=ContactParams(
            phone_share_from_age=_steps(raw["contact"]["phone_share_from_age"]),
            eid_share_from_age=_steps(raw["contact"]["eid_share_from_age"]),
        ),
        guardians=GuardianParams(**raw["guardians"]),
        insurance=InsuranceParams(
            primary_care_nearest_weights=tuple(
                float(w) for w in raw["insurance"]["primary_care_nearest_weights"]
            ),
            bhxh_number_home_province_share=float(
                raw["insurance"]["bhxh_number_home_province_share"]
            ),
            validity={rule: tuple(groups) for rule, groups in raw["insurance"]["validity"].items()},
        ),
        legacy=LegacyParams(
            default_share=float(legacy.pop("default_share")),
            non_match_share=float(legacy.pop("non_match_share")),
            namesake_share_of_non_matches=float(legacy.pop("namesake_share_of_non_matches")),
            rates={k: float(v) for k, v in legacy.items()},
        ),
    )
