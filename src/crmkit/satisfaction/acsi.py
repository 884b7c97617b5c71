"""Satisfaction-index models (ACSI, ECSI, SCSB) as PLS path models, and the published 0-100 index.

* ACSI (Fornell, Johnson, Anderson, Cha & Bryant 1996, Journal of Marketing
  60(4)): expectations -> quality, value, satisfaction; quality -> value,
  satisfaction; value -> satisfaction; satisfaction -> complaints, loyalty;
  complaints -> loyalty.
* ECSI (ECSI Technical Committee 1998; Cassel & Eklof 2001): image ->
  expectations, satisfaction, loyalty; expectations -> quality, value,
  satisfaction; quality -> value, satisfaction; value -> satisfaction;
  satisfaction -> loyalty.
* SCSB (Fornell 1992, Journal of Marketing 56(1)): expectations ->
  performance (perceived value), satisfaction; performance -> satisfaction;
  satisfaction -> complaints (voice), loyalty; complaints -> loyalty.

The index is computed the way the ACSI publishes it (Fornell et al. 1996):
the construct's score with the outer weights of the *unstandardised*
indicators, rescaled to sum to one, so the score lies on the items' own
scale; its mean is mapped to 0-100 as (score - min) / (max - min) x 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from crmkit._args import pair
from crmkit._text import shown
from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction.pls import PathModel, PlsResult, indicator_matrix, resample

__all__ = [
    "DriverPriority",
    "IndexResult",
    "acsi_model",
    "ecsi_model",
    "priorities",
    "satisfaction_index",
    "scsb_model",
]


def _model(blocks: Mapping[str, Sequence[str] | None], paths: list[tuple[str, str]]) -> PathModel:
    from crmkit._args import texts

    blocks = {c: None if v is None else texts(v, c) for c, v in blocks.items()}
    missing = [c for c, items in blocks.items() if not items]
    if missing:
        raise ValidationError([(missing[0], "needs the names of its indicators (questions)")])
    return PathModel({c: tuple(items or ()) for c, items in blocks.items()}, paths)


def acsi_model(
    *,
    expectations: Sequence[str],
    quality: Sequence[str],
    value: Sequence[str],
    satisfaction: Sequence[str],
    complaints: Sequence[str],
    loyalty: Sequence[str],
) -> PathModel:
    """The American Customer Satisfaction Index model (Fornell et al. 1996) on the given indicators."""
    return _model(
        {
            "expectations": expectations,
            "quality": quality,
            "value": value,
            "satisfaction": satisfaction,
            "complaints": complaints,
            "loyalty": loyalty,
        },
        [
            ("expectations", "quality"),
            ("expectations", "value"),
            ("expectations", "satisfaction"),
            ("quality", "value"),
            ("quality", "satisfaction"),
            ("value", "satisfaction"),
            ("satisfaction", "complaints"),
            ("satisfaction", "loyalty"),
            ("complaints", "loyalty"),
        ],
    )


def ecsi_model(
    *,
    image: Sequence[str],
    expectations: Sequence[str],
    quality: Sequence[str],
    value: Sequence[str],
    satisfaction: Sequence[str],
    loyalty: Sequence[str],
) -> PathModel:
    """The European Customer Satisfaction Index model (image added; no complaints construct)."""
    return _model(
        {
            "image": image,
            "expectations": expectations,
            "quality": quality,
            "value": value,
            "satisfaction": satisfaction,
            "loyalty": loyalty,
        },
        [
            ("image", "expectations"),
            ("image", "satisfaction"),
            ("image", "loyalty"),
            ("expectations", "quality"),
            ("expectations", "value"),
            ("expectations", "satisfaction"),
            ("quality", "value"),
            ("quality", "satisfaction"),
            ("value", "satisfaction"),
            ("satisfaction", "loyalty"),
        ],
    )


def scsb_model(
    *,
    expectations: Sequence[str],
    performance: Sequence[str],
    satisfaction: Sequence[str],
    complaints: Sequence[str],
    loyalty: Sequence[str],
) -> PathModel:
    """The Swedish Customer Satisfaction Barometer model (Fornell 1992)."""
    return _model(
        {
            "expectations": expectations,
            "performance": performance,
            "satisfaction": satisfaction,
            "complaints": complaints,
            "loyalty": loyalty,
        },
        [
            ("expectations", "performance"),
            ("expectations", "satisfaction"),
            ("performance", "satisfaction"),
            ("satisfaction", "complaints"),
            ("satisfaction", "loyalty"),
            ("complaints", "loyalty"),
        ],
    )


@attrs.frozen
class IndexResult:
    """A construct's 0-100 index: overall, per group, with bootstrap intervals when asked."""

    construct: str
    scale: tuple[float, float]
    weights: dict[str, float]
    index: float
    groups: dict[str, float]
    n: int
    interval: tuple[float, float] | None = None
    group_intervals: dict[str, tuple[float, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "construct": self.construct,
            "scale": list(self.scale),
            "weights": self.weights,
            "index": self.index,
            "groups": self.groups,
            "n": self.n,
            "interval": None if self.interval is None else list(self.interval),
            "group_intervals": None
            if self.group_intervals is None
            else {k: list(v) for k, v in self.group_intervals.items()},
        }

    def __str__(self) -> str:
        ci = "" if self.interval is None else f" ({self.interval[0]:.1f} to {self.interval[1]:.1f})"
        text = f"{self.construct} index {self.index:.1f}{ci} on 0-100, n = {self.n}"
        for g, v in self.groups.items():
            gci = ""
            if self.group_intervals is not None:
                lo, hi = self.group_intervals[g]
                gci = f" ({lo:.1f} to {hi:.1f})"
            text += f"\n  {g}: {v:.1f}{gci}"
        return text


def _index_weights(result: PlsResult, construct: str, raw: Any) -> np.ndarray:
    items = result.model.blocks[construct]
    w = np.array([result.weights[i] for i in items])
    if result.scaled:
        w = w / raw.std(axis=0, ddof=1)  # weights of the unstandardised indicators
    total = w.sum()
    if total == 0:
        raise ValidationError([("construct", f"the weights of {shown(construct)} add up to zero")])
    return w / total


def _index_values(
    result: PlsResult, construct: str, raw: Any, scale: tuple[float, float], codes: Any, k: int
) -> tuple[float, np.ndarray]:
    w = _index_weights(result, construct, raw)
    score = (raw @ w - scale[0]) / (scale[1] - scale[0]) * 100
    overall = float(score.mean())
    if codes is None:
        return overall, np.empty(0)
    sums = np.bincount(codes, weights=score, minlength=k)
    counts = np.bincount(codes, minlength=k)
    with np.errstate(invalid="ignore"):
        return overall, sums / counts


def satisfaction_index(
    result: PlsResult,
    data: Any,
    *,
    construct: str = "satisfaction",
    scale: tuple[float, float] = (1, 10),
    groups: Any = None,
    bootstrap: int = 0,
    seed: Any = None,
    confidence: float = 0.95,
) -> IndexResult:
    """The ACSI-style 0-100 index of ``construct`` (any construct: a quality index, a loyalty index).

    ``data`` holds the construct's indicators on their original ``scale``
    (min, max of the answers). ``groups`` (one label per respondent) adds an
    index per group, with the weights of the whole sample. ``bootstrap=n``
    refits the model on ``n`` resamples for percentile intervals.
    """
    from crmkit._args import instance
    from crmkit._validation import as_array, check_confidence, factorize

    instance(result, PlsResult, "result")
    if type(construct) is not str or construct not in result.model.blocks:
        raise ValidationError(
            [
                (
                    "construct",
                    f"must be one of {', '.join(result.model.constructs)}, got {shown(construct)}",
                )
            ]
        )
    lo, hi = pair(scale, "scale")
    if not hi > lo:
        raise ValidationError([("scale", f"must be (min, max) with max > min, got {shown(scale)}")])
    items = result.model.blocks[construct]
    raw = indicator_matrix(data, items)
    if raw.shape[0] != result.n:
        raise ValidationError(
            [("data", f"must hold the {result.n} respondents of the fit, got {raw.shape[0]}")]
        )
    outside = (raw < lo) | (raw > hi)
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise ValidationError(
            [(f"{items[c]}[{r}]", f"must be on the scale {lo:g}-{hi:g}, got {raw[r, c]:g}")]
        )
    labels: Any = None
    codes = None
    if groups is not None:
        g = as_array(groups, "groups")
        if g.shape[0] != raw.shape[0]:
            raise ValidationError(
                [("groups", f"must have one label per respondent ({raw.shape[0]})")]
            )
        labels, codes = factorize(g)
    k = 0 if labels is None else len(labels)
    overall, per_group = _index_values(result, construct, raw, (lo, hi), codes, k)
    interval = None
    group_intervals = None
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ValidationError(
            [("bootstrap", f"must be a whole number of resamples >= 0, got {shown(bootstrap)}")]
        )
    if bootstrap:
        conf = check_confidence(confidence)
        draws, group_draws = [], []
        for rows, fit in resample(result, int(bootstrap), seed=seed):
            if fit is None:
                continue  # a resample that cannot be fitted is skipped
            o, pg = _index_values(
                fit, construct, raw[rows], (lo, hi), None if codes is None else codes[rows], k
            )
            draws.append(o)
            group_draws.append(pg)
        if len(draws) < 2:
            raise InsufficientData(
                f"fewer than two of {int(bootstrap)} bootstrap resamples could be fitted"
            )
        q = [(1 - conf) / 2, (1 + conf) / 2]
        a, b = np.quantile(draws, q)
        interval = (float(a), float(b))
        if labels is not None:
            mat = np.vstack(group_draws)
            qs = np.nanquantile(mat, q, axis=0)
            group_intervals = {
                str(lab): (float(qs[0, i]), float(qs[1, i]))
                for i, lab in enumerate(labels.tolist())
            }
    return IndexResult(
        construct=construct,
        scale=(lo, hi),
        weights=dict(zip(items, _index_weights(result, construct, raw).tolist(), strict=True)),
        index=overall,
        groups={}
        if labels is None
        else {str(lab): float(per_group[i]) for i, lab in enumerate(labels.tolist())},
        n=raw.shape[0],
        interval=interval,
        group_intervals=group_intervals,
    )


@attrs.frozen
class DriverPriority:
    """A driver of the target construct: its total effect and its 0-100 index."""

    construct: str
    total_effect: float
    index: float
    quadrant: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.construct}: total effect {self.total_effect:+.3f}, "
            f"index {self.index:.1f} ({self.quadrant})"
        )


