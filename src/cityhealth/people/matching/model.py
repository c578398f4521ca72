"""The parameters of the matcher, how they weigh a pair, and where they are kept.

A `MatchModel` holds, for every comparison level, m (how often a true match shows that level)
and u (how often two different persons do); a pair's evidence is the sum over comparisons of
log2(m/u), its log2 Bayes factor. Two term-frequency tables refine the name levels: agreeing
on "Nguyễn" (a third of the city) is weaker than agreeing on a rare surname.

Trained parameters are JSON (`cityhealth train_matcher`, default `var/matcher.json`, or the
path in the setting `CITYHEALTH_MATCHER_PATH`). Without that file the matcher uses
`default_model()`: a PRIOR written by hand from published name statistics and rough rates,
not learned from any data. It ranks candidates sensibly but its probabilities are guesses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from cityhealth.people.matching.comparisons import COMPARISONS, INDEX, NULL, Pairs
from cityhealth.people.matching.features import Columns, ObjArray

FORMAT = "cityhealth-matcher/1"
FloatArray = npt.NDArray[np.float64]

# Tuned on noisy synthetic records against 1 M and 8.5 M persons for precision ≥ 99.5% and
# recall ≥ 98% of links (docs/decisions/0004-person-matching.md); retune on real records.
DEFAULT_LINK_THRESHOLD = 0.85
DEFAULT_REVIEW_THRESHOLD = 0.5

# A name's frequency adjustment is kept within these bounds (bits), so that one rare value
# (or a typo that happens to be rare) cannot outweigh the rest of the evidence.
TF_MIN_BITS = -4.0
TF_MAX_BITS = 10.0
# Floors under m and u when they become weights: no level of a true match is impossible (any
# field can be mistyped), and no agreement is infinitely rare.
M_FLOOR = 1e-3
U_FLOOR = 1e-8


@dataclass(frozen=True)
class LevelParams:
    """m and u of each level of one comparison, weakest level first."""

    m: tuple[float, ...]
    u: tuple[float, ...]
    m_source: str = "prior"  # "em" when learned
    u_source: str = "prior"  # "random_pairs" when learned

    @cached_property
    def weights(self) -> FloatArray:
        """log2(m/u) of each level."""
        m = np.clip(np.asarray(self.m, dtype=np.float64), M_FLOOR, 1.0)
        u = np.clip(np.asarray(self.u, dtype=np.float64), U_FLOOR, 1.0)
        return np.asarray(np.log2(m / u), dtype=np.float64)


@dataclass(frozen=True)
class TermFrequencies:
    """Share of persons holding each value of a name part.

    `mean` is the chance that two random persons share the value (the sum of squared shares);
    `default` is the share assumed for a value missing from the table. An empty table with
    `default == mean` adjusts nothing.
    """

    freq: Mapping[str, float]
    default: float
    mean: float

    def adjustments(self, values: ObjArray) -> FloatArray:
        """log2(mean / share) for each value: negative for common names, positive for rare."""
        if not self.freq:
            return np.full(values.shape[0], math.log2(self.mean / self.default))
        get, default, mean = self.freq.get, self.default, self.mean
        shares = np.fromiter(
            (get(v, default) if v else mean for v in values), np.float64, values.shape[0]
        )
        bits = np.log2(self.mean / np.maximum(shares, 1e-12))
        return np.asarray(np.clip(bits, TF_MIN_BITS, TF_MAX_BITS), dtype=np.float64)

    def bits(self, value: str) -> float:
        values = np.empty(1, dtype=object)
        values[0] = value
        return float(self.adjustments(values)[0])


@dataclass(frozen=True)
class Scores:
    """Evidence of each pair: the total (log2 Bayes factor) and each comparison's part."""

    total: FloatArray  # (pairs,)
    parts: FloatArray  # (pairs, comparisons), the TF adjustment included in its comparison


