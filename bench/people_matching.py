"""Person matching: our matcher and splink 5 on the same noisy legacy records, side by side.

    .venv/bin/python bench/people_matching.py --postgres URL/cityhealth_bench_people   # reuse
    .venv/bin/python bench/people_matching.py --postgres URL --persons 500000         # build
    .venv/bin/python bench/people_matching.py --smoke                                 # CI

With `--postgres` naming a database that already holds a synthetic population (as left by
`bench/people_population.py --keep`) and no `--persons`, it is used as it is. Otherwise a fresh
`cityhealth_bench_matching` database (or a SQLite file) is made and loaded with `--persons`
persons (200,000 by default), and dropped after the run.

The records are the project's legacy hospital records (`synth/population/legacy.py`, the same
seed as the population): noisy copies of persons and people who are not in the registry, with
the truth beside them. The first `--train-records` of them train, the next `--records` (100,000)
are matched; the two sets are disjoint (no person is copied twice).

Ours: u from random pairs and name frequencies from a `--sample` of the index, m by EM on the
training records against the index (`train_model`, no labels); the link threshold is the
lowest that reaches `--precision-target` on the training records (`choose_link_threshold`,
their labels). Then `match_records` on the evaluation records, timed.

Splink 5.0.0 (DuckDB), in a child process (its peak memory is its own): the persons exported
from the database to CSV (timed apart), loaded into DuckDB, the same features (name key, date
of birth, sex, ward, phone, address), splink's comparisons and blocking rules, u by random
sampling and m by three EM sessions on the evaluation records themselves (splink's usual,
unsupervised way), the same prior (match rate / persons). Each record's best-scoring person
is a link when its match_probability reaches the same link threshold.

A link is right when it names the record's true person. Precision = right links / links;
recall = right links / records whose person is in the index. A full run exits 1 when our
matcher misses the requirement (precision 0.995, recall 0.98, 1,000 records/s); `--smoke`
checks only that the figures are sane, throughput aside.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import gc
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import (
    bench_database,
    drop_postgres,
    machine_line,
    migrate_and_load_reference,
    setup_django,
    vacuum_people,
)

MATCHING_DATABASE = "cityhealth_bench_matching"
# The requirement: matching noisy legacy records against the index.
FLOOR_PRECISION = 0.995
FLOOR_RECALL = 0.98
FLOOR_RATE = 1_000.0
# --smoke: the figures must at least make sense.
SMOKE_PRECISION = 0.95
SMOKE_RECALL = 0.9
SMOKE_SPLINK_PRECISION = 0.9
SMOKE_SPLINK_RECALL = 0.5

RECORD_COLUMNS = (
    "unique_id",
    "name_key",
    "full_name",
    "birth_date",
    "birth_year",
    "birth_date_precision",
    "sex",
    "ward_code",
    "phone",
    "address",
)


# --- Memory ----------------------------------------------------------------------------------


def _reset_peak_memory() -> None:
    """Restart this process's peak resident memory (Linux: VmHWM) from its current size."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_memory_mb() -> float:
    """Peak resident memory of this process since the last reset (else since it started)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- The population and its legacy records ----------------------------------------------------


def _population_tag() -> tuple[int, int]:
    """(seed, persons) of the synthetic population in the database, from its identifiers."""
    from cityhealth.people.models import PersonIdentifier
    from cityhealth.synth.population.generator import SOURCE_PREFIX

    tag = (
        PersonIdentifier.objects.filter(source__startswith=SOURCE_PREFIX)
        .values_list("source", flat=True)
        .first()
    )
    if not tag:
        raise SystemExit("the database holds no synthetic population (no synth: identifiers)")
    seed, persons = tag.removeprefix(SOURCE_PREFIX).split(":")
    return int(seed), int(persons)


def _legacy_count(wanted: int) -> int:
    """Persons to copy so that copies plus non-matches give at least `wanted` records."""
    from cityhealth.synth.population.params import load_parameters

    share = load_parameters().legacy.non_match_share
    count = max(1, math.ceil(wanted / (1 + share)) - 1)
    while count + round(count * share) < wanted:
        count += 1
    return count


def _population_with_legacy(
    *, persons: int, seed: int, records: int, build: bool
) -> tuple[list[dict[str, str]], float]:
    """Legacy records of the population of `seed` (loading it first when `build`): a dry
    regeneration of the whole population when it is already in the database."""
    from django.db import transaction

    from cityhealth.synth.population.service import generate_population

    started = time.perf_counter()
    with transaction.atomic():
        report = generate_population(
            persons=persons,
            seed=seed,
            legacy_count=_legacy_count(records),
            want_legacy=True,
            progress=sys.stderr.isatty(),
            log=lambda line: print(line, file=sys.stderr),
        )
        if not build and not report.already_present:
            raise RuntimeError("the population was not found where it was expected")
    return report.legacy_records, time.perf_counter() - started


def _incoming(rows: Sequence[dict[str, str]], workdir: str, name: str) -> list[Any]:
    """(IncomingRecord, true person id) pairs, through the project's records-file reader."""
    from cityhealth.people.matching.training import read_records
    from cityhealth.synth.population.legacy import write_legacy_csv

    path = Path(workdir, f"{name}.csv")
    write_legacy_csv(path, rows)
    return read_records(path)


