"""The gaps model (Parasuraman, Zeithaml & Berry 1985; Zeithaml, Berry & Parasuraman 1988)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction import GAPS, gap_model, servqual, unit_means


def test_one_gap_matches_scipy_linregress() -> None:
    rng = np.random.default_rng(5)
    g3 = rng.normal(-0.5, 0.4, size=30)
    g5 = 0.8 * g3 + rng.normal(0, 0.3, size=30)
    d = gap_model(g5, gap3=g3).drivers()
    ref = stats.linregress(g3, g5)
    (row,) = d.gaps
    assert row.coefficient == pytest.approx(ref.slope)
    assert row.standard_error == pytest.approx(ref.stderr)
    assert row.p_value == pytest.approx(ref.pvalue)
    assert row.correlation == pytest.approx(ref.rvalue)
    assert d.r_squared == pytest.approx(ref.rvalue**2)
    # One predictor: the standardized beta is the correlation; Pratt's importance is 1.
    assert row.beta == pytest.approx(ref.rvalue)
    assert row.importance == pytest.approx(1.0)
    assert d.drivers == ("gap3",)


def test_standardized_betas_are_the_coefficients_on_z_scores() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(50, 4)) * [0.2, 0.5, 1.0, 2.0]
    y = x @ [1.0, 0.0, 0.5, 0.1] + rng.normal(0, 0.3, size=50)
    d = gap_model(y, gap1=x[:, 0], gap2=x[:, 1], gap3=x[:, 2], gap4=x[:, 3]).drivers()
    z = (x - x.mean(0)) / x.std(0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    coef = np.linalg.lstsq(z, zy, rcond=None)[0]
    assert [g.beta for g in d.gaps] == pytest.approx(coef.tolist())
    assert sum(g.importance for g in d.gaps) == pytest.approx(1.0)
    assert "gap1" in d.drivers and "gap2" not in d.drivers


def test_interval_coverage_by_simulation() -> None:
    """Over 400 simulated sets of 25 units, the 95% intervals cover the true coefficients ~95%."""
    rng = np.random.default_rng(1988)
    true = np.array([0.6, 0.0, 0.3])
    covered = np.zeros(3)
    sims = 400
    for _ in range(sims):
        x = rng.normal(size=(25, 3))
        y = -0.4 + x @ true + rng.normal(0, 0.5, size=25)
        d = gap_model(y, gap1=x[:, 0], gap2=x[:, 1], gap3=x[:, 2]).drivers()
        covered += [g.interval[0] <= t <= g.interval[1] for g, t in zip(d.gaps, true, strict=True)]
    rate = covered / sims
    assert ((rate > 0.92) & (rate < 0.98)).all(), rate


@given(st.lists(st.floats(-3, 3), min_size=6, max_size=30), st.integers(0, 2**32 - 1))
def test_pratt_importances_add_up_to_one(values: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.array(values) + rng.normal(0, 0.1, size=len(values))
    g1 = rng.normal(size=len(values))
    g4 = y * 0.5 + rng.normal(0, 0.2, size=len(values))
    d = gap_model(y, gap1=g1, gap4=g4).drivers()
    assert sum(g.importance for g in d.gaps) == pytest.approx(1.0)
    assert 0 <= d.r_squared <= 1


def test_from_servqual_scores_per_unit() -> None:
    """Gap 5 per unit from customers' SERVQUAL answers, gap 3 per unit from staff answers."""
    rng = np.random.default_rng(3)
    n_units, per_unit = 12, 40
    delivery = rng.normal(-0.6, 0.5, size=n_units)  # each unit's true delivery gap
    unit = np.repeat(np.arange(n_units), per_unit)
    e = np.clip(np.rint(rng.normal(5.5, 0.8, size=(unit.size, 22))), 1, 7)
    p = np.clip(np.rint(e + delivery[unit, None] + rng.normal(0, 0.7, size=e.shape)), 1, 7)
    per_respondent = (p - e).mean(axis=1)
    labels, g5 = unit_means(per_respondent, unit)
    assert labels.tolist() == list(range(n_units))
    assert g5[0] == pytest.approx(servqual(e[:40], p[:40]).item_mean.mean())
    staff = delivery[unit] + rng.normal(0, 0.3, size=unit.size)
    _, g3 = unit_means(staff, unit)
    model = gap_model(
        g5, gap3=g3, units=[f"branch {i}" for i in labels], notes={"gap3": "staff survey"}
    )
    d = model.drivers()
    assert d.drivers == ("gap3",)
    assert json.loads(json.dumps(model.to_dict()))["notes"] == {"gap3": "staff survey"}
    assert json.loads(json.dumps(d.to_dict()))["drivers"] == ["gap3"]
    assert "delivery gap" in str(d) and "<- driver" in str(d)


