from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cityhealth.core.datafiles import data_path
from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.emergency.triage import (
    Protocol,
    ProtocolError,
    available_protocols,
    current_protocol,
    evaluate,
    next_question,
    parse_protocol,
    protocol,
    search_complaints,
)

SHIPPED = data_path("emergency", "triage", "protocol-v1.json")
AWAKE = {"U.conscious": "yes"}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def shipped(raw: dict[str, Any]) -> Protocol:
    return parse_protocol(raw, source=SHIPPED.name)


def walk_all(p: Protocol, code: str) -> list[dict[str, str]]:
    """Every complete answer path of a complaint, found by asking the engine itself."""
    finished: list[dict[str, str]] = []
    pending: list[dict[str, str]] = [{}]
    while pending:
        answers = pending.pop()
        question = next_question(p, complaint_code=code, answers=answers)
        if question is None:
            finished.append(answers)
            continue
        assert question.id not in answers, f"{code}: {question.id} asked twice"
        pending.extend({**answers, question.id: o.value} for o in question.options)
    return finished


# --- the shipped protocol --------------------------------------------------------------------


def test_the_shipped_protocol_loads_and_is_the_one_in_force(shipped: Protocol) -> None:
    assert shipped.id == "cityhealth-115-triage"
    assert shipped.version == "1.0.0"
    assert 20 <= len(shipped.complaints) <= 30
    in_force = current_protocol(today=shipped.effective_from)
    assert (in_force.id, in_force.version) == (shipped.id, shipped.version)


def test_every_answer_path_of_every_complaint_ends_in_an_outcome(shipped: Protocol) -> None:
    for complaint in shipped.complaints:
        paths = walk_all(shipped, complaint.code)
        assert len(paths) >= 3, complaint.code
        for answers in paths:
            outcome = evaluate(shipped, complaint_code=complaint.code, answers=answers)
            assert outcome.priority in ("P1", "P2", "P3", "P4")
            assert outcome.instructions, (complaint.code, answers)
            assert outcome.answers == answers
            if outcome.priority == "P1":
                assert outcome.care == "als", outcome.determinant
            if outcome.care == "advice":
                assert outcome.priority == "P4"


def test_not_breathing_is_p1_with_the_cpr_script_at_once(shipped: Protocol) -> None:
    # Nothing else answered, not even consciousness: the grave answer decides the call.
    outcome = evaluate(shipped, complaint_code="CHEST", answers={"U.breathing": "no"})
    assert (outcome.priority, outcome.care, outcome.determinant) == ("P1", "als", "UNIV-P1-A")
    assert outcome.instructions[0].code == "CPR-ADULT"
    steps = " ".join(step.en for step in outcome.instructions[0].steps)
    assert "100–120" in steps
    assert "not needed" in steps
    assert next_question(shipped, complaint_code="MINOR", answers={"U.breathing": "no"}) is None
    # Even beside answers that point elsewhere, "not breathing" is never outvoted.
    answers = {**AWAKE, "U.breathing": "no", "MINOR.bleed": "no"}
    outcome = evaluate(shipped, complaint_code="MINOR", answers=answers)
    assert outcome.determinant == "UNIV-P1-A"
    assert outcome.answers == answers


def test_cpr_script_follows_the_complaint(shipped: Protocol) -> None:
    for code, script in (("CHILD", "CPR-CHILD"), ("DROWN", "CPR-DROWNING"), ("FALL", "CPR-ADULT")):
        answers = {"U.conscious": "no", "U.breathing": "unknown"}
        outcome = evaluate(shipped, complaint_code=code, answers=answers)
        assert outcome.instructions[0].code == script


def test_unconscious_but_breathing_is_p1_recovery_position(shipped: Protocol) -> None:
    answers = {"U.conscious": "no", "U.breathing": "yes"}
    outcome = evaluate(shipped, complaint_code="SICK", answers=answers)
    assert (outcome.priority, outcome.instructions[0].code) == ("P1", "RECOVERY")


@pytest.mark.parametrize("onset", ["under_6h", "6_to_24h", "over_24h", "unknown"])
def test_stroke_signs_are_p1_or_p2_with_als(shipped: Protocol, onset: str) -> None:
    answers = {**AWAKE, "STROKE.signs": "yes", "STROKE.onset": onset}
    outcome = evaluate(shipped, complaint_code="STROKE", answers=answers)
    assert outcome.priority in ("P1", "P2")
    assert outcome.care == "als"
    assert (outcome.priority == "P1") == (onset == "under_6h")


def test_minor_injury_is_p4_advice(shipped: Protocol) -> None:
    answers = {**AWAKE, "MINOR.bleed": "no", "MINOR.deform": "no", "MINOR.bite": "no"}
    outcome = evaluate(shipped, complaint_code="MINOR", answers=answers)
    assert (outcome.priority, outcome.care, outcome.motorbike) == ("P4", "advice", "no")
    assert [i.code for i in outcome.instructions] == ["WOUND", "ADVICE"]


