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
    "dedupe": ["dedupe", "{file}"],
    "quality": ["quality", "{file}"],
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


# --------------------------------------------------------------------------- every option

#: Hostile option values, as a shell would pass them.
OPTION_VALUES = [
    "",
    " ",
    "-1",
    "0",
    "abc",
    "nan",
    "inf",
    "1e999",
    "9" * 5000,
    "١٢",
    "1,2,3",
    "2026-13-45",
    "x" * 100_000,
    "\udc80",
    "no/such/dir/out.html",
    "sqlite:////nonexistent/dir/x.db",
    "{[",
]


PATH_VALUES = ["", "\udc80", "no/such/dir/out.html", "x" * 100_000, "sqlite:////nonexistent/x.db"]


def _valid_files(tmp: Path) -> dict[str, str]:
    nps = tmp / "nps.csv"
    nps.write_text("score,region\n10,north\n9,north\n3,south\n8,south\n", encoding="utf-8")
    header = ",".join([f"E{i}" for i in range(1, 23)] + [f"P{i}" for i in range(1, 23)])
    sq = tmp / "sq.csv"
    sq.write_text(
        "\n".join([header] + [",".join(["6"] * 22 + [str(4 + i % 3)] * 22) for i in range(5)])
        + "\n",
        encoding="utf-8",
    )
    kano = tmp / "kano.csv"
    kano.write_text("chat_functional,chat_dysfunctional\n1,5\n1,5\n1,3\n", encoding="utf-8")
    clv = tmp / "clv.csv"
    clv.write_text(
        "customer,day,amount\n"
        + "".join(
            f"{c},2026-0{1 + (c + k) % 8}-1{k},{5 + c}\n" for c in range(40) for k in range(3)
        ),
        encoding="utf-8",
    )
    people = tmp / "people.csv"
    people.write_text(
        "id,first_name,last_name,email,phone\n"
        + "".join(
            f"r{i},Ann{i % 40},Lee{i % 30},a{i % 50}@x.org,+4420794609{i % 60:02d}\n"
            for i in range(120)
        ),
        encoding="utf-8",
    )
    contacts = tmp / "contacts.json"
    contacts.write_text('[{"first_name": "Ada"}]', encoding="utf-8")
    db = f"sqlite:///{tmp / 'crm.db'}"
    assert main(["demo", "--customers", "5", "--accounts", "2", "--database", db]) == 0
    return {
        "nps": str(nps),
        "sq": str(sq),
        "kano": str(kano),
        "clv": str(clv),
        "acsi": str(Path(__file__).parent / "data" / "ecsi_satisfaction.csv"),
        "contacts": str(contacts),
        "people": str(people),
        "db": db,
    }


#: One valid command line per command, and the options to replace one at a time.
BASE: dict[str, tuple[list[str], list[str]]] = {
    "demo": (["demo", "--customers", "5", "--accounts", "2"], ["--seed", "--customers", "--accounts", "--html"]),
    "report": (["report", "--database", "{db}"], ["--database", "--as-of", "--html"]),
    "validate": (["validate", "contact", "{contacts}"], []),
    "nps": (["nps", "{nps}", "--column", "score", "--by", "region"], ["--column", "--by", "--encoding", "--method"]),
    "servqual": (["servqual", "{sq}"], ["--low", "--high", "--expectation-prefix", "--perception-prefix", "--encoding"]),
    "kano": (["kano", "{kano}", "--features", "chat"], ["--features", "--functional-suffix", "--dysfunctional-suffix"]),
    "clv": (
        ["clv", "{clv}", "--customer", "customer", "--date", "day", "--amount", "amount", "--horizon", "3"],
        ["--customer", "--date", "--amount", "--model", "--observation-end", "--calibration-end", "--horizon", "--discount", "--top"],
    ),
    "acsi": (
        ["acsi", "{acsi}", "--model", "ecsi", "--scale", "0,10"],
        ["--model", "--blocks", "--scheme", "--scale", "--by", "--bootstrap", "--seed", "--encoding"],
    ),
    "dedupe": (
        ["dedupe", "{people}", "--region", "GB", "--top", "2"],
        ["--threshold", "--region", "--id-column", "--top", "--seed", "--encoding"],
    ),
    "quality": (["quality", "{people}", "--region", "GB"], ["--region", "--id-column", "--encoding"]),
}  # fmt: skip


def _run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors: exit code 2, one usage line
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, argv[:2]
    for line in err.splitlines():
        assert len(line) <= 330, (argv[:2], len(line))
    return code


@pytest.mark.parametrize("command", list(BASE))
def test_every_option_of_every_command_holds(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Option values are also file names (--html abc writes ./abc): run where that is harmless,
    # and never name a path outside the test's own directory.
    monkeypatch.chdir(tmp_path)
    files = _valid_files(tmp_path)
    base, options = BASE[command]
    argv = [a.format(**files) for a in base]
    assert _run_in_process(argv, capsys) == 0, f"the valid {command} command failed"
    codes: dict[int, int] = {}
    for option in options:
        # Output files and databases: a valid name runs the whole command, so a few suffice.
        values = PATH_VALUES if option in ("--html", "--database") else OPTION_VALUES
        for value in values:
            if option in argv:
                i = argv.index(option)
                trial = [*argv[: i + 1], value, *argv[i + 2 :]]
            else:
                trial = [*argv, option, value]
            code = _run_in_process(trial, capsys)
            assert code in (0, 1, 2, 3), (trial[:2], option, value[:20], code)
            codes[code] = codes.get(code, 0) + 1
    # positional arguments too: the file and (for validate) the entity
    for value in OPTION_VALUES:
        trial = [argv[0], value, *argv[2:]]
        assert _run_in_process(trial, capsys) in (1, 2, 3)
