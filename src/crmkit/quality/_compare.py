"""Comparisons: for each candidate pair and field, the level of agreement (exact, close, ..., different).

A comparison turns two columns of values into one small integer per pair:
0 is the strongest agreement (the values are equal), higher levels weaker
ones, the last level "different", and :data:`MISSING` (-1) where either
value is missing (the Fellegi-Sunter model then counts the field as no
evidence either way). String similarities come from rapidfuzz's batch
functions (``process.cpdist``, C++), over all pairs at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from crmkit.errors import MissingDependency, ValidationError
from crmkit.quality._records import Records

__all__ = ["MISSING", "Date", "Exact", "FieldComparison", "Text"]

MISSING = -1


def _rapidfuzz() -> Any:
    try:
        import rapidfuzz
    except ImportError:
        raise MissingDependency(
            'duplicate detection needs rapidfuzz: pip install "crmkit[quality]"'
        ) from None
    return rapidfuzz


def _pair_codes(
    records: Records, column: str, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes of both sides, the distinct values, and the positions where both are present."""
    codes, values = records.codes(column)
    a, b = codes[left], codes[right]
    return a, b, values, np.flatnonzero((a >= 0) & (b >= 0))


def _recode(values: np.ndarray, into: np.ndarray) -> np.ndarray:
    """The code of each of ``values`` among the sorted ``into`` (-2 where it is not there)."""
    if into.size == 0:
        return np.full(values.size, -2, dtype=np.int64)
    where = np.minimum(np.searchsorted(into, values), into.size - 1)
    return np.where(into[where] == values, where, -2)


