"""Reading the command line's input files: one CSV reader, numbers and dates from its cells."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crmkit._text import shown
from crmkit.errors import ValidationError

__all__ = [
    "DEFAULT_ENCODING",
    "add_encoding_option",
    "amounts",
    "dates",
    "emit",
    "numbers",
    "read_csv",
    "read_csv_columns",
    "read_records",
]


#: The default: UTF-8, with or without a byte-order mark (what spreadsheets write).
DEFAULT_ENCODING = "utf-8-sig"


def add_encoding_option(parser: Any) -> None:
    """``--encoding`` for a command that reads a CSV file."""
    parser.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="the file's text encoding (default: UTF-8, with or without a byte-order mark)",
    )


def read_csv(path: str, encoding: str = DEFAULT_ENCODING) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV file with a header row.

    Every row must have as many fields as the header; a file that is not in
    ``encoding``, or is not CSV, is refused naming the line.
    """
    try:
        handle = open(path, newline="", encoding=encoding)  # noqa: SIM115 - closed below
    except (LookupError, UnicodeError, ValueError):
        raise ValidationError([("--encoding", f"unknown encoding {shown(encoding)}")]) from None
    except OSError as exc:
        raise ValidationError(
            [("file", f"cannot read {shown(path)}: {exc.strerror or exc}")]
        ) from None
    reader = csv.reader(handle)
    header: list[str] = []
    rows: list[dict[str, str]] = []
    with handle:
        try:
            header = next(reader, [])
            for fields in reader:
                if not fields:  # a blank line
                    continue
                if len(fields) != len(header):
                    raise ValidationError(
                        [
                            (
                                f"{path}, line {reader.line_num}",
                                f"has {len(fields)} fields; the header has {len(header)}",
                            )
                        ]
                    )
                rows.append(dict(zip(header, fields, strict=True)))
        except UnicodeDecodeError:
            line, byte = _first_undecodable(path, encoding)
            name = "UTF-8" if encoding == DEFAULT_ENCODING else encoding
            raise ValidationError(
                [
                    (
                        f"{path}, line {line}",
                        f"is not {name} text (byte {shown(byte)}); "
                        "name the file's encoding with --encoding, e.g. --encoding latin-1",
                    )
                ]
            ) from None
        except csv.Error as exc:
            raise ValidationError(
                [(f"{path}, line {reader.line_num}", f"is not valid CSV: {exc}")]
            ) from None
    return header, rows


def _first_undecodable(path: str, encoding: str) -> tuple[int, bytes]:
    """The line and the byte where ``path`` stops being ``encoding`` text (read again, as bytes)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return raw.count(b"\n", 0, exc.start) + 1, raw[exc.start : exc.start + 1]
    return 1, b""  # pragma: no cover - the reader found an error


def read_csv_columns(
    path: str, names: list[str], encoding: str = DEFAULT_ENCODING
) -> dict[str, list[str]]:
    """The columns ``names`` of a CSV file, as text; a missing column names the ones there are."""
    header, rows = read_csv(path, encoding)
    missing = [n for n in names if n not in header]
    if missing:
        raise ValidationError(
            [
                (
                    "columns",
                    f"{path} has no column {shown(missing[0])}; it has {', '.join(header) or 'no header'}",
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
                    [(f"{name} (line {line})", f"must be a number, got {shown(text)}")]
                ) from None
        rows.append(row)
    return rows


def read_records(path: Path) -> list[Any]:
    """Records from a .json file (an object or an array) or a .jsonl file (UTF-8)."""
    line = 1
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix in (".jsonl", ".ndjson"):
            records = []
            for number, item in enumerate(text.splitlines(), start=1):
                line = number  # the line a failure names
                if item.strip():
                    records.append(json.loads(item))
            return records
        data = json.loads(text)
    except OSError as exc:
        raise ValidationError([("file", f"cannot read {path}: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ValidationError([(str(path), "is not UTF-8 text")]) from None
    except json.JSONDecodeError as exc:
        where = f"line {line}" if path.suffix in (".jsonl", ".ndjson") else f"line {exc.lineno}"
        raise ValidationError(
            [(f"{path}, {where}, column {exc.colno}", f"is not valid JSON: {exc.msg}")]
        ) from None
    except RecursionError:
        raise ValidationError([(f"{path}, line {line}", "nests JSON too deeply")]) from None
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
                [
                    (
                        f"{column}[row {i + 2}]",
                        f"must be a date (YYYY-MM-DD or YYYYMMDD), got {shown(v)}",
                    )
                ]
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
                [(f"{column}[row {i + 2}]", f"must be a number, got {shown(v)}")]
            ) from None
    return out


def emit(result: Any, out: Any, as_json: bool) -> None:
    """A command's result: its ``to_dict()`` as JSON with ``--json``, else its text."""
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str), file=out)
    else:
        print(result, file=out)


def write_text(path: str, text: str) -> None:
    """Write an output file the user named; a path that cannot be written is bad input."""
    from pathlib import Path

    try:
        Path(path).write_text(text, encoding="utf-8")
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ValidationError([("--html", f"cannot write {shown(path)}: {reason}")]) from None


def printable(text: str) -> str:
    """``text`` as it can be printed: a lone surrogate (an undecodable byte of a file name) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
