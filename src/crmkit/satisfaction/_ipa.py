"""Importance-performance analysis (Martilla & James 1977) and penalty-reward analysis (Brandt 1987)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._args import pair, texts
from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["IpaResult", "PenaltyReward", "importance_performance", "penalty_reward"]

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


def _ratings(values: Any, name: str) -> npt.NDArray[np.float64]:
    from crmkit._validation import as_numbers

    x = as_numbers(values, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValidationError(
            [(name, f"must be a 2-D array (respondents x attributes), got shape {x.shape}")]
        )
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            [(f"{name}[{r}, {c}]", "must be a finite number (drop incomplete respondents first)")]
        )
    return x


def _names(names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"attribute {i + 1}" for i in range(k))
    names = texts(names, "attributes")
    if len(names) != k:
        raise ValidationError(
            [("attributes", f"must name the {k} columns, got {len(names)} names")]
        )
    return tuple(str(n) for n in names)


@attrs.frozen(eq=False)
class IpaResult:
    """Each attribute's importance, performance and quadrant (crosshairs at the means)."""

    attributes: tuple[str, ...]
    importance: npt.NDArray[np.float64]
    performance: npt.NDArray[np.float64]
    quadrant: tuple[str, ...]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": list(self.attributes),
            "importance": self.importance.tolist(),
            "performance": self.performance.tolist(),
            "quadrant": list(self.quadrant),
            "method": self.method,
        }

    def __str__(self) -> str:
        lines = [f"attribute              importance ({self.method})  performance   quadrant"]
        for i, a in enumerate(self.attributes):
            lines.append(
                f"{a[:22]:<22} {self.importance[i]:>12.3f}  {self.performance[i]:>11.2f}   {self.quadrant[i]}"
            )
        return "\n".join(lines)


def importance_performance(
    performance: Any,
    *,
    importance: Any = None,
    overall: Any = None,
    method: Literal["stated", "correlation", "regression"] = "stated",
    attributes: Sequence[str] | None = None,
) -> IpaResult:
    """Importance-performance analysis (Martilla & James 1977).

    ``performance`` holds respondents x attributes ratings; an attribute's
    performance is its mean. Importance is ``"stated"`` (the mean of the
    ``importance`` ratings), or derived from ``overall`` satisfaction:
    ``"correlation"`` (each attribute's Pearson correlation with overall) or
    ``"regression"`` (standardized coefficients of overall on all attributes).
    Quadrants are split at the mean importance and mean performance:
    concentrate here (important, performing below the mean), keep up the good
    work, low priority, possible overkill.
    """
    p = _ratings(performance, "performance")
    n, k = p.shape
    names = _names(attributes, k)
    if method == "stated":
        if importance is None:
            raise ValidationError([("importance", "is needed for method='stated'")])
        imp_r = _ratings(importance, "importance")
        if imp_r.shape[1] != k:
            raise ValidationError(
                [("importance", f"must rate the same {k} attributes, got {imp_r.shape[1]}")]
            )
        imp = imp_r.mean(axis=0)
    elif method in ("correlation", "regression"):
        if overall is None:
            raise ValidationError([("overall", f"is needed for method={shown(method)}")])
        y = _ratings(overall, "overall")[:, 0]
        if y.shape[0] != n:
            raise ValidationError(
                [("overall", f"must have one rating per respondent ({n}), got {y.shape[0]}")]
            )
        if n <= k + 1:
            raise InsufficientData(
                f"deriving importance needs more respondents ({n}) than attributes + 1 ({k + 1})"
            )
        sd_p, sd_y = p.std(axis=0, ddof=1), y.std(ddof=1)
        if (sd_p == 0).any() or sd_y == 0:
            raise ValidationError(
                [("performance", "an attribute or overall is constant: importance is undefined")]
            )
        zp, zy = (p - p.mean(axis=0)) / sd_p, (y - y.mean()) / sd_y
        if method == "correlation":
            imp = (zp * zy[:, None]).sum(axis=0) / (n - 1)
        else:
            imp = np.linalg.lstsq(zp, zy, rcond=None)[0]
    else:
        raise ValidationError(
            [("method", f"must be 'stated', 'correlation' or 'regression', got {shown(method)}")]
        )
    perf = p.mean(axis=0)
    quadrant = tuple(
        QUADRANTS[(bool(i >= imp.mean()), bool(q >= perf.mean()))]
        for i, q in zip(imp, perf, strict=True)
    )
    return IpaResult(names, imp, perf, quadrant, method)


@attrs.frozen(eq=False)
class PenaltyReward:
    """Penalty (low rating) and reward (high rating) of each attribute on overall satisfaction."""

    attributes: tuple[str, ...]
    penalty: npt.NDArray[np.float64]
    reward: npt.NDArray[np.float64]
    factor: tuple[str, ...]
    r_squared: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": list(self.attributes),
            "penalty": self.penalty.tolist(),
            "reward": self.reward.tolist(),
            "factor": list(self.factor),
            "r_squared": self.r_squared,
        }

    def __str__(self) -> str:
        return table(
            ("attribute", "penalty", "reward", "factor"),
            zip(
                self.attributes,
                self.penalty.tolist(),
                self.reward.tolist(),
                self.factor,
                strict=True,
            ),
            formats=("", "+.3f", "+.3f", ""),
            title=f"penalty-reward contrast analysis (R2 {self.r_squared:.3f})",
        )


def penalty_reward(
    ratings: Any,
    overall: Any,
    *,
    low: float,
    high: float,
    attributes: Sequence[str] | None = None,
) -> PenaltyReward:
    """Penalty-reward analysis (Brandt 1987): what a low or a high rating of each attribute does to overall.

    Each attribute is dummy-coded: rating <= ``low`` (dissatisfied) and
    rating >= ``high`` (delighted), the middle as the reference. Overall
    satisfaction is regressed on all dummies at once (least squares with an
    intercept). The penalty is the coefficient of the low dummy (usually
    negative), the reward that of the high dummy. Reading of Herzberg's two
    factors: a *basic* factor penalises more than it rewards (|penalty| > 2 x
    reward), an *excitement* factor rewards more than it penalises
    (reward > 2 x |penalty|), a *performance* factor does both.
    """
    x = _ratings(ratings, "ratings")
    y = _ratings(overall, "overall")[:, 0]
    n, k = x.shape
    names = _names(attributes, k)
    if y.shape[0] != n:
        raise ValidationError(
            [("overall", f"must have one rating per respondent ({n}), got {y.shape[0]}")]
        )
    low, high = pair((low, high), "low, high")
    lows, highs = (x <= low).astype(float), (x >= high).astype(float)
    design = np.column_stack([np.ones(n), lows, highs])
    if n <= design.shape[1]:
        raise InsufficientData(
            f"the regression needs more respondents ({n}) than terms ({design.shape[1]})"
        )
    empty = np.flatnonzero(np.concatenate([lows.sum(axis=0), highs.sum(axis=0)]) == 0)
    if empty.size:
        j = int(empty[0])
        which = "low" if j < k else "high"
        raise InsufficientData(
            f"no respondent gave {shown(names[j % k])} a {which} rating: its effect cannot be estimated"
        )
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coef
    r2 = float(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    penalty, reward = coef[1 : k + 1], coef[k + 1 :]
    factor = tuple(
        "basic"
        if abs(p) > 2 * max(r, 0)
        else "excitement"
        if max(r, 0) > 2 * abs(p)
        else "performance"
        for p, r in zip(penalty, reward, strict=True)
    )
    return PenaltyReward(names, penalty, reward, factor, r2)
