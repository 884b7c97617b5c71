"""CSAT, CES and Cronbach's alpha."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._args import int_pair, items
from crmkit._text import shown
from crmkit._validation import as_numbers, as_scale, check_confidence
from crmkit.errors import InsufficientData, ValidationError

__all__ = [
    "Disconfirmation",
    "RatingSummary",
    "Reliability",
    "ces",
    "cronbach_alpha",
    "csat",
    "disconfirmation",
]


@attrs.frozen
class RatingSummary:
    """A rating scale summarised: the share in the top box(es) with a Wilson interval, and the mean."""

    measure: str
    scale: tuple[int, int]
    top: tuple[int, ...]
    n: int
    share: float
    share_interval: tuple[float, float]
    mean: float
    mean_interval: tuple[float, float]
    standard_deviation: float
    distribution: dict[int, int]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["distribution"] = {str(k): v for k, v in self.distribution.items()}
        return out

    def __str__(self) -> str:
        lo, hi = self.share_interval
        mlo, mhi = self.mean_interval
        return (
            f"{self.measure} {self.share:.1%} answered {'/'.join(map(str, self.top))} "
            f"({self.confidence:.0%} interval {lo:.1%} to {hi:.1%}); mean {self.mean:.2f} "
            f"({mlo:.2f} to {mhi:.2f}) on {self.scale[0]}-{self.scale[1]}; n = {self.n:,}"
        )


def _summary(
    measure: str,
    ratings: Any,
    scale: tuple[int, int],
    top: tuple[int, ...],
    confidence: float,
    nan_policy: Any,
) -> RatingSummary:
    from scipy.stats import binomtest
    from scipy.stats import t as student_t

    conf = check_confidence(confidence)
    low, high = int_pair(scale, "scale")
    top = tuple(items(top, "satisfied"))
    if not top or any(type(v) is not int or not low <= v <= high for v in top):
        raise ValidationError(
            [("satisfied", f"must be answers within {low}-{high}, got {shown(top)}")]
        )
    values, _ = as_scale(ratings, "ratings", low=low, high=high, nan_policy=nan_policy)
    n = int(values.shape[0])
    counts = np.bincount(values - low, minlength=high - low + 1)
    k = int(counts[np.asarray(sorted(set(top))) - low].sum())
    ci = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    mean = float(values.mean())
    if n > 1:
        sd = float(values.std(ddof=1))
        half = float(student_t.ppf(0.5 + conf / 2, n - 1)) * sd / np.sqrt(n)
    else:
        sd, half = 0.0, float("inf")
    return RatingSummary(
        measure=measure,
        scale=(low, high),
        top=tuple(sorted(set(top))),
        n=n,
        share=k / n,
        share_interval=(float(ci.low), float(ci.high)),
        mean=mean,
        mean_interval=(max(mean - half, low), min(mean + half, high)),
        standard_deviation=sd,
        distribution={low + i: int(c) for i, c in enumerate(counts)},
        confidence=conf,
    )


def csat(
    ratings: Any,
    *,
    scale: tuple[int, int] = (1, 5),
    satisfied: tuple[int, ...] = (4, 5),
    confidence: float = 0.95,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> RatingSummary:
    """Customer satisfaction: the share of satisfied answers (top-2-box by default) and the mean.

    The share's interval is Wilson's score interval (``scipy.stats.binomtest``),
    which stays inside 0-1 and behaves for small n; the mean's is Student's t.

    >>> r = csat([5, 4, 4, 3, 1, 5, 5, 2, 4, 5])
    >>> r.share, r.mean
    (0.7, 3.8)
    """
    return _summary("CSAT", ratings, scale, satisfied, confidence, nan_policy)


def ces(
    ratings: Any,
    *,
    scale: tuple[int, int] = (1, 7),
    easy: tuple[int, ...] = (5, 6, 7),
    confidence: float = 0.95,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> RatingSummary:
    """Customer effort score on the 1-7 agreement scale of CES 2.0 ("the company made it easy ...").

    Reports the mean and the share agreeing (5-7 by default), as :func:`csat` does.
    """
    return _summary("CES", ratings, scale, easy, confidence, nan_policy)


@attrs.frozen(eq=False)
class Reliability:
    """Cronbach's alpha of a set of items, with its Feldt interval and item statistics."""

    alpha: float
    kind: str
    interval: tuple[float, float]
    confidence: float
    n: int
    items: int
    item_total_correlation: npt.NDArray[np.float64]
    alpha_if_deleted: npt.NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "kind": self.kind,
            "interval": list(self.interval),
            "confidence": self.confidence,
            "n": self.n,
            "items": self.items,
            "item_total_correlation": self.item_total_correlation.tolist(),
            "alpha_if_deleted": self.alpha_if_deleted.tolist(),
        }

    def __str__(self) -> str:
        lo, hi = self.interval
        return (
            f"Cronbach's alpha ({self.kind}) {self.alpha:.3f}, {self.confidence:.0%} interval {lo:.3f} to {hi:.3f}; "
            f"{self.items} items, n = {self.n:,}"
        )