@dataclass(frozen=True)
class MatchModel:
    comparisons: Mapping[str, LevelParams]
    tf_family: TermFrequencies
    tf_given: TermFrequencies
    # Prior share of incoming records whose person is already in the index.
    match_rate: float = 0.9
    link_threshold: float = DEFAULT_LINK_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    # With an exact identifier, evidence below this many bits against the person's
    # demographics turns the link into a review (a mistyped number that hits someone else).
    id_conflict_weight: float = 0.0
    learned: bool = False
    population_size: int = 0  # persons in the index when trained (informative)
    info: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _weight_tables(self) -> list[FloatArray]:
        return [self.comparisons[spec.name].weights for spec in COMPARISONS]

    def score(self, pairs: Pairs, right: Columns) -> Scores:
        """Evidence for the pairs; term frequencies are looked up on the right side (persons)."""
        n = len(pairs)
        parts = np.zeros((n, len(COMPARISONS)), dtype=np.float64)
        for c, table in enumerate(self._weight_tables):
            level = pairs.levels[:, c]
            known = level != NULL
            parts[known, c] = table[level[known]]
        name_c, given_c = INDEX["name"], INDEX["given"]
        name_level = pairs.levels[:, name_c]
        family_on_name = np.isin(name_level, COMPARISONS[name_c].tf_family)
        given_on_name = np.isin(name_level, COMPARISONS[name_c].tf_given)
        given_on_given = np.isin(pairs.levels[:, given_c], COMPARISONS[given_c].tf_given)
        if family_on_name.any() or given_on_name.any() or given_on_given.any():
            # Look each person's names up once, however many pairs they are in.
            unique, inverse = np.unique(pairs.rj, return_inverse=True)
            family_bits = self.tf_family.adjustments(right.family[unique])[inverse]
            given_bits = self.tf_given.adjustments(right.given[unique])[inverse]
            parts[family_on_name, name_c] += family_bits[family_on_name]
            parts[given_on_name, name_c] += given_bits[given_on_name]
            parts[given_on_given, given_c] += given_bits[given_on_given]
        return Scores(total=parts.sum(axis=1), parts=parts)

    def prior_bits(self, population: int) -> tuple[float, float]:
        """(log2 prior that one given person is the record's, log2 prior that nobody is)."""
        population = max(population, 1)
        rate = min(max(self.match_rate, 1e-6), 1 - 1e-6)
        return math.log2(rate / population), math.log2(1 - rate)

    def with_thresholds(self, *, link: float, review: float) -> MatchModel:
        return replace(self, link_threshold=link, review_threshold=review)

    # --- JSON --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "learned": self.learned,
            "note": (
                "m by EM, u by random sampling of pairs, term frequencies from the sample"
                if self.learned
                else "PRIOR: hand-set parameters, not learned from data"
            ),
            "match_rate": self.match_rate,
            "thresholds": {"link": self.link_threshold, "review": self.review_threshold},
            "id_conflict_weight": self.id_conflict_weight,
            "population_size": self.population_size,
            "comparisons": {
                spec.name: {
                    "levels": list(spec.levels),
                    "m": list(self.comparisons[spec.name].m),
                    "u": list(self.comparisons[spec.name].u),
                    "m_source": self.comparisons[spec.name].m_source,
                    "u_source": self.comparisons[spec.name].u_source,
                }
                for spec in COMPARISONS
            },
            "term_frequencies": {
                "family": _tf_json(self.tf_family),
                "given": _tf_json(self.tf_given),
            },
            "info": dict(self.info),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MatchModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a matcher parameter file ({data.get('format')!r})")
        comparisons: dict[str, LevelParams] = {}
        for spec in COMPARISONS:
            entry = data["comparisons"][spec.name]
            if tuple(entry["levels"]) != spec.levels:
                raise ValueError(f"levels of {spec.name!r} differ from this version's")
            comparisons[spec.name] = LevelParams(
                m=tuple(float(x) for x in entry["m"]),
                u=tuple(float(x) for x in entry["u"]),
                m_source=entry.get("m_source", "prior"),
                u_source=entry.get("u_source", "prior"),
            )
        tf = data["term_frequencies"]
        return cls(
            comparisons=comparisons,
            tf_family=_tf_from_json(tf["family"]),
            tf_given=_tf_from_json(tf["given"]),
            match_rate=float(data["match_rate"]),
            link_threshold=float(data["thresholds"]["link"]),
            review_threshold=float(data["thresholds"]["review"]),
            id_conflict_weight=float(data.get("id_conflict_weight", 0.0)),
            learned=bool(data["learned"]),
            population_size=int(data.get("population_size", 0)),
            info=data.get("info", {}),
        )


