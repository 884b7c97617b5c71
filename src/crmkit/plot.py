"""Plots of crmkit's results, behind the optional ``plot`` extra (``pip install "crmkit[plot]"``).

Every function draws on the matplotlib ``Axes`` it is given (or on a new
figure's) and returns that ``Axes``, so plots compose into a user's own
figures. matplotlib is imported when a function is called, never by
``import crmkit``; without it a :class:`~crmkit.errors.MissingDependency`
says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.errors import MissingDependency, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmkit.satisfaction import IpaResult, KanoResult, ServqualResult
    from crmkit.value import HoldoutReport, TrackingReport

__all__ = [
    "conditional_expectations",
    "ipa_grid",
    "kano_scatter",
    "nps_distribution",
    "servqual_gaps",
    "tracking",
]

DETRACTOR, PASSIVE, PROMOTER = "#d62728", "#9e9e9e", "#2ca02c"


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependency(
            'plotting needs matplotlib: pip install "crmkit[plot]"', name="matplotlib"
        ) from None
    _, new = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    return new


def _check(result: object, expected: str, argument: str = "result") -> None:
    if type(result).__name__ != expected:
        raise ValidationError([(argument, f"must be a {expected}, got {type(result).__name__}")])


def nps_distribution(scores: Any, *, weights: Any = None, ax: Axes | None = None) -> Axes:
    """Bar chart of the 0-10 answers, detractors red, passives grey, promoters green, NPS in the title."""
    import numpy as np

    from crmkit._validation import as_scale, as_weights
    from crmkit.satisfaction import nps

    result = nps(scores, weights=weights)
    answers, _ = as_scale(scores, "scores", low=0, high=10)
    w = as_weights(weights, "weights", answers.shape[0])
    counts = np.bincount(answers, weights=w, minlength=11)
    ax = _axes(ax)
    colors = [DETRACTOR] * 7 + [PASSIVE] * 2 + [PROMOTER] * 2
    ax.bar(np.arange(11), counts / counts.sum(), color=colors)
    ax.set_xticks(range(11))
    ax.set_xlabel("likelihood to recommend (0-10)")
    ax.set_ylabel("share of answers")
    ax.set_title(f"NPS {result.score:+.1f} (n = {result.n:,})")
    return ax


def servqual_gaps(result: ServqualResult, *, ax: Axes | None = None) -> Axes:
    """Each dimension's mean gap (or SERVPERF perception) with its interval, the worst one highlighted."""
    _check(result, "ServqualResult")
    ax = _axes(ax)
    y = range(len(result.dimensions))
    mean = result.dimension_mean
    err = [mean - result.dimension_lower, result.dimension_upper - mean]
    colors = [DETRACTOR if d == result.worst_dimension else PASSIVE for d in result.dimensions]
    ax.barh(y, mean, xerr=err, color=colors, capsize=3)
    ax.set_yticks(list(y), list(result.dimensions))
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    label = "gap P - E" if result.measure == "SERVQUAL" else "perception"
    ax.set_xlabel(f"mean {label} with interval")
    ax.set_title(f"{result.measure}: score {result.score:+.2f} (n = {result.n:,})")
    return ax


def kano_scatter(result: KanoResult, *, ax: Axes | None = None) -> Axes:
    """Berger et al.'s (1993) satisfaction-coefficient chart: |Worse| across, Better up, split at 0.5."""
    _check(result, "KanoResult")
    ax = _axes(ax)
    for f in result.features:
        ax.scatter(-f.worse, f.better, color="#1f77b4")
        ax.annotate(f.feature, (-f.worse, f.better), xytext=(4, 4), textcoords="offset points")
    ax.axvline(0.5, color="grey", linewidth=0.8)
    ax.axhline(0.5, color="grey", linewidth=0.8)
    for x, y, text in (
        (0.02, 0.97, "attractive"),
        (0.98, 0.97, "one-dimensional"),
        (0.98, 0.03, "must-be"),
        (0.02, 0.03, "indifferent"),
    ):
        ax.text(
            x,
            y,
            text,
            transform=ax.transAxes,
            ha="left" if x < 0.5 else "right",
            va="top" if y > 0.5 else "bottom",
            color="grey",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("dissatisfaction if absent, |Worse|")
    ax.set_ylabel("satisfaction if present, Better")
    return ax


def ipa_grid(result: IpaResult, *, ax: Axes | None = None) -> Axes:
    """Martilla & James's (1977) grid: performance across, importance up, crosshairs at the means."""
    _check(result, "IpaResult")
    ax = _axes(ax)
    x, y = result.performance, result.importance
    ax.scatter(x, y, color="#1f77b4")
    for name, px, py in zip(result.attributes, x, y, strict=True):
        ax.annotate(name, (px, py), xytext=(4, 4), textcoords="offset points")
    ax.axvline(float(x.mean()), color="grey", linewidth=0.8)
    ax.axhline(float(y.mean()), color="grey", linewidth=0.8)
    for qx, qy, text in (
        (0.02, 0.97, "concentrate here"),
        (0.98, 0.97, "keep up the good work"),
        (0.02, 0.03, "low priority"),
        (0.98, 0.03, "possible overkill"),
    ):
        ax.text(
            qx,
            qy,
            text,
            transform=ax.transAxes,
            ha="left" if qx < 0.5 else "right",
            va="top" if qy > 0.5 else "bottom",
            color="grey",
        )
    ax.set_xlabel("performance")
    ax.set_ylabel(f"importance ({result.method})")
    return ax


def tracking(report: TrackingReport, *, ax: Axes | None = None) -> Axes:
    """Cumulative repeat purchases, actual and expected, with the end of calibration marked (FHL 2005, Figure 2)."""
    _check(report, "TrackingReport", "report")
    ax = _axes(ax)
    ax.plot(report.times, report.actual, color="black", label="actual")
    ax.plot(report.times, report.expected, color="#1f77b4", linestyle="--", label=report.model)
    if report.calibration_end is not None:
        ax.axvline(report.calibration_end, color="grey", linewidth=0.8)
    ax.set_xlabel(f"time since {report.start} ({report.time_unit})")
    ax.set_ylabel("cumulative repeat purchases")
    ax.legend()
    return ax


def conditional_expectations(report: HoldoutReport, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration purchases, actual vs predicted (FHL 2005, Figure 4)."""
    _check(report, "HoldoutReport", "report")
    ax = _axes(ax)
    x = range(len(report.buckets))
    ax.plot(x, report.bucket_actual, color="black", marker="o", label="actual")
    ax.plot(
        x, report.bucket_predicted, color="#1f77b4", linestyle="--", marker="s", label=report.model
    )
    ax.set_xticks(list(x), list(report.buckets))
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel(f"mean purchases in the next {report.duration:g} time units")
    ax.legend()
    return ax
