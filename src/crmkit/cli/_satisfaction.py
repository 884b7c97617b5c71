"""``crmkit nps``, ``crmkit servqual`` and ``crmkit kano``: survey files in, scores out."""

from __future__ import annotations

import argparse
import json
from typing import Any, Literal, TextIO

from crmkit._text import shown
from crmkit.cli._io import add_encoding_option, emit, numbers, read_csv_columns
from crmkit.errors import ValidationError

__all__ = ["add_parsers"]


def _nps_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import nps, nps_by

    wanted = [args.column] + ([args.by] if args.by else [])
    columns = read_csv_columns(args.file, wanted, args.encoding)
    values = []
    for row, text in enumerate(columns[args.column], start=2):
        try:
            values.append(float(text) if text.strip() else float("nan"))
        except ValueError:
            raise ValidationError(
                [(f"{args.column} (line {row})", f"must be a number 0-10, got {shown(text)}")]
            ) from None
    policy: Literal["raise", "omit"] = "omit" if args.skip_missing else "raise"
    try:
        overall = nps(values, method=args.method, nan_policy=policy)
        by = nps_by(values, columns[args.by], nan_policy=policy) if args.by else None
    except ValidationError as exc:
        hint = " (add --skip-missing to drop empty answers)" if "missing" in str(exc) else ""
        raise ValidationError([(p, m + hint) for p, m in exc.errors]) from None
    if args.json:
        doc = {"nps": overall.to_dict(), "by": None if by is None else by.to_dict()}
        print(json.dumps(doc, indent=2, default=str), file=out)
    else:
        print(overall, file=out)
        if by is not None:
            print(by, file=out)
    return 0


def _servqual_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import STANDARD_SERVQUAL, servqual

    k = STANDARD_SERVQUAL.n_items
    p_cols = [f"{args.perception_prefix}{i}" for i in range(1, k + 1)]
    e_cols = [] if args.servperf else [f"{args.expectation_prefix}{i}" for i in range(1, k + 1)]
    columns = read_csv_columns(args.file, e_cols + p_cols, args.encoding)
    expectations = None if args.servperf else numbers(columns, e_cols)
    result = servqual(expectations, numbers(columns, p_cols), scale=(args.low, args.high))
    emit(result, out, args.json)
    return 0


def _kano_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.satisfaction import kano

    features = [f.strip() for f in args.features.split(",") if f.strip()]
    f_cols = [f + args.functional_suffix for f in features]
    d_cols = [f + args.dysfunctional_suffix for f in features]
    columns = read_csv_columns(args.file, f_cols + d_cols, args.encoding)
    result = kano(numbers(columns, f_cols), numbers(columns, d_cols), features=features)
    emit(result, out, args.json)
    return 0


def add_parsers(sub: Any) -> None:
    """The nps, servqual and kano commands."""
    np_ = sub.add_parser("nps", help="Net Promoter Score of a CSV column of 0-10 answers")
    np_.add_argument("file", help="a CSV file with a header row")
    add_encoding_option(np_)
    np_.add_argument("--column", required=True, help="the column of 0-10 answers")
    np_.add_argument("--by", help="a column to group by (a segment or a period)")
    np_.add_argument(
        "--method", default="adjusted_wald", choices=["adjusted_wald", "wald", "score"]
    )
    np_.add_argument(
        "--skip-missing", action="store_true", help="drop empty answers instead of refusing them"
    )
    np_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    np_.set_defaults(run=_nps_command)
    sq = sub.add_parser("servqual", help="SERVQUAL gaps of a CSV with columns E1..E22 and P1..P22")
    sq.add_argument("file", help="a CSV file with a header row")
    add_encoding_option(sq)
    sq.add_argument(
        "--expectation-prefix", default="E", help="expectation columns are PREFIX1..PREFIX22"
    )
    sq.add_argument(
        "--perception-prefix", default="P", help="perception columns are PREFIX1..PREFIX22"
    )
    sq.add_argument(
        "--servperf", action="store_true", help="perceptions only (Cronin & Taylor 1992)"
    )
    sq.add_argument("--low", type=int, default=1, help="lowest answer on the scale (default 1)")
    sq.add_argument("--high", type=int, default=7, help="highest answer on the scale (default 7)")
    sq.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sq.set_defaults(run=_servqual_command)
    ka = sub.add_parser("kano", help="Kano categories of features from a CSV of question pairs")
    ka.add_argument("file", help="a CSV file with a header row")
    add_encoding_option(ka)
    ka.add_argument("--features", required=True, help="comma-separated feature names")
    ka.add_argument("--functional-suffix", default="_functional", help="column = feature + this")
    ka.add_argument(
        "--dysfunctional-suffix", default="_dysfunctional", help="column = feature + this"
    )
    ka.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ka.set_defaults(run=_kano_command)
