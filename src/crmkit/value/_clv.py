"""Closed-form customer lifetime value: the retention-margin formula and discounted cash flows.

Gupta & Lehmann (2003), "Customers as assets", Journal of Interactive
Marketing 17(1): with a constant margin m per period, retention rate r and
discount rate i, and margins at the end of each period,

    CLV = sum_{t=1..H} m r^t / (1 + i)^t = m q (1 - q^H) / (1 - q),   q = r / (1 + i)
    CLV (H -> infinity) = m r / (1 + i - r)          (the "margin multiple" r / (1 + i - r))

With the first margin received at once (``timing="start"``) every term is
multiplied by (1 + i) / r: CLV = m (1 + i) / (1 + i - r) in the limit.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from crmkit._text import shown
from crmkit.errors import ValidationError
from crmkit.value._fitting import Array
from crmkit.value._predict import finite_result

__all__ = ["clv", "discounted_cash_flows"]


def _numbers(
    value: Any, name: str, *, low: float, high: float | None = None, closed_high: bool = True
) -> Array:
    from crmkit._validation import as_numbers

    arr = as_numbers(value, name)
    bad = ~np.isfinite(arr) | (arr < low)
    if high is not None:
        bad |= (arr > high) if closed_high else (arr >= high)
    if bad.any():
        rng = f"{low} to {high}" if high is not None else f">= {low}"
        first = arr.ravel()[np.flatnonzero(bad.ravel())[0]]
        raise ValidationError([(name, f"must be finite and {rng}; got {first}")])
    return arr


def clv(
    margin: Any,
    retention: Any,
    discount: Any,
    *,
    horizon: int | None = None,
    acquisition_cost: Any = 0.0,
    timing: Literal["end", "start"] = "end",
) -> Array:
    """Retention-margin CLV (Gupta & Lehmann 2003), vectorised over customers (arrays broadcast).

    ``margin`` per period, ``retention`` the probability of staying each
    period (0-1), ``discount`` the rate per period; ``horizon`` periods
    (None: infinite). ``timing="end"``: margins at the end of each period
    the customer is retained; ``"start"``: the first margin at once, then one
    per period retained. ``acquisition_cost`` is subtracted.

    >>> round(float(clv(100, 0.8, 0.12)), 6)  # margin multiple 2.5 (Gupta & Lehmann 2003, Table 1)
    250.0
    """
    m = _numbers(margin, "margin", low=-np.inf)
    r = _numbers(retention, "retention", low=0.0, high=1.0)
    i = _numbers(discount, "discount", low=0.0)
    cost = _numbers(acquisition_cost, "acquisition_cost", low=0.0)
    if timing not in ("end", "start"):
        raise ValidationError([("timing", f"must be 'end' or 'start', got {shown(timing)}")])
    q = r / (1 + i)
    if horizon is None:
        if np.any((r == 1) & (i == 0)):
            raise ValidationError(
                [
                    (
                        "retention",
                        "a customer kept for ever without discounting has infinite value; give a horizon",
                    )
                ]
            )
        multiple = r / (1 + i - r)
        if timing == "start":
            multiple = (1 + i) / (1 + i - r)
    else:
        from crmkit._args import whole

        horizon = whole(horizon, "horizon", 1, 100_000)
        with np.errstate(divide="ignore", invalid="ignore"):
            series = np.where(q == 1, float(horizon), (1 - q**horizon) / (1 - q))
        # end: q + q^2 + ... + q^H; start: 1 + q + ... + q^(H-1)
        multiple = q * series if timing == "end" else series
    with np.errstate(over="ignore", invalid="ignore"):
        value = m * multiple - cost
    return finite_result(value, "clv")


def discounted_cash_flows(
    cash_flows: Any,
    discount: Any,
    *,
    acquisition_cost: Any = 0.0,
    timing: Literal["end", "start"] = "end",
) -> Array:
    """Per-customer CLV from per-period cash flows: ``sum_t cf_t / (1 + d)^t - acquisition_cost``.

    ``cash_flows`` is customers x periods (or one row); with ``timing="end"``
    the first column is discounted one period, with ``"start"`` not at all.

    >>> round(float(discounted_cash_flows([100, 100], 0.1)), 10)  # 100 / 1.1 + 100 / 1.21
    173.5537190083
    """
    cf = _numbers(cash_flows, "cash_flows", low=-np.inf)
    if cf.ndim not in (1, 2):
        raise ValidationError(
            [("cash_flows", f"must be periods or customers x periods, got shape {cf.shape}")]
        )
    d = _numbers(discount, "discount", low=0.0)
    cost = _numbers(acquisition_cost, "acquisition_cost", low=0.0)
    if timing not in ("end", "start"):
        raise ValidationError([("timing", f"must be 'end' or 'start', got {shown(timing)}")])
    t = np.arange(cf.shape[-1], dtype=float) + (1.0 if timing == "end" else 0.0)
    factors = (1 + np.asarray(d)[..., None]) ** -t
    with np.errstate(over="ignore", invalid="ignore"):
        value = (cf * factors).sum(axis=-1) - cost
    return finite_result(value, "discounted_cash_flows")
