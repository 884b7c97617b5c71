"""The customer-base models against the papers' published figures, peers' check values and simulations."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln

from crmkit.datasets import load_cdnow_summary, load_donations
from crmkit.errors import (
    BoundaryWarning,
    ConvergenceError,
    InsufficientData,
    NotFittedError,
    ValidationError,
)
from crmkit.value import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeo,
    compress,
    customer_lifetime_value,
)


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bgnbd(cdnow: dict[str, np.ndarray]) -> BetaGeo:
    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def pareto(cdnow: dict[str, np.ndarray]) -> ParetoNBD:
    return ParetoNBD().fit(cdnow)


# -- BG/NBD ------------------------------------------------------------------------------------


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd: BetaGeo) -> None:
    """FHL (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4."""
    p = bgnbd.params_
    assert p is not None
    assert [round(p[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    # Standard errors of the BTYD walkthrough: 0.0126, 0.378, 0.186, 0.705.
    se = bgnbd.standard_errors_
    assert [round(se[k], 4) for k in ("r", "alpha")] == [0.0126, 0.3782]
    assert se["a"] == pytest.approx(0.186, abs=5e-4)
    assert se["b"] == pytest.approx(0.705, abs=5e-4)


def test_bgnbd_predictions_match_check_values(bgnbd: BetaGeo) -> None:
    # The CDNOW customer with x = 26, t_x = 30.857, T = 31 over the next 52 weeks (BTYD, CLVTools).
    assert bgnbd.conditional_expected_purchases(52, 26, 30.857, 31) == pytest.approx(
        25.75659, rel=1e-4
    )
    assert bgnbd.probability_alive(26, 30.857, 31) == pytest.approx(0.9688523, rel=1e-6)
    assert bgnbd.expected_purchases(52) == pytest.approx(1.444004, rel=2e-5)
    # With the paper's rounded parameters, BTYD's probability mass function.
    rounded = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert rounded.probability_of_purchases(39, 0) == pytest.approx(0.5737864, rel=1e-6)
    assert rounded.probability_of_purchases(2, 10) == pytest.approx(1.07869e-07, rel=1e-4)
    expected = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260]  # fmt: skip
    np.testing.assert_allclose(
        rounded.probability_of_purchases(30, np.arange(11, 21)), expected, rtol=1e-6
    )


def test_bgnbd_stable_where_naive_code_returns_nan() -> None:
    m = BetaGeo()
    ll = m.log_likelihood(
        [200, 0], [38, 0], [40, 40], params={"r": 0.25, "alpha": 4, "a": 0.8, "b": 2.5}
    )
    np.testing.assert_allclose(ll, [100.7957, -0.59947382], rtol=1e-6)
    big = BetaGeo.from_params(r=0.25, alpha=4, a=0.8, b=2.5)
    assert big.probability_alive(1000, 10, 100) == 0.0
    e = big.conditional_expected_purchases(52, 1000, 99.5, 100)
    assert np.isfinite(e) and e > 0


def test_bgnbd_pmf_sums_to_one_and_has_the_expected_mean() -> None:
    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    n = np.arange(0, 400)
    pmf = m.probability_of_purchases(39, n)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (pmf * n).sum() == pytest.approx(float(m.expected_purchases(39)), rel=1e-4)


def test_bgnbd_expectations_agree_with_simulation() -> None:
    """E[X(t)] and E[Y(t) | x, t_x, T] checked by simulating 400,000 customers."""
    m = BetaGeo.from_params(r=0.5, alpha=3.0, a=1.5, b=3.0)
    rng = np.random.default_rng(7)
    sim = m.simulate(np.full(400_000, 52.0), seed=rng)
    mean = sim["frequency"].mean()
    se = sim["frequency"].std() / np.sqrt(400_000)
    assert abs(mean - m.expected_purchases(52)) < 4 * se


def test_bgnbd_analytic_gradient_matches_differences() -> None:
    m = BetaGeo()
    c = load_cdnow_summary()
    x, tx, T = c["frequency"].astype(float), c["recency"], c["T"]
    fit_data, fit_w = m._fit_data(x, tx, T, np.ones(T.size))
    data, w = m._prepare(x, tx, T), np.ones(T.size)
    theta = np.array([0.3, 5.0, 0.9, 2.0])
    value, grad = m._objective(theta, fit_data, fit_w)
    assert value == pytest.approx(float(w @ m._loglik(theta, data)), rel=1e-12)
    for i in range(4):
        h = 1e-6 * theta[i]
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        num = (w @ m._loglik(up, data) - w @ m._loglik(down, data)) / (2 * h)
        assert grad[i] == pytest.approx(num, rel=1e-5)


def test_compressed_fit_equals_full_fit(cdnow: dict[str, np.ndarray], bgnbd: BetaGeo) -> None:
    c = compress(cdnow)
    assert len(c) < len(cdnow["T"]) and c.weights.sum() == len(cdnow["T"])
    m = BetaGeo().fit(c)
    assert m.params_ is not None and bgnbd.params_ is not None
    for k, v in bgnbd.params_.items():
        assert m.params_[k] == pytest.approx(v, rel=1e-5)
    assert m.log_likelihood_ == pytest.approx(bgnbd.log_likelihood_, rel=1e-9)
    back = c.expand(m.probability_alive(c.frequency, c.recency, c.T))
    np.testing.assert_allclose(
        back, bgnbd.probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"]), rtol=1e-5
    )


def test_summary_reads_and_serializes(bgnbd: BetaGeo) -> None:
    s = bgnbd.summary()
    text = str(s)
    assert "BG/NBD" in text and "alpha" in text and "-9,582.43" in text
    d = json.loads(json.dumps(s.to_dict()))
    lo, hi = d["parameters"]["r"]["interval"]
    assert lo < d["parameters"]["r"]["estimate"] < hi
    assert s.aic == pytest.approx(2 * 4 + 2 * 9582.43, abs=0.1)
    assert "BetaGeo(r=0.2426" in repr(bgnbd) and "fitted on 2,357 customers" in repr(bgnbd)


# -- Pareto/NBD -------------------------------------------------------------------------------


def test_pareto_reproduces_the_paper(pareto: ParetoNBD) -> None:
    """FHL (2005): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0."""
    p = pareto.params_
    assert p is not None
    assert [round(p[k], 3) for k in ("r", "alpha", "s")] == [0.553, 10.578, 0.606]
    assert p["beta"] == pytest.approx(11.669, abs=0.05)  # loosely determined (SE about 6.2)
    assert pareto.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert pareto.standard_errors_["beta"] == pytest.approx(6.2, abs=0.1)


def test_pareto_predictions_match_check_values(pareto: ParetoNBD) -> None:
    assert pareto.conditional_expected_purchases(52, 26, 30.857, 31) == pytest.approx(
        25.45647, rel=1e-4
    )
    assert pareto.probability_alive(26, 30.857, 31) == pytest.approx(0.997874, rel=1e-5)
    assert pareto.expected_purchases(52) == pytest.approx(1.473434, rel=2e-5)


def test_pareto_stable_for_heavy_buyers() -> None:
    """CLVTools' stability cases: finite P(alive) for x = 221, 254, 161, 204, both hypergeometric branches."""
    for params in (
        {"r": 0.5143, "alpha": 2.8845, "s": 0.2856, "beta": 14.1087},  # alpha < beta
        {"r": 0.5143, "alpha": 14.1087, "s": 0.2856, "beta": 2.8845},  # alpha > beta
    ):
        m = ParetoNBD.from_params(**params)
        x = np.array([221, 254, 161, 204])
        p = m.probability_alive(x, np.array([37.0, 30.0, 21.0, 38.5]), np.full(4, 38.86))
        assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
        ll = m.log_likelihood(x, [37.0, 30.0, 21.0, 38.5], np.full(4, 38.86))
        assert np.all(np.isfinite(ll))


def test_pareto_branches_agree_where_alpha_equals_beta() -> None:
    """Both forms of A0 are one function: on either side of alpha = beta they meet."""
    x, tx, T = np.array([0.0, 3.0, 10.0]), np.array([0.0, 20.0, 35.0]), np.full(3, 40.0)
    below = ParetoNBD().log_likelihood(
        x, tx, T, params={"r": 0.5, "alpha": 5.0 - 1e-7, "s": 0.7, "beta": 5.0}
    )
    above = ParetoNBD().log_likelihood(
        x, tx, T, params={"r": 0.5, "alpha": 5.0 + 1e-7, "s": 0.7, "beta": 5.0}
    )
    np.testing.assert_allclose(below, above, rtol=1e-6)


def test_pareto_likelihood_integrates_the_paper_formula() -> None:
    """The closed form equals the integral form of Fader & Hardie's note, computed by quadrature."""
    from scipy.integrate import quad
    from scipy.special import gammaln

    r, alpha, s, beta = 0.55, 10.6, 0.6, 11.7
    for x, tx, T in ((0, 0.0, 38.0), (2, 30.4, 38.9), (15, 35.0, 39.0)):
        head = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta))
        integral = quad(lambda y, x=x: (alpha + y) ** -(r + x) * (beta + y) ** -(s + 1), tx, T)[0]
        direct = head * ((alpha + T) ** -(r + x) * (beta + T) ** -s + s * integral)
        ours = ParetoNBD().log_likelihood(
            [x], [tx], [T], params={"r": r, "alpha": alpha, "s": s, "beta": beta}
        )
        assert ours[0] == pytest.approx(np.log(direct), rel=1e-8)


