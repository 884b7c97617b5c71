"""Blocking: the candidate pairs worth comparing, as a union of rules.

Comparing every pair of a million records is 5 x 10^11 comparisons; almost
all are obviously different people. A blocking rule pairs only records that
share a key (the same e-mail address; the same first three letters of the
last name and the same postcode) or sit close in a sorted order (a sorted
neighbourhood, Hernandez & Stolfo 1995). A pair missed by every rule can
never be found, so rules are combined: the candidates are the union of the
pairs of each rule, and the report says how many pairs each rule made.

Everything is numpy: keys are factorised, records sorted by key, and the
pairs inside each block generated with ``repeat`` and ``cumsum``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from crmkit.quality._records import Records

__all__ = ["Block", "Candidates", "SortedNeighbourhood", "candidate_pairs"]


def _key(records: Records, columns: Sequence[str], prefix: int | None) -> np.ndarray:
    """One integer key per record from the codes of ``columns`` (-1 where any is missing)."""
    key = np.zeros(len(records), dtype=np.int64)
    for column in columns:
        codes, values = records.codes(column)
        if prefix is not None and values.size:  # codes of each distinct value's first characters
            cut = values.astype(str).astype(f"U{prefix}")
            _, of_value = np.unique(cut, return_inverse=True)
            codes = np.where(codes >= 0, of_value.ravel()[np.maximum(codes, 0)], -1)
        missing = (key < 0) | (codes < 0)
        # Dense codes of the combination so far, so the product never overflows.
        _, key = np.unique(key * (int(codes.max(initial=0)) + 2) + codes + 1, return_inverse=True)
        key = np.where(missing, -1, key.ravel())
    return key


def _runs(total: np.ndarray) -> np.ndarray:
    """``0, 1, ..., k - 1`` for each ``k`` in ``total``, concatenated."""
    runs: np.ndarray = np.arange(int(total.sum())) - np.repeat(np.cumsum(total) - total, total)
    return runs


def _pairs_within(
    codes: np.ndarray, order: np.ndarray, max_block: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """All pairs of records sharing a code; ``order`` sorts the records by code.

    Blocks larger than ``max_block`` are skipped; their number is returned.
    """
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, sorted_codes.size])
    skipped = int(np.sum(sizes > max_block))
    kept = (sizes >= 2) & (sizes <= max_block)
    starts, sizes = starts[kept], sizes[kept]
    offset = _runs(sizes)  # each record's place in its block
    position = np.repeat(starts, sizes) + offset
    later = np.repeat(sizes, sizes) - offset - 1  # the records after it in its block
    left = np.repeat(position, later)
    right = left + _runs(later) + 1
    return order[left], order[right], skipped


@attrs.frozen(init=False)
class Block:
    """Pair the records that agree on every column (on the first ``prefix`` characters of each).

    ``Block("email")`` pairs records with the same e-mail key;
    ``Block("last_name", "postcode", prefix=3)`` those whose last names and
    postcodes start alike. Records missing a key column are not paired by
    the rule. Blocks of more than ``max_block`` records (a placeholder value
    shared by thousands) are skipped and reported.
    """

    columns: tuple[str, ...]
    prefix: int | None
    max_block: int

    def __init__(self, *columns: str, prefix: int | None = None, max_block: int = 1000) -> None:
        from crmkit._args import texts, whole

        self.__attrs_init__(
            texts(columns, "columns", min_length=1),
            None if prefix is None else whole(prefix, "prefix", 1, 1000),
            whole(max_block, "max_block", 2, 10_000_000),
        )

    @property
    def name(self) -> str:
        cut = f"[:{self.prefix}]" if self.prefix else ""
        return " & ".join(f"{c}{cut}" for c in self.columns)

    def pairs(self, records: Records) -> tuple[np.ndarray, np.ndarray, int]:
        key = _key(records, self.columns, self.prefix)
        keep = np.flatnonzero(key >= 0)
        if keep.size < 2:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, 0
        order = np.argsort(key[keep], kind="stable")
        left, right, skipped = _pairs_within(key[keep], order, self.max_block)
        return keep[left], keep[right], skipped


@attrs.frozen(init=False)
class SortedNeighbourhood:
    """Pair each record with the ``window - 1`` records after it in the order of ``column``.

    Catches pairs whose keys differ a little (a typo in the last letters)
    that exact blocking misses.
    """

    column: str
    window: int

    def __init__(self, column: str, *, window: int = 5) -> None:
        from crmkit._args import text, whole

        self.__attrs_init__(text(column, "column"), whole(window, "window", 2, 1000))

    @property
    def name(self) -> str:
        return f"sorted {self.column} (window {self.window})"

    def pairs(self, records: Records) -> tuple[np.ndarray, np.ndarray, int]:
        codes, _ = records.codes(self.column)  # codes sort as the values do
        keep = np.flatnonzero(codes >= 0)
        order = keep[np.argsort(codes[keep], kind="stable")]
        lefts, rights = [], []
        for d in range(1, min(self.window, order.size)):
            lefts.append(order[:-d])
            rights.append(order[d:])
        if not lefts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, 0
        return np.concatenate(lefts), np.concatenate(rights), 0


@attrs.frozen(eq=False)
class Candidates:
    """The candidate pairs (``left < right``, record positions) and what each rule contributed."""

    left: np.ndarray
    right: np.ndarray
    by_rule: tuple[tuple[str, int, int], ...]  # (rule, pairs made, blocks skipped)

    def __len__(self) -> int:
        return int(self.left.size)

    def report(self) -> str:
        lines = [f"{len(self):,} candidate pairs"]
        for name, made, skipped in self.by_rule:
            extra = f", {skipped:,} oversized blocks skipped" if skipped else ""
            lines.append(f"  {name}: {made:,} pairs{extra}")
        return "\n".join(lines)


def candidate_pairs(records: Any, rules: Sequence[Any]) -> Candidates:
    """The union of the pairs of ``rules`` (:class:`Block`, :class:`SortedNeighbourhood`)."""
    from crmkit._args import items
    from crmkit.quality._records import as_records

    records = as_records(records)
    rules = items(rules, "rules", (Block, SortedNeighbourhood))
    return union_of(len(records), rules, [rule.pairs(records) for rule in rules])


def union_of(
    n: int, rules: Sequence[Any], pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]
) -> Candidates:
    """The candidates from each rule's ``(left, right, skipped blocks)`` over ``n`` records."""
    keys = [np.empty(0, dtype=np.int64)]
    report = []
    for rule, (left, right, skipped) in zip(rules, pairs, strict=True):
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        keys.append(lo.astype(np.int64) * n + hi)
        report.append((rule.name, int(lo.size), skipped))
    key = np.unique(np.concatenate(keys))
    return Candidates(key // n, key % n, tuple(report))
