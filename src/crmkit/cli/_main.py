"""The ``crmkit`` command: the parser, the commands of each module, exit codes.

Exit codes: 0 success; 1 ``validate`` found invalid records; 2 bad input
(a file, a column, an option); 3 data too thin for the statistic or a model
that did not converge.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from crmkit._version import __version__
from crmkit.cli import _acsi, _demo, _entities, _report, _satisfaction, _value
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="crmkit: an embeddable CRM domain library."
    )
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _demo.add_parser(sub)
    _report.add_parser(sub)
    _entities.add_parser(sub)
    _satisfaction.add_parsers(sub)
    _value.add_parser(sub)
    _acsi.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args, out or sys.stdout))
    except ValidationError as exc:
        print(f"crmkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except (InsufficientData, ConvergenceError) as exc:
        print(f"crmkit {args.command}: {exc}", file=sys.stderr)
        return 3
