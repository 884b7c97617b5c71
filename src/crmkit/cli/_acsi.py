"""``crmkit acsi``: the ACSI, ECSI or SCSB path model fitted to a CSV of survey answers."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crmkit._text import shown
from crmkit.cli._io import add_encoding_option, read_csv
from crmkit.errors import ValidationError

if TYPE_CHECKING:
    from crmkit.satisfaction.pls import PathModel

__all__ = ["add_parser", "print_report"]

#: Column prefixes per construct used when no ``--blocks`` file is given (the ECSI data's naming).
PREFIXES = {
    "image": "imag",
    "expectations": "expe",
    "quality": "qual",
    "value": "val",
    "performance": "perf",
    "satisfaction": "sat",
    "complaints": "comp",
    "loyalty": "loy",
}

CONSTRUCTS = {
    "acsi": ("expectations", "quality", "value", "satisfaction", "complaints", "loyalty"),
    "ecsi": ("image", "expectations", "quality", "value", "satisfaction", "loyalty"),
    "scsb": ("expectations", "performance", "satisfaction", "complaints", "loyalty"),
}


def _blocks(args: argparse.Namespace, header: list[str]) -> dict[str, list[str]]:
    wanted = CONSTRUCTS[args.model]
    if args.blocks:
        path = Path(args.blocks)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(
                [("--blocks", f"cannot read {path}: {exc.strerror or exc}")]
            ) from None
        if path.suffix == ".toml":
            import importlib

            try:
                tomllib = importlib.import_module("tomllib")
            except ModuleNotFoundError:  # Python 3.10
                raise ValidationError(
                    [("--blocks", "TOML needs Python 3.11; use a JSON file")]
                ) from None
            parse = tomllib.loads
        else:
            parse = json.loads
        try:
            spec = parse(text)
        except RecursionError:
            raise ValidationError([("--blocks", f"{path} nests too deeply")]) from None
        except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
            raise ValidationError([("--blocks", f"{path} cannot be read: {exc}")]) from None
        if not isinstance(spec, dict):
            raise ValidationError(
                [("--blocks", f"{path} must map each construct to a list of column names")]
            )
        missing = [c for c in wanted if c not in spec]
        if missing:
            raise ValidationError([("--blocks", f"names no indicators for {', '.join(missing)}")])
        bad = [
            c
            for c in wanted
            if not isinstance(spec[c], list) or not all(isinstance(i, str) for i in spec[c])
        ]
        if bad:
            raise ValidationError(
                [("--blocks", f"{', '.join(bad)}: each must be a list of column names")]
            )
        return {c: list(spec[c]) for c in wanted}
    blocks = {c: [h for h in header if h.startswith(PREFIXES[c])] for c in wanted}
    empty = [c for c, items in blocks.items() if not items]
    if empty:
        raise ValidationError(
            [
                (
                    "--blocks",
                    f"no columns start with {', '.join(repr(PREFIXES[c]) for c in empty)} "
                    f"(for {', '.join(empty)}); give a JSON or TOML file mapping constructs to columns",
                )
            ]
        )
    return blocks


def _scale(text: str) -> tuple[float, float]:
    """``--scale min,max``: two finite numbers, max > min."""
    import math

    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValidationError(
            [("--scale", f"must be two numbers min,max such as 1,10, got {shown(text[:40])}")]
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValidationError(
            [("--scale", f"must be min,max with max > min, got {shown(text[:40])}")]
        )
    return low, high


def acsi_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from crmkit.satisfaction.acsi import (
        acsi_model,
        ecsi_model,
        priorities,
        satisfaction_index,
        scsb_model,
    )

    header, rows = read_csv(args.file, args.encoding)
    blocks = _blocks(args, header)
    data: dict[str, Any] = {}
    for items in blocks.values():
        for item in items:
            if item not in header:
                raise ValidationError([("--blocks", f"{args.file} has no column {shown(item)}")])
            values = []
            for i, r in enumerate(rows):
                try:
                    values.append(float(r[item]))
                except ValueError:
                    raise ValidationError(
                        [(f"{item}[row {i + 2}]", f"must be a number, got {shown(r[item])}")]
                    ) from None
            data[item] = np.array(values)
    builders: dict[str, Callable[..., PathModel]] = {
        "acsi": acsi_model,
        "ecsi": ecsi_model,
        "scsb": scsb_model,
    }
    build = builders[args.model]
    model = build(**blocks)
    result = model.fit(
        data, scheme=args.scheme, scaled=not args.unscaled, consistent=args.consistent
    )
    low, high = _scale(args.scale)
    groups = None
    if args.by:
        if args.by not in header:
            raise ValidationError([("--by", f"{args.file} has no column {shown(args.by)}")])
        groups = [r[args.by] for r in rows]
    index = satisfaction_index(
        result,
        data,
        scale=(low, high),
        groups=groups,
        bootstrap=args.bootstrap,
        seed=args.seed,
    )
    # Priorities from an inadmissible solution would mislead: the report says why instead.
    drivers = priorities(result, data, scale=(low, high)) if result.admissible else None
    boot = result.bootstrap(args.bootstrap, seed=args.seed) if args.bootstrap else None
    if args.json:
        doc = {
            "model": args.model,
            "fit": result.to_dict(),
            "index": index.to_dict(),
            "priorities": None if drivers is None else [p.to_dict() for p in drivers],
            "bootstrap": None if boot is None else boot.to_dict(),
        }
        print(json.dumps(doc, indent=2), file=out)
        return 0
    print_report(result, index, drivers, boot, out)
    return 0


def print_report(
    result: Any, index: Any, drivers: Any, boot: Any, out: TextIO, indent: str = ""
) -> None:
    def say(text: object) -> None:
        for line in str(text).splitlines():
            print(f"{indent}{line}", file=out)

    say(result)
    if boot is not None:
        say(boot)
    say(index)
    if drivers is None:
        say("priorities: not shown, the solution is inadmissible (see the first line)")
        return
    say("priorities (total effect on satisfaction vs the driver's index):")
    for p in drivers:
        say(f"  {p.construct:<14} effect {p.total_effect:+.3f}  index {p.index:5.1f}  {p.quadrant}")


def add_parser(sub: Any) -> None:
    ac = sub.add_parser(
        "acsi", help="fit the ACSI, ECSI or SCSB PLS path model to a CSV of survey answers"
    )
    ac.add_argument("file", help="a CSV file with a header row, one respondent per row")
    add_encoding_option(ac)
    ac.add_argument("--model", choices=sorted(CONSTRUCTS), default="acsi")
    ac.add_argument(
        "--blocks",
        help="a JSON (or TOML) file mapping each construct to its columns; "
        "default: columns named by prefix (imag, expe, qual, val, perf, sat, comp, loy)",
    )
    ac.add_argument("--scheme", choices=["path", "centroid", "factorial"], default="path")
    ac.add_argument(
        "--unscaled", action="store_true", help="centre the answers without scaling them"
    )
    ac.add_argument("--consistent", action="store_true", help="consistent PLS (PLSc)")
    ac.add_argument("--scale", default="1,10", help="min,max of the answers (default 1,10)")
    ac.add_argument("--by", help="a column to compute the index per group")
    ac.add_argument("--bootstrap", type=int, default=0, help="resamples for intervals (e.g. 500)")
    ac.add_argument("--seed", type=int, default=None)
    ac.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ac.set_defaults(run=acsi_command)