def test_pareto_expectation_agrees_with_simulation() -> None:
    m = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.6, beta=11.7)
    sim = m.simulate(np.full(400_000, 52.0), seed=3)
    se = sim["frequency"].std() / np.sqrt(400_000)
    assert abs(sim["frequency"].mean() - m.expected_purchases(52)) < 4 * se


# -- recovery by simulation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "true", "fits"),
    [
        (BetaGeo, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 200),
        (ParetoNBD, {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}, 60),
    ],
)
def test_intervals_cover_the_true_parameters(
    model: type, true: dict[str, float], fits: int
) -> None:
    """Simulate customer bases of 3,000 from known parameters; the 95% intervals cover ~95%.

    Binomial noise on ``fits`` repetitions is 1.5-3 points; the bound leaves three of those.
    """
    rng = np.random.default_rng(2005)
    gen = model.from_params(**true)
    covered = dict.fromkeys(true, 0)
    for _ in range(fits):
        sim = gen.simulate(rng.uniform(20, 52, 3000), seed=rng)
        ci = model().fit(sim).confidence_intervals()
        for k, v in true.items():
            covered[k] += ci[k][0] <= v <= ci[k][1]
    rates = {k: v / fits for k, v in covered.items()}
    assert all(0.86 <= r <= 1.0 for r in rates.values()), rates


