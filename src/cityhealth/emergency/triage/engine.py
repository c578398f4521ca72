"""Walking a protocol during a call: which complaint, which question next, and the outcome.

The call-taker's page calls `next_question` after every key press and `evaluate` once it
returns None. Answers are a flat mapping question id → answer value; answers to questions off
the path actually taken are ignored (the caller changed an earlier answer), so the page may keep
them. The universal questions come first for every complaint, and an immediate universal answer
("not breathing") decides the call at once, whatever else has or has not been answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cityhealth.core.errors import InvalidInput
from cityhealth.core.text import fold_for_search
from cityhealth.emergency.triage.model import (
    CARE_LEVELS,
    MOTORBIKE,
    PRIORITIES,
    AskedQuestion,
    Complaint,
    Option,
    Outcome,
    Protocol,
    Question,
    TriageOutcome,
)


@dataclass(frozen=True, kw_only=True)
class _Walk:
    asked: tuple[AskedQuestion, ...]
    pending: Question | None = None
    outcome: Outcome | None = None
    # (outcome, question id) pairs: answers that guarantee at least that outcome's priority.
    floors: tuple[tuple[Outcome, str], ...] = ()


def _complaint(protocol: Protocol, code: str) -> Complaint:
    complaint = protocol.complaint(code)
    if complaint is None:
        raise InvalidInput(
            "triage.unknown_complaint",
            vi=f"Không có lý do gọi mã {code!r} trong quy trình {protocol.version}.",
            en=f"There is no chief complaint {code!r} in protocol {protocol.version}.",
            field="complaint_code",
        )
    return complaint


def _option(protocol: Protocol, complaint: Complaint, qid: str, value: object) -> Option:
    """The option chosen for `qid`, refusing questions and answers the protocol does not have."""
    if qid not in protocol.universal_question_ids and qid not in complaint.question_ids:
        raise InvalidInput(
            "triage.unknown_question",
            vi=f"Câu hỏi {qid!r} không thuộc lý do gọi {complaint.code}.",
            en=f"Question {qid!r} is not part of chief complaint {complaint.code}.",
            field=qid,
        )
    question = protocol.questions[qid]
    option = question.option(value) if isinstance(value, str) else None
    if option is None:
        offered = [option.value for option in question.options]
        raise InvalidInput(
            "triage.bad_answer",
            vi=f"Câu trả lời {value!r} không có trong lựa chọn của câu hỏi {qid}: {offered}.",
            en=f"Answer {value!r} is not offered by question {qid}: {offered}.",
            field=qid,
            offered=offered,
        )
    return option


def _asked(question: Question, option: Option) -> AskedQuestion:
    return AskedQuestion(
        question_id=question.id, text=question.text, answer=option.value, answer_label=option.label
    )


def _walk(protocol: Protocol, complaint: Complaint, answers: Mapping[str, str]) -> _Walk:
    chosen = {qid: _option(protocol, complaint, qid, value) for qid, value in answers.items()}
    asked: list[AskedQuestion] = []
    floors: list[tuple[Outcome, str]] = []
    question = protocol.questions[protocol.universal_start]
    # Terminates: the loader refused cycles, and the complaint never leads back to universal.
    while (option := chosen.get(question.id)) is not None:
        asked.append(_asked(question, option))
        if option.floor is not None:
            floors.append((protocol.outcomes[option.floor], question.id))
        if option.outcome is not None:
            break
        question = protocol.questions[complaint.start if option.proceed else option.next or ""]
    # A grave universal answer ("not breathing") wins wherever the walk stopped, even with
    # questions before it still open: CPR must not wait for the caller to answer the rest.
    for qid in protocol.universal_question_ids:
        grave = chosen.get(qid)
        if grave is not None and grave.immediate and grave.outcome is not None:
            said = _asked(protocol.questions[qid], grave)
            path = tuple(asked) if said in asked else (*asked, said)
            return _Walk(asked=path, outcome=protocol.outcomes[grave.outcome])
    if option is None:
        return _Walk(asked=tuple(asked), pending=question, floors=tuple(floors))
    outcome = protocol.outcomes[option.outcome or ""]
    return _Walk(asked=tuple(asked), outcome=outcome, floors=tuple(floors))


def next_question(
    protocol: Protocol, *, complaint_code: str, answers: Mapping[str, str]
) -> Question | None:
    """The question to ask now, or None when the answers are enough for `evaluate`."""
    return _walk(protocol, _complaint(protocol, complaint_code), answers).pending


def evaluate(
    protocol: Protocol, *, complaint_code: str, answers: Mapping[str, str]
) -> TriageOutcome:
    """The triage outcome; `InvalidInput("triage.needs_answer")` if a question is still open."""
    complaint = _complaint(protocol, complaint_code)
    walk = _walk(protocol, complaint, answers)
    if walk.outcome is None:
        pending = walk.pending.id if walk.pending else ""
        raise InvalidInput(
            "triage.needs_answer",
            vi=f"Cần trả lời câu hỏi {pending} trước khi có kết quả phân loại.",
            en=f"Question {pending} must be answered before the triage has an outcome.",
            field=pending,
        )
    outcome = walk.outcome
    scripts = outcome.instructions
    if outcome.determinant not in complaint.outcome_ids:
        # A universal outcome: this complaint may need another CPR script (child, drowning).
        scripts = tuple(complaint.arrest_instructions.get(code, code) for code in scripts)
    care, motorbike, escalated_by = outcome.care, outcome.motorbike, None
    for floor, qid in walk.floors:
        if PRIORITIES.index(floor.priority) < PRIORITIES.index(outcome.priority):
            # Raised: the floor's priority, and the stronger response of the two.
            care = min(care, floor.care, key=CARE_LEVELS.index)
            motorbike = max(motorbike, floor.motorbike, key=MOTORBIKE.index)
            scripts = (*floor.instructions, *(s for s in scripts if s not in floor.instructions))
            outcome, escalated_by = floor, qid
    return TriageOutcome(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        complaint_code=complaint.code,
        complaint_name=complaint.name,
        determinant=outcome.determinant,
        priority=outcome.priority,
        care=care,
        motorbike=motorbike,
        summary=outcome.summary,
        instructions=tuple(
            protocol.instructions[code]
            for code in scripts
            # An escalated advice outcome must not tell the caller that no ambulance is coming.
            if care == "advice" or not protocol.instructions[code].advice_only
        ),
        asked=walk.asked,
        escalated_by=escalated_by,
    )


def _score(query: str, tokens: list[str], term: str) -> int:
    if term == query:
        return 4
    if term.startswith(query):
        return 3
    words = term.split()
    if all(any(word.startswith(token) for word in words) for token in tokens):
        return 2
    return 1 if query in term else 0


def search_complaints(
    protocol: Protocol, *, text: str, limit: int | None = None
) -> tuple[Complaint, ...]:
    """Complaints matching what the call-taker typed, best first.

    Diacritics and case are ignored ("dau nguc" finds "Đau ngực"); an exact name, keyword or
    code beats a prefix, which beats every word started in any order, which beats a substring.
    Equal scores keep the protocol's order (most life-threatening first). Empty text lists all.
    """
    query = fold_for_search(text)
    if not query:
        return protocol.complaints[:limit]
    tokens = query.split()
    scored = [
        (max(_score(query, tokens, term) for term in complaint.search_terms), index, complaint)
        for index, complaint in enumerate(protocol.complaints)
    ]
    hits = sorted((item for item in scored if item[0] > 0), key=lambda item: (-item[0], item[1]))
    return tuple(complaint for _, _, complaint in hits)[:limit]
