"""Fits whose likelihood peaks on the boundary: the limit model, the same from any start, exact predictions.

The closed parameter space (crmkit.value._mixing) is checked against the
natural parameters inside, against hand-worked limits on the boundary, and
against simulations; the steady-buyer data of issue 15 (which make the
natural fit run off to a, b -> infinity) fit to the same limit model from
every start and under every BLAS thread setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln

from crmkit.datasets import load_cdnow_summary, load_donations
from crmkit.errors import BoundaryWarning, ValidationError
from crmkit.value import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeo,
    customer_lifetime_value,
)
from crmkit.value._mixing import (
    BetaMix,
    gamma_poisson_log,
    gamma_poisson_log_ratio,
    log_rising_over_power,
)

ROOT = Path(__file__).resolve().parents[1]


def steady_buyers(seed: int, n: int) -> dict[str, np.ndarray]:
    """Issue 15's data: frequency Poisson(2), recency uniform on (0, 52), T = 52."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(2, n)
    return {
        "frequency": x,
        "recency": np.where(x > 0, rng.uniform(0, 52, n), 0.0),
        "T": np.full(n, 52.0),
    }


def fit_quietly(model, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        return model.fit(*args, **kwargs)


def assert_same_fit(a, b, rel: float = 1e-6) -> None:  # type: ignore[no-untyped-def]
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9, abs=1e-6)
    assert (a.limit_ is None) == (b.limit_ is None)
    if a.limit_ is not None:
        assert a.limit_.description.split("(")[0] == b.limit_.description.split("(")[0]
        assert a.limit_.params.keys() == b.limit_.params.keys()
        for k, v in a.limit_.params.items():
            assert b.limit_.params[k] == pytest.approx(v, rel=rel), k
    for k, v in a.params_.items():
        assert b.params_[k] == pytest.approx(v, rel=rel), k


# -- the building blocks ---------------------------------------------------------------------


@settings(deadline=None)
@given(
    a=st.floats(0.05, 50),
    b=st.floats(0.05, 50),
    i=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    j=st.lists(st.integers(0, 40), min_size=1, max_size=8),
)
def test_beta_ratios_equal_the_beta_functions(
    a: float, b: float, i: list[int], j: list[int]
) -> None:
    n = min(len(i), len(j))
    ii, jj = np.array(i[:n]), np.array(j[:n])
    mix = BetaMix(a / (a + b), 1 / (a + b + 1), 81)
    np.testing.assert_allclose(
        mix.log_ratio(ii, jj), betaln(a + ii, b + jj) - betaln(a, b), rtol=1e-10, atol=1e-10
    )


def test_beta_ratios_at_the_limits() -> None:
    # one probability p for everyone: B(a + i, b + j) / B(a, b) -> p^i (1 - p)^j
    mix = BetaMix(0.3, 0.0, 20)
    np.testing.assert_allclose(
        np.exp(mix.log_ratio([0, 2, 3], [4, 0, 5])), [0.7**4, 0.09, 0.027 * 0.7**5]
    )
    # polarised: mass 0.3 at p = 1, 0.7 at p = 0; E[p^i (1 - p)^j] is 0 when both i, j > 0
    polar = BetaMix(0.3, 1.0, 20)
    np.testing.assert_allclose(np.exp(polar.log_ratio([0, 2, 1], [4, 0, 1])), [0.7, 0.3, 0.0])
    # continuity: rho = 1e-9 is within 1e-8 of the limit
    near = BetaMix(0.3, 1e-9, 20)
    np.testing.assert_allclose(
        near.log_ratio([0, 2, 3], [4, 0, 5]), mix.log_ratio([0, 2, 3], [4, 0, 5]), atol=1e-7
    )


@settings(deadline=None)
@given(r=st.floats(0.05, 50), alpha=st.floats(0.1, 100), x=st.integers(0, 60), t=st.floats(0, 200))
def test_gamma_poisson_equals_the_closed_form(r: float, alpha: float, x: int, t: float) -> None:
    exact = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + t)
    assert float(gamma_poisson_log(x, t, r / alpha, 1 / r)) == pytest.approx(
        exact, rel=1e-10, abs=1e-9
    )


