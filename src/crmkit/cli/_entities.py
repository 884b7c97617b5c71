"""``crmkit validate``: records from a JSON or JSON Lines file checked against an entity type."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from crmkit._text import shown
from crmkit.cli._io import printable, read_records
from crmkit.errors import ValidationError

__all__ = ["add_parser"]


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.entities import ENTITY_TYPES
    from crmkit.entities.serde import from_dict

    types = {t.__name__.lower(): t for t in ENTITY_TYPES}
    cls = types.get(args.entity.lower())
    if cls is None:
        print(
            f"crmkit validate: unknown entity {shown(args.entity)}; choose one of "
            f"{', '.join(t.__name__ for t in ENTITY_TYPES)}",
            file=sys.stderr,
        )
        return 2
    rows = read_records(Path(args.file))
    bad = 0
    for i, row in enumerate(rows):
        try:
            from_dict(cls, row)
        except ValidationError as exc:
            bad += 1
            for path, message in exc.errors:
                print(f"record {i}: {path}: {message}", file=out)
    print(
        f"{len(rows) - bad} valid, {bad} invalid {cls.__name__} record(s) in {printable(args.file)}",
        file=out,
    )
    return 1 if bad else 0


def add_parser(sub: Any) -> None:
    """The validate command."""
    val = sub.add_parser("validate", help="validate a JSON / JSON Lines file of records")
    val.add_argument("entity", help="entity type, e.g. Contact or order")
    val.add_argument("file", help="a .json file (an object or an array) or a .jsonl file")
    val.set_defaults(run=_validate)