# -- Gamma-Gamma and CLV --------------------------------------------------------------------------


def test_gamma_gamma_reproduces_the_paper(cdnow: dict[str, np.ndarray]) -> None:
    """FHL (2005, RFM and CLV): p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat customers."""
    g = GammaGamma().fit(cdnow["frequency"], cdnow["monetary_value"])
    assert g.params_ is not None
    assert [round(g.params_[k], 2) for k in ("p", "q")] == [6.25, 3.74]
    # 15.4477 at the maximum (lifetimes agrees); the paper prints 15.44 and the likelihood is flat
    # along gamma (standard error 4.2).
    assert g.params_["gamma"] == pytest.approx(15.44, abs=0.01)
    assert g.summary().n == 946
    # The conditional expectation is the weighted mean of the population and the customer's mean.
    p, q, gam = (g.params_[k] for k in ("p", "q", "gamma"))
    pop = p * gam / (q - 1)
    assert g.expected_spend() == pytest.approx(pop)
    w = (q - 1) / (p * 2 + q - 1)
    assert g.conditional_expected_spend(2, 40.0) == pytest.approx(w * pop + (1 - w) * 40.0)


def test_gamma_gamma_intervals_cover_simulated_parameters() -> None:
    true = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    rng = np.random.default_rng(11)
    fits, covered = 100, dict.fromkeys(true, 0)
    for _ in range(fits):
        x = rng.integers(1, 10, size=3000)
        sim = GammaGamma.from_params(**true).simulate(x, seed=rng)
        ci = GammaGamma().fit(sim["frequency"], sim["monetary_value"]).confidence_intervals()
        for k, v in true.items():
            covered[k] += ci[k][0] <= v <= ci[k][1]
    assert all(0.88 <= c / fits <= 1.0 for c in covered.values()), covered


