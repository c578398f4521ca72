from __future__ import annotations

import pytest

from cityhealth.insurance.codes import meaning_of, result_codes, unreachable_meaning
from cityhealth.insurance.tests.expected import EXPECTED_STATUS
from cityhealth.insurance.types import Eligibility


def test_the_table_holds_every_code_of_the_published_list_and_no_other():
    assert sorted(result_codes()) == sorted(EXPECTED_STATUS)


@pytest.mark.parametrize("code", sorted(EXPECTED_STATUS))
def test_each_code_gives_its_status_and_words_in_both_languages(code):
    meaning = meaning_of(code)
    assert meaning.status is EXPECTED_STATUS[code]
    for words in (meaning.resident_vi, meaning.resident_en, meaning.staff_vi, meaning.staff_en):
        assert len(words) > 10
    # The desk sees the code; the resident gets plain words without it.
    assert f"({code})" in meaning.staff_vi
    assert f"({code})" in meaning.staff_en
    assert code not in meaning.resident_vi
    assert code not in meaning.resident_en


def test_only_the_gateways_own_errors_are_worth_asking_again_at_once():
    assert {code for code, m in result_codes().items() if m.transient} == {"100", "101"}


def test_an_unknown_code_leaves_the_visit_pending_and_tells_the_desk():
    meaning = meaning_of("999")
    assert meaning.status is Eligibility.PENDING
    assert "999" in meaning.staff_en
    assert "999" in meaning.staff_vi


def test_no_answer_is_pending_with_the_reason_for_the_desk():
    meaning = unreachable_meaning("timeout")
    assert meaning.status is Eligibility.PENDING
    assert meaning.code == ""
    assert "in time" in meaning.staff_en
    assert "HTTP 503" not in unreachable_meaning("breaker_open").staff_en
    assert "http_503" in unreachable_meaning("http_503").staff_en
