"""The gaps model of service quality (Parasuraman, Zeithaml & Berry 1985; Zeithaml, Berry & Parasuraman 1988).

Gap 5, the customer's gap between perceived and expected service, is the
result of four gaps inside the provider. Zeithaml, Berry & Parasuraman (1988,
"Communication and control processes in the delivery of service quality",
Journal of Marketing 52(2)) measured the four provider gaps in each service
unit (branch, store, team) from surveys of its managers and staff and related
them to the unit's customer gap across units. :class:`GapModel` records those
per-unit measurements and :meth:`GapModel.drivers` does the across-unit
analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._args import texts
from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["GAPS", "GapDriver", "GapDrivers", "GapModel", "gap_model", "unit_means"]

#: Each gap's short name and what it measures. Every gap is signed so that a
#: negative value is a shortfall (as in SERVQUAL's P - E).
GAPS: dict[str, tuple[str, str]] = {
    "gap1": (
        "knowledge gap",
        "management's perception of customer expectations minus customer expectations",
    ),
    "gap2": (
        "standards gap",
        "service quality specifications minus management's perception of expectations",
    ),
    "gap3": ("delivery gap", "service delivered minus the service quality specifications"),
    "gap4": ("communications gap", "service delivered minus what external communications promise"),
    "gap5": ("customer gap", "perceived service minus expected service (the SERVQUAL score)"),
}
_PROVIDER = ("gap1", "gap2", "gap3", "gap4")


@attrs.frozen
class GapDriver:
    """One provider gap's share in explaining gap 5 across units."""

    gap: str
    name: str
    mean: float
    coefficient: float
    standard_error: float
    interval: tuple[float, float]
    p_value: float
    beta: float
    correlation: float
    importance: float
    driver: bool

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "interval": list(self.interval)}


@attrs.frozen
class GapDrivers:
    """Gap 5 regressed on the measured provider gaps across units.

    ``beta`` is the standardized coefficient, ``correlation`` the zero-order
    correlation with gap 5, ``importance`` Pratt's measure ``beta * r / R2``
    (the provider gaps' importances add up to 1; Pratt 1987, Thomas, Hughes &
    Zumbo 1998). A gap is a ``driver`` when its coefficient is positive (a
    shortfall there goes with a shortfall in gap 5) and significant at
    ``1 - confidence``.
    """

    n_units: int
    gap5_mean: float
    r_squared: float
    adj_r_squared: float
    f_p_value: float
    confidence: float
    gaps: tuple[GapDriver, ...]

    @property
    def drivers(self) -> tuple[str, ...]:
        """The gaps that drive gap 5, largest Pratt importance first."""
        chosen = sorted((g for g in self.gaps if g.driver), key=lambda g: -g.importance)
        return tuple(g.gap for g in chosen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_units": self.n_units,
            "gap5_mean": self.gap5_mean,
            "r_squared": self.r_squared,
            "adj_r_squared": self.adj_r_squared,
            "f_p_value": self.f_p_value,
            "confidence": self.confidence,
            "gaps": [g.to_dict() for g in self.gaps],
            "drivers": list(self.drivers),
        }

    def __str__(self) -> str:
        lines = [
            f"gap 5 (customer gap) over {self.n_units} units: mean {self.gap5_mean:+.2f}, "
            f"R2 {self.r_squared:.2f} (F-test p = {self.f_p_value:.3g})",
            "gap                        mean     coef    beta  importance  p-value",
        ]
        for g in self.gaps:
            mark = "  <- driver" if g.driver else ""
            lines.append(
                f"{g.gap} {g.name:<19}{g.mean:>+7.2f} {g.coefficient:>+8.3f} {g.beta:>+7.2f} "
                f"{g.importance:>11.2f} {g.p_value:>8.3g}{mark}"
            )
        found = ", ".join(self.drivers) or "none significant"
        lines.append(f"drivers of gap 5: {found}")
        return "\n".join(lines)


