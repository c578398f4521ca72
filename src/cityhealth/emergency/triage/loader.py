"""Reading a protocol file: parse it and check its whole structure before anyone uses it.

A protocol that loads is safe to walk: every answer leads to a question of the same complaint
or to an outcome, there are no loops, every question can be reached, and every text exists in
Vietnamese and English. A file that breaks any of that is refused with a `ProtocolError` naming
the problem and where it is, so an authoring slip never reaches a call-taker.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cityhealth.core.text import fold_for_search
from cityhealth.emergency.triage.model import (
    CARE_LEVELS,
    MOTORBIKE,
    PRIORITIES,
    Care,
    ChangelogEntry,
    Complaint,
    Instruction,
    Motorbike,
    Option,
    Outcome,
    Priority,
    Protocol,
    Question,
    Text,
)

UNIVERSAL = "UNIV"

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_CODE = re.compile(r"^[A-Z][A-Z0-9]*$")
_DETERMINANT = re.compile(r"^(?P<code>[A-Z][A-Z0-9]*)-(?P<priority>P\d)-[A-Z]$")
# Narrow a checked string to its literal type without a cast.
_PRIORITY: dict[str, Priority] = {value: value for value in PRIORITIES}
_CARE: dict[str, Care] = {value: value for value in CARE_LEVELS}
_MOTORBIKE: dict[str, Motorbike] = {value: value for value in MOTORBIKE}
# Yes/no questions get these labels unless the file gives its own.
_STANDARD_LABELS = {
    "yes": Text(vi="Có", en="Yes"),
    "no": Text(vi="Không", en="No"),
    "unknown": Text(vi="Không rõ", en="Don't know"),
}


class ProtocolError(Exception):
    """A protocol file is malformed. `problem` is a stable code, `where` points into the file."""

    def __init__(self, problem: str, where: str, detail: str, *, source: str = "") -> None:
        super().__init__(f"{source + ': ' if source else ''}{where}: {problem}: {detail}")
        self.problem = problem
        self.where = where
        self.detail = detail


# --- parsing: JSON values into model objects, checking types and texts -----------------------


def _field(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ProtocolError("missing_field", where, f"{key!r} is missing")
    value = obj[key]
    if not isinstance(value, kind):
        raise ProtocolError("bad_type", f"{where}.{key}", f"expected {kind.__name__}")
    return value


def _text(obj: Mapping[str, Any], key: str, where: str) -> Text:
    value = _field(obj, key, dict, where)
    for language in ("vi", "en"):
        wording = value.get(language)
        if not isinstance(wording, str) or not wording.strip():
            raise ProtocolError("missing_text", f"{where}.{key}", f"no {language!r} text")
    return Text(vi=value["vi"], en=value["en"])


def _date(obj: Mapping[str, Any], key: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(_field(obj, key, str, where))
    except ValueError:
        raise ProtocolError("bad_date", f"{where}.{key}", "expected YYYY-MM-DD") from None


def _option(raw: Any, question: Mapping[str, Any], where: str, *, universal: bool) -> Option:
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", where, "an option must be an object")
    value = _field(raw, "value", str, where)
    where = f"{where}[{value}]"
    if "label" in raw:
        label = _text(raw, "label", where)
    elif question.get("kind") == "yes_no" and value in _STANDARD_LABELS:
        label = _STANDARD_LABELS[value]
    else:
        raise ProtocolError("missing_text", f"{where}.label", "a choice option needs a label")
    proceed = raw.get("continue", False) is True
    leads = [key for key in ("next", "outcome") if key in raw] + (["continue"] if proceed else [])
    if len(leads) != 1:
        raise ProtocolError("no_destination", where, "needs exactly one of next/outcome/continue")
    if not universal and (proceed or "floor" in raw or "immediate" in raw):
        raise ProtocolError("bad_option", where, "continue/floor/immediate are universal-only")
    immediate = raw.get("immediate", False) is True
    if immediate and "outcome" not in raw:
        raise ProtocolError("bad_option", where, "an immediate answer must lead to an outcome")
    return Option(
        value=value,
        label=label,
        next=_field(raw, "next", str, where) if "next" in raw else None,
        outcome=_field(raw, "outcome", str, where) if "outcome" in raw else None,
        proceed=proceed,
        floor=_field(raw, "floor", str, where) if "floor" in raw else None,
        immediate=immediate,
    )


def _question(raw: Any, where: str, *, universal: bool) -> Question:
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", where, "a question must be an object")
    qid = _field(raw, "id", str, where)
    where = f"{where}[{qid}]"
    kind = _field(raw, "kind", str, where)
    if kind not in ("yes_no", "choice"):
        raise ProtocolError("bad_kind", where, f"kind {kind!r} is not yes_no or choice")
    options = tuple(
        _option(item, raw, f"{where}.options", universal=universal)
        for item in _field(raw, "options", list, where)
    )
    values = [option.value for option in options]
    if len(set(values)) != len(values):
        raise ProtocolError("duplicate_id", where, "an answer value is offered twice")
    if kind == "yes_no" and not ({"yes", "no"} <= set(values) <= set(_STANDARD_LABELS)):
        raise ProtocolError("bad_options", where, "a yes_no question offers yes, no (unknown)")
    if kind == "choice" and len(options) < 2:
        raise ProtocolError("bad_options", where, "a choice question needs two options or more")
    return Question(id=qid, kind=kind, text=_text(raw, "text", where), options=options)


def _outcome(raw: Any, owner: str, where: str, instructions: Mapping[str, Instruction]) -> Outcome:
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", where, "an outcome must be an object")
    determinant = _field(raw, "determinant", str, where)
    where = f"{where}[{determinant}]"
    priority = _field(raw, "priority", str, where)
    if priority not in PRIORITIES:
        raise ProtocolError("bad_priority", where, f"{priority!r} is not one of P1–P4")
    care = _field(raw, "care", str, where)
    if care not in CARE_LEVELS:
        raise ProtocolError("bad_care", where, f"{care!r} is not one of {CARE_LEVELS}")
    motorbike = _field(raw, "motorbike", str, where)
    if motorbike not in MOTORBIKE:
        raise ProtocolError("bad_motorbike", where, f"{motorbike!r} is not one of {MOTORBIKE}")
    if care == "advice" and priority != "P4":
        raise ProtocolError("bad_care", where, "telephone advice only fits P4")
    shape = _DETERMINANT.match(determinant)
    if not shape or shape["code"] != owner or shape["priority"] != priority:
        raise ProtocolError("bad_determinant", where, f"expected {owner}-{priority}-<letter>")
    scripts = tuple(_field(raw, "instructions", list, where))
    for script in scripts:
        if script not in instructions:
            raise ProtocolError("dangling_instruction", where, f"no script {script!r}")
        if instructions[script].advice_only and care != "advice":
            raise ProtocolError("bad_care", where, f"{script!r} is for advice outcomes only")
    return Outcome(
        determinant=determinant,
        priority=_PRIORITY[priority],
        care=_CARE[care],
        motorbike=_MOTORBIKE[motorbike],
        summary=_text(raw, "summary", where),
        instructions=scripts,
    )


# --- structure: every path through a section ends in one of its outcomes -----------------------


def _find_cycle(question_ids: tuple[str, ...], questions: Mapping[str, Question]) -> list[str]:
    """A loop of questions as a path that returns to its start, or [] when there is none."""
    on_path: list[str] = []
    done: set[str] = set()

    def visit(qid: str) -> list[str]:
        on_path.append(qid)
        for option in questions[qid].options:
            if option.next in on_path:
                return [*on_path[on_path.index(option.next) :], option.next]
            if option.next is not None and option.next not in done:
                found = visit(option.next)
                if found:
                    return found
        on_path.pop()
        done.add(qid)
        return []

    for qid in question_ids:
        if qid not in done:
            found = visit(qid)
            if found:
                return found
    return []


def _check_section(
    where: str,
    start: str,
    question_ids: tuple[str, ...],
    outcome_ids: tuple[str, ...],
    questions: Mapping[str, Question],
) -> None:
    if start not in question_ids:
        raise ProtocolError("dangling_question", f"{where}.start", f"no question {start!r} here")
    used: set[str] = set()
    for qid in question_ids:
        for option in questions[qid].options:
            at = f"{where}.questions[{qid}].options[{option.value}]"
            if option.next is not None and option.next not in question_ids:
                raise ProtocolError("dangling_question", at, f"no question {option.next!r} here")
            for target in (option.outcome, option.floor):
                if target is not None and target not in outcome_ids:
                    raise ProtocolError("dangling_outcome", at, f"no outcome {target!r} here")
                used.add(target or "")
    cycle = _find_cycle(question_ids, questions)
    if cycle:
        raise ProtocolError("cycle", where, " → ".join(cycle))
    reached, queue = {start}, [start]
    while queue:
        for option in questions[queue.pop()].options:
            if option.next is not None and option.next not in reached:
                reached.add(option.next)
                queue.append(option.next)
    for qid in question_ids:
        if qid not in reached:
            raise ProtocolError("unreachable_question", where, f"{qid!r} is never asked")
    for oid in outcome_ids:
        if oid not in used:
            raise ProtocolError("unused_outcome", where, f"no answer leads to {oid!r}")


def _section(
    raw: Mapping[str, Any],
    owner: str,
    where: str,
    scripts: Mapping[str, Instruction],
    questions: dict[str, Question],
    outcomes: dict[str, Outcome],
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Parse the questions and outcomes of one complaint (or the universal part) into the
    protocol-wide tables, and check that its graph is sound."""
    universal = owner == UNIVERSAL
    question_ids: list[str] = []
    for item in _field(raw, "questions", list, where):
        question = _question(item, f"{where}.questions", universal=universal)
        if question.id in questions:
            raise ProtocolError("duplicate_id", where, f"question {question.id!r} twice")
        questions[question.id] = question
        question_ids.append(question.id)
    outcome_ids: list[str] = []
    for item in _field(raw, "outcomes", list, where):
        outcome = _outcome(item, owner, f"{where}.outcomes", scripts)
        if outcome.determinant in outcomes:
            raise ProtocolError("duplicate_id", where, f"outcome {outcome.determinant!r} twice")
        outcomes[outcome.determinant] = outcome
        outcome_ids.append(outcome.determinant)
    start = _field(raw, "start", str, where)
    _check_section(where, start, tuple(question_ids), tuple(outcome_ids), questions)
    return start, tuple(question_ids), tuple(outcome_ids)