def priorities(
    result: PlsResult,
    data: Any,
    *,
    target: str = "satisfaction",
    scale: tuple[float, float] = (1, 10),
) -> tuple[DriverPriority, ...]:
    """The ACSI priority table: each driver's total effect on ``target`` against its index.

    Quadrants are split at the mean effect and the mean index of the
    drivers, as in importance-performance analysis: a driver with a large
    effect and a low index is where improvement pays most ("concentrate here").
    An inadmissible result (``result.problems``, e.g. a consistent-PLS path
    beyond 1) is refused with :class:`~crmkit.errors.ValidationError`.
    """
    from crmkit._args import instance
    from crmkit.satisfaction._ipa import QUADRANTS
    from crmkit.satisfaction.pls._result import warning_text

    instance(result, PlsResult, "result")
    pair(scale, "scale")
    if type(target) is not str:
        raise ValidationError([("target", f"must be a construct name, got {shown(target)}")])
    if result.problems:
        raise ValidationError(
            [("result", f"{warning_text(result.problems)}; priorities from it would mislead")]
        )
    drivers = [a for (a, b) in result.total_effects if b == target]
    if not drivers:
        raise ValidationError([("target", f"nothing in the model drives {shown(target)}")])
    effects = np.array([result.total_effects[(d, target)] for d in drivers])
    index = np.array(
        [satisfaction_index(result, data, construct=d, scale=scale).index for d in drivers]
    )
    out = [
        DriverPriority(
            d,
            float(e),
            float(i),
            QUADRANTS[(bool(e >= effects.mean()), bool(i >= index.mean()))],
        )
        for d, e, i in zip(drivers, effects, index, strict=True)
    ]
    return tuple(sorted(out, key=lambda p: -p.total_effect))
