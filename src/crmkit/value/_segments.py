"""RFM scores and named segments; value concentration (the Pareto 80/20 rule, Lorenz curve, Gini).

RFM scoring (Hughes 1994, *Strategic Database Marketing*): customers get an
n-tile score (1 = worst, ``bins`` = best) for recency (time since the last
purchase: shorter is better), frequency and monetary value. Ties share a
score: a customer's score is ``1 + floor(bins * (r - 1) / n)`` with ``r`` the
lowest rank of its value (ranks from 1 for the worst value), so equal
values are never split across scores and the top score goes to the best
values (bins can be uneven when many customers tie, as with frequency 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._numeric import dot
from crmkit._text import shown
from crmkit.errors import DefinitionError, InsufficientData, ValidationError

__all__ = [
    "DEFAULT_RFM_RULES",
    "Concentration",
    "RfmScores",
    "concentration",
    "rfm_scores",
]

Array = npt.NDArray[np.float64]

#: The segment rule table: (segment, recency scores, FM scores), first match wins, on scores
#: mapped to 1-5. FM is the mean of the frequency and monetary scores, rounded half up.
DEFAULT_RFM_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("champions", (4, 5), (4, 5)),
    ("loyal", (3, 3), (4, 5)),
    ("cannot lose them", (1, 1), (4, 5)),
    ("at risk", (2, 2), (3, 5)),
    ("potential loyalist", (4, 5), (2, 3)),
    ("new", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("need attention", (3, 3), (3, 3)),
    ("about to sleep", (3, 3), (1, 2)),
    ("hibernating", (2, 2), (1, 2)),
    ("lost", (1, 1), (1, 3)),
)


def _check_rules(
    rules: Sequence[tuple[str, tuple[int, int], tuple[int, int]]],
) -> npt.NDArray[np.intp]:
    """A 5 x 5 lookup (R, FM) -> rule index; every cell must be covered."""
    table = np.full((5, 5), -1, dtype=np.intp)
    for i, rule in enumerate(rules):
        try:
            name, (r_lo, r_hi), (f_lo, f_hi) = rule
        except (TypeError, ValueError):
            raise DefinitionError(
                f"rule {i} must be (name, (r_low, r_high), (fm_low, fm_high))"
            ) from None
        for lo, hi in ((r_lo, r_hi), (f_lo, f_hi)):
            if not (1 <= lo <= hi <= 5):
                raise DefinitionError(
                    f"rule {i} ({shown(name)}): score ranges must lie in 1-5, got {lo}-{hi}"
                )
        block = table[r_lo - 1 : r_hi, f_lo - 1 : f_hi]
        block[block < 0] = i
    holes = np.argwhere(table < 0)
    if holes.size:
        r, f = holes[0] + 1
        raise DefinitionError(
            f"the rules leave R = {r}, FM = {f} (and maybe more) without a segment"
        )
    return table


@attrs.frozen(eq=False)
class RfmScores:
    """Per customer: ``recency_score``, ``frequency_score``, ``monetary_score``, ``segment``."""

    customer_id: npt.NDArray[Any]
    recency_score: npt.NDArray[np.int64]
    frequency_score: npt.NDArray[np.int64]
    monetary_score: npt.NDArray[np.int64]
    segment: npt.NDArray[np.str_]
    bins: int

    @property
    def code(self) -> npt.NDArray[np.str_]:
        """The classic three-digit RFM cell, e.g. '545'."""
        return np.char.add(
            np.char.add(self.recency_score.astype(str), self.frequency_score.astype(str)),
            self.monetary_score.astype(str),
        )

    def segment_sizes(self) -> dict[str, int]:
        names, counts = np.unique(self.segment, return_counts=True)
        return dict(
            sorted(zip(names.tolist(), counts.tolist(), strict=True), key=lambda kv: -kv[1])
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "bins": self.bins,
            "customer_id": [str(c) for c in self.customer_id.tolist()],
            "recency_score": self.recency_score.tolist(),
            "frequency_score": self.frequency_score.tolist(),
            "monetary_score": self.monetary_score.tolist(),
            "segment": self.segment.tolist(),
            "segment_sizes": self.segment_sizes(),
        }

    def __str__(self) -> str:
        n = self.segment.shape[0]
        lines = [f"RFM segments of {n:,} customers ({self.bins}-tiles)"]
        for name, count in self.segment_sizes().items():
            lines.append(f"  {name:<20} {count:>8,}  {count / n:6.1%}")
        return "\n".join(lines)


def _ntile(values: Array, bins: int) -> npt.NDArray[np.int64]:
    from scipy.stats import rankdata

    n = values.shape[0]
    rank = rankdata(values, method="min")
    return (1 + np.floor(bins * (rank - 1) / n)).astype(np.int64)


def rfm_scores(
    summary: Any,
    bins: int = 5,
    *,
    rules: Sequence[tuple[str, tuple[int, int], tuple[int, int]]] = DEFAULT_RFM_RULES,
) -> RfmScores:
    """n-tile R, F and M scores and a named segment per customer.

    ``summary`` is an :class:`~crmkit.value.RfmSummary` (or a mapping with
    ``frequency``, ``recency``, ``T``, ``monetary_value``): recency is scored
    on ``T - recency``, the time since the last purchase. Segments follow
    ``rules`` (default :data:`DEFAULT_RFM_RULES`) on scores mapped to 1-5.
    """
    from crmkit._validation import as_finite

    if not (isinstance(bins, int) and 2 <= bins <= 100):
        raise ValidationError([("bins", f"must be an integer from 2 to 100, got {shown(bins)}")])
    table = _check_rules(rules)

    def get(name: str) -> Any:
        if isinstance(summary, dict):
            if name not in summary:
                raise ValidationError([("summary", f"has no {shown(name)} column")])
            return summary[name]
        if not hasattr(summary, name):
            raise ValidationError([("summary", f"has no {shown(name)} column")])
        return getattr(summary, name)

    x = as_finite(get("frequency"), "frequency")
    n = x.shape[0]
    if n == 0:
        raise InsufficientData("no customers to score")
    since = as_finite(get("T"), "T", n) - as_finite(get("recency"), "recency", n)
    m = as_finite(get("monetary_value"), "monetary_value", n)
    ids = (
        get("customer_id")
        if (isinstance(summary, dict) and "customer_id" in summary)
        or hasattr(summary, "customer_id")
        else np.arange(n)
    )
    r_s, f_s, m_s = _ntile(-since, bins), _ntile(x, bins), _ntile(m, bins)
    r5 = np.ceil(5 * r_s / bins).astype(np.intp)
    fm = np.floor((f_s + m_s) / 2 + 0.5)  # mean of F and M, rounded half up
    fm5 = np.ceil(5 * fm / bins).astype(np.intp)
    names = np.array([rule[0] for rule in rules])
    segment = names[table[r5 - 1, fm5 - 1]]
    return RfmScores(np.asarray(ids), r_s, f_s, m_s, segment, bins)


@attrs.frozen(eq=False)
class Concentration:
    """How concentrated value is: top shares, the Lorenz curve, the Gini coefficient.

    ``lorenz`` is (share of customers, share of value) from the smallest
    values up, starting at (0, 0); ``top_shares`` maps a share of customers
    (the largest first) to the share of value they hold; ``customers_for``
    maps a share of value to the smallest share of customers holding it.
    """

    n: int
    total: float
    gini: float
    corrected: bool
    top_shares: dict[float, float]
    customers_for: dict[float, float]
    lorenz: tuple[Array, Array]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "total": self.total,
            "gini": self.gini,
            "corrected": self.corrected,
            "top_shares": {str(k): v for k, v in self.top_shares.items()},
            "customers_for": {str(k): v for k, v in self.customers_for.items()},
        }

    def __str__(self) -> str:
        label = "Gini (small-sample corrected)" if self.corrected else "Gini"
        lines = [f"value concentration over {self.n:,} customers: {label} {self.gini:.3f}"]
        for share, held in self.top_shares.items():
            lines.append(f"  top {share:.0%} of customers hold {held:.1%} of the value")
        for share, needed in self.customers_for.items():
            lines.append(f"  {share:.0%} of the value comes from {needed:.1%} of the customers")
        return "\n".join(lines)


def concentration(
    values: Any,
    *,
    top: Sequence[float] = (0.01, 0.05, 0.1, 0.2, 0.5),
    value_shares: Sequence[float] = (0.5, 0.8),
    corrected: bool = False,
) -> Concentration:
    """The Pareto analysis of customer value: who holds how much of it.

    ``values`` (revenue, margin, CLV per customer) must be finite and >= 0.
    Gini = sum_i (2 i - n - 1) x_(i) / (n sum x) over the values sorted
    ascending, summed as the gaps between neighbours times the pairs each
    separates (every term >= 0, so equal values give exactly 0); ``corrected=True`` multiplies by n / (n - 1), the unbiased
    version for samples. Vectorised: one sort.

    >>> c = concentration([1, 2, 3, 4, 5])
    >>> round(c.gini, 4), round(c.top_shares[0.2], 4)
    (0.2667, 0.3333)
    """
    from crmkit._validation import _positions, as_finite

    x = as_finite(values, "values")
    neg = x < 0
    if neg.any():
        raise ValidationError(
            [
                (
                    "values",
                    f"must be >= 0 for a concentration analysis; positions {_positions(neg)} are negative",
                )
            ]
        )
    n = x.shape[0]
    if n < 2:
        raise InsufficientData(f"a concentration analysis needs at least two customers, got {n}")
    with np.errstate(over="ignore"):
        total = float(x.sum())
    if not np.isfinite(total):
        raise ValidationError([("values", "are too large: their sum overflows (rescale them)")])
    if total == 0:
        raise InsufficientData("all values are zero: there is nothing to concentrate")
    from crmkit._args import items, number

    top = [number(s, f"top[{i}]", 0, 1, open_low=True) for i, s in enumerate(items(top, "top"))]
    value_shares = [
        number(s, f"value_shares[{i}]", 0, 1, open_low=True)
        for i, s in enumerate(items(value_shares, "value_shares"))
    ]
    asc = np.sort(x)
    # sum_{i<j} (x_j - x_i) as each gap between neighbours times the pairs it separates: every
    # term is >= 0, so equal values give exactly 0 (the textbook sum (2i - n - 1) x_i does not).
    k = np.arange(1, n, dtype=float)
    gini = dot(np.diff(asc), k * (n - k)) / (n * total)
    if corrected:
        gini *= n / (n - 1)
    desc_cum = np.cumsum(asc[::-1]) / total
    tops = {float(s): float(desc_cum[max(int(np.ceil(s * n)), 1) - 1]) for s in top}
    needed = {float(p): float((np.searchsorted(desc_cum, p - 1e-12) + 1) / n) for p in value_shares}
    lorenz = (
        np.arange(n + 1) / n,
        np.concatenate(([0.0], np.cumsum(asc) / total)),
    )
    return Concentration(n, total, gini, corrected, tops, needed, lorenz)
