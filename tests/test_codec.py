"""Plain data crosses the boundary intact, and nothing with behaviour crosses it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execeval.sandbox import codec

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
hashables = st.recursive(scalars | st.binary(), lambda inner: st.tuples(inner, inner), max_leaves=5)
values = st.recursive(
    scalars | st.binary() | st.complex_numbers(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(hashables, inner, max_size=3) | st.frozensets(hashables, max_size=3)
    | st.sets(hashables, max_size=3),
    max_leaves=20)


def roundtrip(x: Any) -> Any:
    body = codec.dumps({"value": codec.to_plain(x)})[codec.HEADER.size:]
    return codec.from_plain(codec.loads(body)["value"])


@given(values)
def test_roundtrip_keeps_value_and_type(x: Any) -> None:
    y = roundtrip(x)
    assert y == x and type(y) is type(x)


def test_special_values() -> None:
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("-inf")) == float("-inf")
    assert str(roundtrip(-0.0)) == "-0.0"
    big = 7 ** 20000  # past CPython's int-to-str digit limit
    assert roundtrip(big) == big
    assert roundtrip((1, [2, (3,)], {"a": {1, 2}})) == (1, [2, (3,)], {"a": {1, 2}})
    assert type(roundtrip(True)) is bool and type(roundtrip(1)) is int and type(roundtrip(1.0)) is float


def test_subclass_with_lying_eq_is_reduced_to_its_value() -> None:
    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    y = roundtrip(Liar("wrong"))
    assert type(y) is str and y == "wrong" and y != "right"


def test_objects_with_behaviour_are_refused() -> None:
    class Thing:
        pass

    for bad in (Thing(), (x for x in []), print, object()):
        with pytest.raises(codec.Unserializable):
            codec.to_plain(bad)


@pytest.mark.parametrize("forged", [{"zz": 1}, {"t": 5}, {"d": [[[1], 2]]}, {"s": [[1]]},
                                    {"a": 1, "b": 2}, {"b": "xyz"}])
def test_forged_tags_are_rejected(forged: Any) -> None:
    with pytest.raises(ValueError):
        codec.from_plain(json.loads(json.dumps(forged)))