@settings(deadline=None)
@given(
    r=st.floats(0.05, 50),
    alpha=st.floats(0.1, 100),
    x=st.integers(0, 60),
    t1=st.floats(0, 200),
    t2=st.floats(0, 200),
)
def test_gamma_poisson_ratio_is_the_difference_of_the_logs(
    r: float, alpha: float, x: int, t1: float, t2: float
) -> None:
    """What P(alive) uses: the ratio of the two expectations without their common terms in x."""
    whole = gamma_poisson_log(x, t1, r / alpha, 1 / r) - gamma_poisson_log(x, t2, r / alpha, 1 / r)
    ratio = float(gamma_poisson_log_ratio(x, t1, t2, r / alpha, 1 / r))
    assert ratio == pytest.approx(float(whole), rel=1e-10, abs=1e-9)
    # Every customer buying at one rate (kappa = 0): the Poisson's -lambda (t1 - t2).
    assert float(gamma_poisson_log_ratio(x, t1, t2, 0.4, 0.0)) == pytest.approx(-0.4 * (t1 - t2))


def test_gamma_poisson_tends_to_the_poisson() -> None:
    x, t, lam = np.array([0, 3, 10]), np.array([5.0, 5.0, 20.0]), 0.4
    poisson = x * np.log(lam) - lam * t
    np.testing.assert_allclose(gamma_poisson_log(x, t, lam, 0.0), poisson, rtol=1e-14)
    np.testing.assert_allclose(gamma_poisson_log(x, t, lam, 1e-9), poisson, atol=1e-6)


def test_log_rising_over_power_is_stable_for_large_shapes() -> None:
    a = np.array([0.5, 3.0, 9.99, 10.0, 50.0, 1e3])
    b = np.array([0.3, 2.0, 5.0, 5.0, 7.0, 0.5])
    np.testing.assert_allclose(
        log_rising_over_power(1 / a, b), gammaln(a + b) - gammaln(a) - b * np.log(a), atol=1e-11
    )
    # a -> infinity: b (b - 1) / (2 a) to first order
    assert float(log_rising_over_power(1e-9, 3.0)) == pytest.approx(3e-9, rel=1e-6)
    assert float(log_rising_over_power(0.0, 3.0)) == 0.0


# -- the closed space equals the natural parameters inside ---------------------------------


@settings(deadline=None, max_examples=40)
@given(
    r=st.floats(0.1, 20),
    alpha=st.floats(0.5, 50),
    a=st.floats(0.1, 20),
    b=st.floats(0.1, 20),
    seed=st.integers(0, 2**16),
)
def test_bgnbd_closed_space_equals_natural(
    r: float, alpha: float, a: float, b: float, seed: int
) -> None:
    c = BetaGeo.from_params(r=r, alpha=alpha, a=a, b=b).simulate(np.linspace(5, 60, 40), seed=seed)
    m = BetaGeo()
    theta = np.array([r, alpha, a, b])
    x, tx, T = c["frequency"].astype(float), c["recency"], c["T"]
    closed = m._extended_rows(m._to_phi(theta), m._extended_data(x, tx, T))
    np.testing.assert_allclose(closed, m._loglik(theta, m._prepare(x, tx, T)), rtol=1e-9, atol=1e-9)


@settings(deadline=None, max_examples=25)
@example(r=0.5, alpha=0.5, s=4.0, beta=4.0, seed=0)
@example(r=0.109375, alpha=0.5, s=6.0, beta=30.0, seed=0)  # the worst corner found
@example(r=3.0, alpha=0.5, s=1.0, beta=102.0, seed=0)  # heavy buyers: hyp2f1 overflows
@given(
    r=st.floats(0.1, 20),
    alpha=st.floats(0.5, 50),
    s=st.floats(0.1, 20),
    beta=st.floats(0.5, 200),
    seed=st.integers(0, 2**16),
)
def test_pareto_quadrature_equals_the_closed_form(
    r: float, alpha: float, s: float, beta: float, seed: int
) -> None:
    """The closed space's tanh-sinh quadrature against the hypergeometric closed form.

    61 nodes give 8-10 digits: about 1e-10 over most of the box, 1.6e-8 at its corner
    r = 0.11, alpha = 0.5 for a customer without purchases (checked against scipy's
    adaptive quadrature, which agrees with the closed form), far below what moves an
    estimate. Where scipy's
    hyp2f1 overflows (126 purchases, s = 1, beta = 102) the closed form's rows are
    the quadrature's, never inf or NaN.
    """
    c = ParetoNBD.from_params(r=r, alpha=alpha, s=s, beta=beta).simulate(
        np.linspace(5, 60, 30), seed=seed
    )
    m = ParetoNBD()
    theta = np.array([r, alpha, s, beta])
    x, tx, T = c["frequency"].astype(float), c["recency"], c["T"]
    closed = m._extended_rows(m._to_phi(theta), m._extended_data(x, tx, T))
    np.testing.assert_allclose(closed, m._loglik(theta, (x, tx, T)), rtol=5e-8, atol=1e-9)