# --- Ours -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Figures:
    """What one matcher did with the evaluation records."""

    name: str
    records: int
    persons: int  # persons the records were matched against
    with_person: int
    strangers: int  # records whose person is not in the index
    links: int
    correct_links: int
    strangers_linked: int
    reviews: int
    new: int
    seconds_prepare: float  # data into the engine (splink: export + load + features)
    seconds_training: float
    seconds_matching: float
    peak_mb: float
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct_links / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        return self.correct_links / self.with_person if self.with_person else 1.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds_matching if self.seconds_matching else 0.0

    @property
    def rate_overall(self) -> float:
        total = self.seconds_prepare + self.seconds_training + self.seconds_matching
        return self.records / total if total else 0.0


def _links_at(results: Sequence[Any], threshold: float) -> list[int | None]:
    """The person each result links to had the link threshold been `threshold` (identifier
    and guardian outcomes unchanged; probabilistic ones by their best candidate)."""
    from cityhealth.people.enums import MatchOutcome

    out: list[int | None] = []
    for result in results:
        if result.method != "probabilistic":
            out.append(result.person_id if result.outcome == MatchOutcome.LINK else None)
        elif result.candidates and result.candidates[0].match_probability >= threshold:
            out.append(result.candidates[0].person_id)
        else:
            out.append(None)
    return out


def _precision_recall(links: Sequence[int | None], truth: Sequence[int | None]) -> str:
    made = sum(link is not None for link in links)
    right = sum(link is not None and link == t for link, t in zip(links, truth, strict=True))
    with_person = sum(t is not None for t in truth)
    precision = right / made if made else 1.0
    recall = right / with_person if with_person else 1.0
    return f"precision {precision:.4f} recall {recall:.4f}"


