"""Finding the person an incoming record belongs to: exact identifiers first, then
Fellegi–Sunter probabilistic matching with weights learned from the data.

Public:
- `match_record(record=...) -> MatchResult`, `match_records(records, ...)` (batches);
- `train_model(persons_sample=..., records=...) -> MatchModel`, `save_model`, `load_model`,
  `current_model` (the trained file, else `default_model()`, a hand-set prior);
- `evaluate`, `choose_link_threshold` (against ground truth);
- `IncomingRecord`, `Candidate`, `MatchResult`, `PersonRow`.

See docs/decisions/0004-person-matching.md for the model.
"""

from cityhealth.people.matching.engine import index_size, match_record, match_records
from cityhealth.people.matching.features import PersonRow
from cityhealth.people.matching.model import (
    MatchModel,
    current_model,
    default_model,
    load_model,
    model_path,
    save_model,
)
from cityhealth.people.matching.training import (
    Evaluation,
    choose_link_threshold,
    evaluate,
    train_model,
)
from cityhealth.people.matching.types import Candidate, IncomingRecord, MatchResult

__all__ = [
    "Candidate",
    "Evaluation",
    "IncomingRecord",
    "MatchModel",
    "MatchResult",
    "PersonRow",
    "choose_link_threshold",
    "current_model",
    "default_model",
    "evaluate",
    "index_size",
    "load_model",
    "match_record",
    "match_records",
    "model_path",
    "save_model",
    "train_model",
]