def test_customer_lifetime_value(cdnow: dict[str, np.ndarray], bgnbd: BetaGeo) -> None:
    g = GammaGamma().fit(cdnow)
    value = customer_lifetime_value(bgnbd, g, cdnow, horizon=12, discount_rate=0.01)
    assert value.shape == cdnow["T"].shape and np.all(value >= 0)
    # By hand for one customer and one period without discounting: purchases in the period x spend.
    one = {k: v[:1] for k, v in cdnow.items()}
    v1 = customer_lifetime_value(bgnbd, g, one, horizon=1, period=4.0, discount_rate=0.0)
    x, tx, T, m = (one[k][0] for k in ("frequency", "recency", "T", "monetary_value"))
    hand = bgnbd.conditional_expected_purchases(4.0, x, tx, T) * g.conditional_expected_spend(x, m)
    assert v1[0] == pytest.approx(float(hand))
    # Discounting lowers it; a longer horizon raises it.
    assert customer_lifetime_value(bgnbd, g, one, horizon=24)[0] > value[0]
    with pytest.raises(ValidationError, match="horizon"):
        customer_lifetime_value(bgnbd, g, cdnow, horizon=0)


# -- sBG --------------------------------------------------------------------------------------------


def test_sbg_reproduces_fader_hardie_2007() -> None:
    regular = ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    high = ShiftedBetaGeo().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    assert regular.params_ is not None and high.params_ is not None
    assert [round(v, 3) for v in regular.params_.values()] == [0.704, 1.182]
    assert [round(v, 3) for v in high.params_.values()] == [0.668, 3.806]
    # Retention rises over time: r(t) = (beta + t - 1) / (alpha + beta + t - 1), and S(t) = prod r.
    t = np.arange(1, 13)
    r = regular.retention(t)
    assert np.all(np.diff(r) > 0)
    np.testing.assert_allclose(np.cumprod(r), regular.survival(t), rtol=1e-12)
    np.testing.assert_allclose(
        regular.survival(t - 1) - regular.survival(t), regular.churn_probability(t), rtol=1e-12
    )


def test_sbg_derl_equals_the_discounted_sum() -> None:
    """DERL (Fader & Hardie 2010) against a direct sum of discounted survival probabilities."""
    m = ShiftedBetaGeo.from_params(alpha=0.668, beta=3.806)
    d = 0.1
    k = np.arange(0, 4000)
    for renewals in (0, 1, 4, 10):
        n = renewals + 1
        direct = (m.survival(n + k) / m.survival(n - 1) * (1 + d) ** -k).sum()
        assert float(m.derl(d, renewals)) == pytest.approx(direct, rel=1e-9)
    assert np.all(np.diff(m.derl(d, np.arange(10))) > 0)  # survivors are worth more


def test_sbg_recovers_simulated_parameters() -> None:
    m = ShiftedBetaGeo.from_params(alpha=1.2, beta=2.5)
    fit = ShiftedBetaGeo().fit(**m.simulate(50_000, 10, seed=1))
    ci = fit.confidence_intervals(0.99)
    assert ci["alpha"][0] <= 1.2 <= ci["alpha"][1]
    assert ci["beta"][0] <= 2.5 <= ci["beta"][1]


# -- BG/BB ------------------------------------------------------------------------------------------


def test_bgbb_reproduces_fader_hardie_shang_2010() -> None:
    d = load_donations()
    m = BetaGeoBetaBinom().fit(d["frequency"], d["recency"], d["n_periods"], weights=d["weights"])
    assert m.params_ is not None
    assert [round(v, 3) for v in m.params_.values()] == [1.204, 0.750, 0.657, 2.783]
    assert m.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)


def test_bgbb_predictions_agree_with_simulation() -> None:
    """E[X(n)] and E[X(n, n + n*) | x, t_x, n] against 300,000 simulated donors over 11 opportunities."""
    m = BetaGeoBetaBinom.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    rng = np.random.default_rng(2010)
    sim = m.simulate(300_000, 11, seed=rng)
    se = sim["frequency"].std() / np.sqrt(300_000)
    assert abs(sim["frequency"].mean() - m.expected_purchases(11)) < 4 * se
    # Condition on the first 6 opportunities: rerun the same draws with a shorter horizon.
    first = m.simulate(300_000, 6, seed=np.random.default_rng(2010))
    later = sim["frequency"] - first["frequency"]
    for x, tx in ((0, 0), (3, 6), (2, 3), (6, 6)):
        pick = (first["frequency"] == x) & (first["recency"] == tx)
        expected = m.conditional_expected_purchases(5, x, tx, 6)[0]
        se = later[pick].std() / np.sqrt(pick.sum())
        assert abs(later[pick].mean() - expected) < 4 * se + 1e-3, (x, tx)
    p = m.probability_alive([0, 3, 6], [0, 6, 6], [6, 6, 6])
    assert np.all((p > 0) & (p < 1)) and p[2] > p[1] > p[0]


