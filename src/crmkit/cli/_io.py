"""Reading the command line's input files: one CSV reader, numbers and dates from its cells."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crmkit.errors import ValidationError

__all__ = ["amounts", "dates", "numbers", "read_csv", "read_csv_columns", "read_records"]


def read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV file with a header row (UTF-8)."""
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ValidationError([("file", f"cannot read {path}: {exc.strerror or exc}")]) from None
    with handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    return header, rows


def read_csv_columns(path: str, names: list[str]) -> dict[str, list[str]]:
    """The columns ``names`` of a CSV file, as text; a missing column names the ones there are."""
    header, rows = read_csv(path)
    missing = [n for n in names if n not in header]
    if missing:
        raise ValidationError(
            [
                (
                    "columns",
                    f"{path} has no column {missing[0]!r}; it has {', '.join(header) or 'no header'}",
                )
            ]
        )
    return {n: [row[n] for row in rows] for n in names}


def numbers(columns: dict[str, list[str]], names: list[str]) -> list[list[float]]:
    """Rows of numbers from CSV columns; an empty or non-numeric cell names its column and line."""
    rows = []
    for line, values in enumerate(zip(*(columns[n] for n in names), strict=True), start=2):
        row = []
        for name, text in zip(names, values, strict=True):
            try:
                row.append(float(text))
            except (TypeError, ValueError):
                raise ValidationError(
                    [(f"{name} (line {line})", f"must be a number, got {text!r}")]
                ) from None
        rows.append(row)
    return rows


def read_records(path: Path) -> list[Any]:
    """Records from a .json file (an object or an array) or a .jsonl file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def dates(values: list[str], column: str) -> Any:
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


def amounts(values: list[str], column: str) -> Any:
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