def _names(
    raw: Mapping[str, Any], key: str, expected: tuple[str, ...], problem: str
) -> Mapping[str, Text]:
    table = _field(raw, key, dict, "protocol")
    if tuple(table) != expected:
        raise ProtocolError(problem, key, f"expected exactly {', '.join(expected)}")
    return MappingProxyType({name: _text(table, name, key) for name in expected})


def _instruction(code: str, raw: Any) -> Instruction:
    where = f"instructions[{code}]"
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", where, "a script must be an object")
    steps = _field(raw, "steps", list, where)
    if not steps:
        raise ProtocolError("missing_text", where, "a script needs steps")
    return Instruction(
        code=code,
        title=_text(raw, "title", where),
        steps=tuple(_text({"step": step}, "step", f"{where}.steps") for step in steps),
        advice_only=raw.get("advice_only", False) is True,
    )


def _complaint(
    raw: Any,
    scripts: Mapping[str, Instruction],
    questions: dict[str, Question],
    outcomes: dict[str, Outcome],
) -> Complaint:
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", "complaints", "a complaint must be an object")
    code = _field(raw, "code", str, "complaints")
    where = f"complaints[{code}]"
    if not _CODE.match(code) or code == UNIVERSAL:
        raise ProtocolError("bad_code", where, "a code is upper-case letters and digits")
    name = _text(raw, "name", where)
    keywords = tuple(_field(raw, "keywords", list, where))
    if not keywords or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ProtocolError("missing_text", f"{where}.keywords", "needs non-empty keywords")
    swaps = _field(raw, "arrest_instructions", dict, where) if "arrest_instructions" in raw else {}
    for script in (*swaps, *swaps.values()):
        if script not in scripts:
            raise ProtocolError("dangling_instruction", where, f"no script {script!r}")
    start, question_ids, outcome_ids = _section(raw, code, where, scripts, questions, outcomes)
    terms = (code, name.vi, name.en, *keywords)
    return Complaint(
        code=code,
        name=name,
        keywords=keywords,
        start=start,
        question_ids=question_ids,
        outcome_ids=outcome_ids,
        arrest_instructions=MappingProxyType(dict(swaps)),
        search_terms=tuple(dict.fromkeys(fold_for_search(term) for term in terms)),
    )