def test_bgbb_likelihood_by_hand() -> None:
    """One donor with x = 1, t_x = 1, n = 2 (FHS 2010, eq. 5 written out)."""
    a, b, g, d = 1.2, 0.75, 0.66, 2.8
    alive = np.exp(betaln(a + 1, b + 1) - betaln(a, b) + betaln(g, d + 2) - betaln(g, d))
    died = np.exp(betaln(a + 1, b) - betaln(a, b) + betaln(g + 1, d + 1) - betaln(g, d))
    ll = BetaGeoBetaBinom().log_likelihood(
        [1], [1], [2], params={"alpha": a, "beta": b, "gamma": g, "delta": d}
    )
    assert ll[0] == pytest.approx(np.log(alive + died), rel=1e-12)


# -- bad input ----------------------------------------------------------------------------------------


def test_degenerate_data_is_refused_with_reasons() -> None:
    with pytest.raises(InsufficientData, match="no customer made a repeat purchase"):
        BetaGeo().fit([0, 0, 0], [0, 0, 0], [10, 20, 30])
    with pytest.raises(ValidationError, match=r"T: must be >= 0.*positions 1"):
        BetaGeo().fit([1, 0], [2.0, 0.0], [5.0, -1.0])
    with pytest.raises(ValidationError, match=r"recency: must be finite.*positions 0"):
        ParetoNBD().fit([1, 0], [float("nan"), 0.0], [5.0, 3.0])
    with pytest.raises(ValidationError, match="frequency: must be whole numbers"):
        BetaGeo().fit([-1, 2], [0.0, 1.0], [5.0, 3.0])
    with pytest.raises(ValidationError, match="recency: must be between 0 and T"):
        BetaGeo().fit([1, 2], [6.0, 1.0], [5.0, 3.0])
    with pytest.raises(ValidationError, match="weights"):
        BetaGeo().fit([1, 2], [1.0, 1.0], [5.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(NotFittedError, match=r"call fit\(\) or from_params\(\)"):
        BetaGeo().probability_alive(1, 1, 2)
    with pytest.raises(ValidationError, match="missing a"):
        BetaGeo.from_params(r=1.0, alpha=1.0, b=1.0)
    with pytest.raises(ValidationError, match="alpha: must be a finite number > 0"):
        BetaGeo.from_params(r=1.0, alpha=-1.0, a=1.0, b=1.0)
    with pytest.raises(InsufficientData):
        GammaGamma().fit([1], [10.0])
    with pytest.raises(ValidationError, match="monetary_value: must be > 0"):
        GammaGamma().fit([1, 2], [10.0, 0.0])
    with pytest.raises(ValidationError, match="survivors: must not grow"):
        ShiftedBetaGeo().fit([1000, 600, 700])
    with pytest.raises(InsufficientData):
        ShiftedBetaGeo().fit([1000, 1000, 1000])
    with pytest.raises(ValidationError, match="recency"):
        BetaGeoBetaBinom().fit([2, 1], [1, 1], [6, 6])  # two purchases by opportunity 1


def test_customers_observed_for_no_time_contribute_nothing() -> None:
    """rfm_summary gives T = 0 to customers whose first purchase is on the last day: log L = 0."""
    c = load_cdnow_summary()
    m = BetaGeo.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4)
    assert m.log_likelihood([0], [0.0], [0.0])[0] == 0.0
    assert (
        ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.6, beta=11.7).log_likelihood(
            [0], [0.0], [0.0]
        )[0]
        == 0.0
    )
    x = np.append(c["frequency"], 0)
    tx, T = np.append(c["recency"], 0.0), np.append(c["T"], 0.0)
    a, b = BetaGeo().fit(c), BetaGeo().fit(x, tx, T)
    assert a.params_ is not None and b.params_ is not None
    assert b.params_["r"] == pytest.approx(a.params_["r"], rel=1e-6)


