"""``crmkit clv`` and the value section of ``crmkit demo``."""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any, TextIO

from crmkit.errors import BoundaryWarning, InsufficientData, ValidationError

#: Weeks per month, the default discounting period for summaries in weeks.
WEEKS_PER_MONTH = 365.25 / 12 / 7


def _dates(values: list[str], column: str) -> Any:
    import numpy as np

    cleaned = []
    for i, v in enumerate(values):
        text = v.strip()
        if len(text) == 8 and text.isdigit():  # YYYYMMDD, as in the CDNOW files
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        try:
            np.datetime64(text, "s")
        except ValueError:
            raise ValidationError(
                [(f"{column}[row {i + 2}]", f"must be a date (YYYY-MM-DD or YYYYMMDD), got {v!r}")]
            ) from None
        cleaned.append(text)
    return np.array(cleaned, dtype="datetime64[s]")


def _amounts(values: list[str], column: str) -> Any:
    import numpy as np

    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            raise ValidationError(
                [(f"{column}[row {i + 2}]", f"must be a number, got {v!r}")]
            ) from None
    return out


def value_report(
    customers: Any,
    dates: Any,
    amounts: Any,
    *,
    observation_end: Any,
    calibration_end: Any = None,
    model: str = "bgnbd",
    horizon: int = 12,
    discount: float = 0.01,
    top: int = 10,
) -> dict[str, Any]:
    """Fit the transaction and spend models on a log and collect what ``crmkit clv`` prints."""
    import numpy as np

    from crmkit.value import (
        BetaGeo,
        GammaGamma,
        ParetoNBD,
        customer_lifetime_value,
        holdout_report,
        rfm_summary,
    )

    summary = rfm_summary(
        customers,
        dates,
        amounts,
        observation_end=observation_end,
        calibration_end=calibration_end,
        time_unit="W",
    )
    notes: list[str] = []
    with warnings.catch_warnings():
        # A limit model is reported in the model's summary and in the notes, not as a warning.
        warnings.simplefilter("ignore", BoundaryWarning)
        fitted = (BetaGeo() if model == "bgnbd" else ParetoNBD()).fit(summary)
        report: dict[str, Any] = {
            "customers": len(summary),
            "repeat_customers": int((summary.frequency > 0).sum()),
            "transaction_model": fitted.summary(),
        }
        spend = None
        if amounts is not None:
            try:
                spend = GammaGamma().fit(summary, nonpositive="exclude")
                report["spend_model"] = spend.summary()
            except InsufficientData as exc:
                report["spend_model_skipped"] = str(exc)
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
    if calibration_end is not None:
        report["holdout"] = holdout_report(fitted, summary)
    weeks = horizon * WEEKS_PER_MONTH
    alive = fitted.probability_alive(summary)
    expected = fitted.conditional_expected_purchases(weeks, summary)
    value = (
        customer_lifetime_value(
            fitted,
            spend,
            summary,
            horizon=horizon,
            period=WEEKS_PER_MONTH,
            discount_rate=discount,
            nonpositive="population",
        )
        if spend is not None
        else None
    )
    rank = np.argsort(-(value if value is not None else expected), kind="stable")[:top]
    report["top"] = [
        {
            "customer": summary.customer_id[i].item()
            if hasattr(summary.customer_id[i], "item")
            else summary.customer_id[i],
            "frequency": int(summary.frequency[i]),
            "recency_weeks": float(summary.recency[i]),
            "T_weeks": float(summary.T[i]),
            "probability_alive": float(alive[i]),
            "expected_purchases": float(expected[i]),
            "clv": None if value is None else float(value[i]),
        }
        for i in rank
    ]
    report["horizon_months"] = horizon
    report["discount_per_month"] = discount
    report["notes"] = notes
    return report


def print_value_report(report: dict[str, Any], out: TextIO, indent: str = "") -> None:
    def say(text: str = "") -> None:
        for line in str(text).splitlines() or [""]:
            print(f"{indent}{line}", file=out)

    say(f"{report['customers']:,} customers, {report['repeat_customers']:,} with repeat purchases")
    say(report["transaction_model"])
    if "spend_model" in report:
        say(report["spend_model"])
    elif "spend_model_skipped" in report:
        say(f"spend model skipped: {report['spend_model_skipped']}")
    for note in report.get("notes", []):
        say(f"note: {note}")
    if "holdout" in report:
        say(report["holdout"])
    months = report["horizon_months"]
    say(
        f"top customers by {'CLV' if report['top'] and report['top'][0]['clv'] is not None else 'expected purchases'} "
        f"over {months} months (discount {report['discount_per_month']:.1%} a month):"
    )
    say("customer          x  recency (wk)  P(alive)  E[purchases]         CLV")
    for row in report["top"]:
        clv = "" if row["clv"] is None else f"{row['clv']:>11,.2f}"
        say(
            f"{str(row['customer'])[:14]:<14} {row['frequency']:>4} {row['recency_weeks']:>13.1f} "
            f"{row['probability_alive']:>9.3f} {row['expected_purchases']:>13.2f} {clv}"
        )


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in report.items()}


