from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crmkit.cli import main
from crmkit.datasets import demo_customer_base
from crmkit.entities.serde import to_dict


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_demo_does_real_work() -> None:
    code, text = run("demo", "--customers", "40", "--accounts", "5", "--seed", "11")
    assert code == 0
    base = demo_customer_base(11, retail_customers=40, accounts=5)
    assert f"{len(base.orders):,} orders" in text
    assert "rejected Contact: contact with a typo'd e-mail" in text
    assert "email: 'ad*********************om' is not a valid e-mail address" in text
    assert re.search(r"lines\[\d+\]\.unit_price\.currency: must be (EUR|GBP|USD)", text)
    assert "address.country: must be an ISO 3166-1 alpha-2 code" in text
    n = sum(base.counts().values())
    assert f"{n:,} of {n:,} equal to the originals" in text
    assert "erased copy: name='(erased)'" in text
    assert "largest negative gap: reliability" in text
    assert "drivers of gap 5: gap3, gap4" in text
    assert re.search(r"personal advisor +\d+.*attractive", text)


def test_demo_depends_on_the_seed() -> None:
    assert (
        run("demo", "--seed", "1", "--customers", "30")[1]
        != run("demo", "--seed", "2", "--customers", "30")[1]
    )


def test_demo_is_deterministic() -> None:
    a = demo_customer_base(5, retail_customers=30, accounts=4)
    b = demo_customer_base(5, retail_customers=30, accounts=4)
    assert [to_dict(x) for x in a.all_records()] == [to_dict(x) for x in b.all_records()]


def test_demo_refuses_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "-1"]) == 2
    assert "retail_customers: must be an integer from 0 to 1000000" in capsys.readouterr().err


def test_validate_command(tmp_path: Path) -> None:
    good = to_dict(demo_customer_base(3, retail_customers=2, accounts=0).contacts[0])
    path = tmp_path / "contacts.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "email": "x"}) + "\n")
    code, text = run("validate", "contact", str(path))
    assert code == 1
    assert "record 1: email:" in text
    assert "1 valid, 1 invalid Contact record(s)" in text
    single = tmp_path / "one.json"
    single.write_text(json.dumps(good))
    assert run("validate", "Contact", str(single))[0] == 0