def _per_distinct_pair(
    a: np.ndarray, b: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (a, b) code pairs and each row's index into them (a score per pair, not per row)."""
    keys, inverse = np.unique(a * size + b, return_inverse=True)
    return keys // size, keys % size, inverse.ravel()


class FieldComparison:
    """Base of the comparisons: a column, its level labels and the levels of pairs."""

    column: str
    term_frequencies: bool

    @property
    def labels(self) -> tuple[str, ...]:
        """The levels' names, strongest agreement first, "different" last."""
        raise NotImplementedError

    def levels(self, records: Records, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """The level of each pair of records at positions ``left``, ``right`` (``int8``;
        :data:`MISSING` where either value is missing)."""
        raise NotImplementedError


def whole_number(value: object, name: str) -> int:
    """A whole number from 1 to 100,000 (days, edit distances)."""
    from crmkit._args import whole

    return whole(value, name, 1, 100_000)


@attrs.frozen(init=False)
class Exact(FieldComparison):
    """Equal or not: for keys such as an e-mail address, a phone number, a postcode.

    With ``term_frequencies=True`` agreement on a rare value counts more than
    on a common one (Winkler's frequency adjustment).
    """

    column: str
    term_frequencies: bool = False

    def __init__(self, column: str, *, term_frequencies: bool = False) -> None:
        from crmkit._args import instance, text

        self.__attrs_init__(
            text(column, "column"), instance(term_frequencies, bool, "term_frequencies")
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return ("exact", "different")

    def levels(self, records: Records, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        a, b, _, both = _pair_codes(records, self.column, left, right)
        out = np.full(a.size, MISSING, dtype=np.int8)
        out[both] = np.where(a[both] == b[both], 0, 1)
        return out


@attrs.frozen(init=False)
class Text(FieldComparison):
    """Equal, then similar by steps, then different: for names, streets, cities.

    ``metric="jaro_winkler"`` with ``thresholds`` of similarity (default 0.92
    and 0.80: Winkler's scale, where transposed or mistyped letters of a
    name score above 0.9), or ``metric="levenshtein"`` with maximum edit
    distances (say ``(1, 2)``). ``swap="last_name"`` adds a level for first
    and last names exchanged (this column equals the other record's
    ``last_name`` and the other way round).
    """

    column: str
    thresholds: tuple[float, ...]
    metric: str
    swap: str | None
    term_frequencies: bool

    def __init__(
        self,
        column: str,
        *,
        thresholds: Sequence[float] = (0.92, 0.80),
        metric: str = "jaro_winkler",
        swap: str | None = None,
        term_frequencies: bool = False,
    ) -> None:
        from crmkit._args import choice, instance, items, number, text

        metric = choice(metric, "metric", ("jaro_winkler", "levenshtein"))
        if metric == "jaro_winkler":
            steps = tuple(
                number(t, f"thresholds[{i}]", 0, 1)
                for i, t in enumerate(items(thresholds, "thresholds"))
            )
        else:
            steps = tuple(
                float(whole_number(t, f"thresholds[{i}]"))
                for i, t in enumerate(items(thresholds, "thresholds"))
            )
        ordered = sorted(steps, reverse=metric == "jaro_winkler")
        if not steps or ordered != list(steps) or len(set(steps)) != len(steps):
            raise ValidationError(
                [
                    (
                        "thresholds",
                        "must run from the strongest agreement to the weakest, without repeats",
                    )
                ]
            )
        self.__attrs_init__(
            text(column, "column"),
            steps,
            metric,
            None if swap is None else text(swap, "swap"),
            instance(term_frequencies, bool, "term_frequencies"),
        )

    @property
    def labels(self) -> tuple[str, ...]:
        sign = ">=" if self.metric == "jaro_winkler" else "<="
        steps = tuple(f"{self.metric} {sign} {t:g}" for t in self.thresholds)
        swapped = (f"swapped with {self.swap}",) if self.swap else ()
        return ("exact", *swapped, *steps, "different")

    def levels(self, records: Records, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        rf = _rapidfuzz()
        a, b, values, both = _pair_codes(records, self.column, left, right)
        out = np.full(a.size, MISSING, dtype=np.int8)
        equal = a[both] == b[both]
        out[both[equal]] = 0
        shift = 0
        if self.swap is not None:  # first and last names exchanged: each equals the other's
            other, other_values = records.codes(self.swap)
            as_mine = np.where(other >= 0, _recode(other_values, values)[other], -2)
            crossed = (a[both] == as_mine[right][both]) & (as_mine[left][both] == b[both]) & ~equal
            out[both[crossed]] = 1
            equal |= crossed
            shift = 1
        rest = both[~equal]
        if rest.size:
            ua, ub, inverse = _per_distinct_pair(a[rest], b[rest], values.size)
            x, y = values[ua].tolist(), values[ub].tolist()
            if self.metric == "jaro_winkler":
                score = rf.process.cpdist(
                    x, y, scorer=rf.distance.JaroWinkler.normalized_similarity
                )
                passed = [score >= t for t in self.thresholds]
            else:
                score = rf.process.cpdist(x, y, scorer=rf.distance.Levenshtein.distance)
                passed = [score <= t for t in self.thresholds]
            level = np.full(ua.size, len(self.thresholds) + 1 + shift, dtype=np.int8)
            for i in range(len(self.thresholds) - 1, -1, -1):  # strongest last, so it wins
                level[passed[i]] = i + 1 + shift
            out[rest] = level[inverse]
        return out


@attrs.frozen(init=False)
class Date(FieldComparison):
    """Equal, then within ``days`` by steps, then different; dates as ISO text (``YYYY-MM-DD``).

    ``swapped=True`` adds a level for day and month swapped (``2001-03-04``
    against ``2001-04-03``), a common keying error.
    """

    column: str
    days: tuple[int, ...]
    swapped: bool
    term_frequencies: bool

    def __init__(
        self,
        column: str,
        *,
        days: Sequence[int] = (31, 366),
        swapped: bool = True,
        term_frequencies: bool = False,
    ) -> None:
        from crmkit._args import instance, items, text

        steps = tuple(whole_number(d, f"days[{i}]") for i, d in enumerate(items(days, "days")))
        if not steps or list(steps) != sorted(set(steps)):
            raise ValidationError([("days", "must be increasing numbers of days, at least one")])
        self.__attrs_init__(
            text(column, "column"),
            steps,
            instance(swapped, bool, "swapped"),
            instance(term_frequencies, bool, "term_frequencies"),
        )

    @property
    def labels(self) -> tuple[str, ...]:
        swapped = ("day and month swapped",) if self.swapped else ()
        return ("exact", *swapped, *(f"within {d} days" for d in self.days), "different")

    def levels(self, records: Records, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        a, b, values, both = _pair_codes(records, self.column, left, right)
        out = np.full(a.size, MISSING, dtype=np.int8)
        if both.size == 0:
            return out
        dates = _dates(values, self.column)
        gap = np.abs((dates[a[both]] - dates[b[both]]).astype(np.int64))
        level = np.full(both.size, len(self.labels) - 1, dtype=np.int8)
        first = 1 + int(self.swapped)
        for i in range(len(self.days) - 1, -1, -1):
            level[gap <= self.days[i]] = first + i
        if self.swapped:
            close = np.flatnonzero((gap > 0) & (gap <= 366))  # a swap moves a date by under a year
            if close.size:
                ua, ub, inverse = _per_distinct_pair(a[both][close], b[both][close], values.size)
                level[close[_swapped(values[ua], values[ub])[inverse]]] = 1
        level[gap == 0] = 0
        out[both] = level
        return out


def _dates(values: np.ndarray, column: str) -> np.ndarray:
    try:
        return values.astype("datetime64[D]")
    except ValueError:
        raise ValidationError(
            [
                (
                    column,
                    "must hold ISO dates (YYYY-MM-DD): standardise(..., dates=[...]) reads others",
                )
            ]
        ) from None


def _swapped(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether ``YYYY-MM-DD`` texts share the year and have day and month swapped."""
    a = left.astype("U10").view("U1").reshape(-1, 10)  # one character per cell
    b = right.astype("U10").view("U1").reshape(-1, 10)
    same_year = np.all(a[:, :4] == b[:, :4], axis=1)
    crossed = np.all(a[:, 5:7] == b[:, 8:10], axis=1) & np.all(a[:, 8:10] == b[:, 5:7], axis=1)
    swapped: np.ndarray = same_year & crossed
    return swapped