def test_gap_names() -> None:
    assert [GAPS[g][0] for g in ("gap1", "gap2", "gap3", "gap4", "gap5")] == [
        "knowledge gap",
        "standards gap",
        "delivery gap",
        "communications gap",
        "customer gap",
    ]


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="gap1"):
        gap_model([1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match=r"gap2.*3 values"):
        gap_model([1.0, 2.0, 3.0], gap2=[1.0, 2.0])
    with pytest.raises(ValidationError, match=r"gap3.*positions 1"):
        gap_model([1.0, 2.0, 3.0], gap3=[1.0, float("nan"), 2.0])
    with pytest.raises(ValidationError, match=r"gap4.*same in every unit"):
        gap_model([1.0, 2.0, 3.0], gap4=[1.0, 1.0, 1.0])
    with pytest.raises(ValidationError, match="units"):
        gap_model([1.0, 2.0, 3.0], gap1=[1.0, 2.0, 0.0], units=["a", "a", "b"])
    with pytest.raises(ValidationError, match="notes"):
        gap_model([1.0, 2.0, 3.0], gap1=[1.0, 2.0, 0.0], notes={"gap6": "?"})
    with pytest.raises(InsufficientData, match="at least 4 units"):
        gap_model([1.0, 2.0, 3.0], gap1=[1.0, 2.0, 0.0], gap2=[0.0, 1.0, 1.0]).drivers()
    with pytest.raises(InsufficientData, match="collinear"):
        gap_model(
            [1.0, 2.0, 3.0, 5.0], gap1=[1.0, 2.0, 0.0, 1.0], gap2=[2.0, 4.0, 0.0, 2.0]
        ).drivers()
    with pytest.raises(ValidationError, match="confidence"):
        gap_model([1.0, 2.0, 3.0], gap1=[1.0, 2.0, 0.0]).drivers(confidence=95)
    with pytest.raises(ValidationError, match="units"):
        unit_means([1.0, 2.0], ["a"])
    with pytest.raises(InsufficientData):
        unit_means([], [])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_demo_study_recovers_what_was_put_in(seed: int) -> None:
    """The demo SERVQUAL study: gap 5 is driven by gaps 3 and 4 (true effects 0.8 and 0.4), not 1 and 2."""
    from crmkit.datasets import demo_kano_survey, demo_servqual_survey
    from crmkit.datasets._surveys import TRUE_GAP_EFFECTS
    from crmkit.satisfaction import kano

    study = demo_servqual_survey(seed)
    r = servqual(study.expectations, study.perceptions, importance=study.importance)
    assert r.worst_dimension == "reliability"
    _, g5 = unit_means((study.perceptions - study.expectations).mean(axis=1), study.branch)
    d = gap_model(g5, **study.gaps).drivers()
    assert set(d.drivers) == {"gap3", "gap4"}
    for g, true in zip(d.gaps, TRUE_GAP_EFFECTS, strict=True):
        # Rounding answers to the 1-7 scale attenuates the effects a little.
        assert abs(g.coefficient - true) < 0.25
    k = demo_kano_survey(seed)
    found = tuple(
        f.category for f in kano(k.functional, k.dysfunctional, features=k.features).features
    )
    assert found == k.truth
