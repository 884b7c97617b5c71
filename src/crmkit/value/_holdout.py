"""Holdout validation of the transaction models, as in the papers' figures.

* :func:`holdout_report`: predicted vs actual purchases in the holdout period
  per customer, in total, and averaged by the number of repeat purchases in
  the calibration period (Fader, Hardie & Lee 2005, Figure 4: "conditional
  expectations").
* :func:`tracking_report`: cumulative repeat purchases of the cohort week by
  week, actual vs expected, across calibration and holdout (Figure 2).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmkit._numeric import matvec
from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import InsufficientData, ValidationError
from crmkit.value._fitting import Array

__all__ = ["HoldoutReport", "TrackingReport", "holdout_report", "tracking_report"]


@attrs.frozen(eq=False)
class HoldoutReport:
    """Predicted vs actual holdout purchases; ``buckets`` are calibration frequencies 0, 1, ... and "k+"."""

    model: str
    duration: float
    customers: int
    actual: float
    predicted: float
    mae: float
    rmse: float
    buckets: tuple[str, ...]
    bucket_customers: Array
    bucket_actual: Array
    bucket_predicted: Array

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "duration": self.duration,
            "customers": self.customers,
            "actual": self.actual,
            "predicted": self.predicted,
            "mae": self.mae,
            "rmse": self.rmse,
            "by_calibration_frequency": [
                {"frequency": b, "customers": int(n), "actual_mean": a, "predicted_mean": p}
                for b, n, a, p in zip(
                    self.buckets,
                    self.bucket_customers.tolist(),
                    self.bucket_actual.tolist(),
                    self.bucket_predicted.tolist(),
                    strict=True,
                )
            ],
        }

    def __str__(self) -> str:
        lines = [
            f"{self.model} holdout check over {self.duration:g} time units, {self.customers:,} customers: "
            f"predicted {self.predicted:,.0f} purchases, actual {self.actual:,.0f} "
            f"({(self.predicted - self.actual) / max(self.actual, 1e-12):+.1%}); per customer MAE {self.mae:.3f}, RMSE {self.rmse:.3f}",
            "calibration purchases  customers  actual mean  predicted mean",
        ]
        for b, n, a, p in zip(
            self.buckets,
            self.bucket_customers,
            self.bucket_actual,
            self.bucket_predicted,
            strict=True,
        ):
            lines.append(f"{b:>21} {int(n):>10,} {a:>12.2f} {p:>15.2f}")
        return "\n".join(lines)


def holdout_report(model: Any, summary: Any, *, max_frequency: int = 7) -> HoldoutReport:
    """Compare ``model``'s conditional expectations with the holdout purchases of ``summary``.

    ``summary`` is an :class:`~crmkit.value.RfmSummary` made with a
    ``calibration_end`` (so it has holdout columns); ``model`` is a fitted
    BG/NBD or Pareto/NBD.
    """
    actual = getattr(summary, "holdout_frequency", None)
    duration = getattr(summary, "holdout_duration", None)
    if actual is None or duration is None:
        raise ValidationError(
            [
                (
                    "summary",
                    "has no holdout period: build it with rfm_summary(..., calibration_end=...)",
                )
            ]
        )
    from crmkit._args import instance
    from crmkit.value._fitting import Model

    instance(model, Model, "model")
    if not isinstance(max_frequency, int) or not 1 <= max_frequency <= 1000:
        raise ValidationError(
            [("max_frequency", f"must be an integer >= 1, got {shown(max_frequency)}")]
        )
    x = np.asarray(summary.frequency)
    predicted = model.conditional_expected_purchases(duration, x, summary.recency, summary.T)
    bucket = np.minimum(x, max_frequency).astype(np.intp)
    k = max_frequency + 1
    counts = np.bincount(bucket, minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.bincount(bucket, weights=actual, minlength=k) / counts
        mean_pred = np.bincount(bucket, weights=predicted, minlength=k) / counts
    present = counts > 0
    labels = (*(str(i) for i in range(max_frequency)), f"{max_frequency}+")
    err = predicted - actual
    return HoldoutReport(
        model=getattr(model, "label", type(model).__name__),
        duration=float(duration),
        customers=int(x.shape[0]),
        actual=float(actual.sum()),
        predicted=float(predicted.sum()),
        mae=float(np.abs(err).mean()),
        rmse=float(np.sqrt((err**2).mean())),
        buckets=tuple(b for b, p in zip(labels, present, strict=True) if p),
        bucket_customers=counts[present],
        bucket_actual=mean_actual[present],
        bucket_predicted=mean_pred[present],
    )


@attrs.frozen(eq=False)
class TrackingReport:
    """Cumulative repeat purchases of a cohort at ``times`` (time units since the first day), actual and expected."""

    model: str
    start: str
    time_unit: str
    times: Array
    actual: Array
    expected: Array
    calibration_end: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "start": self.start,
            "time_unit": self.time_unit,
            "times": self.times.tolist(),
            "actual": self.actual.tolist(),
            "expected": self.expected.tolist(),
            "calibration_end": self.calibration_end,
        }

    def __str__(self) -> str:
        end = self.calibration_end
        return table(
            (f"{self.time_unit}s since {self.start}", "actual", "expected", ""),
            (
                (f"{t:g}", a, e, "holdout" if end is not None and t > end else "")
                for t, a, e in zip(
                    self.times.tolist(), self.actual.tolist(), self.expected.tolist(), strict=True
                )
            ),
            formats=("", ",.0f", ",.1f", ""),
            title=f"{self.model}: cumulative repeat purchases, actual and expected",
        )


def tracking_report(
    model: Any,
    customer_ids: Any,
    timestamps: Any,
    *,
    observation_end: Any,
    calibration_end: Any = None,
    time_unit: str = "W",
    collapse: str = "D",
    step: float = 1.0,
) -> TrackingReport:
    """Actual vs expected cumulative repeat purchases of the customers in the log, every ``step`` time units.

    A customer's first purchase starts their clock; the expected count at
    time tau is ``sum_i E[X(tau - s_i)]`` over customers who started by then
    (computed once per distinct start). With ``calibration_end`` only the
    customers who started by then are tracked (the papers' cohort).
    """
    from crmkit._args import instance
    from crmkit.value._fitting import Model

    instance(model, Model, "model")
    from crmkit.value._summary import _instant, _period, _unit, purchases

    unit = _unit(time_unit)
    end = _instant(observation_end, "observation_end")
    _, code, when, _ = purchases(customer_ids, timestamps, None, end, collapse)
    first_row = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1])))
    first = when[first_row]
    cal = None
    if calibration_end is not None:
        cal = float(_period(np.array([_instant(calibration_end, "calibration_end")]), collapse)[0])
        cohort = first <= cal
        if not cohort.any():
            raise InsufficientData("no customer started by calibration_end")
        keep = cohort[code]
        code, when = code[keep], when[keep]
        first = first[cohort]
    start = float(first.min())
    repeat = np.ones(code.shape[0], dtype=bool)
    repeat[np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1])))] = False
    repeat_times = np.sort((when[repeat] - start) / unit)
    horizon = (float(_period(np.array([end]), collapse)[0]) - start) / unit
    if not (isinstance(step, (int, float)) and step > 0):
        raise ValidationError([("step", f"must be a number > 0, got {shown(step)}")])
    times = np.arange(step, horizon + step / 2, step)
    actual = np.searchsorted(repeat_times, times, side="right").astype(float)
    starts, counts = np.unique((first - start) / unit, return_counts=True)
    since = np.clip(times[:, None] - starts[None, :], 0.0, None)
    expected = matvec(model.expected_purchases(since), counts)
    day0 = np.datetime64(int(start), "D")
    return TrackingReport(
        model=getattr(model, "label", type(model).__name__),
        start=str(day0),
        time_unit=time_unit,
        times=times,
        actual=actual,
        expected=expected,
        calibration_end=None if cal is None else (cal - start) / unit,
    )
