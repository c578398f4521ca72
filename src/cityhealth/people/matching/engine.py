"""Matching a batch of records: tier 1 (exact identifiers), then tier 2 (Fellegi–Sunter).

Per batch: one set of identifier queries, one blocking statement for stage 1 and one for the
records stage 1 left undecided, one vectorised scoring of all pairs. Nothing loops over pairs
in Python except turning fetched rows into columns.

Probabilities. A pair's evidence is its log2 Bayes factor W (sum of the comparisons' weights).
The record's person is, a priori, any one of the N persons of the index with probability
ρ/N each (ρ = `match_rate`), or nobody with 1 − ρ. Since at most one candidate can be the
record's person, the probability of candidate i is
    P(i) = (ρ/N)·2^W_i / ((1 − ρ) + (ρ/N)·Σ_j 2^W_j)
over the record's candidates (persons outside the block are taken as having no evidence for
them). Two candidates with equally strong evidence (twins) split the probability, so neither
reaches the link threshold and the record goes to review.

Outcome: LINK when the best P(i) ≥ link threshold; REVIEW when the probability that the person
is among the candidates, 1 − P(nobody), is ≥ review threshold; NEW otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from cityhealth.people.enums import MatchOutcome
from cityhealth.people.matching.blocking import (
    STAGE_1,
    STAGE_2,
    BlockingKeys,
    Fetched,
    blocking_keys,
    fetch_candidates,
)
from cityhealth.people.matching.comparisons import COMPARISONS, INDEX, NULL, compare
from cityhealth.people.matching.exact import Tier1, resolve_identifiers
from cityhealth.people.matching.features import record_columns, tuple_columns
from cityhealth.people.matching.model import FloatArray, MatchModel, Scores, current_model
from cityhealth.people.matching.types import Candidate, IncomingRecord, MatchResult
from cityhealth.people.models import Person

MAX_CANDIDATES = 5  # candidates returned per record, best first
MAX_CANDIDATES_NEW = 3  # for a new person: the closest few, for whoever looks
LISTED_AFTER_LINK = 1e-4  # after a link, runners-up with at least this probability
# A guardian's twins: the name must give one child this many bits more than the other.
TWIN_MARGIN_BITS = 8.0
DEFAULT_BATCH = 500


def index_size() -> int:
    """Persons in the index: PostgreSQL's planner estimate when it has one, else a count."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [Person._meta.db_table],
            )
            row = cursor.fetchone()
        if row is not None and row[0] is not None and row[0] > 0:
            return int(row[0])
    return Person.objects.filter(merged_into__isnull=True).count()


def match_record(*, record: IncomingRecord, model: MatchModel | None = None) -> MatchResult:
    """The person an incoming record belongs to: LINK, REVIEW (with candidates) or NEW."""
    return match_records([record], model=model)[0]


def match_records(
    records: Sequence[IncomingRecord],
    *,
    model: MatchModel | None = None,
    batch_size: int = DEFAULT_BATCH,
    population: int | None = None,
    workers: int | None = None,
) -> list[MatchResult]:
    """`match_record` for many records, in batches (the fast path for bulk imports).

    `workers` > 1 matches batches on that many threads, each with its own database
    connection, so that one batch's queries run while another is scored (the database and
    Python then use both cores of a small machine). It needs committed data, so the default is
    2 on PostgreSQL outside a transaction and 1 otherwise.
    """
    model = model or current_model()
    if not records:
        return []
    population = population or index_size()
    batches = [records[i : i + batch_size] for i in range(0, len(records), batch_size)]
    if workers is None:
        parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        workers = 2 if parallel and len(batches) > 1 else 1
    if workers <= 1:
        return [r for batch in batches for r in _Batch(batch, model, population).run()]

    def run(batch: Sequence[IncomingRecord]) -> list[MatchResult]:
        try:
            return _Batch(batch, model, population).run()
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matcher") as pool:
        return [r for results in pool.map(run, batches) for r in results]


@dataclass(frozen=True)
class _Scored:
    """Scored pairs of a batch, grouped by record with the strongest evidence first."""

    rid: npt.NDArray[np.int64]
    person_ids: npt.NDArray[np.int64]
    levels: npt.NDArray[np.int8]
    scores: Scores
    order: npt.NDArray[np.int64]  # pair rows sorted by (record, evidence descending)
    starts: npt.NDArray[np.int64]  # record i's rows: order[starts[i]:starts[i + 1]]
    probability: FloatArray  # P(this candidate is the record's person), per pair
    nobody: FloatArray  # P(none of the candidates is), per record

    def rows(self, i: int) -> npt.NDArray[np.int64]:
        return self.order[self.starts[i] : self.starts[i + 1]]


