"""Learning the matcher's parameters from data.

- u (how often two different persons show each level) by comparing random pairs of persons
  from the sample: among millions, two random persons are almost never the same human.
- Term frequencies of family and given names from the sample.
- m (how often a true match shows each level) by expectation–maximisation on pairs that share
  a blocking key, with u held fixed. As in the Fellegi–Sunter literature (and splink), each EM
  session blocks on one key and learns m only for the comparisons that do not use that key:
  pairs that share a name key teach dates, sex, ward, phone and address; pairs that share a
  date of birth teach the name comparisons and again sex, ward, phone and address. A session
  that finds too few matches leaves its comparisons at the prior.

Pairs for EM come from incoming records against the persons sample when records are given
(linkage: what the matcher will face), else from the persons sample against itself (duplicates
already in the index). With neither giving matches, m stays at the prior, and the parameter
file says so per comparison (`m_source`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cityhealth.people.enums import DatePrecision, MatchOutcome
from cityhealth.people.matching.comparisons import COMPARISONS, INDEX, NULL, LevelArray, compare
from cityhealth.people.matching.features import (
    PREC_DAY,
    Columns,
    IntArray,
    PersonRow,
    person_columns,
    record_columns,
)
from cityhealth.people.matching.model import (
    DEFAULT_LINK_THRESHOLD,
    LevelParams,
    MatchModel,
    TermFrequencies,
    default_model,
    trained_at,
)
from cityhealth.people.matching.types import IncomingRecord, MatchResult

# Pseudo-pairs of prior weight behind each u: small samples lean on the prior for rare levels.
U_PRIOR_PAIRS = 1_000.0
# Pseudo-matches of prior weight behind each m in the M step: keeps levels unseen in a small
# sample above zero (a true match can show any level through a data-entry error).
M_PRIOR_COUNT = 10.0
MIN_SESSION_MATCHES = 20.0
TF_TABLE_LIMIT = 20_000

SESSIONS: dict[str, frozenset[str]] = {
    # blocking key → comparisons it says nothing about (not learned in that session)
    "name_key": frozenset({"name", "given"}),
    "birth_date": frozenset({"dob"}),
}


@dataclass(frozen=True)
class EMResult:
    m: dict[str, tuple[float, ...]]
    match_share: float  # λ: share of the session's pairs that are matches
    expected_matches: float
    iterations: int
    converged: bool


def _level_counts(
    levels: LevelArray, size: int, weights: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    known = levels != NULL
    w = None if weights is None else weights[known]
    counts = np.bincount(levels[known].astype(np.int64), weights=w, minlength=size)
    return np.asarray(counts[:size], dtype=np.float64)


def estimate_u(
    left: Columns,
    right: Columns,
    *,
    pairs: int,
    rng: np.random.Generator,
    prior: MatchModel,
) -> dict[str, tuple[float, ...]]:
    """u of every level from random pairs (left row, right row); `left is right` for persons
    against persons. Records against persons is better when there are records: how often a
    non-match shows "same name without diacritics" depends on how records are written."""
    same = left is right
    n_left, n_right = len(left), len(right)
    if n_right < 2 or n_left < 1:
        return {spec.name: prior.comparisons[spec.name].u for spec in COMPARISONS}
    if same and n_left * (n_left - 1) // 2 <= pairs:
        li, rj = np.triu_indices(n_left, k=1)
    elif not same and n_left * n_right <= pairs:
        li, rj = np.divmod(np.arange(n_left * n_right, dtype=np.int64), n_right)
    else:
        li = rng.integers(0, n_left, size=pairs)
        if same:
            rj = rng.integers(0, n_right - 1, size=pairs)
            rj = rj + (rj >= li)  # never a person with itself
        else:
            rj = rng.integers(0, n_right, size=pairs)
    levels = compare(left, li.astype(np.int64), right, rj.astype(np.int64)).levels
    result: dict[str, tuple[float, ...]] = {}
    for c, spec in enumerate(COMPARISONS):
        counts = _level_counts(levels[:, c], len(spec.levels))
        prior_u = np.asarray(prior.comparisons[spec.name].u, dtype=np.float64)
        u = (counts + U_PRIOR_PAIRS * prior_u) / (counts.sum() + U_PRIOR_PAIRS)
        result[spec.name] = tuple(float(x) for x in u / u.sum())
    return result


def term_frequencies(values: npt.NDArray[np.object_]) -> TermFrequencies:
    """Shares of each non-empty value; values seen once fall back to `default` (1/n)."""
    counts = Counter(v for v in values.tolist() if v)
    n = sum(counts.values())
    if n == 0:
        return TermFrequencies(freq={}, default=1.0, mean=1.0)
    mean = sum((c / n) ** 2 for c in counts.values())
    kept = [(v, c) for v, c in counts.most_common(TF_TABLE_LIMIT) if c >= 2]
    return TermFrequencies(freq={v: c / n for v, c in kept}, default=1.0 / n, mean=mean)


def _codes(*columns: npt.NDArray[np.object_]) -> list[IntArray]:
    """Shared integer codes for string columns; "" → -1."""
    vocabulary: dict[object, int] = {"": -1}
    return [
        np.fromiter((vocabulary.setdefault(v, len(vocabulary)) for v in column), np.int64)
        for column in columns
    ]


def block_pairs(
    left: IntArray,
    right: IntArray,
    *,
    dedupe: bool,
    limit: int,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """All (i, j) with left[i] == right[j] >= 0 (i < j when a table is paired with itself)."""
    order = np.argsort(right, kind="stable")
    sorted_right = right[order]
    lo = np.searchsorted(sorted_right, left, side="left")
    hi = np.searchsorted(sorted_right, left, side="right")
    counts = np.where(left >= 0, hi - lo, 0)
    total = int(counts.sum())
    li = np.repeat(np.arange(left.shape[0], dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    rj = order[np.repeat(lo, counts) + offsets].astype(np.int64)
    if dedupe:
        keep = li < rj
        li, rj = li[keep], rj[keep]
    if li.shape[0] > limit:
        pick = np.sort(rng.choice(li.shape[0], size=limit, replace=False))
        li, rj = li[pick], rj[pick]
    return li, rj


def _date_codes(columns: Columns) -> IntArray:
    codes = (
        columns.year.astype(np.int64) * 10_000
        + columns.month.astype(np.int64) * 100
        + columns.day.astype(np.int64)
    )
    return np.where(columns.precision == PREC_DAY, codes, -1)


def run_em(
    levels: LevelArray,
    *,
    m_start: Mapping[str, tuple[float, ...]],
    u: Mapping[str, tuple[float, ...]],
    learn: Sequence[str],
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> EMResult:
    """EM for m (and the match share λ) with u fixed, on the comparisons named in `learn`."""
    active = [INDEX[name] for name in learn]
    m = {name: np.asarray(m_start[name], dtype=np.float64) for name in learn}
    log_u = {name: np.log2(np.clip(np.asarray(u[name]), 1e-12, 1.0)) for name in learn}
    share = 0.01
    n = levels.shape[0]
    converged = False
    iteration = 0
    posterior = np.zeros(n)
    for iteration in range(1, max_iterations + 1):  # noqa: B007 — reported after the loop
        logit = np.full(n, np.log2(share / (1 - share)))
        for c, name in zip(active, learn, strict=True):
            weights = np.log2(np.clip(m[name], 1e-12, 1.0)) - log_u[name]
            column = levels[:, c]
            known = column != NULL
            logit[known] += weights[column[known]]
        posterior = 1.0 / (1.0 + np.exp2(-np.clip(logit, -60, 60)))
        change = 0.0
        for c, name in zip(active, learn, strict=True):
            size = len(COMPARISONS[c].levels)
            counts = _level_counts(levels[:, c], size, posterior)
            updated = (counts + M_PRIOR_COUNT * m[name]) / (counts.sum() + M_PRIOR_COUNT)
            change = max(change, float(np.abs(updated - m[name]).max()))
            m[name] = updated
        share = float(np.clip(posterior.mean(), 1e-9, 1 - 1e-9))
        if change < tolerance:
            converged = True
            break
    return EMResult(
        m={name: tuple(float(x) for x in values) for name, values in m.items()},
        match_share=share,
        expected_matches=float(posterior.sum()),
        iterations=iteration,
        converged=converged,
    )


def train_model(
    *,
    persons_sample: Sequence[PersonRow],
    records: Sequence[IncomingRecord] | None = None,
    record_candidates: Sequence[PersonRow] = (),
    base: MatchModel | None = None,
    u_pairs: int = 300_000,
    max_em_pairs: int = 1_000_000,
    population_size: int | None = None,
    seed: int = 0,
) -> MatchModel:
    """Learn u, m and term frequencies; thresholds and the match rate come from `base`.

    `persons_sample` should be a random sample of the index (u and term frequencies are read
    from it). With `records`, m is learned from records against the sample plus
    `record_candidates` (the persons blocking finds for the records, so that their true
    persons take part even when the sample is small next to the index).
    """
    base = base or default_model()
    rng = np.random.default_rng(seed)
    persons = person_columns(persons_sample)
    left = record_columns(records) if records else persons
    dedupe = not records
    u = estimate_u(left, persons, pairs=u_pairs, rng=rng, prior=base)
    sample = persons
    if records and record_candidates:
        known = {row.id for row in persons_sample}
        extra = [row for row in record_candidates if row.id not in known]
        persons = person_columns([*persons_sample, *extra])

    sessions: list[tuple[str, EMResult, int]] = []
    name_left, name_right = _codes(left.key, persons.key)
    date_left, date_right = _date_codes(left), _date_codes(persons)
    blocks = {"name_key": (name_left, name_right), "birth_date": (date_left, date_right)}
    m_start = {spec.name: base.comparisons[spec.name].m for spec in COMPARISONS}
    for session, excluded in SESSIONS.items():
        codes_left, codes_right = blocks[session]
        li, rj = block_pairs(codes_left, codes_right, dedupe=dedupe, limit=max_em_pairs, rng=rng)
        if li.shape[0] == 0:
            continue
        levels = compare(left, li, persons, rj).levels
        learn = [spec.name for spec in COMPARISONS if spec.name not in excluded]
        result = run_em(levels, m_start=m_start, u=u, learn=learn)
        sessions.append((session, result, int(li.shape[0])))

    comparisons: dict[str, LevelParams] = {}
    for spec in COMPARISONS:
        useful = [
            r
            for session, r, _ in sessions
            if spec.name in r.m and r.expected_matches >= MIN_SESSION_MATCHES
        ]
        if useful:
            weights = np.array([r.expected_matches for r in useful])
            stacked = np.array([r.m[spec.name] for r in useful])
            m = tuple(float(x) for x in (weights @ stacked) / weights.sum())
            source = "em"
        else:
            m, source = base.comparisons[spec.name].m, "prior"
        comparisons[spec.name] = LevelParams(
            m=m, u=u[spec.name], m_source=source, u_source="random_pairs"
        )
    info: dict[str, Any] = {
        "trained_at": trained_at(),
        "persons_sample": len(sample),
        "record_candidates": len(persons) - len(sample),
        "records": len(records) if records else 0,
        "mode": "link" if records else "dedupe",
        "u_pairs": u_pairs,
        "em_sessions": [
            {
                "blocking": session,
                "pairs": pairs,
                "iterations": r.iterations,
                "converged": r.converged,
                "expected_matches": round(r.expected_matches, 1),
                "match_share": r.match_share,
            }
            for session, r, pairs in sessions
        ],
    }
    return replace(
        base,
        comparisons=comparisons,
        tf_family=term_frequencies(sample.family),
        tf_given=term_frequencies(sample.given),
        learned=True,
        population_size=population_size or len(sample),
        info=info,
    )


# --- Records files -----------------------------------------------------------------------------

_RECORD_FIELDS = {f.name for f in fields(IncomingRecord)}
TRUTH_FIELD = "true_person_id"


def _record(data: Mapping[str, Any]) -> tuple[IncomingRecord, int | None]:
    values: dict[str, Any] = {k: v for k, v in data.items() if k in _RECORD_FIELDS}
    for key in ("birth_date",):
        if isinstance(values.get(key), str):
            values[key] = dt.date.fromisoformat(values[key]) if values[key] else None
    if isinstance(values.get("birth_year"), str):
        values["birth_year"] = int(values["birth_year"]) if values["birth_year"] else None
    if "birth_date_precision" in values:
        values["birth_date_precision"] = DatePrecision(values["birth_date_precision"] or "day")
    for key, value in list(values.items()):
        if value is None and key not in ("birth_date", "birth_year"):
            values[key] = ""
    truth = data.get(TRUTH_FIELD)
    return IncomingRecord(**values), (None if truth is None or truth == "" else int(truth))


def read_records(path: Path) -> list[tuple[IncomingRecord, int | None]]:
    """Incoming records from a JSON-lines or CSV file whose fields are `IncomingRecord`'s
    (dates ISO), with an optional `true_person_id` (ground truth, for evaluation)."""
    with path.open(encoding="utf-8", newline="") as handle:
        # JSON lines start with "{"; anything else is CSV with a header (whatever the suffix).
        first = handle.read(1)
        handle.seek(0)
        if first != "{":
            return [_record(row) for row in csv.DictReader(handle)]
        return [_record(json.loads(line)) for line in handle if line.strip()]


# --- Evaluation and thresholds ----------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    records: int
    with_person: int  # records whose person is in the index
    links: int
    correct_links: int
    reviews: int
    reviews_with_truth_listed: int
    new: int
    correct_new: int

    @property
    def precision(self) -> float:
        """Share of links that are right."""
        return self.correct_links / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        """Share of records with a person in the index that were linked to that person."""
        return self.correct_links / self.with_person if self.with_person else 1.0

    def __str__(self) -> str:
        return (
            f"records {self.records} (with a person {self.with_person}): "
            f"link {self.links} (right {self.correct_links}), review {self.reviews} "
            f"(truth listed {self.reviews_with_truth_listed}), new {self.new} "
            f"(right {self.correct_new}); precision {self.precision:.4f}, "
            f"recall {self.recall:.4f}"
        )


def evaluate(results: Sequence[MatchResult], truth: Sequence[int | None]) -> Evaluation:
    """Compare outcomes with the true person id of each record (None: not in the index)."""
    links = correct = reviews = listed = new = correct_new = 0
    for result, true_id in zip(results, truth, strict=True):
        if result.outcome == MatchOutcome.LINK:
            links += 1
            correct += result.person_id == true_id
        elif result.outcome == MatchOutcome.REVIEW:
            reviews += 1
            listed += any(c.person_id == true_id for c in result.candidates)
        else:
            new += 1
            correct_new += true_id is None
    return Evaluation(
        records=len(results),
        with_person=sum(t is not None for t in truth),
        links=links,
        correct_links=correct,
        reviews=reviews,
        reviews_with_truth_listed=listed,
        new=new,
        correct_new=correct_new,
    )


def choose_link_threshold(
    results: Sequence[MatchResult],
    truth: Sequence[int | None],
    *,
    precision_target: float = 0.995,
    floor: float = 0.5,
) -> float:
    """The lowest link threshold whose links (by the best candidate of each probabilistic
    result) reach `precision_target`; results must come from a run that returns candidates."""
    best: list[tuple[float, bool]] = []
    for result, true_id in zip(results, truth, strict=True):
        if result.method == "probabilistic" and result.candidates:
            top = result.candidates[0]
            best.append((top.match_probability, top.person_id == true_id))
    if not best:
        return DEFAULT_LINK_THRESHOLD
    best.sort(key=lambda item: -item[0])
    chosen = 1.0
    right = 0
    for k, (probability, ok) in enumerate(best, start=1):
        right += ok
        if probability < floor:
            break
        if right / k >= precision_target:
            chosen = probability
    return float(min(max(chosen, floor), 0.9999))
