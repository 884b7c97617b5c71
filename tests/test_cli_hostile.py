"""Every CLI command against hostile files and options: never a traceback, documented exit codes.

A corpus of broken inputs (not UTF-8, a byte-order mark, short and long
rows, a field over csv's size limit, empty files, deep JSON nesting, bad
option values) is run through every command in-process. The rules (issue
17): no exception escapes ``main``; the exit code is 0, 1 (``validate``
found invalid records), 2 (bad input) or 3 (no answer from the data),
never 4 (an internal error); stderr has no traceback and no line longer
than 300 characters plus the command's name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmkit.cli import main

HEADER_NPS = "score,segment\n"


def _write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


CSV_FILES: dict[str, Callable[[Path], str]] = {
    "not utf-8": lambda t: _write(t, "latin.csv", "score,segment\n9,caf\xe9\n".encode("latin-1")),
    "byte-order mark": lambda t: _write(
        t, "bom.csv", b"\xef\xbb\xbf" + b"score,segment\n9,a\n10,b\n3,a\n"
    ),
    "short row": lambda t: _write(t, "short.csv", b"score,segment\n9\n"),
    "long row": lambda t: _write(t, "long.csv", b"score,segment\n9,a,extra\n"),
    "huge field": lambda t: _write(t, "huge.csv", b"score,segment\n9," + b"x" * 200_000 + b"\n"),
    "empty": lambda t: _write(t, "empty.csv", b""),
    "header only": lambda t: _write(t, "header.csv", HEADER_NPS.encode()),
    "text scores": lambda t: _write(t, "text.csv", b"score,segment\nnine,a\n"),
    "nul bytes": lambda t: _write(t, "nul.csv", b"score,segment\n9,\x00\x00\n"),
    "wide header": lambda t: _write(
        t, "wide.csv", (",".join(f"c{i}" for i in range(20_000)) + "\n").encode()
    ),
    "missing file": lambda t: str(t / "nowhere" / "x.csv"),
}

COMMANDS: dict[str, list[str]] = {
    "nps": ["nps", "{file}", "--column", "score"],
    "nps by": ["nps", "{file}", "--column", "score", "--by", "segment"],
    "servqual": ["servqual", "{file}"],
    "kano": ["kano", "{file}", "--features", "chat"],
    "clv": ["clv", "{file}", "--customer", "segment", "--date", "score"],
    "acsi": ["acsi", "{file}"],
}


def _check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 1, 2, 3), (argv[:2], code, err[:300])
    assert "Traceback" not in err
    for line in err.splitlines():
        assert len(line) <= 330, (argv[:2], len(line))
    return code


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", list(CSV_FILES))
def test_csv_commands_hold(
    command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = CSV_FILES[kind](tmp_path)
    argv = [a.format(file=file) for a in COMMANDS[command]]
    _check(argv, capsys)


def test_the_byte_order_mark_is_not_part_of_the_first_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = CSV_FILES["byte-order mark"](tmp_path)
    assert _check(["nps", file, "--column", "score"], capsys) == 0


def test_a_file_that_is_not_utf8_is_named_with_its_line_and_read_with_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = CSV_FILES["not utf-8"](tmp_path)
    assert main(["nps", file, "--column", "score", "--by", "segment"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "--encoding" in err
    assert main(["nps", file, "--column", "score", "--encoding", "latin-1"]) == 0
    assert main(["nps", file, "--column", "score", "--encoding", "klingon"]) == 2


def test_short_rows_name_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = CSV_FILES["short row"](tmp_path)
    assert main(["nps", file, "--column", "score", "--by", "segment"]) == 2
    assert "line 2: has 1 fields; the header has 2" in capsys.readouterr().err


ACSI_OPTIONS = [
    ["--scale", "abc"],
    ["--scale", "1,2,3"],
    ["--scale", "10,1"],
    ["--scale", "nan,inf"],
    ["--bootstrap", "-5"],
    ["--blocks", "{broken}"],
    ["--blocks", "{deep}"],
    ["--blocks", "{list}"],
    ["--blocks", "{toml}"],
]


@pytest.mark.parametrize("option", ACSI_OPTIONS, ids=lambda o: " ".join(o))
def test_acsi_options_hold(
    option: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    survey = _write(tmp_path, "survey.csv", b"sat1,sat2\n1,2\n3,4\n5,6\n")
    files = {
        "{broken}": _write(tmp_path, "broken.json", b'{"satisfaction": ['),
        "{deep}": _write(tmp_path, "deep.json", b"[" * 100_000),
        "{list}": _write(tmp_path, "list.json", b'["sat1"]'),
        "{toml}": _write(tmp_path, "bad.toml", b"satisfaction = [sat1"),
    }
    argv = ["acsi", survey, *(files.get(o, o) for o in option)]
    assert _check(argv, capsys) == 2


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, b'{"first_name": ', b"\xff\xfe", b"", b'[{"first_name": "\\ud800"}]'],
    ids=["deep", "broken", "not utf-8", "empty", "lone surrogate"],
)
def test_validate_holds(content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = _write(tmp_path, "records.json", content)
    _check(["validate", "contact", file], capsys)
    lines = _write(tmp_path, "records.jsonl", b'{"first_name": "Ada"}\n' + content + b"\n")
    _check(["validate", "contact", lines], capsys)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/nowhere/x.db", "sqlite:///{tmp}/not_a_db.db", "nosuchscheme://x", "::"],
)
def test_report_holds(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sqlalchemy")
    (tmp_path / "not_a_db.db").write_bytes(b"this is not a database" * 100)
    assert _check(["report", "--database", url.format(tmp=tmp_path)], capsys) == 2