def run_ours(
    train: Sequence[Any],
    evaluation: Sequence[Any],
    *,
    sample: int,
    seed: int,
    target: float,
    persons_now: int,
) -> tuple[Figures, float, Any]:
    from cityhealth.people.enums import MatchOutcome
    from cityhealth.people.matching import (
        choose_link_threshold,
        default_model,
        evaluate,
        index_size,
        match_records,
        train_model,
    )
    from cityhealth.people.matching.blocking import persons_found_by_blocking, sample_persons

    train_records = [r for r, _ in train]
    train_truth = [t for _, t in train]
    population = index_size()

    started = time.perf_counter()
    persons = sample_persons(sample, seed=seed)
    blocked = persons_found_by_blocking(train_records)
    read = time.perf_counter() - started
    started = time.perf_counter()
    model = train_model(
        persons_sample=persons,
        records=train_records,
        record_candidates=blocked,
        base=default_model(),
        population_size=population,
        seed=seed,
    )
    learn = time.perf_counter() - started
    started = time.perf_counter()
    train_results = match_records(train_records, model=model, population=population)
    threshold = choose_link_threshold(train_results, train_truth, precision_target=target)
    choose = time.perf_counter() - started
    model = model.with_thresholds(link=threshold, review=model.review_threshold)
    print(
        f"ours, training (EM on {len(train_records):,} training records, no labels; a sample "
        f"of {len(persons):,} persons + {len(blocked):,} found by blocking): read {read:.1f} s, "
        f"learn {learn:.1f} s"
    )
    for session in model.info.get("em_sessions", []):
        print(
            f"  EM blocked on {session['blocking']}: {session['pairs']:,} pairs, "
            f"{session['iterations']} iterations, converged {session['converged']}, "
            f"{session['expected_matches']:,.0f} expected matches"
        )
    sources = ", ".join(f"{k} {v.m_source}" for k, v in model.comparisons.items())
    print(f"  m from: {sources}")
    print(
        f"ours, link threshold {threshold:.4f}: the lowest reaching precision {target} on the "
        f"training records (their labels), chosen in {choose:.1f} s; training records at it: "
        f"{_precision_recall(_links_at(train_results, threshold), train_truth)}"
    )

    records = [r for r, _ in evaluation]
    truth = [t for _, t in evaluation]
    del persons, blocked, train_results  # the training data: not the matcher's to carry
    gc.collect()
    _reset_peak_memory()
    before = _peak_memory_mb()
    started = time.perf_counter()
    results = match_records(records, model=model, population=population)
    matching = time.perf_counter() - started
    peak = _peak_memory_mb()
    ev = evaluate(results, truth)
    strangers_linked = sum(
        r.outcome == MatchOutcome.LINK and t is None for r, t in zip(results, truth, strict=True)
    )
    methods = Counter(r.method for r in results if r.outcome == MatchOutcome.LINK)
    figures = Figures(
        name="ours",
        records=ev.records,
        persons=persons_now,
        with_person=ev.with_person,
        strangers=ev.records - ev.with_person,
        links=ev.links,
        correct_links=ev.correct_links,
        strangers_linked=strangers_linked,
        reviews=ev.reviews,
        new=ev.new,
        seconds_prepare=0.0,
        seconds_training=read + learn + choose,
        seconds_matching=matching,
        peak_mb=peak,
        notes=[
            "links by method: " + ", ".join(f"{m} {n:,}" for m, n in methods.most_common()),
            f"reviews listing the true person: {ev.reviews_with_truth_listed:,} of "
            f"{ev.reviews:,}; new and right: {ev.correct_new:,} of {ev.new:,}",
            f"peak memory of this process while matching {peak:,.0f} MB, of which "
            f"{before:,.0f} MB were held when matching began (the records, Django, the "
            f"generator's tables); a database server's memory (PostgreSQL's) is not counted",
        ],
    )
    return figures, threshold, results


# --- Splink -----------------------------------------------------------------------------------


def export_persons(path: Path) -> int:
    """Every current person of the index to CSV (PostgreSQL: COPY), in the records' columns."""
    from django.db import connection

    select = (
        "SELECT id AS unique_id, search_text AS name_key, full_name, birth_date, birth_year, "
        "birth_date_precision, sex, ward_id AS ward_code, phone, address "
        "FROM people_persons WHERE merged_into_id IS NULL"
    )
    rows = 0
    with path.open("wb") as out, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for data in copy:
                    out.write(data)
            cursor.execute("SELECT count(*) FROM people_persons WHERE merged_into_id IS NULL")
            rows = int(cursor.fetchone()[0])
        else:
            import io

            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(RECORD_COLUMNS)
            cursor.execute(select)
            while batch := cursor.fetchmany(10_000):
                writer.writerows(["" if v is None else v for v in row] for row in batch)
                rows += len(batch)
            text.flush()
            text.detach()
    return rows


def write_splink_records(path: Path, truth_path: Path, rows: Sequence[dict[str, str]]) -> None:
    """The evaluation records in the persons' columns (name key as the registry computes it),
    and their truth in a file of its own that splink's tables never see."""
    from cityhealth.core.names import name_key
    from cityhealth.people.matching.features import clean_name

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RECORD_COLUMNS)
        for i, row in enumerate(rows):
            writer.writerow(
                [
                    i,
                    name_key(clean_name(row["full_name"])),
                    row["full_name"],
                    row["birth_date"],
                    row["birth_year"],
                    row["birth_date_precision"],
                    row["sex"],
                    row["ward_code"],
                    row["phone"],
                    row["address"],
                ]
            )
    with truth_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("unique_id", "true_person_id"))
        writer.writerows((i, row["true_person_id"]) for i, row in enumerate(rows))


