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
    from crmkit.satisfaction.pls import PlsResult
    from crmkit.value import Concentration, HoldoutReport, IdicResult, RfmScores, TrackingReport

__all__ = [
    "conditional_expectations",
    "idic_histogram",
    "ipa_grid",
    "kano_scatter",
    "lorenz",
    "nps_distribution",
    "path_diagram",
    "segment_sizes",
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


def path_diagram(result: PlsResult, *, ax: Axes | None = None) -> Axes:
    """The structural model: constructs in columns by causal depth, arrows labelled with path coefficients, R2 below."""
    _check(result, "PlsResult")
    ax = _axes(ax)
    model = result.model
    depth: dict[str, int] = {}
    for c in model.constructs:
        depth[c] = 0
    for _ in model.constructs:  # longest path from a source: at most one pass per construct
        for a, b in model.paths:
            depth[b] = max(depth[b], depth[a] + 1)
    columns: dict[int, list[str]] = {}
    for c in model.constructs:
        columns.setdefault(depth[c], []).append(c)
    pos: dict[str, tuple[float, float]] = {}
    for d, names in columns.items():
        for i, c in enumerate(names):
            pos[c] = (float(d), (len(names) - 1) / 2 - i)
    for (a, b), v in result.paths.items():
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={"arrowstyle": "->", "color": "#1f77b4", "shrinkA": 28, "shrinkB": 28},
        )
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            f"{v:+.2f}",
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "none"},
        )
    for c, (x, y) in pos.items():
        label = c if c not in result.r2 else f"{c}\nR2 {result.r2[c]:.2f}"
        ax.text(x, y, label, ha="center", va="center", bbox={"boxstyle": "round", "fc": "#eef3fb"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax


def lorenz(result: Concentration, *, ax: Axes | None = None) -> Axes:
    """The Lorenz curve of customer value against the line of equality, with the Gini in the title."""
    _check(result, "Concentration")
    ax = _axes(ax)
    x, y = result.lorenz
    ax.plot(x, y, color="#1f77b4", label="Lorenz curve")
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--", label="equality")
    ax.set_xlabel("share of customers (smallest value first)")
    ax.set_ylabel("share of value")
    ax.set_title(f"Gini {result.gini:.3f}")
    ax.legend()
    return ax


def segment_sizes(result: RfmScores, *, ax: Axes | None = None) -> Axes:
    """Customers per RFM segment, largest first."""
    _check(result, "RfmScores")
    ax = _axes(ax)
    sizes = result.segment_sizes()
    names = list(sizes)
    ax.barh(range(len(names)), list(sizes.values()), color="#1f77b4")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("customers")
    return ax


def idic_histogram(result: IdicResult, *, ax: Axes | None = None) -> Axes:
    """The distribution of the IDIC composite score (0-100)."""
    _check(result, "IdicResult")
    ax = _axes(ax)
    ax.hist(result.composite, bins=20, range=(0, 100), color="#1f77b4")
    ax.set_xlabel("IDIC composite score")
    ax.set_ylabel("customers")
    return ax
