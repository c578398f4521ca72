"""JSON whose numbers come back as they were written (FHIR decimals keep their precision)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from cityhealth.core.exactjson import JsonDecimal, dumps, loads

WRITTEN = (
    b'{"a":[1.50,2,-0.0,1E-22,-1.000000000000000000E+245,123456789012345678901234],"b":"\xc3\xa9"}'
)


def test_numbers_are_written_back_as_they_were_read():
    assert dumps(loads(WRITTEN)) == WRITTEN


def test_a_decimal_still_is_a_float_for_arithmetic_and_the_standard_json():
    value = loads(b"[1.50]")[0]
    assert isinstance(value, JsonDecimal)
    assert value == 1.5
    assert value * 2 == 3.0
    assert json.dumps([value]) == "[1.5]"
    assert str(value) == "1.50"


def test_a_decimal_keeps_its_text_when_copied_or_pickled():
    value = loads(b"[100.000]")
    assert dumps(copy.deepcopy(value)) == b"[100.000]"
    assert dumps(pickle.loads(pickle.dumps(value))) == b"[100.000]"  # noqa: S301


@pytest.mark.parametrize("text", [b"[NaN]", b"[Infinity]", b"[-Infinity]"])
def test_nan_and_infinity_are_refused(text):
    with pytest.raises(ValueError, match="not a JSON number"):
        loads(text)


def test_indented_output_keeps_the_text_too():
    assert dumps(loads(b'{"v":1.50}'), indent=True) == b'{\n  "v": 1.50\n}'