def test_pareto_quadrature_for_heavy_buyers_and_at_the_limits() -> None:
    """Large x, and both homogeneous limits, against scipy's adaptive quadrature of the integral."""
    from scipy.integrate import quad

    m = ParetoNBD()
    cases = [  # lambda, kappa, mu, kappa_mu, x, t_x, T
        (0.3, 2.0, 0.05, 1.5, 250, 30.0, 39.0),
        (0.3, 0.0, 0.05, 1.5, 12, 10.0, 52.0),
        (0.3, 2.0, 0.05, 0.0, 3, 5.0, 52.0),
        (0.3, 0.0, 0.05, 0.0, 3, 5.0, 52.0),
    ]
    for lam, kappa, mu, kappa_mu, x, tx, T in cases:
        phi = np.array([np.log(lam), kappa, np.log(mu), kappa_mu])

        def purchase(tau: float, x: int = x, lam: float = lam, kappa: float = kappa) -> float:
            return float(np.exp(gamma_poisson_log(x, tau, lam, kappa)))

        def death(tau: float, mu: float = mu, kappa_mu: float = kappa_mu) -> float:
            if kappa_mu == 0:
                return mu * np.exp(-mu * tau)
            return mu * (1 + kappa_mu * mu * tau) ** -(1 + 1 / kappa_mu)

        died = quad(
            lambda tau: purchase(tau) * death(tau), tx, T, epsrel=1e-13, epsabs=0, limit=200
        )[0]
        survive = np.exp(-mu * T) if kappa_mu == 0 else (1 + kappa_mu * mu * T) ** (-1 / kappa_mu)
        exact = np.log(purchase(T) * survive + died)
        ours = m._extended_rows(phi, m._extended_data(np.array([x]), np.array([tx]), np.array([T])))
        assert ours[0] == pytest.approx(exact, rel=1e-9, abs=1e-9), (lam, kappa, mu, kappa_mu)


@settings(deadline=None, max_examples=30)
@given(
    p=st.floats(0.3, 30), q=st.floats(0.3, 30), gamma=st.floats(0.5, 80), seed=st.integers(0, 2**16)
)
def test_gamma_gamma_closed_space_equals_natural(
    p: float, q: float, gamma: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 20, 30).astype(float)
    zbar = GammaGamma.from_params(p=p, q=q, gamma=gamma).simulate(x, seed=rng)["monetary_value"]
    m = GammaGamma()
    theta = np.array([p, q, gamma])
    np.testing.assert_allclose(
        m._extended_rows(m._to_phi(theta), m._extended_data(x, zbar)),
        m._loglik(theta, (x, zbar)),
        rtol=1e-9,
        atol=1e-8,
    )


def test_bgbb_and_sbg_closed_space_equal_natural() -> None:
    d = load_donations()
    bgbb = BetaGeoBetaBinom()
    theta = np.array([1.204, 0.750, 0.657, 2.783])
    data = (d["frequency"].astype(float), d["recency"], d["n_periods"])
    np.testing.assert_allclose(
        bgbb._extended_rows(bgbb._to_phi(theta), bgbb._extended_data(*data)),
        bgbb._loglik(theta, data),
        rtol=1e-11,
    )
    sbg = ShiftedBetaGeo()
    t = np.array([1.0, 2, 3, 7, 7])
    survived = np.array([0.0, 0, 0, 0, 1])
    theta = np.array([0.704, 1.182])
    np.testing.assert_allclose(
        sbg._extended_rows(sbg._to_phi(theta), (t.astype(np.int64), survived > 0)),
        sbg._loglik(theta, (t, survived)),
        rtol=1e-11,
    )