def test_one_customer_gives_the_limit_model_not_nan() -> None:
    """One customer: every customer (the one) buys at one rate and nobody drops out."""
    with pytest.warns(BoundaryWarning, match="buys at the same rate"):
        m = BetaGeo().fit([3], [20.0], [30.0])
    assert m.limit_ is not None and m.params_ is not None
    assert not any(np.isnan(v) for v in m.params_.values())
    assert m.limit_.params["lambda"] == pytest.approx(3 / 30)  # the Poisson rate's estimate
    assert np.isfinite(m.log_likelihood_)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.floats(0.01, 1.0), st.floats(1.0, 80.0)),
        min_size=5,
        max_size=60,
    )
)
def test_fits_end_finite_or_raise_cleanly(rows: list[tuple[int, float, float]]) -> None:
    """Whatever the data, a fit gives a model without NaN (a limit model included), or a crmkit error."""
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    for model in (BetaGeo(), ParetoNBD()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", BoundaryWarning)
                model.fit(x, tx, T)
        except (InsufficientData, ConvergenceError):
            continue
        assert model.params_ is not None
        assert all(not np.isnan(v) and v >= 0 for v in model.params_.values())
        if model.limit_ is None:
            assert all(np.isfinite(v) and v > 0 for v in model.params_.values())
        assert np.isfinite(model.log_likelihood_)
        p = model.probability_alive(x, tx, T)
        assert np.all((p >= 0) & (p <= 1))
        assert np.all(np.isfinite(model.conditional_expected_purchases(10, x, tx, T)))


def test_gamma_gamma_fused_objective_matches_the_rows() -> None:
    c = load_cdnow_summary()
    keep = c["frequency"] > 0
    x, m = c["frequency"][keep].astype(float), c["monetary_value"][keep]
    g = GammaGamma()
    w = np.linspace(0.5, 2.0, x.size)
    ux, inv = np.unique(x, return_inverse=True)
    idx = inv.astype(np.intp)
    data = (
        x, m, ux, idx,
        np.bincount(idx, weights=w), np.bincount(idx, weights=w * np.log(m)),
        x * m, np.empty(x.size),
    )  # fmt: skip
    theta = np.array([5.0, 3.0, 12.0])
    value, grad = g._objective(theta, data, w)
    assert value == pytest.approx(float(w @ g._loglik(theta, (x, m))), rel=1e-12)
    np.testing.assert_allclose(grad, g._gradient(theta, (x, m)) @ w, rtol=1e-10)


def test_a_small_base_with_polarised_dropout_reports_the_limit() -> None:
    """A small base whose BG/NBD maximum has a, b -> 0: the polarised limit, with its standard errors."""
    from collections import Counter

    from crmkit.datasets import demo_customer_base
    from crmkit.value import rfm_summary_from_orders

    base = demo_customer_base(11, retail_customers=40, accounts=5)
    currency = Counter(o.currency for o in base.orders).most_common(1)[0][0]
    orders = [o for o in base.orders if o.contact_id is not None and o.currency == currency]
    s = rfm_summary_from_orders(orders, observation_end=base.observation_end, currency=currency)
    with pytest.warns(BoundaryWarning, match="polarise"):
        m = BetaGeo().fit(s)
    assert m.params_ is not None and (m.params_["a"], m.params_["b"]) == (0.0, 0.0)
    summary = m.summary()
    assert summary.identified and summary.names == ("r", "alpha", "share")
    assert "limit model: the dropout probabilities polarise" in str(summary)
    assert summary.to_dict()["limit"]["diverging"] == ["a", "b"]
    assert set(m.standard_errors_) == {"r", "alpha", "share"}
    e = m.conditional_expected_purchases(52, s)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)
    # the same maximum from another start
    with pytest.warns(BoundaryWarning):
        other = BetaGeo().fit(s, initial_params={"r": 2.0, "alpha": 1.0, "a": 5.0, "b": 0.5})
    assert other.log_likelihood_ == pytest.approx(m.log_likelihood_, abs=1e-8)
    assert other.limit_ is not None
    for k, v in m.limit_.params.items():  # type: ignore[union-attr]
        assert other.limit_.params[k] == pytest.approx(v, rel=1e-6)


