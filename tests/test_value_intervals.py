"""Intervals on predictions: they agree across methods and hold their nominal rate over simulated data."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.datasets import load_cdnow_summary
from crmkit.errors import NotFittedError, ValidationError
from crmkit.value import (
    BetaGeo,
    GammaGamma,
    GammaGammaCovariates,
    ParetoNBDCovariates,
    customer_lifetime_value,
    prediction_interval,
)

_PROFILES = (np.array([0.0, 3, 10]), np.array([0.0, 40, 50]), np.full(3, 52.0))


def _purchases(m: BetaGeo) -> np.ndarray:
    """A prospect's purchases in a year, and three customers' in the next half year."""
    return np.concatenate(
        [np.ravel(m.expected_purchases(52.0)), m.conditional_expected_purchases(26, *_PROFILES)]
    )


def test_delta_intervals_hold_their_rate_over_simulated_data_sets() -> None:
    truth = BetaGeo.from_params(r=0.8, alpha=8.0, a=0.9, b=3.0)
    want = _purchases(truth)
    alive = truth.probability_alive(*_PROFILES)[1:]
    rng = np.random.default_rng(0)
    hits, hits_alive = [], []
    for _ in range(150):
        fit = BetaGeo().fit(**truth.simulate(np.full(1500, 52.0), seed=rng))
        iv = prediction_interval(_purchases, fit)
        hits.append((iv.lower < want) & (want < iv.upper))
        ia = prediction_interval(lambda m: m.probability_alive(*_PROFILES)[1:], fit, scale="logit")
        hits_alive.append((ia.lower < alive) & (alive < ia.upper))
    # 150 data sets: a 95 % interval's coverage is 0.95 +- 0.018 (one binomial standard error).
    assert np.all(np.abs(np.mean(hits, axis=0) - 0.95) < 0.055), np.mean(hits, axis=0)
    assert np.all(np.abs(np.mean(hits_alive, axis=0) - 0.95) < 0.055)


def test_the_three_methods_agree_on_a_segment_total() -> None:
    d = load_cdnow_summary()
    x, tx, T = d["frequency"], d["recency"], d["T"]
    bg = BetaGeo().fit(x, tx, T)

    def total(m: BetaGeo) -> float:
        return float(m.conditional_expected_purchases(52, x, tx, T).sum())

    delta = prediction_interval(total, bg)
    drawn = prediction_interval(total, bg, method="simulation", draws=400, seed=1)
    boot = prediction_interval(
        total, bg, method="bootstrap", draws=40, seed=2,
        refit=lambda rng: BetaGeo().fit(**bg.simulate(T, seed=rng)),
    )  # fmt: skip
    assert delta.estimate == drawn.estimate == boot.estimate == pytest.approx(total(bg))
    for other in (drawn, boot):
        assert other.std_error == pytest.approx(float(delta.std_error), rel=0.35)
        assert other.lower < delta.estimate < other.upper
    assert boot.draws == 40 and "bootstrap" in str(boot) and boot.to_dict()["method"] == "bootstrap"


def test_clv_interval_combines_the_transaction_and_spend_models() -> None:
    d = load_cdnow_summary()
    bg = BetaGeo().fit(d["frequency"], d["recency"], d["T"])
    gg = GammaGamma().fit(d["frequency"], d["monetary_value"])
    iv = prediction_interval(lambda b, g: customer_lifetime_value(b, g, d), bg, gg)
    only_bg = prediction_interval(lambda b: customer_lifetime_value(b, gg, d), bg)
    assert (
        np.all(iv.lower > 0) and np.all(iv.lower < iv.estimate) and np.all(iv.estimate < iv.upper)
    )
    # Both models' uncertainty: wider than the transaction model's alone, for every customer.
    assert np.all(iv.std_error >= only_bg.std_error)
    assert np.any(iv.std_error > 1.05 * only_bg.std_error)


def test_intervals_of_covariate_models_by_group() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    g = rng.integers(0, 2, n).astype(float)
    truth = ParetoNBDCovariates.from_params(
        r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"g": 0.4}, dropout={"g": -0.5}
    )
    sim = truth.simulate(np.full(n, 52.0), purchase={"g": g}, dropout={"g": g}, seed=1)
    fit = ParetoNBDCovariates().fit(**sim, purchase={"g": g}, dropout={"g": g})
    groups = {"g": [0.0, 1.0]}
    iv = prediction_interval(
        lambda m: m.expected_purchases(52.0, purchase=groups, dropout=groups, customers=2), fit
    )
    want = truth.expected_purchases(52.0, purchase=groups, dropout=groups, customers=2)
    assert np.all((iv.lower < want) & (want < iv.upper))
    spend = GammaGammaCovariates.from_params(p=6.0, q=4.0, gamma=15.0, spend={"g": 0.3})
    draw = spend.simulate(rng.integers(1, 8, n), spend={"g": g}, seed=3)
    gg = GammaGammaCovariates().fit(draw["frequency"], draw["monetary_value"], spend={"g": g})
    iv = prediction_interval(lambda m: m.expected_spend(spend=groups, customers=2), gg)
    want = spend.expected_spend(spend=groups, customers=2)
    assert np.all((iv.lower < want) & (want < iv.upper))


def test_coefficient_intervals_hold_their_rate() -> None:
    truth = GammaGammaCovariates.from_params(
        p=2.0, q=4.0, gamma=40.0, spend={"g": 0.3, "age": -0.2}
    )
    rng = np.random.default_rng(8)
    hits = []
    for _ in range(60):
        g, age = rng.integers(0, 2, 800).astype(float), rng.standard_normal(800)
        sim = truth.simulate(rng.integers(1, 10, 800), spend={"g": g, "age": age}, seed=rng)
        fit = GammaGammaCovariates().fit(**sim, spend={"g": g, "age": age})
        ci = fit.confidence_intervals()
        hits.append([ci[k][0] < v < ci[k][1] for k, v in truth.params_.items()])
    # 60 fits: coverage of 0.95 +- 0.028; a bias or a wrong Hessian would fall well below.
    assert np.all(np.mean(hits, axis=0) >= 0.85), np.mean(hits, axis=0)


def test_refusals() -> None:
    d = load_cdnow_summary()
    bg = BetaGeo().fit(d["frequency"], d["recency"], d["T"])
    with pytest.raises(ValidationError, match="method"):
        prediction_interval(lambda m: m.expected_purchases(1.0), bg, method="jackknife")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="fitted crmkit model"):
        prediction_interval(lambda m: 1.0, object())
    with pytest.raises(ValidationError, match="refit"):
        prediction_interval(lambda m: m.expected_purchases(1.0), bg, method="bootstrap")
    with pytest.raises(ValidationError, match="positive"):
        prediction_interval(lambda m: m.expected_purchases(1.0) - 10, bg, scale="log")
    given = BetaGeo.from_params(r=0.2, alpha=4.0, a=0.8, b=2.4)
    with pytest.raises(NotFittedError, match="call fit"):
        prediction_interval(lambda m: m.expected_purchases(1.0), given)
