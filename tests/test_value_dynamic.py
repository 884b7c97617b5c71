"""Pareto/NBD with time-varying covariates: the static models as special cases, the quadrature, recovery."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.datasets import load_cdnow_summary
from crmkit.errors import ValidationError
from crmkit.value import ParetoNBD, ParetoNBDCovariates, ParetoNBDDynamic


def _paths(n: int, periods: int, seed: int) -> dict[str, np.ndarray]:
    """A season every customer shares and a membership each customer takes up at some period."""
    rng = np.random.default_rng(seed)
    season = np.sin(2 * np.pi * np.arange(periods) / 52)
    member = (np.arange(periods)[None, :] >= rng.integers(0, periods, n)[:, None]).astype(float)
    return {"season": season, "member": member, "birth": rng.uniform(0, 10, n)}


def _covariates(p: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Purchase: season and membership; dropout: membership."""
    return {"purchase": {"season": p["season"], "member": p["member"]},
            "dropout": {"member": p["member"]}}  # fmt: skip


def _truth() -> ParetoNBDDynamic:
    """Seasonal buying, members buy more and stay longer."""
    model: ParetoNBDDynamic = ParetoNBDDynamic.from_params(
        r=0.8,
        alpha=10.0,
        s=0.7,
        beta=12.0,
        purchase={"season": 0.5, "member": 0.4},
        dropout={"member": -0.6},
    )
    return model


def test_without_covariates_it_is_the_pareto_nbd() -> None:
    d = load_cdnow_summary()
    x, tx, T = d["frequency"], d["recency"], d["T"]
    base = ParetoNBD().fit(x, tx, T)
    dyn = ParetoNBDDynamic().fit(x, tx, T, birth=39 - T)
    for name, value in base.params_.items():
        assert dyn.params_[name] == pytest.approx(value, rel=1e-5)
    assert dyn.log_likelihood_ == pytest.approx(base.log_likelihood_, abs=1e-4)


def test_constant_covariates_give_the_time_invariant_model() -> None:
    rng = np.random.default_rng(1)
    n, periods = 2000, 60
    g = rng.integers(0, 2, n).astype(float)
    static = ParetoNBDCovariates.from_params(
        r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"g": 0.4}, dropout={"g": -0.5}
    )
    dynamic = ParetoNBDDynamic.from_params(
        r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"g": 0.4}, dropout={"g": -0.5}
    )
    birth = rng.uniform(0, 10, n)
    sim = static.simulate(periods - birth, purchase={"g": g}, dropout={"g": g}, seed=1)
    x, tx, T = sim["frequency"], sim["recency"], sim["T"]
    path = np.repeat(g[:, None], periods, axis=1)
    counts = np.zeros((n, periods))
    counts[:, 0] = x  # with a constant covariate, when the purchases fell does not matter
    kw = {"purchase": {"g": path}, "dropout": {"g": path}, "birth": birth}
    np.testing.assert_allclose(
        dynamic.log_likelihood(x, tx, T, repeat_counts=counts, **kw),
        static.log_likelihood(x, tx, T, purchase={"g": g}, dropout={"g": g}),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        dynamic.probability_alive(x, tx, T, **kw),
        static.probability_alive(x, tx, T, purchase={"g": g}, dropout={"g": g}),
        rtol=1e-7,
    )
    longer = np.repeat(g[:, None], periods + 30, axis=1)
    np.testing.assert_allclose(
        dynamic.conditional_expected_purchases(
            20, x, tx, T, birth=birth, purchase={"g": longer}, dropout={"g": longer}
        ),
        static.conditional_expected_purchases(20, x, tx, T, purchase={"g": g}, dropout={"g": g}),
        rtol=1e-6,
    )
    one = {"g": np.ones(40)}
    assert dynamic.expected_purchases(30.0, purchase=one, dropout=one)[0] == pytest.approx(
        static.expected_purchases(30.0, purchase={"g": [1.0]}, dropout={"g": [1.0]})[0], rel=1e-12
    )