def test_pareto_series_and_gradient() -> None:
    """The series of 2F1(1, b; c; z) equals scipy's hyp2f1; the analytic gradient equals differences."""
    from scipy.special import hyp2f1

    from crmkit.value._pareto import _series

    rng = np.random.default_rng(4)
    b = rng.uniform(0.1, 30, 500)
    c = b + rng.uniform(0.1, 5, 500)
    z = rng.uniform(0, 0.7, 500)
    h, hb, hc, hz = _series(b, c, z)
    np.testing.assert_allclose(h, hyp2f1(1.0, b, c, z), rtol=1e-13)
    eps = 1e-6
    np.testing.assert_allclose(
        hb,
        (hyp2f1(1.0, b + eps, c, z) - hyp2f1(1.0, b - eps, c, z)) / (2 * eps),
        rtol=1e-5,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        hc,
        (hyp2f1(1.0, b, c + eps, z) - hyp2f1(1.0, b, c - eps, z)) / (2 * eps),
        rtol=1e-5,
        atol=1e-9,
    )
    np.testing.assert_allclose(hz, b / c * hyp2f1(2.0, b + 1, c + 1, z), rtol=1e-10)
    c_sum = load_cdnow_summary()
    x, tx, T = c_sum["frequency"].astype(float), c_sum["recency"], c_sum["T"]
    data = ParetoNBD._fit_data(x, tx, T)
    m = ParetoNBD()
    w = np.ones(T.size)
    # Both branches (alpha < beta, alpha > beta) and rows past the series' range (z > 0.7).
    for theta in ([0.55, 10.6, 0.6, 11.7], [0.3, 20.0, 1.2, 3.0], [1.0, 2.0, 0.5, 40.0]):
        th = np.array(theta)
        value, grad = m._objective(th, data, w)
        assert value == pytest.approx(float(w @ m._loglik(th, (x, tx, T))), rel=1e-12)
        for i in range(4):
            h_ = 1e-6 * th[i]
            up, dn = th.copy(), th.copy()
            up[i] += h_
            dn[i] -= h_
            num = (w @ m._loglik(up, (x, tx, T)) - w @ m._loglik(dn, (x, tx, T))) / (2 * h_)
            assert grad[i] == pytest.approx(num, rel=1e-5, abs=1e-3)


def assert_hessian_of_gradient(
    hessian: np.ndarray, gradient: Any, theta: np.ndarray, atol: float
) -> None:
    """Each row of ``hessian`` against five-point differences of ``gradient`` (steps 1e-3 of theta)."""
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = 1e-3 * theta[i]
        g = [np.asarray(gradient(theta + k * e)) for k in (2, 1, -1, -2)]
        num = (-g[0] + 8 * g[1] - 8 * g[2] + g[3]) / (12 * e[i])
        np.testing.assert_allclose(hessian[i], num, rtol=1e-7, atol=atol)


def test_pareto_second_order_series() -> None:
    """The series' second derivatives in b, c and z against scipy's hyp2f1: its closed forms in z,
    central differences in b and c of the first-order series (checked above against hyp2f1)."""
    from scipy.special import hyp2f1

    from crmkit.value._pareto import _series, _series_second

    rng = np.random.default_rng(5)
    b = rng.uniform(0.1, 30, 400)
    c = b + rng.uniform(0.1, 5, 400)
    z = np.concatenate((rng.uniform(0, 0.7, 398), [0.0, 1e-9]))
    d = _series_second(b, c, z)
    first = _series(b, c, z)
    for key, value in zip(("h", "b", "c", "z"), first, strict=True):
        np.testing.assert_allclose(d[key], value, rtol=1e-13, atol=1e-300)
    # d/dz 2F1(1, b; c; z) = b / c 2F1(2, b + 1; c + 1; z); once more: 2 b (b + 1) / (c (c + 1)) 2F1(3, ...).
    zz = 2 * b * (b + 1) / (c * (c + 1)) * hyp2f1(3.0, b + 2, c + 2, z)
    np.testing.assert_allclose(d["zz"], zz, rtol=1e-9)
    eps = 1e-5

    def diff(i: int, j: int) -> np.ndarray:
        up, dn = [b, c], [b, c]
        up[j], dn[j] = up[j] + eps, dn[j] - eps
        return (_series(up[0], up[1], z)[i] - _series(dn[0], dn[1], z)[i]) / (2 * eps)

    for key, (i, j) in {
        "bb": (1, 0),
        "bc": (1, 1),
        "cc": (2, 1),
        "bz": (3, 0),
        "cz": (3, 1),
    }.items():
        np.testing.assert_allclose(d[key], diff(i, j), rtol=1e-6, atol=1e-9, err_msg=key)