@pytest.mark.parametrize(
    ("model", "phi"),
    [
        (BetaGeo(), [np.log(0.06), 3.0, 0.25, 0.25]),
        (BetaGeo(), [np.log(0.06), 0.0, 0.25, 0.0]),  # both limits: the one-sided differences
        (ParetoNBD(), [np.log(0.05), 1.8, np.log(0.05), 1.6]),
        (ParetoNBD(), [np.log(0.05), 0.0, np.log(0.05), 0.0]),
    ],
)
def test_closed_space_gradients_equal_differences(model, phi) -> None:  # type: ignore[no-untyped-def]
    c = load_cdnow_summary()
    data = model._extended_data(c["frequency"], c["recency"], c["T"])
    w = np.linspace(0.5, 1.5, len(c["T"]))
    phi = np.array(phi)
    _, grad = model._extended_objective(phi, data, w)
    for i in range(4):
        h = 1e-6
        up, down = phi.copy(), phi.copy()
        up[i] += h
        if phi[i] - h < 0 and i in (1, 3):  # a dispersion at 0: forward three-point difference
            up2 = phi.copy()
            up2[i] += 2 * h
            f0, f1, f2 = (model._extended_objective(p, data, w)[0] for p in (phi, up, up2))
            num = (-3 * f0 + 4 * f1 - f2) / (2 * h)
        else:
            down[i] -= h
            num = (
                model._extended_objective(up, data, w)[0]
                - model._extended_objective(down, data, w)[0]
            ) / (2 * h)
        assert grad[i] == pytest.approx(num, rel=1e-5, abs=1e-3), i


def test_stage_two_finds_the_interior_maximum_too() -> None:
    """Started next to the boundary, the closed-space fit still climbs to the papers' CDNOW estimates."""
    c = load_cdnow_summary()
    for model, start, published in (
        (
            BetaGeo(),
            [np.log(0.05), 0.005, 0.3, 0.005],
            {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        ),
        (
            ParetoNBD(),
            [np.log(0.05), 0.005, np.log(0.05), 0.005],
            {"r": 0.553, "alpha": 10.578, "s": 0.606},
        ),
    ):
        data = model._extended_data(c["frequency"], c["recency"], c["T"])
        w = np.ones(len(c["T"]))
        model._stage2(data, w, np.array(start), model._coordinates(data, w))
        assert model.limit_ is None
        for k, v in published.items():
            assert round(model.params_[k], 3) == v


# -- issue 15's family: the limit, the same from every start ---------------------------------

OTHER_START = {"r": 3.0, "alpha": 1.0, "a": 0.2, "b": 9.0}


@pytest.mark.parametrize("seed", range(20))
def test_bgnbd_steady_buyers_give_one_limit_model(seed: int) -> None:
    data = steady_buyers(seed, 5000)
    with pytest.warns(
        BoundaryWarning, match="the dropout probability is the same for every customer"
    ):
        first = BetaGeo().fit(data)
    second = fit_quietly(BetaGeo(), data, initial_params=OTHER_START)
    assert_same_fit(first, second)
    assert first.params_["a"] == first.params_["b"] == np.inf
    assert set(first.limit_.params) == {"r", "alpha", "p"}
    s = first.summary()
    assert s.identified and s.names == ("r", "alpha", "p") and all(np.isfinite(s.standard_errors))
    x, tx, T = data["frequency"], data["recency"], data["T"]
    for values in (
        first.conditional_expected_purchases(52, x, tx, T),
        first.probability_alive(x, tx, T),
        first.expected_purchases([1.0, 52.0, 520.0]),
    ):
        assert np.all(np.isfinite(values)) and np.all(values >= 0)


@pytest.mark.parametrize("seed", range(6))
def test_pareto_steady_buyers_give_one_limit_model(seed: int) -> None:
    data = steady_buyers(seed, 1500)
    with pytest.warns(BoundaryWarning, match="dies at the same rate"):
        first = ParetoNBD().fit(data)
    second = fit_quietly(
        ParetoNBD(), data, initial_params={"r": 3.0, "alpha": 1.0, "s": 0.2, "beta": 2.0}
    )
    assert_same_fit(first, second)
    x, tx, T = data["frequency"], data["recency"], data["T"]
    e = first.conditional_expected_purchases(52, x, tx, T)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)


GG_CASE = ([9] * 40, [16.28, 20.61] * 20)


def test_the_warning_points_at_the_callers_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GammaGamma().fit(*GG_CASE)
    assert [w.category for w in caught] == [BoundaryWarning]
    assert caught[0].filename == __file__


