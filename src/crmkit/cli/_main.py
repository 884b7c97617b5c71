"""The ``crmkit`` command: the parser, the commands of each module, exit codes.

Exit codes: 0 success; 1 ``validate`` found invalid records; 2 bad usage or
unreadable input (a file, a line, a column, an option); 3 data too thin for
the statistic, or a model that did not converge; 4 an internal error (a bug
in crmkit: please report it; ``--debug`` shows the traceback). Messages are
one line per problem, each capped at 300 characters.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn, TextIO

from crmkit._text import cap
from crmkit._version import __version__
from crmkit.cli import _acsi, _demo, _entities, _quality, _report, _satisfaction, _value
from crmkit.errors import (
    ConvergenceError,
    CrmWarning,
    DefinitionError,
    InsufficientData,
    MissingDependency,
    ValidationError,
)

__all__ = ["main"]


#: Exit codes (documented in the README and docs/index.md).
OK, INVALID_RECORDS, BAD_INPUT, NO_ANSWER, INTERNAL_ERROR = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors capped like every other message (it echoes the bad value)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        text = f"{self.prog}: error: {cap(message)}\n"
        self.exit(BAD_INPUT, text.encode("utf-8", "backslashreplace").decode("utf-8"))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crmkit", description="crmkit: an embeddable CRM domain library.")
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _demo.add_parser(sub)
    _report.add_parser(sub)
    _entities.add_parser(sub)
    _satisfaction.add_parsers(sub)
    _value.add_parser(sub)
    _acsi.add_parser(sub)
    _quality.add_parser(sub)
    return parser


_MAX_LINE = 300


def _say(command: str, message: object) -> None:
    """Print ``message`` to stderr after the command's name, each line capped."""
    for line in str(message).splitlines() or [""]:
        if len(line) > _MAX_LINE:
            line = line[: _MAX_LINE - 1] + "…"
        # A file name or value with lone surrogates (undecodable bytes) still prints.
        line = line.encode("utf-8", "backslashreplace").decode("utf-8")
        print(f"crmkit {command}: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        # One capped line, like every other message (Python's format adds a file and line).
        _say(args.command, f"warning: {message}")

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            warnings.simplefilter("default", CrmWarning)  # shown, never raised, in the CLI
            return int(args.run(args, out or sys.stdout))
    except (ValidationError, DefinitionError, MissingDependency) as exc:
        _say(args.command, exc)
        return BAD_INPUT
    except (InsufficientData, ConvergenceError) as exc:
        _say(args.command, exc)
        return NO_ANSWER
    except KeyboardInterrupt:
        _say(args.command, "interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`crmkit ... | head`): stop quietly, as Unix tools do. Python
        # would complain again when it flushes stdout at exit, so point stdout at nothing.
        import contextlib
        import os

        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.debug:
            raise
        _say(
            args.command,
            f"internal error ({type(exc).__name__}: {exc}); "
            "please report it, with --debug for the traceback",
        )
        return INTERNAL_ERROR
