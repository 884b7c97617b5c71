"""The Net Promoter Score (Reichheld 2003) with the intervals studied by Rocks (2016)."""

from __future__ import annotations

import math
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._text import shown
from crmkit._validation import as_array, as_scale, as_weights, check_confidence, factorize
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["NpsComparison", "NpsGroups", "NpsResult", "nps", "nps_by", "nps_compare"]

Method = Literal["adjusted_wald", "wald", "score"]
METHODS = ("adjusted_wald", "wald", "score")

# Answer 0-10 -> 0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10).
_CATEGORY = np.array([0] * 7 + [1] * 2 + [2] * 2, dtype=np.int64)
_CATEGORY_OF_ANSWER = np.stack([c == _CATEGORY for c in range(3)]).astype(float)

# Rocks (2016): add 3 pseudo-observations split 1/4 detractor, 1/2 passive, 1/4 promoter.
_PSEUDO = (0.75, 1.5, 0.75)


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _wald(
    d: Any, o: Any, p: Any, z: float, pseudo: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> tuple[Any, Any, Any]:
    """Estimate, standard error and interval from (pseudo-)counts; vectorised over groups."""
    dd, oo, pp = d + pseudo[0], o + pseudo[1], p + pseudo[2]
    n = dd + oo + pp
    share_p, share_d = pp / n, dd / n
    est = share_p - share_d
    se = np.sqrt(np.maximum(share_p + share_d - est**2, 0.0) / n)
    return est, se, (np.maximum(est - z * se, -1.0), np.minimum(est + z * se, 1.0))


def _constrained_detractor_share(d: float, o: float, p: float, theta: float) -> float:
    """MLE of the detractor share under promoters - detractors = ``theta`` (a quadratic's root)."""
    n = d + o + p
    b = p * (1 - theta) + d * (1 - 3 * theta) - 2 * o * theta
    c = d * theta * (1 - theta)
    q = (b + math.sqrt(max(b * b + 8 * n * c, 0.0))) / (4 * n)
    return min(max(q, max(0.0, -theta)), (1 - theta) / 2)


def _score_interval(d: float, o: float, p: float, z: float) -> tuple[float, float]:
    """Rocks (2016) iterative score interval: the thetas whose score test is not rejected."""
    from scipy.optimize import brentq

    n = d + o + p
    est = (p - d) / n

    def excess(theta: float) -> float:
        q = _constrained_detractor_share(d, o, p, theta)
        var = (q + theta) + q - theta**2
        if var <= 0:
            return math.inf
        return (est - theta) ** 2 / (var / n) - z * z

    eps = 1e-12
    lower = -1.0 if excess(-1 + eps) <= 0 or est <= -1 + eps else brentq(excess, -1 + eps, est)
    upper = 1.0 if excess(1 - eps) <= 0 or est >= 1 - eps else brentq(excess, est, 1 - eps)
    return float(lower), float(upper)


@attrs.frozen
class NpsResult:
    """An NPS with the figures a paper would report (``score`` on -100..100; interval bounds too)."""

    score: float
    standard_error: float
    interval: tuple[float, float]
    confidence: float
    method: str
    n: int
    effective_n: float
    detractors: float
    passives: float
    promoters: float

    @property
    def shares(self) -> tuple[float, float, float]:
        """Shares of detractors, passives and promoters."""
        total = self.detractors + self.passives + self.promoters
        return (self.detractors / total, self.passives / total, self.promoters / total)

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "shares": list(self.shares), "interval": list(self.interval)}

    def __str__(self) -> str:
        lo, hi = self.interval
        d, o, p = self.shares
        return (
            f"NPS {self.score:+.1f} (SE {self.standard_error:.1f}; {self.confidence:.0%} {self.method} "
            f"interval {lo:+.1f} to {hi:+.1f}); n = {self.n:,}: promoters {p:.1%}, passives {o:.1%}, "
            f"detractors {d:.1%}"
        )


def _answers(scores: Any, item: str) -> Any:
    """The answers to ``item`` when ``scores`` holds SurveyResponse entities; else ``scores``."""
    if isinstance(scores, (list, tuple)) and scores:
        from crmkit.entities import SurveyResponse

        if isinstance(scores[0], SurveyResponse):
            out = []
            for i, r in enumerate(scores):
                if not isinstance(r, SurveyResponse):
                    raise ValidationError(
                        [
                            (
                                f"scores[{i}]",
                                f"must be a SurveyResponse like the others, got {type(r).__name__}",
                            )
                        ]
                    )
                value = r.answers.get(item)
                out.append(float("nan") if value is None else value)
            return out
    return scores


