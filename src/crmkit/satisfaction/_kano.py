"""Kano's model (Kano et al. 1984) with Berger et al.'s (1993) satisfaction coefficients."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._args import texts
from crmkit._text import shown
from crmkit._validation import as_numbers, as_scale
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["CATEGORIES", "KanoFeature", "KanoResult", "kano", "kano_category"]

#: Category letters and names, in the order of the counts.
CATEGORIES = {
    "A": "attractive",
    "O": "one-dimensional",
    "M": "must-be",
    "I": "indifferent",
    "R": "reverse",
    "Q": "questionable",
}
_LETTERS = np.array(list(CATEGORIES))

# The Kano evaluation table: rows the functional answer, columns the dysfunctional
# answer, both coded 1 = like, 2 = must-be, 3 = neutral, 4 = live-with, 5 = dislike.
_TABLE = np.array(
    [
        ["Q", "A", "A", "A", "O"],
        ["R", "I", "I", "I", "M"],
        ["R", "I", "I", "I", "M"],
        ["R", "I", "I", "I", "M"],
        ["R", "R", "R", "R", "Q"],
    ]
)
_INDEX = {letter: i for i, letter in enumerate(CATEGORIES)}
_TABLE_CODES = np.vectorize(_INDEX.__getitem__)(_TABLE).astype(np.int64)


def kano_category(functional: Any, dysfunctional: Any) -> npt.NDArray[np.str_]:
    """The Kano category letter (A, O, M, I, R, Q) of each pair of answers, by the evaluation table.

    >>> kano_category([1, 2, 5], [5, 5, 1]).tolist()
    ['O', 'M', 'R']
    """
    f, _ = as_scale(functional, "functional", low=1, high=5)
    d, _ = as_scale(dysfunctional, "dysfunctional", low=1, high=5)
    if f.shape != d.shape:
        raise ValidationError(
            [
                (
                    "dysfunctional",
                    f"must have one answer per functional answer ({f.shape[0]}), got {d.shape[0]}",
                )
            ]
        )
    return _LETTERS[_TABLE_CODES[f - 1, d - 1]]  # type: ignore[no-any-return]


@attrs.frozen
class KanoFeature:
    """One feature's Kano classification."""

    feature: str
    n: int
    counts: dict[str, int]
    category: str
    significant: bool
    better: float
    worse: float

    @property
    def shares(self) -> dict[str, float]:
        return {k: v / self.n for k, v in self.counts.items()}

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "shares": self.shares}


@attrs.frozen
class KanoResult:
    """Every feature's classification; ``str()`` is a table."""

    features: tuple[KanoFeature, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"features": [f.to_dict() for f in self.features]}

    def __str__(self) -> str:
        lines = [
            "feature                A    O    M    I    R    Q   category          better  worse"
        ]
        for f in self.features:
            c = f.counts
            mark = "" if f.significant else " (tie)"
            lines.append(
                f"{f.feature[:20]:<20} "
                + " ".join(f"{c[k]:>4}" for k in CATEGORIES)
                + f"   {CATEGORIES[f.category] + mark:<17} {f.better:6.2f} {f.worse:6.2f}"
            )
        return "\n".join(lines)


def _fong(first: int, second: int, n: int, z: float = 1.65) -> bool:
    """Fong's (1996) test: is the most frequent category significantly ahead of the second?"""
    return abs(first - second) >= z * math.sqrt(
        (first + second) * (2 * n - first - second) / (2 * n)
    )


def kano(
    functional: Any, dysfunctional: Any, *, features: Sequence[str] | None = None
) -> KanoResult:
    """Classify features from the functional / dysfunctional question pairs of a Kano survey.

    ``functional`` and ``dysfunctional`` are respondents x features arrays
    (or one column for a single feature) of answers coded 1 = like,
    2 = must-be, 3 = neutral, 4 = live-with, 5 = dislike. For each feature:
    the count of each category, the dominant category (ties broken by the
    order M > O > A > I > R > Q, the usual priority when categories tie), whether it
    is significantly ahead of the runner-up by Fong's (1996) test at z = 1.65,
    and Berger et al.'s (1993) coefficients Better = (A + O) / (A + O + M + I)
    and Worse = -(O + M) / (A + O + M + I).

    >>> r = kano([[1], [1], [2], [1]], [[5], [3], [5], [5]], features=["dark mode"])
    >>> f = r.features[0]
    >>> f.counts["O"], f.category, f.better, f.worse
    (2, 'O', 0.75, -0.75)
    """
    f_arr = as_numbers(functional, "functional")
    d_arr = as_numbers(dysfunctional, "dysfunctional")
    if f_arr.ndim == 1:
        f_arr, d_arr = f_arr[:, None], d_arr.reshape(-1, 1) if d_arr.ndim == 1 else d_arr
    if f_arr.ndim != 2 or f_arr.shape != d_arr.shape:
        raise ValidationError(
            [
                (
                    "dysfunctional",
                    f"must have the shape of functional {f_arr.shape}, got {d_arr.shape}",
                )
            ]
        )
    n, k = f_arr.shape
    names = (
        list(texts(features, "features"))
        if features is not None
        else [f"feature {i + 1}" for i in range(k)]
    )
    if len(names) != k:
        raise ValidationError(
            [("features", f"must name the {k} feature columns, got {len(names)} names")]
        )
    fv, _ = as_scale(f_arr.ravel(), "functional", low=1, high=5)
    dv, _ = as_scale(d_arr.ravel(), "dysfunctional", low=1, high=5)
    codes = _TABLE_CODES[fv - 1, dv - 1].reshape(n, k)
    # counts[f, c]: respondents putting feature f in category c (no loop over respondents).
    counts = np.zeros((k, len(CATEGORIES)), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(k), (n, k)), codes), 1)
    priority = [_INDEX[c] for c in "MOAIRQ"]
    out = []
    for j, name in enumerate(names):  # a loop over features (a few dozen), not respondents
        row = counts[j]
        a, o, m, i = (int(row[_INDEX[c]]) for c in "AOMI")
        base = a + o + m + i
        if base == 0:
            raise InsufficientData(
                f"feature {shown(name)}: every answer is reverse or questionable"
            )
        ranked = sorted(priority, key=lambda c: -row[c])
        out.append(
            KanoFeature(
                feature=str(name),
                n=n,
                counts={letter: int(row[idx]) for letter, idx in _INDEX.items()},
                category=str(_LETTERS[ranked[0]]),
                significant=_fong(int(row[ranked[0]]), int(row[ranked[1]]), n),
                better=(a + o) / base,
                worse=-(o + m) / base,
            )
        )
    return KanoResult(tuple(out))
