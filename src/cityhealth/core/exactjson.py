"""JSON whose numbers keep the exact text they were written with.

FHIR decimals carry their precision in how they are written: `1.50` is not `1.5` (R4 §2.1.27.
decimal: "the precision of the decimal value has significance"). Python's `json` turns both
into the float 1.5, so a store that parses and re-serialises would quietly change what a
hospital sent. `loads` makes every number with a fraction or an exponent a `JsonDecimal`: a
float (arithmetic, comparisons and the standard `json.dumps` all still work) that remembers
its text, and `dumps` writes that text back. Integers too long for 64 bits are kept the
same way. `NaN` and `Infinity` are not JSON and are refused.

`ExactJSONField` is Django's JSONField with this codec, for the columns that keep resources.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.db import models


class JsonDecimal(float):
    """A JSON number as written (`1.50`, `1E-22`): a float that keeps its text."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonDecimal:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __reduce__(self) -> tuple[type[JsonDecimal], tuple[str]]:
        return (JsonDecimal, (self.text,))

    def __repr__(self) -> str:
        return self.text


def _integer(text: str) -> int | JsonDecimal:
    # orjson writes integers of at most 64 bits; a longer one is kept as written.
    return int(text) if len(text) < 19 else JsonDecimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(data: str | bytes | bytearray) -> Any:
    """Parse JSON (raises ValueError if it is not JSON), numbers kept as written."""
    return json.loads(
        data, parse_float=JsonDecimal, parse_int=_integer, parse_constant=_no_constant
    )


def _written(value: Any) -> orjson.Fragment:
    if isinstance(value, JsonDecimal):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any, *, indent: bool = False) -> bytes:
    """UTF-8 JSON, compact (or indented by two spaces); a JsonDecimal is written as the text
    it was read from."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(value, default=_written, option=option)


class Encoder(json.JSONEncoder):
    def encode(self, o: Any) -> str:
        return dumps(o).decode()


class Decoder(json.JSONDecoder):
    def __init__(self, **options: Any) -> None:
        options.update(parse_float=JsonDecimal, parse_int=_integer, parse_constant=_no_constant)
        super().__init__(**options)


class ExactJSONField(models.JSONField):
    """A JSONField read and written with the exact codec. The codec lives in Python only,
    so migrations see Django's JSONField and the column is unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("encoder", Encoder)
        kwargs.setdefault("decoder", Decoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        return name, "django.db.models.JSONField", args, kwargs