def _fast_counts(scores: Any) -> npt.NDArray[np.int64] | None:
    """Answer counts 0-10 of an integer array in one pass, or None to take the checking path."""
    arr = scores.to_numpy() if hasattr(scores, "to_numpy") else scores
    if (
        not isinstance(arr, np.ndarray)
        or arr.ndim != 1
        or arr.dtype.kind not in "iu"
        or arr.size == 0
    ):
        return None
    try:
        counts = np.bincount(arr, minlength=11)
    except (TypeError, ValueError):  # a negative answer or an odd dtype: let the checks speak
        return None
    return counts if counts.shape[0] == 11 else None


def _categories(
    scores: Any, weights: Any, nan_policy: Any
) -> tuple[npt.NDArray[np.float64], int, float, npt.NDArray[np.bool_]]:
    if weights is None:
        fast = _fast_counts(scores)
        if fast is not None:  # integers 0-10, counted and checked in one pass
            n = int(fast.sum())
            return _CATEGORY_OF_ANSWER @ fast.astype(float), n, float(n), np.ones(n, dtype=bool)
    values, keep = as_scale(scores, "scores", low=0, high=10, nan_policy=nan_policy)
    w = (
        as_weights(weights, "weights", keep.shape[0])[keep]
        if weights is not None
        else np.ones(values.shape[0])
    )
    if weights is None:
        counts = _CATEGORY_OF_ANSWER @ np.bincount(values, minlength=11).astype(float)
    else:
        counts = np.bincount(_CATEGORY[values], weights=w, minlength=3)
    # Kish's effective sample size is scale-free: computed on w / max(w), so weights of any
    # size (1e200) neither overflow nor underflow.
    u = w / w.max()
    n_eff = float(u.sum() ** 2 / (u**2).sum())
    return counts, int(values.shape[0]), n_eff, keep


