"""Plots behind the ``plot`` extra: what is drawn matches the results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crmkit.errors import ValidationError
from crmkit.satisfaction import importance_performance, kano, nps, servqual

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmkit import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


def test_nps_distribution(tmp_path: Path) -> None:
    scores = [0, 6, 7, 8, 9, 10, 10, 10]
    ax = plot.nps_distribution(scores)
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 11
    assert heights[10] == pytest.approx(3 / 8) and heights[0] == pytest.approx(1 / 8)
    assert f"{nps(scores).score:+.1f}" in ax.get_title()
    ax.figure.savefig(tmp_path / "nps.png")
    assert (tmp_path / "nps.png").stat().st_size > 1000


def test_servqual_gaps_draws_each_dimension() -> None:
    rng = np.random.default_rng(0)
    e = rng.integers(4, 8, size=(60, 22))
    p = np.clip(e - rng.integers(0, 3, size=(60, 22)), 1, 7)
    r = servqual(e, p)
    _fig, ax = plt.subplots()
    assert plot.servqual_gaps(r, ax=ax) is ax
    assert [p.get_width() for p in ax.patches] == pytest.approx(r.dimension_mean.tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(r.dimensions)


def test_kano_and_ipa_place_points() -> None:
    functional = [[1, 3], [1, 3], [1, 2], [2, 1]]
    dysfunctional = [[5, 5], [5, 5], [3, 5], [5, 5]]
    k = kano(functional, dysfunctional, features=["wifi", "bed"])
    ax = plot.kano_scatter(k)
    points = np.vstack([c.get_offsets() for c in ax.collections])
    expected = [[-f.worse, f.better] for f in k.features]
    np.testing.assert_allclose(points, expected)
    ipa = importance_performance([[4, 2, 5], [3, 2, 4]], importance=[[5, 4, 1], [5, 5, 2]])
    ax = plot.ipa_grid(ipa)
    points = np.vstack([c.get_offsets() for c in ax.collections])
    assert points[:, 0].tolist() == pytest.approx(ipa.performance.tolist())


def test_wrong_result_type() -> None:
    with pytest.raises(ValidationError, match="ServqualResult"):
        plot.servqual_gaps(nps([9, 10]))  # type: ignore[arg-type]


def test_without_matplotlib_a_clear_error() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from crmkit import plot\n"
        "from crmkit.errors import MissingDependency\n"
        "try:\n    plot.nps_distribution([9, 10])\n"
        "except MissingDependency as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "crmkit[plot]"' in out.stdout


def test_value_plots_draw_the_reports() -> None:
    from datetime import date

    from crmkit.datasets import load_cdnow
    from crmkit.value import BetaGeo, holdout_report, rfm_summary, tracking_report

    tx = load_cdnow()
    s = rfm_summary(
        tx["customer_id"],
        tx["date"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
    )
    model = BetaGeo().fit(s)
    report = holdout_report(model, s)
    ax = plot.conditional_expectations(report)
    actual, predicted = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), report.bucket_actual)
    np.testing.assert_allclose(predicted.get_ydata(), report.bucket_predicted)
    tr = tracking_report(
        model,
        tx["customer_id"],
        tx["date"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
    )
    ax = plot.tracking(tr)
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), tr.expected)


def test_path_diagram_labels_every_path() -> None:
    from crmkit.datasets import ACSI_ITEMS, demo_acsi_survey
    from crmkit.satisfaction.acsi import acsi_model

    survey = demo_acsi_survey(respondents=300)
    result = acsi_model(**{k: list(v) for k, v in ACSI_ITEMS.items()}).fit(survey)
    ax = plot.path_diagram(result)
    texts = [t.get_text() for t in ax.texts]
    for v in result.paths.values():
        assert f"{v:+.2f}" in texts
    assert any(t.startswith("satisfaction\nR2") for t in texts)
