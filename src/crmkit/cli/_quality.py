"""``crmkit dedupe``: find duplicate contacts in a CSV or JSON Lines file and explain each link."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from crmkit.cli._io import add_encoding_option, emit, read_csv, read_records
from crmkit.errors import ValidationError

__all__ = ["add_parser"]


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    path = Path(args.file)
    if path.suffix in (".jsonl", ".ndjson", ".json"):
        rows = read_records(path)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValidationError([(f"{args.file}, record {i + 1}", "must be a JSON object")])
        return rows
    return read_csv(args.file, args.encoding)[1]


def dedupe_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.quality import Records, contact_model, duplicate_report, standardise_contacts
    from crmkit.quality._records import CONTACT_COLUMNS

    rows = _rows(args)
    if not rows:
        raise ValidationError([("file", f"{args.file} has no records")])
    id_column = args.id_column or next(
        (c for c in ("id", "record_id", "contact_id") if c in rows[0]), None
    )
    records = Records.from_rows(rows, id_column=id_column)
    present = [c for c in CONTACT_COLUMNS if c in records.columns]
    clean = standardise_contacts(records, default_region=args.region).records
    model = contact_model(present).fit(clean, seed=args.seed)
    emit(duplicate_report(model, args.threshold, top=args.top), out, args.json)
    return 0


def quality_command(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit.quality import Records, profile

    rows = _rows(args)
    if not rows:
        raise ValidationError([("file", f"{args.file} has no records")])
    records = Records.from_rows(rows, id_column=args.id_column)
    emit(profile(records, default_region=args.region), out, args.json)
    return 0


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a probability, got {text[:40]!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text[:40]!r}")
    return value


def add_parser(sub: Any) -> None:
    dd = sub.add_parser(
        "dedupe",
        help="find duplicate contacts in a CSV or JSON Lines file (Fellegi-Sunter with EM)",
        description=(
            "Reads contacts with any of the columns first_name, last_name, email, phone, street, "
            "city, postcode, date_of_birth (and an id column), standardises them, estimates a "
            "Fellegi-Sunter model without labels and prints the clusters of duplicates, each "
            "link explained field by field."
        ),
    )
    dd.add_argument("file", help="a CSV file with a header row, or .jsonl/.json records")
    add_encoding_option(dd)
    dd.add_argument(
        "--threshold", type=_probability, default=0.9, help="match probability (default 0.9)"
    )
    dd.add_argument("--region", default=None, help="default region of phone numbers, e.g. GB")
    dd.add_argument("--id-column", help="the column naming each record (default: id, record_id)")
    dd.add_argument("--top", type=int, default=20, help="clusters to explain (default 20)")
    dd.add_argument("--seed", type=int, default=0, help="seed of the random pairs for u")
    dd.add_argument("--json", action="store_true", help="print JSON instead of text")
    dd.set_defaults(run=dedupe_command)

    qu = sub.add_parser(
        "quality",
        help="profile a CSV or JSON Lines file: completeness, validity, uniqueness, placeholders",
    )
    qu.add_argument("file", help="a CSV file with a header row, or .jsonl/.json records")
    add_encoding_option(qu)
    qu.add_argument("--region", default=None, help="default region of phone numbers, e.g. GB")
    qu.add_argument("--id-column", help="a column that names the records (not profiled)")
    qu.add_argument("--json", action="store_true", help="print JSON instead of a table")
    qu.set_defaults(run=quality_command)
