"""The shapes of a triage protocol and of a triage result. Plain frozen values, no database.

A protocol is read once from its JSON file and never changes; a `TriageOutcome` carries
everything an incident must keep so that the triage can be shown again years later, even after
the protocol has moved on (`as_record()` gives the JSON to store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Priority = Literal["P1", "P2", "P3", "P4"]
Care = Literal["als", "bls", "advice"]
Motorbike = Literal["no", "allowed", "preferred"]
QuestionKind = Literal["yes_no", "choice"]

PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")
CARE_LEVELS: tuple[Care, ...] = ("als", "bls", "advice")
MOTORBIKE: tuple[Motorbike, ...] = ("no", "allowed", "preferred")


@dataclass(frozen=True, kw_only=True)
class Text:
    """One piece of wording in both languages of the platform."""

    vi: str
    en: str

    def get(self, language: str | None = None) -> str:
        """Vietnamese unless English is asked for (as `DomainError.message`)."""
        if language and language.lower().startswith("en"):
            return self.en
        return self.vi

    def as_record(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True, kw_only=True)
class Option:
    """One answer a question offers, and where it leads: exactly one of `next`, `outcome`
    or `proceed` (universal questions only: go on to the complaint's own questions)."""

    value: str
    label: Text
    next: str | None = None
    outcome: str | None = None
    proceed: bool = False
    # An outcome this answer guarantees at least (e.g. "consciousness unknown" ⇒ never below P2).
    floor: str | None = None
    # A universal answer so grave that it decides the call on its own, whatever else is known.
    immediate: bool = False


@dataclass(frozen=True, kw_only=True)
class Question:
    id: str
    kind: QuestionKind
    text: Text
    options: tuple[Option, ...]

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """A pre-arrival script the call-taker reads to the caller, step by step."""

    code: str
    title: Text
    steps: tuple[Text, ...]
    # Says "no ambulance is coming": read only when the outcome really is telephone advice.
    advice_only: bool = False

    def as_record(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title.as_record(),
            "steps": [step.as_record() for step in self.steps],
        }


@dataclass(frozen=True, kw_only=True)
class Outcome:
    determinant: str
    priority: Priority
    care: Care
    motorbike: Motorbike
    summary: Text
    instructions: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Complaint:
    code: str
    name: Text
    keywords: tuple[str, ...]
    start: str
    question_ids: tuple[str, ...]
    outcome_ids: tuple[str, ...]
    # Script swaps for the universal outcomes (a drowned or sick child needs another CPR).
    arrest_instructions: Mapping[str, str]
    # Folded name, keywords and code, computed once at load for `search_complaints`.
    search_terms: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ChangelogEntry:
    version: str
    date: dt.date
    changes: Text


@dataclass(frozen=True, kw_only=True)
class Protocol:
    id: str
    version: str
    effective_from: dt.date
    title: Text
    changelog: tuple[ChangelogEntry, ...]
    priorities: Mapping[str, Text]
    care_levels: Mapping[str, Text]
    motorbike: Mapping[str, Text]
    instructions: Mapping[str, Instruction]
    universal_start: str
    universal_question_ids: tuple[str, ...]
    questions: Mapping[str, Question]
    outcomes: Mapping[str, Outcome]
    complaints: tuple[Complaint, ...]

    def complaint(self, code: str) -> Complaint | None:
        return next((c for c in self.complaints if c.code == code), None)


@dataclass(frozen=True, kw_only=True)
class AskedQuestion:
    question_id: str
    text: Text
    answer: str
    answer_label: Text


@dataclass(frozen=True, kw_only=True)
class TriageOutcome:
    """The result of a finished triage: what to send, how fast, and what to tell the caller."""

    protocol_id: str
    protocol_version: str
    complaint_code: str
    complaint_name: Text
    determinant: str
    priority: Priority
    care: Care
    motorbike: Motorbike
    summary: Text
    instructions: tuple[Instruction, ...]
    asked: tuple[AskedQuestion, ...]
    # The question whose answer raised the priority above the complaint's own outcome, if any.
    escalated_by: str | None = None

    @property
    def answers(self) -> dict[str, str]:
        """The answers on the path taken: feed them back to `evaluate` to reproduce this."""
        return {asked.question_id: asked.answer for asked in self.asked}

    def as_record(self) -> dict[str, Any]:
        """JSON for the incident: complete on its own, so it reads without the protocol file."""
        return {
            "protocol": {"id": self.protocol_id, "version": self.protocol_version},
            "complaint": {"code": self.complaint_code, "name": self.complaint_name.as_record()},
            "determinant": self.determinant,
            "priority": self.priority,
            "care": self.care,
            "motorbike": self.motorbike,
            "summary": self.summary.as_record(),
            "escalated_by": self.escalated_by,
            "asked": [
                {
                    "question": asked.question_id,
                    "text": asked.text.as_record(),
                    "answer": asked.answer,
                    "answer_label": asked.answer_label.as_record(),
                }
                for asked in self.asked
            ],
            "instructions": [instruction.as_record() for instruction in self.instructions],
        }