def _by_quadrature(
    x: float, tx: float, T: float, birth: float, season: np.ndarray, member: np.ndarray
) -> float:
    """One customer's log-likelihood with r, alpha, s, beta = 0.9, 6, 0.8, 9, coefficients
    season 0.7, member 0.5 (purchase) and member -0.8 (dropout), by adaptive quadrature."""
    from itertools import pairwise

    from scipy.integrate import quad
    from scipy.special import gammaln

    def rate_a(u: float) -> float:
        k = int((birth + u) // 1)
        return float(np.exp(0.7 * season[k] + 0.5 * member[k]))

    def rate_b(u: float) -> float:
        return float(np.exp(-0.8 * member[int((birth + u) // 1)]))

    cuts = sorted({0.0, *(k - birth for k in range(1, len(season) + 1) if 0 < k - birth < T), T})

    def cumulative(f: object, t: float) -> float:
        return sum(quad(f, lo, min(hi, t))[0] for lo, hi in pairwise(cuts) if lo < t)  # type: ignore[arg-type]

    m = 0.9 + x

    def integrand(u: float) -> float:
        return rate_b(u) * (6 + cumulative(rate_a, u)) ** -m * (9 + cumulative(rate_b, u)) ** -1.8

    inner = [tx, *(c for c in cuts if c > tx)]
    died = sum(quad(integrand, lo, hi, epsabs=0, epsrel=1e-12)[0] for lo, hi in pairwise(inner))
    alive = (6 + cumulative(rate_a, T)) ** -m * (9 + cumulative(rate_b, T)) ** -0.8
    k = int(birth + tx)
    at_purchases = x * (0.7 * season[k] + 0.5 * member[k])  # all repeat purchases in t_x's period
    head = gammaln(m) - gammaln(0.9) + 0.9 * np.log(6) + 0.8 * np.log(9)
    return float(at_purchases + head + np.log(alive + 0.8 * died))


def test_the_likelihood_equals_adaptive_quadrature_of_its_integral() -> None:
    p = _paths(6, 40, seed=3)
    model = ParetoNBDDynamic.from_params(
        r=0.9, alpha=6.0, s=0.8, beta=9.0, purchase={"season": 0.7, "member": 0.5},
        dropout={"member": -0.8},
    )  # fmt: skip
    x = np.array([0.0, 1, 4, 12, 30, 2])
    tx = np.array([0.0, 3.3, 17.2, 25.0, 28.9, 29.5])
    T = np.full(6, 30.0)
    counts = np.zeros((6, 40))
    counts[np.arange(6), np.floor(p["birth"] + tx).astype(int)] = x
    covs = _covariates(p)
    ours = model.log_likelihood(x, tx, T, birth=p["birth"], repeat_counts=counts, **covs)
    for i in range(6):
        want = _by_quadrature(x[i], tx[i], T[i], p["birth"][i], p["season"], p["member"][i])
        assert ours[i] == pytest.approx(want, rel=1e-9, abs=1e-9), i


def test_analytic_gradient_matches_differences() -> None:
    p = _paths(400, 50, seed=4)
    truth = _truth()
    covs = _covariates(p)
    sim = truth.simulate(50 - p["birth"], birth=p["birth"], seed=5, **covs)
    model = ParetoNBDDynamic()
    model._columns = {"purchase": ("season", "member"), "dropout": ("member",), "both": ()}
    prepared = model._data(sim["frequency"], sim["recency"], sim["T"], p["birth"],
                              covs["purchase"], covs["dropout"], sim["repeat_counts"], fitted=False)  # fmt: skip
    state = (None, np.ones(400), model._state(*prepared, truth.params_), 0.0)
    theta = np.array([np.log(0.7), np.log(9.0), np.log(0.9), np.log(10.0), 0.3, 0.2, -0.4])
    _, grad = model._value_grad(theta, state)
    for j in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        numeric = (model._value_grad(up, state)[0] - model._value_grad(down, state)[0]) / 2e-6
        assert grad[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4), j


def test_time_varying_effects_are_recovered() -> None:
    n, periods = 3000, 60
    p = _paths(n, periods, seed=6)
    truth = _truth()
    covs = _covariates(p)
    sim = truth.simulate(periods - p["birth"], birth=p["birth"], seed=7, **covs)
    assert sim["repeat_counts"].sum(axis=1).tolist() == sim["frequency"].tolist()
    fit = ParetoNBDDynamic().fit(
        sim["frequency"], sim["recency"], sim["T"], birth=p["birth"],
        repeat_counts=sim["repeat_counts"], **covs,
    )  # fmt: skip
    se = fit.standard_errors_
    for name, value in truth.params_.items():
        assert abs(fit.params_[name] - value) < 3 * se[name], (name, fit.params_[name], se[name])
    assert "purchase.season" in str(fit.summary())
    # Members (from period 0) buy more and stay longer than non-members over the next year.
    future = {"season": np.sin(2 * np.pi * np.arange(52) / 52)}
    members = fit.expected_purchases(
        52.0, purchase={**future, "member": np.ones(52)}, dropout={"member": np.ones(52)}
    )
    others = fit.expected_purchases(
        52.0, purchase={**future, "member": np.zeros(52)}, dropout={"member": np.zeros(52)}
    )
    assert members[0] > 1.3 * others[0]


def test_refusals() -> None:
    p = _paths(50, 30, seed=8)
    model = ParetoNBDDynamic.from_params(
        r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"member": 0.4}
    )
    sim = model.simulate(
        30 - p["birth"], birth=p["birth"], purchase={"member": p["member"]}, seed=1
    )
    args = (sim["frequency"], sim["recency"], sim["T"])
    with pytest.raises(ValidationError, match="repeat_counts"):
        ParetoNBDDynamic().fit(*args, birth=p["birth"], purchase={"member": p["member"]})
    with pytest.raises(ValidationError, match="sum to frequency"):
        ParetoNBDDynamic().fit(*args, birth=p["birth"], purchase={"member": p["member"]},
                               repeat_counts=sim["repeat_counts"] + 1)  # fmt: skip
    with pytest.raises(ValidationError, match="must cover"):
        ParetoNBDDynamic().fit(*args, birth=p["birth"], purchase={"member": p["member"][:, :10]},
                               repeat_counts=sim["repeat_counts"][:, :10])  # fmt: skip
    with pytest.raises(ValidationError, match="birth"):
        ParetoNBDDynamic().fit(*args, birth=-p["birth"])
    with pytest.raises(ValidationError, match="covariates of the fit"):
        model.probability_alive(*args, birth=p["birth"])
