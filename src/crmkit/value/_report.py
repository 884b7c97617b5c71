"""One workflow from a customer summary to values: the models fitted, their notes, every customer scored.

``crmkit clv``, ``crmkit report`` and :func:`~crmkit.report.customer_base_report`
all call :func:`value_report`; what it decides (which spend is left out of
the spend model, how those customers are valued, what a limit model or a
skipped spend model means for the reader) is decided here once.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import BoundaryWarning, InsufficientData, ValidationError
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gamma import GammaGamma, customer_lifetime_value
from crmkit.value._holdout import HoldoutReport, holdout_report
from crmkit.value._pareto import ParetoNBD

__all__ = ["WEEKS_PER_MONTH", "ValueReport", "value_report"]

#: Weeks per month: the discounting period of a summary in weeks.
WEEKS_PER_MONTH = 365.25 / 12 / 7

Array = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class ValueReport:
    """The fitted models, per-customer scores and the customers worth most.

    ``probability_alive``, ``expected_purchases`` (over the horizon) and
    ``clv`` (``None`` without amounts) hold one value per customer of the
    summary, in its order (``customer_id``); ``top`` lists the ``top``
    customers by CLV (or expected purchases). ``notes`` say what a reader
    must know: limit models, customers left out of the spend model.
    """

    customers: int
    repeat_customers: int
    transaction_model: BetaGeo | ParetoNBD
    spend_model: GammaGamma | None
    spend_model_skipped: str | None
    holdout: HoldoutReport | None
    horizon: int
    discount_rate: float
    period_name: str
    customer_id: npt.NDArray[Any]
    probability_alive: Array
    expected_purchases: Array
    clv: Array | None
    top: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the models' summaries, the top customers and the notes (not every customer)."""
        return {
            "customers": self.customers,
            "repeat_customers": self.repeat_customers,
            "transaction_model": self.transaction_model.summary().to_dict(),
            "spend_model": None
            if self.spend_model is None
            else self.spend_model.summary().to_dict(),
            "spend_model_skipped": self.spend_model_skipped,
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "horizon": self.horizon,
            "period": self.period_name,
            "discount_rate": self.discount_rate,
            "top": [dict(row) for row in self.top],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        parts = [
            f"{self.customers:,} customers, {self.repeat_customers:,} with repeat purchases",
            str(self.transaction_model.summary()),
        ]
        if self.spend_model is not None:
            parts.append(str(self.spend_model.summary()))
        elif self.spend_model_skipped is not None:
            parts.append(f"spend model skipped: {self.spend_model_skipped}")
        parts += [f"note: {note}" for note in self.notes]
        if self.holdout is not None:
            parts.append(str(self.holdout))
        by = "CLV" if self.clv is not None else "expected purchases"
        parts.append(
            table(
                ("customer", "x", "recency", "P(alive)", "E[purchases]", "CLV"),
                [
                    (
                        str(row["customer"])[:14],
                        row["frequency"],
                        row["recency"],
                        row["probability_alive"],
                        row["expected_purchases"],
                        row["clv"],
                    )
                    for row in self.top
                ],
                formats=("", ",", ".1f", ".3f", ".2f", ",.2f"),
                title=f"top customers by {by} over {self.horizon} {self.period_name}s "
                f"(discount {self.discount_rate:.1%} a {self.period_name}):",
            )
        )
        return "\n".join(parts)


def value_report(
    summary: Any,
    *,
    model: Literal["bgnbd", "pareto"] = "bgnbd",
    horizon: int = 12,
    period: float = WEEKS_PER_MONTH,
    discount_rate: float = 0.01,
    period_name: str = "month",
    top: int = 10,
) -> ValueReport:
    """Fit a transaction model (BG/NBD or Pareto/NBD) and Gamma-Gamma; score every customer.

    ``summary`` is an :class:`~crmkit.value.RfmSummary` (with monetary value
    for CLV, with a holdout period for the holdout check). Repeat customers
    whose purchases were worth nothing are left out of the spend model and
    valued at the population's mean spend (a note says how many); a spend
    model that cannot be fitted is skipped with its reason, and the ranking
    is then by expected purchases. ``horizon`` periods of ``period`` time
    units (default: months of a summary in weeks), discounted at
    ``discount_rate`` per period (``period_name`` in the text). Limit models are reported in the notes,
    not as warnings.
    """
    if model not in ("bgnbd", "pareto"):
        raise ValidationError([("model", f"must be 'bgnbd' or 'pareto', got {shown(model)}")])
    from crmkit._args import number, whole
    from crmkit.value._gamma import MAX_HORIZON
    from crmkit.value._predict import MAX_TIME

    top = whole(top, "top", 0, 10**9)
    horizon = whole(horizon, "horizon", 1, MAX_HORIZON)
    period = number(period, "period", 0, MAX_TIME, open_low=True)
    discount_rate = number(discount_rate, "discount_rate", 0, 1e6)
    if type(period_name) is not str:
        raise ValidationError([("period_name", f"must be text, got {shown(period_name)}")])
    notes: list[str] = []
    spend: GammaGamma | None = None
    skipped: str | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        fitted: BetaGeo | ParetoNBD = (BetaGeo() if model == "bgnbd" else ParetoNBD()).fit(summary)
        if getattr(summary, "monetary_value", None) is not None:
            try:
                spend = GammaGamma().fit(summary, nonpositive="exclude")
            except InsufficientData as exc:
                skipped = str(exc)
    for m in (fitted, spend):
        if m is not None and m.limit_ is not None:
            notes.append(f"{m.label} is a limit model: {m.limit_.description}")
    if spend is not None and spend.excluded_:
        who = "customer whose" if spend.excluded_ == 1 else "customers whose"
        notes.append(
            f"{spend.excluded_:,.0f} repeat {who} repeat purchases were worth nothing "
            "(free or refunded orders) left out of the spend model and valued at the "
            f"population's mean spend per purchase ({spend.expected_spend():,.2f})"
        )
    holdout = None
    if getattr(summary, "holdout_frequency", None) is not None:
        holdout = holdout_report(fitted, summary)
    alive = np.asarray(fitted.probability_alive(summary), dtype=np.float64)
    expected = np.asarray(
        fitted.conditional_expected_purchases(horizon * period, summary), dtype=np.float64
    )
    value = None
    if spend is not None:
        value = customer_lifetime_value(
            fitted,
            spend,
            summary,
            horizon=horizon,
            period=period,
            discount_rate=discount_rate,
            nonpositive="population",
        )
    ids = np.asarray(summary.customer_id)
    rank = np.argsort(-(value if value is not None else expected), kind="stable")[:top]
    rows = tuple(
        {
            "customer": ids[i].item() if hasattr(ids[i], "item") else ids[i],
            "frequency": int(summary.frequency[i]),
            "recency": float(summary.recency[i]),
            "T": float(summary.T[i]),
            "probability_alive": float(alive[i]),
            "expected_purchases": float(expected[i]),
            "clv": None if value is None else float(value[i]),
        }
        for i in rank
    )
    return ValueReport(
        customers=len(summary),
        repeat_customers=int((np.asarray(summary.frequency) > 0).sum()),
        transaction_model=fitted,
        spend_model=spend,
        spend_model_skipped=skipped,
        holdout=holdout,
        horizon=horizon,
        discount_rate=discount_rate,
        period_name=period_name,
        customer_id=ids,
        probability_alive=alive,
        expected_purchases=expected,
        clv=value,
        top=rows,
        notes=tuple(notes),
    )
