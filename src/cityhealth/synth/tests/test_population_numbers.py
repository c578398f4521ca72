"""Unique numbers by construction (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from cityhealth.synth.population.numbers import Feistel, GroupCounter, NumberSpace, SpaceExhausted


def test_group_counter_numbers_each_group_in_order_across_calls():
    counter = GroupCounter(3)
    first = counter.take(np.array([2, 0, 2, 2, 0], dtype=np.int64))
    second = counter.take(np.array([0, 1, 2], dtype=np.int64))
    assert first.tolist() == [0, 0, 1, 2, 1]
    assert second.tolist() == [2, 0, 3]
    assert counter.take(np.zeros(0, dtype=np.int64)).tolist() == []


def test_feistel_is_a_permutation():
    bijection = Feistel(np.random.default_rng(4), half=31)
    image = bijection(np.arange(31 * 31, dtype=np.int64))
    assert sorted(image.tolist()) == list(range(31 * 31))
    assert image.tolist() != list(range(31 * 31))


def test_number_space_fills_each_group_without_repeats_then_refuses():
    space = NumberSpace(np.random.default_rng(9), groups=2, half=5, blocks=3, label="test")
    assert space.size == 75
    drawn = [space.draw(np.array([0, 1] * 5, dtype=np.int64)) for _ in range(7)]
    values = np.concatenate(drawn)
    groups = np.tile([0, 1], 35)
    for group in (0, 1):
        mine = values[groups == group].tolist()
        assert len(mine) == len(set(mine)) == 35
        assert max(mine) < 75
    space.draw(np.array([0] * 40, dtype=np.int64))
    with pytest.raises(SpaceExhausted):
        space.draw(np.array([0], dtype=np.int64))
