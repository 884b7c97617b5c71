"""``crmkit report``: the customer-base report of a database written by the SQLAlchemy adapter."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from crmkit._text import shown
from crmkit.cli._io import emit, write_text
from crmkit.errors import ValidationError

__all__ = ["add_parser", "sql_adapter"]


def sql_adapter() -> Any:
    """:mod:`crmkit.adapters.sqlalchemy`, or a ValidationError naming the extra to install."""
    from crmkit.errors import MissingDependency

    try:
        from crmkit.adapters import sqlalchemy as adapter
    except MissingDependency as exc:
        raise ValidationError([("--database", str(exc))]) from None
    return adapter


def report_command(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import datetime, timezone

    from crmkit.report import customer_base_report

    as_of = datetime.now(timezone.utc)
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise ValidationError(
                [("--as-of", f"must be an ISO date or datetime, got {shown(args.as_of)}")]
            ) from None
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=timezone.utc)
    adapter = sql_adapter()
    url = args.database
    try:
        engine = (
            adapter.sqlite_engine(url)
            if url.startswith("sqlite")
            else adapter.sa.create_engine(url)
        )
        with adapter.SqlUnitOfWork(engine, adapter.Schema()) as uow:
            report = customer_base_report(uow, as_of=as_of)
    except adapter.sa.exc.SQLAlchemyError as exc:
        # The database cannot be opened or is not one crmkit wrote: say so in one line.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ValidationError(
            [("--database", f"cannot read a crmkit database at {url}: {reason}")]
        ) from None
    if args.html:
        write_text(args.html, report.to_html())
    emit(report, out, args.json)
    return 0


def add_parser(sub: Any) -> None:
    """The report command."""
    rep = sub.add_parser(
        "report",
        help="the customer-base report of a database (lifecycle, satisfaction, value, IDIC)",
    )
    rep.add_argument(
        "--database",
        required=True,
        metavar="URL",
        help="an SQLAlchemy URL written by crmkit.adapters.sqlalchemy",
    )
    rep.add_argument("--as-of", help="the report date (ISO; default now)")
    rep.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    rep.add_argument("--json", action="store_true", help="print JSON instead of text")
    rep.set_defaults(run=report_command)