def _alpha(cov: npt.NDArray[np.float64], standardized: bool) -> float:
    k = cov.shape[0]
    if standardized:
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        mean_r = (corr.sum() - k) / (k * (k - 1))
        return float(k * mean_r / (1 + (k - 1) * mean_r))
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def cronbach_alpha(
    items: Any, *, standardized: bool = False, confidence: float = 0.95
) -> Reliability:
    """Cronbach's alpha (1951) of the columns of ``items`` (respondents x items).

    Raw alpha ``k/(k-1) * (1 - sum of item variances / variance of the sum)``
    comes from covariances; ``standardized=True`` gives ``k r / (1 + (k-1) r)``
    from the mean inter-item correlation ``r`` (what R's and Python's plspm
    report). The interval is Feldt's (1965): ``(1 - alpha) / (1 - alpha_hat)``
    follows an F distribution with ``n - 1`` and ``(n - 1)(k - 1)`` degrees of
    freedom. Also returned: each item's correlation with the sum of the other
    items, and alpha with the item left out.

    >>> import numpy as np
    >>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]])
    >>> round(cronbach_alpha(x).alpha, 4)
    0.9333
    """
    from scipy.stats import f as fisher_f

    conf = check_confidence(confidence)
    x = as_numbers(items, "items")
    if x.ndim != 2:
        raise ValidationError(
            [("items", f"must be a 2-D array (respondents x items), got shape {x.shape}")]
        )
    n, k = x.shape
    if k < 2:
        raise InsufficientData(f"alpha needs at least two items, got {k}")
    if n < 3:
        raise InsufficientData(f"alpha needs at least three respondents, got {n}")
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            [(f"items[{r}, {c}]", "must be a finite number (drop incomplete respondents first)")]
        )
    cov = np.cov(x, rowvar=False)
    constant = np.flatnonzero(np.diag(cov) == 0)
    if constant.size:
        raise ValidationError(
            [(f"items[:, {int(constant[0])}]", "is constant: it has no variance to relate")]
        )
    alpha = _alpha(cov, standardized)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * fisher_f.ppf(0.5 + conf / 2, df1, df2)
    hi = 1 - (1 - alpha) * fisher_f.ppf(0.5 - conf / 2, df1, df2)
    total = x.sum(axis=1)
    rest = total[:, None] - x
    xc, rc = x - x.mean(axis=0), rest - rest.mean(axis=0)
    item_total = (xc * rc).sum(axis=0) / np.sqrt((xc**2).sum(axis=0) * (rc**2).sum(axis=0))
    if k > 2:
        keep = ~np.eye(k, dtype=bool)
        deleted = np.array([_alpha(cov[np.ix_(keep[i], keep[i])], standardized) for i in range(k)])
    else:
        deleted = np.full(k, np.nan)
    return Reliability(
        alpha=alpha,
        kind="standardized" if standardized else "raw",
        interval=(float(lo), float(hi)),
        confidence=conf,
        n=n,
        items=k,
        item_total_correlation=item_total,
        alpha_if_deleted=deleted,
    )