def _parse(raw: Any) -> Protocol:
    if not isinstance(raw, dict):
        raise ProtocolError("bad_type", "protocol", "the file must hold one JSON object")
    version = _field(raw, "version", str, "protocol")
    if not _VERSION.match(version):
        raise ProtocolError("bad_version", "version", f"{version!r} is not MAJOR.MINOR.PATCH")
    changelog = tuple(
        ChangelogEntry(
            version=_field(entry, "version", str, "changelog"),
            date=_date(entry, "date", "changelog"),
            changes=_text(entry, "changes", "changelog"),
        )
        for entry in _field(raw, "changelog", list, "protocol")
        if isinstance(entry, dict)
    )
    if version not in {entry.version for entry in changelog}:
        raise ProtocolError("bad_changelog", "changelog", f"no entry for {version}")
    scripts = MappingProxyType(
        {
            code: _instruction(code, item)
            for code, item in _field(raw, "instructions", dict, "protocol").items()
        }
    )
    questions: dict[str, Question] = {}
    outcomes: dict[str, Outcome] = {}
    universal = _field(raw, "universal", dict, "protocol")
    start, universal_ids, _ = _section(
        universal, UNIVERSAL, "universal", scripts, questions, outcomes
    )
    if not any(o.proceed for qid in universal_ids for o in questions[qid].options):
        raise ProtocolError("no_destination", "universal", "no answer goes on to the complaint")
    complaints = tuple(
        _complaint(item, scripts, questions, outcomes)
        for item in _field(raw, "complaints", list, "protocol")
    )
    codes = [complaint.code for complaint in complaints]
    if len(set(codes)) != len(codes) or not codes:
        raise ProtocolError("duplicate_id", "complaints", "complaint codes must be unique")
    used = {code for outcome in outcomes.values() for code in outcome.instructions}
    used.update(code for c in complaints for code in c.arrest_instructions.values())
    for code in scripts:
        if code not in used:
            raise ProtocolError("unused_instruction", f"instructions[{code}]", "never read out")
    return Protocol(
        id=_field(raw, "id", str, "protocol"),
        version=version,
        effective_from=_date(raw, "effective_from", "protocol"),
        title=_text(raw, "title", "protocol"),
        changelog=changelog,
        priorities=_names(raw, "priorities", PRIORITIES, "bad_priority"),
        care_levels=_names(raw, "care_levels", CARE_LEVELS, "bad_care"),
        motorbike=_names(raw, "motorbike", MOTORBIKE, "bad_motorbike"),
        instructions=scripts,
        universal_start=start,
        universal_question_ids=universal_ids,
        questions=MappingProxyType(questions),
        outcomes=MappingProxyType(outcomes),
        complaints=complaints,
    )


def parse_protocol(raw: Any, *, source: str = "<protocol>") -> Protocol:
    """A protocol from already-decoded JSON; raises `ProtocolError` naming the first problem."""
    try:
        return _parse(raw)
    except ProtocolError as error:
        raise ProtocolError(error.problem, error.where, error.detail, source=source) from None


def load_protocol(path: Path) -> Protocol:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ProtocolError(
            "not_json", f"line {error.lineno}", error.msg, source=path.name
        ) from None
    return parse_protocol(raw, source=path.name)
