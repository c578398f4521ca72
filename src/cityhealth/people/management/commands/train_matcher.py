"""`cityhealth train_matcher [--sample N] [--records FILE] [--out PATH]`: learn the matcher's
parameters from the person index (and incoming records) and store them as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhealth.people.matching import (
    choose_link_threshold,
    current_model,
    evaluate,
    index_size,
    match_records,
    model_path,
    save_model,
    train_model,
)
from cityhealth.people.matching.blocking import persons_found_by_blocking, sample_persons
from cityhealth.people.matching.training import read_records


class Command(BaseCommand):
    help = (
        "Learn the person matcher's parameters: u by random pairs and name frequencies from a "
        "sample of the index, m by EM (on incoming records against the index when --records "
        "is given, else on duplicates within the sample). With ground truth in the records "
        "file (true_person_id), also choose the link threshold and report precision/recall."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sample", type=int, default=200_000, help="persons to sample")
        parser.add_argument(
            "--records",
            type=Path,
            help="incoming records, JSON lines or CSV with IncomingRecord's fields",
        )
        parser.add_argument("--out", type=Path, help=f"output file (default {model_path()})")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--match-rate",
            type=float,
            help="prior share of incoming records whose person is in the index",
        )
        parser.add_argument(
            "--precision-target",
            type=float,
            default=0.995,
            help="precision the link threshold must reach on records with ground truth",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        population = index_size()
        persons = sample_persons(options["sample"], seed=options["seed"])
        if len(persons) < 2:
            raise CommandError("The person index is (nearly) empty: nothing to learn from.")
        labelled = read_records(options["records"]) if options["records"] else []
        records = [record for record, _ in labelled]
        base = current_model()
        if options["match_rate"] is not None:
            base = type(base)(**{**base.__dict__, "match_rate": options["match_rate"]})
        self.stdout.write(f"{len(persons)} persons sampled of {population}; {len(records)} records")
        model = train_model(
            persons_sample=persons,
            records=records or None,
            record_candidates=persons_found_by_blocking(records) if records else (),
            base=base,
            population_size=population,
            seed=options["seed"],
        )
        for name, params in model.comparisons.items():
            self.stdout.write(f"  {name:8} m from {params.m_source:6} u from {params.u_source}")
        truth = [true_id for _, true_id in labelled]
        if records and any(t is not None for t in truth):
            results = match_records(records, model=model, population=population)
            link = choose_link_threshold(
                results, truth, precision_target=options["precision_target"]
            )
            model = model.with_thresholds(link=link, review=model.review_threshold)
            self.stdout.write(
                f"link threshold {link:.4f} for precision ≥ {options['precision_target']}"
            )
            results = match_records(records, model=model, population=population)
            self.stdout.write(str(evaluate(results, truth)))
        path = save_model(model, options["out"])
        self.stdout.write(f"saved {path}")