def test_validate_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "Customer", str(tmp_path / "x.json")]) == 2
    assert "unknown entity 'Customer'" in capsys.readouterr().err
    assert main(["validate", "Contact", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["validate", "Contact", str(bad)]) == 2


def test_python_dash_m_runs_the_demo() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crmkit", "demo", "--customers", "10", "--accounts", "2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Lossless JSON round trip" in proc.stdout


def test_demo_stores_and_queries_through_a_unit_of_work() -> None:
    code, text = run("demo", "--customers", "40", "--accounts", "4", "--seed", "3")
    assert code == 0
    assert "Storing and querying through a unit of work" in text
    assert "second save from the same old copy refused" in text


def test_demo_on_sqlite_agrees_with_memory(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    args = ("demo", "--customers", "40", "--accounts", "4", "--seed", "3")
    _, memory = run(*args)
    code, sqlite = run(*args, "--database", f"sqlite:///{tmp_path / 'crm.db'}")
    assert code == 0

    def answers(text: str) -> list[str]:
        keep = ("retail contacts", "next page", "EUR orders", "contacts tagged", "optimistic")
        return [line for line in text.splitlines() if line.strip().startswith(keep)]

    assert answers(sqlite) == answers(memory)
    assert len(answers(memory)) >= 4  # the next page is there only with more than 5 matches


def test_demo_walks_the_lifecycles() -> None:
    code, text = run("demo", "--customers", "40", "--accounts", "4", "--seed", "5")
    assert code == 0
    assert "refused: cannot 'qualify' Lead" in text
    assert "converted lead 'Initech'" in text
    assert "closed_won (100%)" in text
    assert "customers by lifecycle stage" in text
    assert "funnel over" in text and "pipeline of 400 simulated deals" in text
    assert "Markov forecast of won EUR per 4 weeks" in text
    again = run("demo", "--customers", "40", "--accounts", "4", "--seed", "5")[1]
    assert again.split("6. Lifecycles")[1] == text.split("6. Lifecycles")[1]  # deterministic


def test_nps_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("score,region\n10,north\n9,north\n3,south\n8,south\n,south\n10,north\n")
    code, text = run("nps", str(path), "--column", "score", "--by", "region", "--skip-missing")
    assert code == 0
    assert text.startswith("NPS +40.0")
    assert "north" in text and "south" in text
    code, text = run("nps", str(path), "--column", "score", "--skip-missing", "--json")
    assert json.loads(text)["nps"]["score"] == pytest.approx(40.0)
    assert main(["nps", str(path), "--column", "score"]) == 2
    assert "--skip-missing" in capsys.readouterr().err
    assert main(["nps", str(path), "--column", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    path.write_text("score\n10\nten\n")
    assert main(["nps", str(path), "--column", "score"]) == 2
    assert "line 3" in capsys.readouterr().err


def test_servqual_and_kano_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = ",".join([f"E{i}" for i in range(1, 23)] + [f"P{i}" for i in range(1, 23)])
    rows = [header] + [",".join(["6"] * 22 + [str(4 + i % 3)] * 22) for i in range(5)]
    sq = tmp_path / "sq.csv"
    sq.write_text("\n".join(rows) + "\n")
    code, text = run("servqual", str(sq))
    assert code == 0
    assert text.startswith("SERVQUAL, n = 5")
    assert "largest negative gap" in text
    code, text = run("servqual", str(sq), "--servperf", "--json")
    assert json.loads(text)["measure"] == "SERVPERF"
    ka = tmp_path / "kano.csv"
    ka.write_text("chat_functional,chat_dysfunctional\n1,5\n1,5\n1,3\n")
    code, text = run("kano", str(ka), "--features", "chat")
    assert code == 0
    assert "one-dimensional" in text
    assert main(["kano", str(ka), "--features", "export"]) == 2
    assert "no column 'export_functional'" in capsys.readouterr().err
    assert main(["kano", str(tmp_path / "missing.csv"), "--features", "chat"]) == 2
    assert "cannot read" in capsys.readouterr().err


def _cdnow_csv(path: Path) -> Path:
    from crmkit.datasets import load_cdnow

    tx = load_cdnow()
    file = path / "cdnow.csv"
    with file.open("w", encoding="utf-8") as fh:
        fh.write("customer,day,amount\n")
        for c, d, a in zip(tx["customer_id"], tx["date"], tx["amount"], strict=True):
            fh.write(f"{c},{str(d).replace('-', '')},{a}\n")
    return file


def test_clv_command_on_cdnow(tmp_path: Path) -> None:
    file = _cdnow_csv(tmp_path)
    code, text = run(
        "clv", str(file), "--customer", "customer", "--date", "day", "--amount", "amount",
        "--calibration-end", "1997-09-30", "--observation-end", "1998-06-30", "--top", "3",
    )  # fmt: skip
    assert code == 0
    assert "BG/NBD: log-likelihood -9,582.43 on 2,357 customers" in text
    assert "Gamma-Gamma" in text and "holdout check over 39 time units" in text
    assert "top customers by CLV over 12 months" in text
    code, text = run(
        "clv", str(file), "--customer", "customer", "--date", "day", "--model", "pareto",
        "--calibration-end", "1997-09-30", "--observation-end", "1998-06-30", "--json",
    )  # fmt: skip
    doc = json.loads(text)
    assert doc["transaction_model"]["model"] == "Pareto/NBD"
    assert doc["transaction_model"]["log_likelihood"] == pytest.approx(-9595.0, abs=0.05)
    assert len(doc["top"]) == 10 and doc["top"][0]["clv"] is None


def test_clv_command_reports_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("customer,day\n1,2026-01-01\n1,yesterday\n", encoding="utf-8")
    code, _ = run("clv", str(file), "--customer", "customer", "--date", "day")
    assert code == 2
    assert "day[row 3]: must be a date" in capsys.readouterr().err
    file.write_text("customer,day\n1,2026-01-01\n2,2026-01-05\n", encoding="utf-8")
    code, _ = run("clv", str(file), "--customer", "customer", "--date", "day")
    assert code == 3
    assert "no customer made a repeat purchase" in capsys.readouterr().err


def test_acsi_command_on_the_ecsi_data(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "ecsi_satisfaction.csv"
    code, text = run(
        "acsi", str(data), "--model", "ecsi", "--unscaled", "--scale", "0,10", "--by", "gender"
    )
    assert code == 0
    assert re.search(r"image -> expectations\s+\+0\.5787", text)
    assert "satisfaction index 68.6 on 0-100, n = 250" in text
    assert "value          effect +0.588" in text
    blocks = tmp_path / "blocks.json"
    blocks.write_text(
        json.dumps(
            {
                "image": ["imag1", "imag2"],
                "expectations": ["expe1", "expe2"],
                "quality": ["qual1", "qual2"],
                "value": ["val1", "val2"],
                "satisfaction": ["sat1", "sat2"],
                "loyalty": ["loy1", "loy2"],
            }
        ),
        encoding="utf-8",
    )
    code, text = run(
        "acsi", str(data), "--model", "ecsi", "--blocks", str(blocks), "--scale", "0,10", "--json"
    )
    doc = json.loads(text)
    assert set(doc["fit"]["loadings"]) == {
        "imag1",
        "imag2",
        "expe1",
        "expe2",
        "qual1",
        "qual2",
        "val1",
        "val2",
        "sat1",
        "sat2",
        "loy1",
        "loy2",
    }
    assert 0 < doc["index"]["index"] < 100


def test_acsi_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = Path(__file__).parent / "data" / "ecsi_satisfaction.csv"
    code, _ = run("acsi", str(data), "--model", "acsi")
    assert code == 2
    assert "no columns start with 'comp'" in capsys.readouterr().err


def test_demo_prints_the_value_and_index_sections() -> None:
    code, text = run("demo", "--customers", "30", "--accounts", "4", "--seed", "5")
    assert code == 0
    assert "BG/NBD: log-likelihood -9,582.43 on 2,357 customers" in text
    assert "9. The ACSI as a PLS path model" in text
    assert re.search(r"satisfaction index \d+\.\d \(\d+\.\d to \d+\.\d\) on 0-100, n = 600", text)


def test_report_on_a_database_that_cannot_be_opened_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sqlalchemy")
    missing = tmp_path / "no" / "such" / "dir" / "crm.db"
    assert main(["report", "--database", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert "cannot read a crmkit database" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_acsi_command_says_when_plsc_is_inadmissible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(__file__).parent / "data" / "ecsi_satisfaction.csv"
    args = ("acsi", str(data), "--model", "ecsi", "--consistent", "--scale", "0,10")
    code, text = run(*args)
    assert code == 0
    assert text.startswith("INADMISSIBLE solution: path expectations -> value is -1.7377")
    assert "priorities: not shown, the solution is inadmissible" in text
    assert "effect +" not in text  # no driver table from these paths
    err = capsys.readouterr().err
    assert err.startswith("crmkit acsi: warning: INADMISSIBLE solution:")
    assert len(err.splitlines()) == 1 and "Warning" not in err and ".py" not in err
    code, text = run(*args, "--json")
    doc = json.loads(text)
    assert doc["fit"]["admissible"] is False and doc["priorities"] is None
    assert "path quality -> value is +2.5851" in doc["fit"]["problems"]