def _grouped(
    rid: npt.NDArray[np.int64],
    person_ids: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int8],
    scores: Scores,
    *,
    records: int,
    log_person: float,
    log_nobody: float,
) -> _Scored:
    weights = scores.total
    order = np.lexsort((-weights, rid)).astype(np.int64)
    starts = np.searchsorted(rid[order], np.arange(records + 1)).astype(np.int64)
    logits = log_person + weights
    top = np.full(records, log_nobody, dtype=np.float64)
    np.maximum.at(top, rid, logits)
    mass = np.exp2(logits - top[rid])
    nobody_mass = np.exp2(log_nobody - top)
    total = np.bincount(rid, weights=mass, minlength=records) + nobody_mass
    return _Scored(
        rid=rid,
        person_ids=person_ids,
        levels=levels,
        scores=scores,
        order=order,
        starts=starts,
        probability=mass / total[rid],
        nobody=nobody_mass / total,
    )


class _Batch:
    def __init__(self, records: Sequence[IncomingRecord], model: MatchModel, population: int):
        self.records = records
        self.model = model
        self.left = record_columns(records)
        self.log_person, self.log_nobody = model.prior_bits(population)

    def run(self) -> list[MatchResult]:
        tier1 = resolve_identifiers(self.records)
        keys: list[BlockingKeys | None] = [None] * len(self.records)
        extra: dict[int, list[int]] = {}
        for i, found in enumerate(tier1):
            if found.hits:
                extra[i] = list(found.hits)
            elif found.children:
                extra[i] = list(found.children)
            else:
                keys[i] = blocking_keys(self.records[i])
                if found.other_children:
                    extra[i] = list(found.other_children)
        scored = self._score(fetch_candidates(keys, rules=STAGE_1, extra=extra))
        results: list[MatchResult] = []
        for i, found in enumerate(tier1):
            if found.hits:
                results.append(self._decide_identifier(i, found, scored))
            elif found.children:
                results.append(self._decide_guardian(i, scored))
            else:
                results.append(self._decide(i, scored))
        undecided = [
            i
            for i, result in enumerate(results)
            if keys[i] is not None and result.outcome != MatchOutcome.LINK
        ]
        if undecided:
            stage2_keys: list[BlockingKeys | None] = [None] * len(self.records)
            for i in undecided:
                stage2_keys[i] = keys[i]
            more = fetch_candidates(stage2_keys, rules=STAGE_2)
            scored = self._score(more, previous=scored)
            for i in undecided:
                results[i] = self._decide(i, scored)
        return results

    # --- scoring -------------------------------------------------------------------------
    def _score(self, fetched: Fetched, previous: _Scored | None = None) -> _Scored:
        need_address = np.zeros(len(fetched.persons), dtype=np.bool_)
        need_address[fetched.row[self.left.address[fetched.rid] != ""]] = True
        right = tuple_columns(fetched.persons, need_address=need_address)
        pairs = compare(self.left, fetched.rid, right, fetched.row)
        scores = self.model.score(pairs, right)
        rid, person_ids, levels = fetched.rid, right.ids[fetched.row], pairs.levels
        if previous is not None:  # add the new pairs to the earlier ones
            seen = previous.rid * (1 << 40) + previous.person_ids
            new = ~np.isin(rid * (1 << 40) + person_ids, seen)
            rid = np.concatenate([previous.rid, rid[new]])
            person_ids = np.concatenate([previous.person_ids, person_ids[new]])
            levels = np.concatenate([previous.levels, levels[new]])
            scores = Scores(
                total=np.concatenate([previous.scores.total, scores.total[new]]),
                parts=np.concatenate([previous.scores.parts, scores.parts[new]]),
            )
        return _grouped(
            rid,
            person_ids,
            levels,
            scores,
            records=len(self.records),
            log_person=self.log_person,
            log_nobody=self.log_nobody,
        )

    def _candidates(
        self, scored: _Scored, i: int, first_reasons: Sequence[str] = (), *, limit: int = 0
    ) -> list[Candidate]:
        """Record i's candidates, best first (at most `limit`, default MAX_CANDIDATES)."""
        rows = scored.rows(i)[: limit or MAX_CANDIDATES]
        return [
            Candidate(
                person_id=int(scored.person_ids[row]),
                match_probability=float(scored.probability[row]),
                match_weight=round(float(scored.scores.total[row]), 3),
                reasons=(*first_reasons, *_reasons(scored, int(row))),
            )
            for row in rows
        ]

    # --- decisions -----------------------------------------------------------------------
    def _decide(self, i: int, scored: _Scored) -> MatchResult:
        rows = scored.rows(i)
        model = self.model
        best = float(scored.probability[rows[0]]) if rows.shape[0] else 0.0
        if rows.shape[0] and best >= model.link_threshold:
            outcome = MatchOutcome.LINK
            # The runners-up of a link carry almost no probability: list only those that do.
            shown = int((scored.probability[rows[1:MAX_CANDIDATES]] >= LISTED_AFTER_LINK).sum())
            candidates = self._candidates(scored, i, limit=1 + shown)
        elif rows.shape[0] and 1.0 - float(scored.nobody[i]) >= model.review_threshold:
            outcome = MatchOutcome.REVIEW
            candidates = self._candidates(scored, i)
        else:
            outcome = MatchOutcome.NEW
            candidates = self._candidates(scored, i, limit=MAX_CANDIDATES_NEW)
        return MatchResult(
            outcome=outcome,
            person_id=candidates[0].person_id if outcome == MatchOutcome.LINK else None,
            candidates=tuple(candidates),
            method="probabilistic",
        )

    def _decide_identifier(self, i: int, found: Tier1, scored: _Scored) -> MatchResult:
        methods = sorted({m for ms in found.hits.values() for m in ms})
        method = "+".join(methods)
        candidates = self._candidates(scored, i)
        if len(found.hits) > 1:
            return MatchResult(
                outcome=MatchOutcome.REVIEW,
                person_id=None,
                candidates=tuple(
                    _with_reasons(c, ("identifier_conflict", *found.hits.get(c.person_id, [])))
                    for c in candidates
                ),
                method="identifier_conflict",
            )
        person_id = next(iter(found.hits))
        reasons = tuple(found.hits[person_id])
        if not candidates:  # the person exists only as a merged-away record: leave it to staff
            return MatchResult(
                MatchOutcome.REVIEW, None, (Candidate(person_id, 0.0, 0.0, reasons),), method
            )
        best = candidates[0]
        if best.match_weight < self.model.id_conflict_weight:
            return MatchResult(
                outcome=MatchOutcome.REVIEW,
                person_id=None,
                candidates=(_with_reasons(best, (*reasons, "demographics_disagree")),),
                method=method,
            )
        linked = Candidate(person_id, 1.0, best.match_weight, (*reasons, *best.reasons))
        return MatchResult(MatchOutcome.LINK, person_id, (linked,), method)

    def _decide_guardian(self, i: int, scored: _Scored) -> MatchResult:
        candidates = self._candidates(scored, i, ("guardian_key",))
        if not candidates:
            return MatchResult(MatchOutcome.NEW, None, (), "guardian_key")
        best = candidates[0]
        chosen: Candidate | None = best
        if len(candidates) > 1:  # twins (or more) born that day: the name must tell them apart
            name_agrees = int(scored.levels[scored.rows(i)[0], INDEX["name"]]) >= 1
            clear = best.match_weight - candidates[1].match_weight >= TWIN_MARGIN_BITS
            chosen = best if (name_agrees and clear) else None
        if chosen is None:
            return MatchResult(MatchOutcome.REVIEW, None, tuple(candidates), "guardian_key")
        linked = Candidate(chosen.person_id, 1.0, chosen.match_weight, chosen.reasons)
        return MatchResult(MatchOutcome.LINK, chosen.person_id, (linked,), "guardian_key")


def _reasons(scored: _Scored, row: int) -> tuple[str, ...]:
    """ "name=exact_folded(+14.2)", ...: each comparison's level and its weight in bits."""
    parts: FloatArray = scored.scores.parts[row]
    return tuple(
        f"{spec.name}={spec.levels[level]}({parts[c]:+.1f})"
        for c, spec in enumerate(COMPARISONS)
        if (level := int(scored.levels[row, c])) != NULL
    )


def _with_reasons(candidate: Candidate, first: Sequence[str]) -> Candidate:
    return Candidate(
        candidate.person_id,
        candidate.match_probability,
        candidate.match_weight,
        (*first, *candidate.reasons),
    )