@attrs.frozen(eq=False)
class Disconfirmation:
    """Expectancy disconfirmation per respondent (perceived - expected) and its summary."""

    difference: npt.NDArray[np.float64]
    sign: npt.NDArray[np.int64]
    positive: int
    zero: int
    negative: int
    mean: float
    mean_interval: tuple[float, float]
    confidence: float

    @property
    def n(self) -> int:
        return self.positive + self.zero + self.negative

    def to_dict(self) -> dict[str, Any]:
        return {
            "difference": self.difference.tolist(),
            "positive": self.positive,
            "zero": self.zero,
            "negative": self.negative,
            "mean": self.mean,
            "mean_interval": list(self.mean_interval),
            "confidence": self.confidence,
        }

    def __str__(self) -> str:
        lo, hi = self.mean_interval
        return (
            f"disconfirmation: {self.positive / self.n:.0%} positive, {self.zero / self.n:.0%} confirmed, "
            f"{self.negative / self.n:.0%} negative; mean {self.mean:+.2f} ({lo:+.2f} to {hi:+.2f}), n = {self.n:,}"
        )


def disconfirmation(
    expected: Any,
    perceived: Any,
    *,
    confidence: float = 0.95,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> Disconfirmation:
    """Expectancy disconfirmation (Oliver 1980): did the experience beat what each respondent expected?

    ``perceived - expected`` per respondent: positive disconfirmation (better
    than expected) raises satisfaction, negative lowers it, zero confirms.
    Returns the differences, their signs, the counts and the mean difference
    with a Student-t interval.

    >>> d = disconfirmation([4, 4, 3, 5], [5, 4, 2, 5])
    >>> d.sign.tolist(), d.positive, d.zero, d.negative, d.mean
    ([1, 0, -1, 0], 1, 2, 1, 0.0)
    """
    from scipy.stats import t as student_t

    conf = check_confidence(confidence)
    e = as_numbers(expected, "expected", ndim=1)
    p = as_numbers(perceived, "perceived", ndim=1)
    if e.shape != p.shape:
        raise ValidationError(
            [
                (
                    "perceived",
                    f"must have one answer per expectation ({e.shape[0]}), got {p.shape[0]}",
                )
            ]
        )
    missing = np.isnan(e) | np.isnan(p)
    if missing.any():
        if nan_policy != "omit":
            first = int(np.flatnonzero(missing)[0])
            raise ValidationError(
                [("expected", f"a pair is missing at position {first}; pass nan_policy='omit'")]
            )
        e, p = e[~missing], p[~missing]
    if e.size < 2:
        raise InsufficientData(f"need at least two complete pairs, got {e.size}")
    if not (np.isfinite(e).all() and np.isfinite(p).all()):
        raise ValidationError([("expected", "must hold finite numbers")])
    with np.errstate(over="ignore", invalid="ignore"):
        diff = p - e
        mean = float(diff.mean())
        spread = float(diff.std())
    if not (np.isfinite(mean) and np.isfinite(spread)):
        raise ValidationError([("expected", "values are too large: the differences overflow")])
    sign = np.sign(diff).astype(np.int64)
    half = (
        float(student_t.ppf(0.5 + conf / 2, diff.size - 1))
        * float(diff.std(ddof=1))
        / np.sqrt(diff.size)
    )
    return Disconfirmation(
        difference=diff,
        sign=sign,
        positive=int((sign > 0).sum()),
        zero=int((sign == 0).sum()),
        negative=int((sign < 0).sum()),
        mean=mean,
        mean_interval=(mean - half, mean + half),
        confidence=conf,
    )