def test_crowning_is_p1_with_the_delivery_script(shipped: Protocol) -> None:
    answers = {**AWAKE, "PREG.born": "no", "PREG.crowning": "yes"}
    outcome = evaluate(shipped, complaint_code="PREG", answers=answers)
    assert (outcome.priority, outcome.determinant) == ("P1", "PREG-P1-A")
    assert outcome.instructions[0].code == "DELIVERY"
    assert [a.question_id for a in outcome.asked] == ["U.conscious", "PREG.born", "PREG.crowning"]


def test_unknown_consciousness_never_leaves_a_call_below_p2(shipped: Protocol) -> None:
    answers = {"U.conscious": "unknown", "MINOR.bleed": "no", "MINOR.deform": "no"}
    answers["MINOR.bite"] = "no"
    outcome = evaluate(shipped, complaint_code="MINOR", answers=answers)
    assert (outcome.priority, outcome.care, outcome.escalated_by) == ("P2", "als", "U.conscious")
    # "No ambulance is coming" must not be read to a caller who is getting one.
    assert "ADVICE" not in [i.code for i in outcome.instructions]
    # A complaint outcome already more urgent than the floor is left alone.
    answers = {"U.conscious": "unknown", "CHOKE.cough": "no", "CHOKE.infant": "no"}
    choke = evaluate(shipped, complaint_code="CHOKE", answers=answers)
    assert (choke.determinant, choke.escalated_by) == ("CHOKE-P1-A", None)


def test_questions_come_one_at_a_time_and_stale_answers_are_ignored(shipped: Protocol) -> None:
    first = next_question(shipped, complaint_code="CHEST", answers={})
    assert first is not None
    assert first.id == "U.conscious"
    second = next_question(shipped, complaint_code="CHEST", answers=AWAKE)
    assert second is not None
    assert second.id == "CHEST.breathing"
    # CHEST.risk was answered on a branch no longer taken: it is not part of the record.
    answers = {**AWAKE, "CHEST.breathing": "yes", "CHEST.risk": "no"}
    outcome = evaluate(shipped, complaint_code="CHEST", answers=answers)
    assert outcome.determinant == "CHEST-P1-A"
    assert "CHEST.risk" not in outcome.answers


def test_the_record_is_json_and_complete(shipped: Protocol) -> None:
    answers = {**AWAKE, "CHEST.breathing": "no", "CHEST.pale": "no", "CHEST.risk": "yes"}
    outcome = evaluate(shipped, complaint_code="CHEST", answers=answers)
    record = json.loads(json.dumps(outcome.as_record(), ensure_ascii=False))
    assert record["protocol"] == {"id": "cityhealth-115-triage", "version": "1.0.0"}
    assert record["determinant"] == "CHEST-P2-A"
    assert record["asked"][1]["text"]["vi"].startswith("Người bệnh có khó thở")
    assert record["instructions"][0]["steps"][0]["en"]


# --- bad answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("complaint", "answers", "code"),
    [
        ("CHEST", {"U.conscious": "maybe"}, "triage.bad_answer"),
        ("CHEST", {"U.conscious": True}, "triage.bad_answer"),
        ("CHEST", {"STROKE.signs": "yes"}, "triage.unknown_question"),
        ("CHEST", {"CHEST.nope": "yes"}, "triage.unknown_question"),
        ("MPDS9", {}, "triage.unknown_complaint"),
        ("CHEST", AWAKE, "triage.needs_answer"),
    ],
)
def test_bad_answers_are_refused(
    shipped: Protocol, complaint: str, answers: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        evaluate(shipped, complaint_code=complaint, answers=answers)
    assert caught.value.code == code
    assert caught.value.message("vi")
    assert caught.value.message("en")


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("đau ngực", "CHEST"),
        ("dau nguc", "CHEST"),
        ("DAU NGUC", "CHEST"),
        ("nguc dau", "CHEST"),
        ("tai nan", "TRAFFIC"),
        ("đột quỵ", "STROKE"),
        ("dot quy", "STROKE"),
        ("duoi nuoc", "DROWN"),
        ("soc phan ve", "ALLERGY"),
        ("chest pain", "CHEST"),
        ("stroke", "STROKE"),
        ("kho th", "BREATH"),
        ("chó cắn", "MINOR"),
    ],
)
def test_search_ignores_diacritics_and_case(shipped: Protocol, typed: str, first: str) -> None:
    assert search_complaints(shipped, text=typed)[0].code == first


def test_search_lists_everything_for_nothing_and_nothing_for_nonsense(shipped: Protocol) -> None:
    assert search_complaints(shipped, text="  ") == shipped.complaints
    assert search_complaints(shipped, text="xyzzy") == ()
    assert len(search_complaints(shipped, text="dau", limit=3)) == 3