def run_splink(
    rows: Sequence[dict[str, str]],
    truth: Sequence[int | None],
    *,
    workdir: str,
    threshold: float,
    population: int,
    match_rate: float,
    u_pairs: float,
    em_pairs: float | None,
    seed: int,
) -> tuple[Figures, list[float]]:
    folder = Path(workdir, "splink")
    folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    persons = export_persons(folder / "persons.csv")
    export = time.perf_counter() - started
    write_splink_records(folder / "records.csv", folder / "truth.csv", rows)
    size = (folder / "persons.csv").stat().st_size / 2**20
    print(f"splink, persons exported to CSV: {persons:,} in {export:.1f} s ({size:,.0f} MiB)")
    params = {
        "threshold": threshold,
        "probability_two_random_records_match": match_rate / max(population, 1),
        "u_pairs": u_pairs,
        "em_pairs": em_pairs,
        "seed": seed,
    }
    (folder / "params.json").write_text(json.dumps(params))
    worker = subprocess.run(  # noqa: S603 — this very script, with our own interpreter
        [sys.executable, str(Path(__file__).resolve()), "--splink-worker", str(folder)],
        check=False,
    )
    if worker.returncode:
        raise SystemExit(f"splink failed (exit {worker.returncode})")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = json.loads((folder / "result.json").read_text())
    seconds: dict[str, float] = out["seconds"]
    best: dict[int, tuple[int, float]] = {}
    with (folder / "best.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            best[int(row["record_id"])] = (int(row["person_id"]), float(row["match_probability"]))
    links = right = strangers_linked = 0
    probabilities: list[float] = []
    for i, true_id in enumerate(truth):
        person, probability = best.get(i, (-1, 0.0))
        probabilities.append(probability)
        if probability >= threshold:
            links += 1
            right += person == true_id
            strangers_linked += true_id is None
    with_person = sum(t is not None for t in truth)
    print(
        f"splink, in DuckDB {out['duckdb']}: load {seconds['load']:.1f} s, features "
        f"{seconds['features']:.1f} s; u by random sampling ({u_pairs:,.0f} pairs) "
        f"{seconds['u']:.1f} s; EM {seconds['em']:.1f} s; predict {seconds['predict']:.1f} s"
    )
    for session in out["em_sessions"]:
        print(f"  EM blocked on {session}")
    print(
        f"  prior (probability two random records match) {params['probability_two_random_records_match']:.3g}"  # noqa: E501
        f" = match rate {match_rate} / {population:,} persons; {out['pairs']:,} pairs scored "
        f"by the prediction blocking rules; true person among the compared pairs: "
        f"{out['truth_in_pairs']:,} of {with_person:,} records"
    )
    figures = Figures(
        name="splink",
        records=len(truth),
        persons=out["persons"],
        with_person=with_person,
        strangers=len(truth) - with_person,
        links=links,
        correct_links=right,
        strangers_linked=strangers_linked,
        reviews=0,
        new=len(truth) - links,
        seconds_prepare=export + seconds["load"] + seconds["features"],
        seconds_training=seconds["u"] + seconds["em"],
        seconds_matching=seconds["predict"],
        peak_mb=peak,
        notes=[
            f"peak memory of the child process that ran DuckDB and splink {peak:,.0f} MB "
            f"({out['persons']:,} persons and {len(truth):,} records in DuckDB, term "
            f"frequencies, {out['pairs']:,} scored pairs)",
            "a record is linked to its best-scoring person when that pair's match_probability "
            "reaches the threshold, else it counts as new (splink has no review outcome)",
        ],
    )
    return figures, probabilities


# The features, the same SQL for records and persons, as ours reads them: the name key without
# the middle Văn/Thị (they say the sex, which `sex` compares), its first and last words; a date
# of birth only where the day is known; the address folded, without its ward, district and
# province parts (compared by `ward`) nor house/lane/street words.
_ADDRESS_STOPWORDS = (
    "so", "nha", "ngo", "ngach", "hem", "kiet", "duong", "pho", "to", "thon", "xom", "ap",
    "phuong", "xa", "quan", "huyen", "p", "q", "tp", "tt", "ha", "noi", "viet", "nam", "vn",
)  # fmt: skip
_ADMIN_FIRST_WORDS = ("phuong", "p", "xa", "x", "quan", "q", "huyen", "h", "tinh", "tp", "tt", "tx")
_ADMIN_FIRST_PAIRS = ("thi tran", "thi xa", "thanh pho")
_FEATURES = """
CREATE TABLE {out} AS
WITH t AS (
    SELECT *,
        string_split(trim(name_key), ' ') AS w,
        list_transform(
            string_split(strip_accents(replace(lower(coalesce(address, '')), 'đ', 'd')), ','),
            lambda part: trim(regexp_replace(part, '[^a-z0-9]+', ' ', 'g'))
        ) AS parts
    FROM {raw}
), u AS (
    SELECT *,
        list_filter(parts, lambda part: part <> ''
            AND NOT list_contains({admin_words}, split_part(part, ' ', 1))
            AND NOT list_contains({admin_pairs},
                array_to_string(list_slice(string_split(part, ' '), 1, 2), ' '))
        ) AS detail
    FROM t
)
SELECT
    unique_id,
    nullif(array_to_string(list_filter(
        w, lambda x, i: NOT (i > 1 AND i < len(w) AND x IN ('van', 'thi'))), ' '), '') AS name,
    CASE WHEN len(w) >= 2 THEN w[1] END AS family,
    nullif(w[-1], '') AS given,
    CASE WHEN birth_date_precision = 'day' THEN birth_date END AS dob,
    coalesce(birth_year, year(birth_date)) AS birth_year,
    CASE WHEN sex IN ('male', 'female') THEN sex END AS sex,
    nullif(ward_code, '') AS ward_code,
    nullif(phone, '') AS phone,
    nullif(array_to_string(list_filter(
        string_split(array_to_string(detail, ' '), ' '),
        lambda x: x <> '' AND NOT list_contains({stopwords}, x)), ' '), '') AS address
FROM u
"""


def _sql_list(words: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{w}'" for w in words) + "]"


_CSV_TYPES = (
    "{'unique_id': 'BIGINT', 'name_key': 'VARCHAR', 'full_name': 'VARCHAR', "
    "'birth_date': 'DATE', 'birth_year': 'INTEGER', 'birth_date_precision': 'VARCHAR', "
    "'sex': 'VARCHAR', 'ward_code': 'VARCHAR', 'phone': 'VARCHAR', 'address': 'VARCHAR'}"
)


# Splink's EM sessions. A session learns m of every comparison whose columns are not in its
# blocking rule, so three are needed for each comparison to be learnt at least once (names,
# date of birth and ward each take part in two of the rules); each blocks on a key shared by a
# few persons per record, so that a fair share of the pairs are matches.
EM_SESSIONS = (("name", "birth_year"), ("name", "ward_code"), ("dob", "ward_code"))


def _splink_settings(prior: float) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            {
                "sql_condition": "birth_year_l IS NULL OR birth_year_r IS NULL",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {"sql_condition": "dob_l = dob_r", "label_for_charts": "exact"},
            {
                "sql_condition": "year(dob_l) = year(dob_r) AND month(dob_l) = day(dob_r) "
                "AND day(dob_l) = month(dob_r)",
                "label_for_charts": "day and month swapped",
            },
            {
                "sql_condition": "damerau_levenshtein(CAST(dob_l AS VARCHAR), "
                "CAST(dob_r AS VARCHAR)) <= 1",
                "label_for_charts": "one character off",
            },
            {
                "sql_condition": "(dob_l IS NULL OR dob_r IS NULL) AND birth_year_l = birth_year_r",
                "label_for_charts": "year agrees, a side knows only the year",
            },
            {
                "sql_condition": "abs(birth_year_l - birth_year_r) <= 1",
                "label_for_charts": "year within one",
            },
            {"sql_condition": "ELSE", "label_for_charts": "else"},
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            cl.ForenameSurnameComparison(
                "given", "family", forename_surname_concat_col_name="name"
            ),
            dob,
            cl.ExactMatch("sex"),
            cl.ExactMatch("ward_code"),
            cl.LevenshteinAtThresholds("phone", 1),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name", "birth_year"),
            block_on("family", "given", "birth_year"),
            CustomRule("l.family = r.given AND l.given = r.family AND l.birth_year = r.birth_year"),
            block_on("given", "dob"),
            block_on("dob", "ward_code"),
            block_on("phone"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def splink_worker(folder: Path) -> None:
    """Load, train and predict with splink; write the best person of each record."""
    import logging

    import duckdb
    import splink
    from splink import DuckDBAPI, Linker, block_on

    params = json.loads((folder / "params.json").read_text())
    seconds: dict[str, float] = {}
    con = duckdb.connect()

    def sql(query: str, *parameters: object) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = con.execute(query, list(parameters)).fetchall()
        return rows

    started = time.perf_counter()
    for table in ("persons", "records"):
        sql(
            f"CREATE TABLE {table}_raw AS SELECT * FROM read_csv(?, header = true, "  # noqa: S608 — our table names
            f"columns = {_CSV_TYPES})",
            str(folder / f"{table}.csv"),
        )
    sql(
        "CREATE TABLE truth AS SELECT * FROM read_csv(?, header = true, "
        "columns = {'unique_id': 'BIGINT', 'true_person_id': 'BIGINT'})",
        str(folder / "truth.csv"),
    )
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    for table in ("persons", "records"):
        sql(
            _FEATURES.format(
                out=table,
                raw=f"{table}_raw",
                stopwords=_sql_list(_ADDRESS_STOPWORDS),
                admin_words=_sql_list(_ADMIN_FIRST_WORDS),
                admin_pairs=_sql_list(_ADMIN_FIRST_PAIRS),
            )
        )
        sql(f"DROP TABLE {table}_raw")
    seconds["features"] = time.perf_counter() - started
    persons = int(sql("SELECT count(*) FROM persons")[0][0])

    db_api = DuckDBAPI(connection=con)
    records_df = db_api.register("records", dataset_display_name="records")
    persons_df = db_api.register("persons", dataset_display_name="persons")
    linker = Linker(
        [records_df, persons_df],
        _splink_settings(params["probability_two_random_records_match"]),
        log_level=logging.WARNING,
    )
    started = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(
        max_pairs=params["u_pairs"], seed=params["seed"]
    )
    seconds["u"] = time.perf_counter() - started
    started = time.perf_counter()
    sessions = []
    for columns in EM_SESSIONS:
        session = linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*columns), max_pairs=params["em_pairs"]
        )
        sessions.append(session)
    seconds["em"] = time.perf_counter() - started
    started = time.perf_counter()
    predictions = linker.inference.predict()
    sql(
        f"""
        CREATE TABLE scored AS
        SELECT
            CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END
                AS record_id,
            CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END
                AS person_id,
            match_weight, match_probability
        FROM {predictions.physical_name}
        """  # noqa: S608 — splink's own table name
    )
    sql(
        """
        CREATE TABLE best AS
        SELECT record_id, arg_max(person_id, match_weight) AS person_id,
            max(match_probability) AS match_probability, count(*) AS pairs
        FROM scored GROUP BY record_id
        """
    )
    seconds["predict"] = time.perf_counter() - started
    pairs = int(sql("SELECT count(*) FROM scored")[0][0])
    found = sql(
        "SELECT count(DISTINCT t.unique_id) FROM truth t JOIN scored s "
        "ON s.record_id = t.unique_id AND s.person_id = t.true_person_id"
    )
    sql(f"COPY best TO '{folder / 'best.csv'}' (HEADER)")
    descriptions = []
    for columns, session in zip(EM_SESSIONS, sessions, strict=True):
        history = getattr(session, "_core_model_settings_history", None) or []
        descriptions.append(f"{' + '.join(columns)} ({len(history)} iterations recorded)")
    (folder / "result.json").write_text(
        json.dumps(
            {
                "seconds": seconds,
                "persons": persons,
                "pairs": pairs,
                "truth_in_pairs": int(found[0][0]) if found else 0,
                "em_sessions": descriptions,
                "duckdb": f"{duckdb.__version__}, splink {splink.__version__}",
            }
        )
    )


# --- Report -----------------------------------------------------------------------------------


def _table(ours: Figures, theirs: Figures, threshold: float) -> None:
    def row(label: str, a: str, b: str) -> None:
        print(f"{label:<44} {a:>16} {b:>16}")

    def share(n: int, of: int) -> str:
        return f"{n:,} ({n / of:.1%})" if of else f"{n:,}"

    print()
    row("", "ours", "splink 5.0.0")
    row("records matched", f"{ours.records:,}", f"{theirs.records:,}")
    row("persons matched against", f"{ours.persons:,}", f"{theirs.persons:,}")
    row("link threshold (chosen on training records)", f"{threshold:.4f}", f"{threshold:.4f}")
    row("precision", f"{ours.precision:.4f}", f"{theirs.precision:.4f}")
    row("recall", f"{ours.recall:.4f}", f"{theirs.recall:.4f}")
    row("linked", share(ours.links, ours.records), share(theirs.links, theirs.records))
    row("sent to review", share(ours.reviews, ours.records), "(no such outcome)")
    row("called new", share(ours.new, ours.records), share(theirs.new, theirs.records))
    row(
        f"not in the index ({ours.strangers:,}) but linked",
        f"{ours.strangers_linked:,}",
        f"{theirs.strangers_linked:,}",
    )
    row("data into the engine, s", f"{ours.seconds_prepare:.1f}", f"{theirs.seconds_prepare:.1f}")
    row("training, s", f"{ours.seconds_training:.1f}", f"{theirs.seconds_training:.1f}")
    row("matching, s", f"{ours.seconds_matching:.1f}", f"{theirs.seconds_matching:.1f}")
    row("records/s, matching", f"{ours.rate:,.0f}", f"{theirs.rate:,.0f}")
    row("records/s, all of it", f"{ours.rate_overall:,.0f}", f"{theirs.rate_overall:,.0f}")
    row("peak memory, MB", f"{ours.peak_mb:,.0f}", f"{theirs.peak_mb:,.0f}")
    print()
    if theirs.rate and theirs.rate_overall:
        print(
            f"throughput ours/splink: matching {ours.rate / theirs.rate:.2f}x, "
            f"all of it {ours.rate_overall / theirs.rate_overall:.2f}x"
        )


def _sensitivity(
    ours_results: Sequence[Any],
    splink_best: Sequence[float],
    truth: Sequence[int | None],
    threshold: float,
    splink_links: Sequence[int | None],
) -> None:
    print("other link thresholds on the same runs (ours re-thresholded by its best candidate):")
    for t in sorted({0.5, 0.8, 0.9, 0.95, 0.99, round(threshold, 4)}):
        theirs = [p if s >= t else None for p, s in zip(splink_links, splink_best, strict=True)]
        print(
            f"  {t:.4f}  ours {_precision_recall(_links_at(ours_results, t), truth)}"
            f"   splink {_precision_recall(theirs, truth)}"
        )


def _splink_persons(workdir: str) -> list[int | None]:
    best: dict[int, int] = {}
    with Path(workdir, "splink", "best.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            best[int(row["record_id"])] = int(row["person_id"])
    size = max(best) + 1 if best else 0
    return [best.get(i) for i in range(size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL URL: a populated database, or a server")
    parser.add_argument("--persons", type=int, help="build a fresh database with this many")
    parser.add_argument("--records", type=int, default=100_000, help="records to match")
    parser.add_argument("--train-records", type=int, default=20_000, help="records to train on")
    parser.add_argument("--sample", type=int, default=200_000, help="persons sampled to train")
    parser.add_argument("--seed", type=int, default=1, help="population seed when building")
    parser.add_argument("--precision-target", type=float, default=FLOOR_PRECISION)
    parser.add_argument("--splink-u-pairs", type=float, default=1e7)
    parser.add_argument("--splink-em-pairs", type=float, help="cap EM pairs (splink max_pairs)")
    parser.add_argument("--smoke", action="store_true", help="5,000 persons, 1,000 records")
    parser.add_argument("--splink-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.splink_worker:
        splink_worker(args.splink_worker)
        return
    if args.smoke:
        args.persons, args.records, args.train_records = 5_000, 1_000, 1_000
        args.sample, args.splink_u_pairs = 5_000, 2e5
    code = 0
    with tempfile.TemporaryDirectory() as workdir:
        url, build, fresh = bench_database(
            postgres=args.postgres,
            persons=args.persons,
            fresh_name=MATCHING_DATABASE,
            workdir=workdir,
        )
        setup_django(url, workdir)
        from django.db import connection

        from cityhealth.people.matching import index_size

        print(machine_line(connection.vendor))
        wanted = args.train_records + args.records
        if build:
            started = time.perf_counter()
            migrate_and_load_reference()
            persons, seed = args.persons or 200_000, args.seed
            legacy, _ = _population_with_legacy(
                persons=persons, seed=seed, records=wanted, build=True
            )
            vacuum_people()
            print(
                f"built (and vacuumed), legacy records made: {time.perf_counter() - started:.1f} s"
            )
        else:
            seed, persons = _population_tag()
            legacy, seconds = _population_with_legacy(
                persons=persons, seed=seed, records=wanted, build=False
            )
            print(
                f"legacy records: the population of seed {seed} regenerated (nothing written) "
                f"in {seconds:.1f} s"
            )
        from cityhealth.people.models import Person

        population = index_size()
        current = Person.objects.filter(merged_into__isnull=True).count()
        print(
            f"persons in the index: {current:,} (synthetic population of seed {seed}); the "
            f"matcher's prior uses N = {population:,} (index_size: PostgreSQL's estimate, else "
            "a count)"
        )
        if len(legacy) < wanted:
            raise SystemExit(f"only {len(legacy):,} legacy records, {wanted:,} wanted")
        train_rows = legacy[: args.train_records]
        eval_rows = legacy[args.train_records : wanted]
        train = _incoming(train_rows, workdir, "train")
        evaluation = _incoming(eval_rows, workdir, "evaluation")
        truth = [t for _, t in evaluation]
        print(
            f"records: {len(train):,} to train, {len(evaluation):,} to match "
            f"({sum(t is None for t in truth):,} of them people not in the index), disjoint"
        )

        ours, threshold, results = run_ours(
            train,
            evaluation,
            sample=args.sample,
            seed=seed,
            target=args.precision_target,
            persons_now=current,
        )
        from cityhealth.people.matching import default_model

        theirs, probabilities = run_splink(
            eval_rows,
            truth,
            workdir=workdir,
            threshold=threshold,
            population=population,
            match_rate=default_model().match_rate,
            u_pairs=args.splink_u_pairs,
            em_pairs=args.splink_em_pairs,
            seed=seed,
        )
        splink_links = _splink_persons(workdir)
        splink_links += [None] * (len(truth) - len(splink_links))
        _table(ours, theirs, threshold)
        for note in ours.notes:
            print(f"ours: {note}")
        for note in theirs.notes:
            print(f"splink: {note}")
        _sensitivity(results, probabilities, truth, threshold, splink_links)
        print(machine_line(connection.vendor))
        code = _verdict(ours, theirs, smoke=args.smoke)
        connection.close()
    if fresh and args.postgres:
        drop_postgres(args.postgres, fresh)
    sys.exit(code)


def _verdict(ours: Figures, theirs: Figures, *, smoke: bool) -> int:
    failures = []
    if smoke:
        if ours.precision < SMOKE_PRECISION or ours.recall < SMOKE_RECALL:
            failures.append(
                f"ours: precision {ours.precision:.4f} / recall {ours.recall:.4f} below the "
                f"smoke floors {SMOKE_PRECISION} / {SMOKE_RECALL}"
            )
        if theirs.precision < SMOKE_SPLINK_PRECISION or theirs.recall < SMOKE_SPLINK_RECALL:
            failures.append(
                f"splink: precision {theirs.precision:.4f} / recall {theirs.recall:.4f} below "
                f"the smoke floors {SMOKE_SPLINK_PRECISION} / {SMOKE_SPLINK_RECALL}"
            )
    else:
        if ours.precision < FLOOR_PRECISION:
            failures.append(f"precision {ours.precision:.4f} < {FLOOR_PRECISION}")
        if ours.recall < FLOOR_RECALL:
            failures.append(f"recall {ours.recall:.4f} < {FLOOR_RECALL}")
        if ours.rate < FLOOR_RATE:
            failures.append(f"{ours.rate:,.0f} records/s < {FLOOR_RATE:,.0f}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("ok: " + ("smoke figures sane" if smoke else "the requirement is met"))
    return 0


if __name__ == "__main__":
    main()