@attrs.frozen(eq=False)
class GapModel:
    """Per-unit measurements of gap 5 and of any of gaps 1-4, with notes on how each was measured.

    Build it with :func:`gap_model`. ``measurements`` maps ``"gap1"`` ..
    ``"gap5"`` to one value per unit (``units`` names them); ``notes`` records
    the instrument behind each measurement.
    """

    units: tuple[str, ...]
    measurements: Mapping[str, npt.NDArray[np.float64]]
    notes: Mapping[str, str]

    def drivers(self, *, confidence: float = 0.95) -> GapDrivers:
        """Which provider gaps drive gap 5: least squares of gap 5 on the measured gaps across units."""
        from scipy.stats import t as student_t

        from crmkit._stats import ols
        from crmkit._validation import check_confidence

        conf = check_confidence(confidence)
        names = [g for g in _PROVIDER if g in self.measurements]
        y = self.measurements["gap5"]
        x = np.column_stack([self.measurements[g] for g in names])
        n = y.shape[0]
        if n < len(names) + 2:
            raise InsufficientData(
                f"relating gap 5 to {len(names)} provider gaps needs at least {len(names) + 2} units, got {n}"
            )
        fit = ols(x, y)
        sd_x, sd_y = x.std(axis=0, ddof=1), y.std(ddof=1)
        beta = fit.coef[1:] * sd_x / sd_y
        corr = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(len(names))])
        importance = beta * corr / fit.r_squared
        q = float(student_t.ppf(0.5 + conf / 2, fit.df))
        rows = tuple(
            GapDriver(
                gap=g,
                name=GAPS[g][0],
                mean=float(x[:, j].mean()),
                coefficient=float(fit.coef[j + 1]),
                standard_error=float(fit.se[j + 1]),
                interval=(
                    float(fit.coef[j + 1] - q * fit.se[j + 1]),
                    float(fit.coef[j + 1] + q * fit.se[j + 1]),
                ),
                p_value=float(fit.p[j + 1]),
                beta=float(beta[j]),
                correlation=float(corr[j]),
                importance=float(importance[j]),
                driver=bool(fit.coef[j + 1] > 0 and fit.p[j + 1] < 1 - conf),
            )
            for j, g in enumerate(names)
        )
        return GapDrivers(
            n_units=n,
            gap5_mean=float(y.mean()),
            r_squared=fit.r_squared,
            adj_r_squared=fit.adj_r_squared,
            f_p_value=fit.f_p,
            confidence=conf,
            gaps=rows,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "units": list(self.units),
            "measurements": {k: v.tolist() for k, v in self.measurements.items()},
            "notes": dict(self.notes),
        }

    def __str__(self) -> str:
        gaps = sorted(self.measurements)
        return table(
            ("unit", *gaps),
            (
                (u, *(float(self.measurements[g][i]) for g in gaps))
                for i, u in enumerate(self.units)
            ),
            formats=("", *(["+.3f"] * len(gaps))),
            title=f"gaps model: {len(self.units)} units",
            notes=[f"{g}: {self.notes[g]}" for g in gaps if g in self.notes],
        )


def gap_model(
    gap5: Any,
    *,
    gap1: Any = None,
    gap2: Any = None,
    gap3: Any = None,
    gap4: Any = None,
    units: Sequence[str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> GapModel:
    """Record the gaps of the service quality model, one value per service unit.

    ``gap5`` is each unit's customer gap (for example its mean SERVQUAL
    score, perceptions minus expectations); ``gap1`` .. ``gap4`` are the
    provider gaps measured in the same units (any subset, at least one), each
    signed so that negative is a shortfall. ``notes`` says how each gap was
    measured (kept with the model and in ``to_dict()``).

    >>> m = gap_model([-1.0, -0.5, 0.0, -0.8, -0.2], gap3=[-0.9, -0.4, 0.1, -0.7, -0.3])
    >>> m.drivers().drivers
    ('gap3',)
    """
    from crmkit._validation import as_finite

    given = {"gap1": gap1, "gap2": gap2, "gap3": gap3, "gap4": gap4}
    y = as_finite(gap5, "gap5")
    n = y.shape[0]
    measured = {"gap5": y}
    for key, value in given.items():
        if value is not None:
            measured[key] = as_finite(value, key, n)
    if len(measured) == 1:
        raise ValidationError([("gap1", "measure at least one of gap1 .. gap4 in the same units")])
    for key, arr in measured.items():
        if n > 1 and np.ptp(arr) == 0:
            raise ValidationError(
                [(key, "is the same in every unit: it cannot explain differences")]
            )
    if units is None:
        names = tuple(f"unit {i + 1}" for i in range(n))
    else:
        names = texts(units, "units")
        if len(names) != n or len(set(names)) != n:
            raise ValidationError([("units", f"must name the {n} units once each")])
    note = dict(notes or {})
    unknown = sorted(set(note) - set(GAPS))
    if unknown:
        raise ValidationError([(f"notes[{shown(unknown[0])}]", "must be one of gap1 .. gap5")])
    return GapModel(names, measured, note)


def unit_means(values: Any, units: Any) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64]]:
    """Each unit's mean of respondent-level ``values``: the sorted units and their means.

    The usual way to a unit's gap: the mean SERVQUAL score of its customers,
    the mean answer of its managers, and so on. Vectorised (one pass).
    """
    from crmkit._validation import as_array, as_finite, factorize

    v = as_finite(values, "values")
    u = as_array(units, "units")
    if u.shape[0] != v.shape[0]:
        raise ValidationError(
            [("units", f"must have one label per value ({v.shape[0]}), got {u.shape[0]}")]
        )
    if v.size == 0:
        raise InsufficientData("no values to average")
    labels, codes = factorize(u)
    sums = np.bincount(codes, weights=v, minlength=labels.size)
    counts = np.bincount(codes, minlength=labels.size)
    return labels, sums / counts