@pytest.mark.parametrize(
    "theta",
    [[0.553, 10.58, 0.606, 11.67], [0.3, 12.0, 1.2, 6.0], [1.3, 3.0, 2.0, 3.0]],
    ids=["cdnow", "alpha-above-beta", "alpha-equals-beta"],
)
def test_pareto_analytic_hessian(theta: list[float]) -> None:
    """The analytic Hessian against five-point differences of the analytic gradient, weighted
    (so points F(t_x) that serve several rows, and customers seen alive at the end, count)."""
    c = load_cdnow_summary()
    x, tx, T = (np.asarray(c[k], dtype=float) for k in ("frequency", "recency", "T"))
    w = np.random.default_rng(3).uniform(0.5, 2.0, x.size)
    from crmkit.value._fitting import merge_duplicates

    x, tx, T, w = merge_duplicates(x, tx, T, w)
    tx[:3] = T[:3]  # seen alive at the end: no died term
    m = ParetoNBD()
    data = m._fit_data(x, tx, T)
    th = np.array(theta)
    h = m._hessian(th, data, w)
    assert h is not None
    np.testing.assert_array_equal(h, h.T)

    assert_hessian_of_gradient(h, lambda t: m._objective(t, data, w)[1], th, atol=1e-4)
    # Beyond the series' range (z > 0.7) there is no analytic Hessian: the fit differences.
    assert m._hessian(np.array([0.3, 20.0, 1.2, 3.0]), data, w) is None


def test_gamma_gamma_analytic_hessian() -> None:
    from crmkit.value._fitting import distinct_counts

    c = load_cdnow_summary()
    keep = c["frequency"] > 0
    x, m = c["frequency"][keep].astype(float), c["monetary_value"][keep]
    w = np.linspace(0.5, 2.0, x.size)
    ux, idx = distinct_counts(x)
    data = (
        x,
        m,
        ux,
        idx,
        np.bincount(idx, weights=w),
        np.bincount(idx, weights=w * np.log(m)),
        x * m,
        np.empty(x.size),
    )
    g = GammaGamma()
    theta = np.array([5.0, 3.0, 12.0])
    h = g._hessian(theta, data, w)
    for i in range(3):
        step = 1e-5 * theta[i]
        up, dn = theta.copy(), theta.copy()
        up[i] += step
        dn[i] -= step
        num = (g._objective(up, data, w)[1] - g._objective(dn, data, w)[1]) / (2 * step)
        np.testing.assert_allclose(h[i], num, rtol=1e-5)


@pytest.mark.parametrize(
    "theta",
    [[0.243, 4.41, 0.79, 2.43], [1.3, 0.7, 3.0, 0.4], [0.05, 20.0, 0.1, 9.0]],
    ids=["cdnow", "steep", "flat"],
)
def test_bg_nbd_analytic_hessian(theta: list[float]) -> None:
    """The analytic Hessian against five-point differences of the analytic gradient (which
    the gradient test checks against the likelihood), weighted, with and without repeats."""
    c = load_cdnow_summary()
    x, tx, T = (np.asarray(c[k], dtype=float) for k in ("frequency", "recency", "T"))
    w = np.random.default_rng(3).uniform(0.5, 2.0, x.size)
    m = BetaGeo()
    data, sw = m._fit_data(x, tx, T, w)
    th = np.array(theta)
    h = m._hessian(th, data, sw)
    np.testing.assert_array_equal(h, h.T)

    assert_hessian_of_gradient(h, lambda t: m._objective(t, data, sw)[1], th, atol=1e-3)


def test_a_maximum_found_near_the_boundary_predicts_on_the_closed_space() -> None:
    """Found by hypothesis: the closed-space search ended inside, at s = 2e4, beta = 1e15 (the
    dropout rate s / beta ~ 2e-11), where the natural formulas cancel to NaN; predictions of a
    fit that ended on the closed space use its formulas."""
    x = np.array([0.0, 0, 0, 11, 28])
    T = np.array([1.0, 1.0, 34.0, 16.1875, 18.0])
    tx = np.where(x > 0, np.array([1.0, 1.0, 1.0, 0.9999999999999999, 0.984375]) * T, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        model = ParetoNBD().fit(x, tx, T)
    p = model.probability_alive(x, tx, T)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.all(np.isfinite(model.conditional_expected_purchases(10, x, tx, T)))
