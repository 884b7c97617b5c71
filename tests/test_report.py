"""The one customer-base report: from collections, from a unit of work, as text, JSON and HTML."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crmkit.datasets import demo_customer_base
from crmkit.errors import ValidationError
from crmkit.report import customer_base_report, load_all
from crmkit.repository import InMemoryStore, InMemoryUnitOfWork


@pytest.fixture(scope="module")
def base():  # type: ignore[no-untyped-def]
    return demo_customer_base(7, retail_customers=120, accounts=10)


def test_report_from_collections(base) -> None:  # type: ignore[no-untyped-def]
    r = customer_base_report(base, as_of=base.observation_end)
    text = str(r)
    for title in ("Customer base", "Lifecycle stages", "Satisfaction", "RFM segments", "IDIC"):
        assert title in text
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["counts"]["contacts"] == len(base.contacts)
    assert doc["idic"]["customers"] == len(base.contacts)
    assert sum(doc["rfm_segments"].values()) == len(
        {o.contact_id for o in base.orders if o.contact_id and o.currency == r.currency}
    )
    page = r.to_html()
    assert page.startswith("<!DOCTYPE html>") and "IDIC" in page
    images = page.count("data:image/png;base64,")
    if importlib.util.find_spec("matplotlib") is not None:
        assert images >= 3
    else:  # installed without the plot extra: the page says how to get the plots
        assert images == 0 and "crmkit[plot]" in page


def test_report_from_a_unit_of_work_agrees(base) -> None:  # type: ignore[no-untyped-def]
    from crmkit.entities import Contact

    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        for kind in (
            "accounts",
            "contacts",
            "orders",
            "interactions",
            "survey_responses",
            "consents",
        ):
            for record in getattr(base, kind):
                uow.repository(type(record)).add(record)
        uow.commit()
    with InMemoryUnitOfWork(store) as reader:
        assert len(load_all(reader, Contact)) == len(base.contacts)
        r = customer_base_report(reader, as_of=base.observation_end)
    direct = customer_base_report(base, as_of=base.observation_end)
    assert r.counts == direct.counts
    assert r.lifecycle == direct.lifecycle
    assert r.nps.score == direct.nps.score
    assert sorted(r.idic.composite.tolist()) == pytest.approx(
        sorted(direct.idic.composite.tolist())
    )


def test_report_needs_an_aware_date(base) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="as_of"):
        customer_base_report(base, as_of=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="source"):
        customer_base_report(42, as_of=datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_report_command_reads_a_database(tmp_path: Path) -> None:
    import io

    from crmkit.cli import main

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main(list(argv), out=out), out.getvalue()

    db = tmp_path / "crm.db"
    code, _ = run(
        "demo",
        "--customers",
        "40",
        "--accounts",
        "4",
        "--database",
        f"sqlite:///{db}",
        "--html",
        str(tmp_path / "r.html"),
    )
    assert code == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count("<h2>") >= 5
    code, text = run("report", "--database", f"sqlite:///{db}", "--as-of", "2026-07-06", "--json")
    assert code == 0
    doc = json.loads(text)
    assert doc["counts"]["contacts"] > 40 and doc["nps"] is not None


def test_report_page_without_matplotlib_says_how_to_get_the_charts() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from crmkit.datasets import demo_customer_base\n"
        "from crmkit.report import customer_base_report\n"
        "base = demo_customer_base(7, retail_customers=60, accounts=5)\n"
        "page = customer_base_report(base, as_of=base.observation_end).to_html()\n"
        "assert 'data:image/png' not in page and 'crmkit[plot]' in page, page[:500]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_report_and_the_demo_count_the_same_lifecycle_stages(base) -> None:  # type: ignore[no-untyped-def]
    """One source of truth (issue 16): the stages the base stores are the replay of its orders."""
    from crmkit.lifecycle import replay_customer_stages

    customers = [*base.accounts, *(c for c in base.contacts if c.account_id is None)]
    replay = replay_customer_stages(customers, base.orders, as_of=base.observation_end)
    report = customer_base_report(base, as_of=base.observation_end)
    assert report.lifecycle == replay.counts()
    assert len(report.lifecycle) >= 3  # not everyone in one stage
    assert sum(report.lifecycle.values()) == len(customers)