# --- broken files are refused, naming the problem ---------------------------------------------


def _complaint(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in data["complaints"] if c["code"] == code)


def _dangling(data: dict[str, Any]) -> None:
    _complaint(data, "CHEST")["questions"][0]["options"][1]["next"] = "CHEST.missing"


def _cycle(data: dict[str, Any]) -> None:
    # CHEST.risk "yes" back to CHEST.breathing: a loop the call-taker could never leave.
    _complaint(data, "CHEST")["questions"][2]["options"][0] = {
        "value": "yes",
        "next": "CHEST.breathing",
    }


def _missing_vi(data: dict[str, Any]) -> None:
    del _complaint(data, "BURN")["questions"][1]["text"]["vi"]


def _p5(data: dict[str, Any]) -> None:
    _complaint(data, "MINOR")["outcomes"][2]["priority"] = "P5"


def _unreachable(data: dict[str, Any]) -> None:
    first = _complaint(data, "HEAT")["questions"][0]
    first["options"][1] = {"value": "no", "outcome": "HEAT-P4-A"}


def _stray_answer(data: dict[str, Any]) -> None:
    _complaint(data, "DIAB")["questions"][0]["options"].append(
        {"value": "maybe", "next": "DIAB.low"}
    )


@pytest.mark.parametrize(
    ("breakage", "problem", "where"),
    [
        (_dangling, "dangling_question", "complaints[CHEST].questions[CHEST.breathing]"),
        (_cycle, "cycle", "complaints[CHEST]"),
        (_missing_vi, "missing_text", "complaints[BURN].questions[BURN.type].text"),
        (_p5, "bad_priority", "complaints[MINOR].outcomes[MINOR-P4-A]"),
        (_unreachable, "unreachable_question", "complaints[HEAT]"),
        (_stray_answer, "missing_text", "complaints[DIAB].questions[DIAB.alert].options[maybe]"),
    ],
)
def test_broken_protocols_are_refused(
    raw: dict[str, Any], breakage: Any, problem: str, where: str
) -> None:
    data = copy.deepcopy(raw)
    breakage(data)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(data, source="broken.json")
    assert caught.value.problem == problem
    assert caught.value.where.startswith(where)
    assert str(caught.value).startswith("broken.json: ")


def test_a_cycle_is_named_by_its_path(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _cycle(data)
    with pytest.raises(ProtocolError, match=r"CHEST\.breathing → .* → CHEST\.breathing"):
        parse_protocol(data)


# --- versions ------------------------------------------------------------------------------


def _publish(directory: Path, raw: dict[str, Any], version: str, effective: str) -> None:
    data = copy.deepcopy(raw)
    data["version"], data["effective_from"] = version, effective
    data["changelog"].append(
        {"version": version, "date": effective, "changes": {"vi": "Sửa.", "en": "Fix."}}
    )
    _complaint(data, "MINOR")["outcomes"][3]["summary"]["en"] = f"Animal bite ({version})."
    name = f"protocol-v{version.rsplit('.', 1)[0]}.json"
    (directory / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_newest_version_in_force_is_used_and_old_ones_stay_readable(
    tmp_path: Path, raw: dict[str, Any]
) -> None:
    _publish(tmp_path, raw, "1.0.0", "2026-01-01")
    _publish(tmp_path, raw, "1.1.0", "2026-06-01")
    _publish(tmp_path, raw, "2.0.0", "2099-01-01")  # published ahead of its date
    assert [p.version for p in available_protocols(directory=tmp_path)] == [
        "1.0.0",
        "1.1.0",
        "2.0.0",
    ]
    assert current_protocol(today=dt.date(2026, 3, 1), directory=tmp_path).version == "1.0.0"
    assert current_protocol(today=dt.date(2026, 11, 26), directory=tmp_path).version == "1.1.0"
    with pytest.raises(ProtocolError) as caught:
        current_protocol(today=dt.date(2025, 12, 31), directory=tmp_path)
    assert caught.value.problem == "no_protocol_in_force"
    # An incident triaged under 1.0.0 is re-read with 1.0.0, not with the version now in force.
    old = protocol("1.0.0", directory=tmp_path)
    answers = {**AWAKE, "MINOR.bleed": "no", "MINOR.deform": "no", "MINOR.bite": "yes"}
    outcome = evaluate(old, complaint_code="MINOR", answers=answers)
    assert (outcome.protocol_version, outcome.summary.en) == ("1.0.0", "Animal bite (1.0.0).")
    with pytest.raises(NotFound):
        protocol("0.9.0", directory=tmp_path)


def test_the_shipped_version_is_readable_by_number() -> None:
    assert protocol("1.0.0").version == "1.0.0"