def _tf_json(tf: TermFrequencies) -> dict[str, Any]:
    return {
        "mean": tf.mean,
        "default": tf.default,
        "freq": {k: round(v, 8) for k, v in sorted(tf.freq.items(), key=lambda kv: -kv[1])},
    }


def _tf_from_json(data: Mapping[str, Any]) -> TermFrequencies:
    return TermFrequencies(
        freq={str(k): float(v) for k, v in data["freq"].items()},
        default=float(data["default"]),
        mean=float(data["mean"]),
    )


# --- The prior -----------------------------------------------------------------------------

# Surname shares: the widely cited figures (Lê Trung Hoa 2005, via queues-and-indicators.md
# §7.2) with Nguyễn set to 0.35, inside the 31–38% the two sources give. Keys are name keys:
# Huỳnh is counted with Hoàng and Võ with Vũ, as `name_key` maps them.
PRIOR_SURNAMES = {
    "nguyen": 0.35,
    "tran": 0.11,
    "le": 0.095,
    "pham": 0.071,
    "hoang": 0.051,
    "phan": 0.045,
    "vu": 0.039,
    "dang": 0.021,
    "bui": 0.02,
    "do": 0.014,
    "ho": 0.013,
    "ngo": 0.013,
    "duong": 0.01,
    "ly": 0.005,
}
PRIOR_SURNAME_OTHER = 0.003  # each other surname: ≈ 14% spread over some fifty names

# m and u of each level, weakest first (see comparisons.py for the ladders). u are rough
# chances for two random residents of a city of millions; m are guesses of how often a true
# match shows each level in noisy hospital records.
PRIOR_LEVELS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "name": (
        (0.03, 0.08, 0.08, 0.02, 0.29, 0.50),
        (0.9885, 0.01, 0.0013, 0.000005, 0.00005, 0.0001),
    ),
    "given": ((0.2, 0.25, 0.55), (0.93, 0.05, 0.02)),
    "dob": (
        (0.015, 0.01, 0.06, 0.01, 0.02, 0.025, 0.86),
        (0.9862, 0.0112, 0.0012, 0.0001, 0.0012, 0.00003, 0.00003),
    ),
    "sex": ((0.01, 0.99), (0.5, 0.5)),
    "ward": ((0.15, 0.85), (0.985, 0.015)),
    "phone": ((0.35, 0.05, 0.60), (0.99999, 0.000005, 0.000005)),
    "address": ((0.35, 0.2, 0.45), (0.92, 0.06, 0.02)),
}


def _normalised(values: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(values)
    return tuple(v / total for v in values)


def default_model() -> MatchModel:
    """The shipped PRIOR parameters (not learned): used until `train_matcher` has run."""
    family = dict(PRIOR_SURNAMES)
    tail = 1.0 - sum(family.values())
    mean = sum(v * v for v in family.values()) + tail * PRIOR_SURNAME_OTHER
    no_given_table = TermFrequencies(freq={}, default=1.0, mean=1.0)
    return MatchModel(
        comparisons={
            name: LevelParams(m=_normalised(m), u=_normalised(u))
            for name, (m, u) in PRIOR_LEVELS.items()
        },
        tf_family=TermFrequencies(freq=family, default=PRIOR_SURNAME_OTHER, mean=mean),
        tf_given=no_given_table,
        learned=False,
        info={"source": "prior shipped in cityhealth.people.matching.model"},
    )


# --- Storage -------------------------------------------------------------------------------


def model_path() -> Path:
    """Where trained parameters live: setting CITYHEALTH_MATCHER_PATH, else var/matcher.json."""
    return Path(settings.CITYHEALTH_MATCHER_PATH)


def save_model(model: MatchModel, path: Path | None = None) -> Path:
    path = path or model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n")
    temporary.replace(path)
    return path


def load_model(path: Path) -> MatchModel:
    return MatchModel.from_json(json.loads(path.read_text(encoding="utf-8")))


_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, MatchModel]] = {}


def current_model() -> MatchModel:
    """The trained model if its file exists (re-read when the file changes), else the prior."""
    path = model_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return _default()
    key = str(path)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    model = load_model(path)
    with _cache_lock:
        _cache[key] = (mtime, model)
    return model


_default_model: list[MatchModel] = []


def _default() -> MatchModel:
    if not _default_model:
        _default_model.append(default_model())
    return _default_model[0]


def trained_at() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