def clv_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.cli import _read_csv_columns

    names = [args.customer, args.date] + ([args.amount] if args.amount else [])
    cols = _read_csv_columns(args.file, names)
    if not cols[args.customer]:
        raise ValidationError([("file", f"{args.file} has no rows")])
    dates = _dates(cols[args.date], args.date)
    amounts = _amounts(cols[args.amount], args.amount) if args.amount else None
    end = args.observation_end or str(dates.max())[:10]
    report = value_report(
        cols[args.customer],
        dates,
        amounts,
        observation_end=_dates([end], "--observation-end")[0],
        calibration_end=None
        if args.calibration_end is None
        else _dates([args.calibration_end], "--calibration-end")[0],
        model=args.model,
        horizon=args.horizon,
        discount=args.discount,
        top=args.top,
    )
    if args.json:
        print(json.dumps(_jsonable(report), indent=2, default=str), file=out)
    else:
        print_value_report(report, out)
    return 0


def add_parser(sub: Any) -> None:
    cv = sub.add_parser(
        "clv", help="fit BG/NBD or Pareto/NBD and Gamma-Gamma to a CSV transaction log"
    )
    cv.add_argument("file", help="a CSV file with a header row, one transaction per row")
    cv.add_argument("--customer", required=True, help="the customer id column")
    cv.add_argument("--date", required=True, help="the date column (YYYY-MM-DD or YYYYMMDD)")
    cv.add_argument("--amount", help="the amount column (enables the spend model and CLV)")
    cv.add_argument("--model", choices=["bgnbd", "pareto"], default="bgnbd")
    cv.add_argument("--observation-end", help="last day observed (default: the last date)")
    cv.add_argument(
        "--calibration-end", help="fit up to this day and check predictions on the rest"
    )
    cv.add_argument("--horizon", type=int, default=12, help="CLV horizon in months (default 12)")
    cv.add_argument(
        "--discount", type=float, default=0.01, help="discount rate per month (default 0.01)"
    )
    cv.add_argument("--top", type=int, default=10, help="customers to list (default 10)")
    cv.add_argument("--json", action="store_true", help="print JSON instead of tables")
    cv.set_defaults(run=clv_command)


def demo_value(out: TextIO, heading: Any) -> None:
    """The value section of ``crmkit demo``: the CDNOW customer base, fitted and checked."""
    from datetime import date

    from crmkit.datasets import load_cdnow
    from crmkit.value import BetaGeo, ParetoNBD, holdout_report, rfm_summary

    heading(out, 8, "Customer value: BG/NBD, Pareto/NBD and Gamma-Gamma on CDNOW")
    tx = load_cdnow()
    print(
        f"  CDNOW sample (Fader, Hardie & Lee 2005): {len(tx['amount']):,} purchases, "
        "calibration to 1997-09-30, holdout to 1998-06-30",
        file=out,
    )
    report = value_report(
        tx["customer_id"],
        tx["date"],
        tx["amount"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
        top=5,
    )
    print_value_report(report, out, indent="    ")
    summary = rfm_summary(
        tx["customer_id"],
        tx["date"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        pareto = ParetoNBD().fit(summary)
        bg = BetaGeo().fit(summary)
    print(
        f"  log-likelihood BG/NBD {bg.log_likelihood_:,.1f} vs Pareto/NBD {pareto.log_likelihood_:,.1f}; "
        f"holdout purchases predicted {holdout_report(bg, summary).predicted:,.0f} (BG/NBD) and "
        f"{holdout_report(pareto, summary).predicted:,.0f} (Pareto/NBD), actual "
        f"{summary.holdout_frequency.sum() if summary.holdout_frequency is not None else 0:,}",
        file=out,
    )
    print("  (likelihoods, sources and plots: docs/value.md)", file=out)
