"""Unique numbers by construction: a counter per number space, then a seeded bijection.

Every ID number of a run is `prefix + scramble(k)` where `k` counts the numbers already handed
out in that prefix's space (province + century/sex digit + birth year for a personal ID). The
scramble is a bijection on the space, so distinct `k` give distinct numbers and no set of
issued numbers is ever kept or searched.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


class SpaceExhausted(ValueError):
    """More numbers were asked of one prefix than its space holds."""


class GroupCounter:
    """Hands out 0, 1, 2, ... within each of `groups` groups, in order of request."""

    def __init__(self, groups: int) -> None:
        self._next = np.zeros(groups, dtype=np.int64)

    def take(self, group: IntArray) -> IntArray:
        if group.size == 0:
            return np.zeros(0, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        lengths = np.diff(np.r_[starts, ordered.size])
        rank_in_order = np.arange(ordered.size) - np.repeat(starts, lengths)
        rank = np.empty_like(rank_in_order)
        rank[order] = rank_in_order
        taken = self._next[group] + rank
        self._next += np.bincount(group, minlength=self._next.size)
        return taken


class Feistel:
    """A seeded bijection on [0, half²): a balanced Feistel network over two base-`half` digits."""

    def __init__(self, rng: np.random.Generator, *, half: int, rounds: int = 4) -> None:
        self.half = half
        self.size = half * half
        self._keys = rng.integers(0, half, size=(rounds, half), dtype=np.int64)

    def __call__(self, x: IntArray) -> IntArray:
        left, right = np.divmod(x, self.half)
        for key in self._keys:
            left, right = right, (left + key[right]) % self.half
        result: IntArray = left * self.half + right
        return result


class NumberSpace:
    """`groups` independent spaces of `blocks × half²` numbers each.

    Group g's k-th number is block `(k // half² + block_offset[g]) mod blocks` followed by
    `bijection((k mod half² + offset[g]) mod half²)`: a bijection for each group, and a
    different order in each.
    """

    def __init__(
        self, rng: np.random.Generator, *, groups: int, half: int, label: str, blocks: int = 1
    ) -> None:
        self.label = label
        self._counter = GroupCounter(groups)
        self._bijection = Feistel(rng, half=half)
        self._blocks = blocks
        self._offset = rng.integers(0, self._bijection.size, size=groups, dtype=np.int64)
        self._block_offset = rng.integers(0, blocks, size=groups, dtype=np.int64)

    @property
    def size(self) -> int:
        return self._blocks * self._bijection.size

    def draw(self, group: IntArray) -> IntArray:
        k = self._counter.take(group)
        if k.size and int(k.max()) >= self.size:
            raise SpaceExhausted(f"{self.label}: more than {self.size:,} numbers in one prefix")
        block, rest = np.divmod(k, self._bijection.size)
        block = (block + self._block_offset[group]) % self._blocks
        inner = self._bijection((rest + self._offset[group]) % self._bijection.size)
        return block * self._bijection.size + inner