def test_fits_leave_the_blas_threads_as_they_were() -> None:
    from threadpoolctl import threadpool_info

    before = [pool["num_threads"] for pool in threadpool_info()]
    fit_quietly(BetaGeo(), steady_buyers(0, 500))
    GammaGamma().fit(load_cdnow_summary())
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_gamma_gamma_of_issue_15_gives_the_limit_with_intervals() -> None:
    with pytest.warns(BoundaryWarning, match="spends the same on every purchase"):
        m = GammaGamma().fit(*GG_CASE)
    assert m.params_["p"] == np.inf and m.params_["gamma"] == 0.0
    s = m.summary()
    assert s.names == ("q", "scale") and s.identified
    ci = m.confidence_intervals()  # used to raise OverflowError from math.exp
    assert all(np.isfinite(v).all() for v in ci.values())
    assert "inverse gamma" in str(s)
    json.dumps(s.to_dict())
    # each customer's next purchase is worth their own mean; the population's is the mean of 1/w
    np.testing.assert_allclose(m.conditional_expected_spend([9, 9], [16.28, 20.61]), [16.28, 20.61])
    other = fit_quietly(GammaGamma(), *GG_CASE, initial_params={"p": 0.5, "q": 20.0, "gamma": 1.0})
    assert_same_fit(m, other)


@pytest.mark.parametrize("seed", range(20))
def test_gamma_gamma_family_fits_from_any_start(seed: int) -> None:
    """Spend that never varies within a customer (zbar = 1 / w exactly), with few distinct values."""
    rng = np.random.default_rng(seed)
    n = 60
    x = rng.integers(1, 6, n)
    zbar = rng.choice(rng.gamma(4.0, 5.0, 3), n)  # three price points, each customer keeps one
    first = fit_quietly(GammaGamma(), x, zbar)
    second = fit_quietly(GammaGamma(), x, zbar, initial_params={"p": 50.0, "q": 1.5, "gamma": 3.0})
    assert_same_fit(first, second, rel=1e-5)
    assert np.all(np.isfinite(first.conditional_expected_spend(x, zbar)))


