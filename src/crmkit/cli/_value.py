"""``crmkit clv``: the customer-base models and CLV of a CSV transaction log."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from crmkit.cli._io import add_encoding_option, amounts, dates, emit, read_csv_columns
from crmkit.errors import ValidationError

__all__ = ["add_parser"]


def clv_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.value import WEEKS_PER_MONTH, rfm_summary, value_report

    names = [args.customer, args.date] + ([args.amount] if args.amount else [])
    cols = read_csv_columns(args.file, names, args.encoding)
    if not cols[args.customer]:
        raise ValidationError([("file", f"{args.file} has no rows")])
    when = dates(cols[args.date], args.date)
    spent = amounts(cols[args.amount], args.amount) if args.amount else None
    end = args.observation_end or str(when.max())[:10]
    summary = rfm_summary(
        cols[args.customer],
        when,
        spent,
        observation_end=dates([end], "--observation-end")[0],
        calibration_end=None
        if args.calibration_end is None
        else dates([args.calibration_end], "--calibration-end")[0],
        time_unit="W",
    )
    report = value_report(
        summary,
        model=args.model,
        horizon=args.horizon,
        period=WEEKS_PER_MONTH,
        discount_rate=args.discount,
        top=args.top,
    )
    emit(report, out, args.json)
    return 0


def add_parser(sub: Any) -> None:
    cv = sub.add_parser(
        "clv", help="fit BG/NBD or Pareto/NBD and Gamma-Gamma to a CSV transaction log"
    )
    cv.add_argument("file", help="a CSV file with a header row, one transaction per row")
    add_encoding_option(cv)
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