def nps(
    scores: Any,
    *,
    weights: Any = None,
    confidence: float = 0.95,
    method: Method = "adjusted_wald",
    nan_policy: Literal["raise", "omit"] = "raise",
    item: str = "nps",
) -> NpsResult:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) minus % detractors (0-6).

    The standard error comes from the trinomial variance,
    ``Var = p_P + p_D - (p_P - p_D)^2``, divided by ``n`` (Rocks 2016, eq. 2).
    Intervals (``method``):

    * ``"adjusted_wald"`` (default): the Wald interval after adding three
      pseudo-observations, 3/4 detractor, 3/2 passive, 3/4 promoter. Rocks
      (2016) found it close to nominal coverage even for small samples and
      extreme shares, and it is in closed form (so ``nps_by`` stays vectorised);
    * ``"wald"``: estimate +- z * SE; poor for small n or shares near 0 or 1;
    * ``"score"``: the iterative score interval (inverting the score test with
      the constrained maximum-likelihood variance).

    ``weights`` give a weighted NPS; its standard error uses Kish's effective
    sample size ``(sum w)^2 / sum w^2``.

    ``scores`` may also be :class:`~crmkit.entities.SurveyResponse` entities:
    their answer to ``item`` is read (a response without it counts as missing).

    >>> r = nps([0, 7, 8, 9, 10, 10])  # 1 detractor, 2 passives, 3 promoters
    >>> round(r.score, 1), round(r.standard_error / 100, 3), r.n
    (33.3, 0.304, 6)
    >>> print(nps([9] * 50 + [7] * 20 + [3] * 30, method="wald"))
    NPS +20.0 (SE 8.7; 95% wald interval +2.9 to +37.1); n = 100: promoters 50.0%, passives 20.0%, detractors 30.0%
    """
    conf = check_confidence(confidence)
    if method not in METHODS:
        raise ValidationError(
            [("method", f"must be one of {', '.join(METHODS)}, got {shown(method)}")]
        )
    counts, n, n_eff, _ = _categories(_answers(scores, item), weights, nan_policy)
    d, o, p = (float(c) for c in counts)
    total = d + o + p
    # Scale the (weighted) counts to the effective sample size for the variance.
    scale = n_eff / total
    ds, os_, ps = d * scale, o * scale, p * scale
    z = _z(conf)
    est, se, (lo, hi) = _wald(ds, os_, ps, z)
    if method == "adjusted_wald":
        _, _, (lo, hi) = _wald(ds, os_, ps, z, _PSEUDO)
    elif method == "score":
        lo, hi = _score_interval(ds, os_, ps, z)
    return NpsResult(
        score=100 * float(est),
        standard_error=100 * float(se),
        interval=(100 * float(lo), 100 * float(hi)),
        confidence=conf,
        method=method,
        n=n,
        effective_n=n_eff,
        detractors=d,
        passives=o,
        promoters=p,
    )


@attrs.frozen
class NpsComparison:
    """The difference ``a - b`` of two independent NPS, with its standard error, interval and p-value."""

    difference: float
    standard_error: float
    interval: tuple[float, float]
    p_value: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "interval": list(self.interval)}

    def __str__(self) -> str:
        lo, hi = self.interval
        return (
            f"NPS difference {self.difference:+.1f} (SE {self.standard_error:.1f}; "
            f"{self.confidence:.0%} interval {lo:+.1f} to {hi:+.1f}; p = {self.p_value:.3g})"
        )


def nps_compare(a: NpsResult, b: NpsResult) -> NpsComparison:
    """Compare two NPS from independent samples: ``a - b``, Wald interval and two-sided p-value."""
    from scipy.stats import norm

    for name, r in (("a", a), ("b", b)):
        if not isinstance(r, NpsResult):
            raise ValidationError(
                [(name, f"must be an NpsResult from nps(), got {type(r).__name__}")]
            )
    if a.confidence != b.confidence:
        raise ValidationError([("b", f"has confidence {b.confidence}, a has {a.confidence}")])
    diff = a.score - b.score
    se = math.hypot(a.standard_error, b.standard_error)
    z = _z(a.confidence)
    if se == 0:
        raise InsufficientData(
            "both NPS have a zero standard error: the difference cannot be tested"
        )
    p_value = float(2 * norm.sf(abs(diff) / se))
    return NpsComparison(diff, se, (diff - z * se, diff + z * se), p_value, a.confidence)


@attrs.frozen(eq=False)
class NpsGroups:
    """NPS per group (segment or period), in the groups' sorted order; arrays on -100..100."""

    groups: npt.NDArray[Any]
    n: npt.NDArray[np.int64]
    score: npt.NDArray[np.float64]
    standard_error: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": self.groups.tolist(),
            "n": self.n.tolist(),
            "score": self.score.tolist(),
            "standard_error": self.standard_error.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "confidence": self.confidence,
        }

    def __str__(self) -> str:
        lines = ["group                     n      NPS   interval"]
        for i, g in enumerate(self.groups):
            lines.append(
                f"{g!s:<20} {self.n[i]:>6,} {self.score[i]:>+8.1f}   {self.lower[i]:+.1f} to {self.upper[i]:+.1f}"
            )
        return "\n".join(lines)


def nps_by(
    scores: Any,
    groups: Any,
    *,
    confidence: float = 0.95,
    nan_policy: Literal["raise", "omit"] = "raise",
) -> NpsGroups:
    """NPS per group (a segment, or a period for a trend), vectorised: no loop over groups.

    Intervals are adjusted Wald (see :func:`nps`).

    >>> g = nps_by([10, 9, 3, 8, 10, 0], ["a", "a", "a", "b", "b", "b"])
    >>> g.groups.tolist(), g.score.round(1).tolist()
    (['a', 'b'], [33.3, 0.0])
    """
    conf = check_confidence(confidence)
    values, keep = as_scale(scores, "scores", low=0, high=10, nan_policy=nan_policy)
    labels = as_array(groups, "groups")
    if labels.shape[0] != keep.shape[0]:
        raise ValidationError(
            [("groups", f"must have one label per answer ({keep.shape[0]}), got {labels.shape[0]}")]
        )
    names, inverse = factorize(labels if keep.all() else labels[keep])
    category = _CATEGORY[values]
    k = names.shape[0]
    counts = np.bincount(inverse * 3 + category, minlength=3 * k).reshape(k, 3).astype(float)
    d, o, p = counts[:, 0], counts[:, 1], counts[:, 2]
    z = _z(conf)
    est, se, _ = _wald(d, o, p, z)
    _, _, (lo, hi) = _wald(d, o, p, z, _PSEUDO)
    return NpsGroups(
        groups=names,
        n=(d + o + p).astype(np.int64),
        score=100 * est,
        standard_error=100 * se,
        lower=100 * lo,
        upper=100 * hi,
        confidence=conf,
    )