def test_fits_do_not_depend_on_the_blas_threads() -> None:
    """The same fits in a process with one BLAS thread give the same figures (no BLAS in the sums)."""
    script = """
import json, sys, warnings
import numpy as np
sys.path.insert(0, sys.argv[1])
from test_value_boundary import steady_buyers, GG_CASE
from crmkit.datasets import load_cdnow, load_cdnow_summary
from crmkit.errors import BoundaryWarning
from crmkit.value import BetaGeo, GammaGamma, ParetoNBD, rfm_summary
warnings.simplefilter("ignore", BoundaryWarning)
tx = load_cdnow(full=True)
s = rfm_summary(tx["customer_id"], tx["date"], observation_end=np.datetime64("1997-09-30"), time_unit="D")
out = {
  "bg_master": BetaGeo().fit(s).log_likelihood_,
  "bg_steady": BetaGeo().fit(steady_buyers(0, 20000)).log_likelihood_,
  "pareto": ParetoNBD().fit(load_cdnow_summary()).log_likelihood_,
  "gg": GammaGamma().fit(*GG_CASE).log_likelihood_,
}
print(json.dumps(out))
"""
    results = []
    for threads in (None, "1"):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        }
        if threads:
            env.update(OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        done = subprocess.run(
            [sys.executable, "-c", script, str(ROOT / "tests")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        results.append(json.loads(done.stdout))
    for k, v in results[0].items():
        assert results[1][k] == pytest.approx(v, rel=1e-12), k


# -- the limit models' predictions, by hand and by simulation ---------------------------------


def common_dropout() -> BetaGeo:
    return fit_quietly(BetaGeo(), steady_buyers(3, 5000))


def test_bgnbd_common_dropout_predictions_by_hand() -> None:
    """With one p for everyone: P(alive), E[X(t)], E[Y(t) | x, t_x, T] and the pmf in closed form."""
    m = common_dropout()
    r, alpha, p = (m.limit_.params[k] for k in ("r", "alpha", "p"))
    x, tx, T = np.array([0.0, 1, 4, 10]), np.array([0.0, 20, 40, 50]), np.full(4, 52.0)
    odds = np.where(x > 0, p / (1 - p) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
    alive = 1 / (1 + odds)
    np.testing.assert_allclose(m.probability_alive(x, tx, T), alive, rtol=1e-12)
    t = np.array([1.0, 26.0, 52.0])
    np.testing.assert_allclose(
        m.expected_purchases(t), (1 - (alpha / (alpha + p * t)) ** r) / p, rtol=1e-12
    )
    # an alive customer: rate ~ Gamma(r + x, alpha + T); purchases before dropping out
    given = (1 - ((alpha + T) / (alpha + T + p * 52)) ** (r + x)) / p
    np.testing.assert_allclose(
        m.conditional_expected_purchases(52, x, tx, T), alive * given, rtol=1e-10
    )
    n = np.arange(0, 300)
    pmf = m.probability_of_purchases(20.0, n)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * pmf).sum() == pytest.approx(float(m.expected_purchases(20.0)), rel=1e-9)


@pytest.mark.parametrize("which", ["rate", "dropout", "both", "none"])
def test_bgnbd_limits_are_the_natural_model_far_out(which: str) -> None:
    """Each limit's predictions are where the natural model's go as the shapes grow (to 2,000 here:
    further out the natural model's hypergeometric function loses its digits, which is why the
    limits have their own formulas)."""
    lam, kappa, m_, rho = 0.05, 2.0, 0.3, 0.25
    big = 2e3
    phi = np.array([np.log(lam), kappa, m_, rho])
    if which in ("rate", "both"):
        phi[1] = 0.0
    if which in ("dropout", "both"):
        phi[3] = 0.0
    if which == "none":
        phi[2], phi[3] = 0.0, 0.0
    limit = BetaGeo()
    limit._params = limit._natural(phi)
    limit._phi = phi
    limit._limit = limit._describe(phi, frozenset({"kappa", "rho", "m"}))
    kappa_n = 1 / big if phi[1] == 0 else kappa
    r, alpha = 1 / kappa_n, 1 / (kappa_n * lam)
    if which == "none":
        a, b = 1 / big, big  # p -> 0
    elif phi[3] == 0:
        a, b = m_ * big, (1 - m_) * big
    else:
        s = (1 - rho) / rho
        a, b = m_ * s, (1 - m_) * s
    natural = {"r": r, "alpha": alpha, "a": a, "b": b}
    x, tx, T = np.array([0.0, 2, 7]), np.array([0.0, 30, 48]), np.full(3, 52.0)
    for name, ours, theirs in (
        (
            "alive",
            limit.probability_alive(x, tx, T),
            BetaGeo().probability_alive(x, tx, T, params=natural),
        ),
        (
            "E[X]",
            limit.expected_purchases([10.0, 52.0]),
            BetaGeo().expected_purchases([10.0, 52.0], params=natural),
        ),
        (
            "E[Y]",
            limit.conditional_expected_purchases(26, x, tx, T),
            BetaGeo().conditional_expected_purchases(26, x, tx, T, params=natural),
        ),
    ):
        np.testing.assert_allclose(ours, theirs, rtol=5e-3, err_msg=name)


def test_limit_models_simulate_what_they_predict() -> None:
    """E[X(52)] of each limit model against 200,000 customers drawn from it."""
    bg = common_dropout()
    pareto = fit_quietly(ParetoNBD(), steady_buyers(1, 1500))
    for model in (bg, pareto):
        sim = model.simulate(np.full(200_000, 52.0), seed=5)
        mean, se = sim["frequency"].mean(), sim["frequency"].std() / np.sqrt(200_000)
        assert abs(mean - float(model.expected_purchases(52.0))) < 4 * se, model.label


def test_pareto_limit_predictions_by_hand() -> None:
    """One death rate mu for everyone: E[X(t)] = lambda_bar (1 - exp(-mu t)) / mu."""
    m = fit_quietly(ParetoNBD(), steady_buyers(2, 1500))
    p = m.limit_.params
    r, alpha, mu = p["r"], p["alpha"], p["mu"]
    t = np.array([1.0, 52.0])
    np.testing.assert_allclose(
        m.expected_purchases(t), r / alpha * (1 - np.exp(-mu * t)) / mu, rtol=1e-12
    )
    alive = m.probability_alive([3], [50.0], [52.0])
    expected = m.conditional_expected_purchases(10, [3], [50.0], [52.0])
    rate = (r + 3) / (alpha + 52)
    np.testing.assert_allclose(expected, alive * rate * (1 - np.exp(-mu * 10)) / mu, rtol=1e-10)


def test_sbg_limits() -> None:
    with pytest.warns(BoundaryWarning, match="first period, the others never"):
        polar = ShiftedBetaGeo().fit([1000, 700, 700, 700, 700])
    assert polar.limit_.params == pytest.approx({"share": 0.3})
    np.testing.assert_allclose(polar.survival([0, 1, 4]), [1.0, 0.7, 0.7])
    np.testing.assert_allclose(polar.derl(0.1, [0, 2]), [0.7 * 1.1 / 0.1, 1.1 / 0.1])
    # a homogeneous cohort, the geometric decline theta = 0.25 exactly
    counts = [4096 * 0.75**t for t in range(7)]  # 4096, 3072, ..., 729: whole numbers
    with pytest.warns(BoundaryWarning, match="same probability each period"):
        geo = ShiftedBetaGeo().fit(counts)
    assert geo.limit_.params["theta"] == pytest.approx(0.25, rel=1e-6)
    np.testing.assert_allclose(geo.retention([1, 5]), [0.75, 0.75], rtol=1e-6)
    # DERL of a geometric lifetime: (1 - theta)(1 + d) / (d + theta)
    assert float(geo.derl(0.1, 3)) == pytest.approx(0.75 * 1.1 / 0.35, rel=1e-6)


def test_bgbb_common_purchase_probability() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    theta = rng.beta(0.66, 2.8, n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n)
    for t in range(1, 7):
        alive &= rng.random(n) >= theta
        buy = alive & (rng.random(n) < 0.4)
        x += buy
        tx = np.where(buy, t, tx)
    with pytest.warns(BoundaryWarning, match="transacts with the same probability"):
        m = BetaGeoBetaBinom().fit(x, tx, np.full(n, 6))
    assert m.limit_.params["p"] == pytest.approx(0.4, abs=0.01)
    assert m.summary().names == ("p", "gamma", "delta")
    sim = m.simulate(200_000, 6, seed=2)
    se = sim["frequency"].std() / np.sqrt(200_000)
    assert abs(sim["frequency"].mean() - float(m.expected_purchases(6))) < 4 * se


# -- zero-value purchases ---------------------------------------------------------------------


def test_zero_spend_customers_have_a_documented_way() -> None:
    c = load_cdnow_summary()
    zbar = c["monetary_value"].copy()
    free = np.flatnonzero(c["frequency"] > 0)[:3]
    zbar[free] = 0.0
    with pytest.raises(ValidationError, match="nonpositive='exclude'"):
        GammaGamma().fit(c["frequency"], zbar)
    g = GammaGamma().fit(c["frequency"], zbar, nonpositive="exclude")
    assert g.excluded_ == 3
    assert g.summary().n == 946 - 3
    with pytest.raises(ValidationError, match="nonpositive='population'"):
        g.conditional_expected_spend(c["frequency"], zbar)
    spend = g.conditional_expected_spend(c["frequency"], zbar, nonpositive="population")
    assert np.all(spend[free] == g.expected_spend())
    assert np.all(
        g.conditional_expected_spend(c["frequency"], zbar, nonpositive="zero")[free] == 0.0
    )
    summary = {**c, "monetary_value": zbar}
    bg = BetaGeo().fit(c)
    with pytest.raises(ValidationError, match="monetary_value"):
        customer_lifetime_value(bg, g, summary)
    value = customer_lifetime_value(bg, g, summary, nonpositive="population")
    assert np.all(np.isfinite(value)) and np.all(value[free] > 0)


def test_clv_command_answers_on_a_log_with_free_orders(tmp_path: Path) -> None:
    from crmkit.cli import main

    rows = ["customer,date,amount", "a,2026-01-01,10", "a,2026-02-01,0", "a,2026-03-01,0"]
    rng = np.random.default_rng(0)
    for i in range(200):
        day = 1 + int(rng.integers(0, 25))
        rows.append(f"c{i},2026-01-{day:02d},{rng.gamma(3, 10):.2f}")
        for k in range(int(rng.poisson(1.5))):
            rows.append(f"c{i},2026-{2 + k % 10:02d}-{day:02d},{rng.gamma(3, 10):.2f}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    import io

    out = io.StringIO()
    status = main(
        ["clv", str(path), "--customer", "customer", "--date", "date", "--amount", "amount"],
        out=out,
    )
    text = out.getvalue()
    assert status == 0
    assert "1 repeat customer whose repeat purchases were worth nothing" in text
    assert "top customers by CLV" in text
