"""Pareto/NBD with time-invariant covariates: equal to the Pareto/NBD without them, recovers known effects."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.datasets import load_cdnow_summary
from crmkit.errors import ValidationError
from crmkit.value import ParetoNBD, ParetoNBDCovariates, design_matrix


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = load_cdnow_summary()
    return d["frequency"], d["recency"], d["T"]


def test_without_covariates_it_is_the_pareto_nbd(cdnow: tuple[np.ndarray, ...]) -> None:
    x, tx, T = cdnow
    base = ParetoNBD().fit(x, tx, T)
    cov = ParetoNBDCovariates().fit(x, tx, T)
    for name, value in base.params_.items():
        assert cov.params_[name] == pytest.approx(value, rel=1e-6)
    assert cov.log_likelihood_ == pytest.approx(base.log_likelihood_, abs=1e-6)
    # Published: r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL -9595.0 (Fader et al. 2005).
    assert cov.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    # At the same parameters the predictions are the same functions.
    same = ParetoNBDCovariates.from_params(**base.params_)
    np.testing.assert_allclose(
        same.probability_alive(x, tx, T), base.probability_alive(x, tx, T), rtol=1e-12
    )
    np.testing.assert_allclose(
        same.conditional_expected_purchases(39, x, tx, T),
        base.conditional_expected_purchases(39, x, tx, T),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        same.expected_purchases(52.0), base.expected_purchases(52.0), rtol=1e-12
    )
    np.testing.assert_allclose(
        same.log_likelihood(x, tx, T), base.log_likelihood(x, tx, T), rtol=1e-12
    )


def test_zero_coefficients_change_nothing(cdnow: tuple[np.ndarray, ...]) -> None:
    x, tx, T = cdnow
    base = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    z = np.linspace(-1, 1, x.size)
    zero = ParetoNBDCovariates.from_params(
        r=0.55, alpha=10.6, s=0.61, beta=11.7, purchase={"z": 0.0}, dropout={"z": 0.0}
    )
    np.testing.assert_allclose(
        zero.probability_alive(x, tx, T, purchase={"z": z}, dropout={"z": z}),
        base.probability_alive(x, tx, T),
        rtol=1e-12,
    )


def test_known_effects_are_recovered_within_their_intervals() -> None:
    rng = np.random.default_rng(3)
    n = 8000
    gender = rng.integers(0, 2, n).astype(float)
    channel = np.where(rng.random(n) < 0.4, "web", "shop")
    truth = {"r": 0.8, "alpha": 10.0, "s": 0.7, "beta": 12.0}
    model = ParetoNBDCovariates.from_params(
        **truth, purchase={"gender": 0.4}, dropout={"gender": -0.5}
    )
    sim = model.simulate(
        np.full(n, 52.0), purchase={"gender": gender}, dropout={"gender": gender}, seed=1
    )
    fit = ParetoNBDCovariates().fit(
        sim["frequency"], sim["recency"], sim["T"],
        purchase={"gender": gender, "channel": channel}, dropout={"gender": gender},
    )  # fmt: skip
    want = {**truth, "purchase.gender": 0.4, "purchase.channel[web]": 0.0, "dropout.gender": -0.5}
    se = fit.standard_errors_
    for name, value in want.items():
        assert abs(fit.params_[name] - value) < 3 * se[name], (name, fit.params_[name], se[name])
    low, high = fit.confidence_intervals()["dropout.gender"]
    assert low < -0.5 < high and high < 0  # a coefficient's interval may be negative
    # Customers with gender = 1 buy more: their expected purchases as prospects are higher.
    new = fit.expected_purchases(52.0, purchase={"gender": [0.0, 1.0], "channel": ["shop", "shop"]},
                                 dropout={"gender": [0.0, 1.0]}, customers=2)  # fmt: skip
    assert new[1] > new[0]
    # An L2 penalty shrinks the coefficients towards 0.
    shrunk = ParetoNBDCovariates().fit(
        sim["frequency"], sim["recency"], sim["T"], purchase={"gender": gender},
        dropout={"gender": gender}, penalty=5000.0,
    )  # fmt: skip
    assert abs(shrunk.params_["purchase.gender"]) < abs(fit.params_["purchase.gender"]) / 2


def test_design_matrix_codes_categories_against_a_reference() -> None:
    z, names, levels = design_matrix(
        {"channel": ["web", "shop", "app", "web"], "age": [30, 41, 25, 60]}, 4, "purchase",
        reference={"channel": "web"},
    )  # fmt: skip
    assert names == ("channel[app]", "channel[shop]", "age")
    assert z[:, 0].tolist() == [0, 0, 1, 0] and z[:, 1].tolist() == [0, 1, 0, 0]
    assert levels == {"channel": ("app", "shop", "web")}
    with pytest.raises(ValidationError, match="did not see"):
        design_matrix({"channel": ["fax"]}, 1, "purchase", None, levels)
    with pytest.raises(ValidationError, match="one value per customer"):
        design_matrix({"age": [1, 2]}, 3, "purchase")
    with pytest.raises(ValidationError, match="finite"):
        design_matrix({"age": [1.0, float("nan")]}, 2, "purchase")


def test_bg_nbd_without_covariates_is_the_bg_nbd(cdnow: tuple[np.ndarray, ...]) -> None:
    from crmkit.value import BetaGeo, BetaGeoCovariates

    x, tx, T = cdnow
    base = BetaGeo().fit(x, tx, T)
    cov = BetaGeoCovariates().fit(x, tx, T)
    for name, value in base.params_.items():
        assert cov.params_[name] == pytest.approx(value, rel=1e-6)
    # Published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL -9582.4 (FHL 2005).
    assert cov.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)
    same = BetaGeoCovariates.from_params(**base.params_)
    np.testing.assert_allclose(
        same.probability_alive(x, tx, T), base.probability_alive(x, tx, T), rtol=1e-12
    )
    np.testing.assert_allclose(
        same.conditional_expected_purchases(39, x, tx, T),
        base.conditional_expected_purchases(39, x, tx, T),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        same.expected_purchases(39.0), base.expected_purchases(39.0), rtol=1e-12
    )
    np.testing.assert_allclose(
        same.log_likelihood(x, tx, T), base.log_likelihood(x, tx, T), rtol=1e-12
    )


def test_bg_nbd_covariates_move_the_mean_dropout_and_are_recovered() -> None:
    from crmkit.value import BetaGeo, BetaGeoCovariates

    # The simulator first: without covariates, BG/NBD recovers its parameters.
    plain = BetaGeoCovariates.from_params(r=0.8, alpha=8.0, a=0.9, b=3.0)
    sim = plain.simulate(np.full(20_000, 52.0), seed=2)
    fitted = BetaGeo().fit(sim["frequency"], sim["recency"], sim["T"])
    se = fitted.standard_errors_
    for name, value in plain.params_.items():
        assert abs(fitted.params_[name] - value) < 3 * se[name], name
    rng = np.random.default_rng(5)
    g = rng.integers(0, 2, 10_000).astype(float)
    truth = BetaGeoCovariates.from_params(
        r=0.8, alpha=8.0, a=0.9, b=3.0, purchase={"g": 0.5}, dropout={"g": (0.6, -0.4)}
    )
    sim = truth.simulate(np.full(g.size, 52.0), purchase={"g": g}, dropout={"g": g}, seed=3)
    fit = BetaGeoCovariates().fit(
        sim["frequency"], sim["recency"], sim["T"], purchase={"g": g}, dropout={"g": g}
    )
    want = {"r": 0.8, "alpha": 8.0, "a": 0.9, "b": 3.0, "purchase.g": 0.5,
            "dropout_a.g": 0.6, "dropout_b.g": -0.4}  # fmt: skip
    se = fit.standard_errors_
    for name, value in want.items():
        assert abs(fit.params_[name] - value) < 3 * se[name], (name, fit.params_[name], se[name])
    # CLVTools' shared coefficient cannot move the mean dropout: here it fits far worse.
    shared = BetaGeoCovariates(shared_dropout=True).fit(
        sim["frequency"], sim["recency"], sim["T"], purchase={"g": g}, dropout={"g": g}
    )
    assert "dropout.g" in shared.params_
    assert shared.log_likelihood_ < fit.log_likelihood_ - 50
    with pytest.raises(ValidationError, match="pair"):
        BetaGeoCovariates.from_params(r=1, alpha=1, a=1, b=1, dropout={"g": 0.5})


def test_gamma_gamma_without_covariates_is_the_gamma_gamma() -> None:
    from crmkit.value import GammaGamma, GammaGammaCovariates

    d = load_cdnow_summary()
    x, m = d["frequency"], d["monetary_value"]
    base = GammaGamma().fit(x, m)
    cov = GammaGammaCovariates().fit(x, m)
    for name, value in base.params_.items():
        assert cov.params_[name] == pytest.approx(value, rel=1e-6)
    # Published: p = 6.25, q = 3.74, gamma = 15.44 (Fader, Hardie & Lee 2005).
    assert cov.params_["p"] == pytest.approx(6.25, abs=0.01)
    assert cov.log_likelihood_ == pytest.approx(base.log_likelihood_, abs=1e-6)
    same = GammaGammaCovariates.from_params(**base.params_)
    np.testing.assert_allclose(
        same.conditional_expected_spend(x, m), base.conditional_expected_spend(x, m), rtol=1e-12
    )
    repeat = x > 0
    np.testing.assert_allclose(
        same.log_likelihood(x, m), base.log_likelihood(x[repeat], m[repeat]), rtol=1e-12
    )
    assert same.expected_spend()[0] == pytest.approx(base.expected_spend(), rel=1e-12)


def test_gamma_gamma_covariates_move_the_mean_spend_and_are_recovered() -> None:
    from crmkit.value import GammaGammaCovariates

    rng = np.random.default_rng(11)
    n = 6000
    g = rng.integers(0, 2, n).astype(float)
    region = np.where(rng.random(n) < 0.3, "north", "south")
    truth = GammaGammaCovariates.from_params(p=6.0, q=4.0, gamma=15.0, spend={"g": 0.3})
    # Every customer's mean spend is exp(0.3) = 1.35 times higher with g = 1.
    means = truth.expected_spend(spend={"g": [0.0, 1.0]}, customers=2)
    assert means[1] / means[0] == pytest.approx(np.exp(0.3))
    assert means[0] == pytest.approx(6.0 * 15.0 / 3.0)
    sim = truth.simulate(rng.integers(1, 10, n), spend={"g": g}, seed=2)
    # Customers without repeat purchases are left out of the fit, with their covariates.
    freq = np.append(sim["frequency"], [0, 0])
    spend = np.append(sim["monetary_value"], [0.0, 0.0])
    fit = GammaGammaCovariates().fit(
        freq, spend, spend={"g": np.append(g, [1.0, 0.0]), "region": np.append(region, ["n", "n"])},
        reference={"region": "south"},
    )  # fmt: skip
    assert fit.n_customers_ == n
    se = fit.standard_errors_
    want = {"p": 6.0, "q": 4.0, "gamma": 15.0, "spend.g": 0.3, "spend.region[north]": 0.0}
    for name, value in want.items():
        assert abs(fit.params_[name] - value) < 3 * se[name], (name, fit.params_[name], se[name])
    # A customer's own history pulls its expected spend away from its covariates' mean.
    own = fit.conditional_expected_spend(
        [0, 5, 50], [0.0, 100.0, 100.0], spend={"g": [1.0] * 3, "region": ["south"] * 3}
    )
    prior = fit.expected_spend(spend={"g": [1.0], "region": ["south"]})[0]
    assert own[0] == pytest.approx(prior)
    assert prior < own[1] < own[2] < 100.0


def test_pareto_nbd_equality_constraint_shares_one_coefficient() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    g = rng.integers(0, 2, n).astype(float)
    truth = ParetoNBDCovariates.from_params(r=0.8, alpha=10.0, s=0.7, beta=12.0, both={"g": 0.4})
    sim = truth.simulate(np.full(n, 52.0), purchase={"g": g}, dropout={"g": g}, seed=1)
    args = (sim["frequency"], sim["recency"], sim["T"])
    fit = ParetoNBDCovariates().fit(*args, purchase={"g": g}, dropout={"g": g}, constrain="g")
    assert set(fit.params_) == {"r", "alpha", "s", "beta", "both.g"}
    assert abs(fit.params_["both.g"] - 0.4) < 3 * fit.standard_errors_["both.g"]
    free = ParetoNBDCovariates().fit(*args, purchase={"g": g}, dropout={"g": g})
    # One parameter fewer: the constrained likelihood is lower, but not significantly (truth holds).
    assert 0 <= free.log_likelihood_ - fit.log_likelihood_ < 3.84 / 2
    with pytest.raises(ValidationError, match="same values"):
        ParetoNBDCovariates().fit(*args, purchase={"g": g}, dropout={"g": 1 - g}, constrain="g")
    with pytest.raises(ValidationError, match="every constrained covariate"):
        ParetoNBDCovariates().fit(*args, purchase={"g": g}, constrain=["g"])


def test_compression_groups_by_covariate_pattern(cdnow: tuple[np.ndarray, ...]) -> None:
    from crmkit.value import GammaGammaCovariates, compress

    d = load_cdnow_summary()
    n = len(d["frequency"])
    rng = np.random.default_rng(0)
    channel = np.where(rng.random(n) < 0.4, "web", "shop")
    g = rng.integers(0, 2, n).astype(float)
    full = ParetoNBDCovariates().fit(
        d["frequency"], d["recency"], d["T"], purchase={"channel": channel}, dropout={"g": g}
    )
    c = compress(d, covariates={"channel": channel, "g": g})
    assert len(c) < n and c.weights.sum() == n and c.covariates is not None
    np.testing.assert_array_equal(c.expand(c.covariates["channel"]), channel)
    small = ParetoNBDCovariates().fit(
        c.frequency, c.recency, c.T, purchase={"channel": c.covariates["channel"]},
        dropout={"g": c.covariates["g"]}, weights=c.weights,
    )  # fmt: skip
    assert small.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-6)
    for name, value in full.params_.items():
        assert small.params_[name] == pytest.approx(value, rel=1e-5, abs=1e-7)
    cs = compress(d, spend=True, covariates={"channel": channel})
    a = GammaGammaCovariates().fit(d["frequency"], d["monetary_value"], spend={"channel": channel})
    b = GammaGammaCovariates().fit(
        cs.frequency, cs.monetary_value, spend=cs.covariates, weights=cs.weights
    )
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, abs=1e-6)
    assert "channel" in str(c) and "covariates" in c.to_dict()
    with pytest.raises(ValidationError, match="one value per customer"):
        compress(d, covariates={"g": g[:5]})


def test_closed_form_slopes_equal_differences(cdnow: tuple[np.ndarray, ...]) -> None:
    """BG/NBD and Gamma-Gamma differentiate their rows in closed form: check it per customer."""
    from crmkit.value import BetaGeoCovariates, GammaGammaCovariates
    from crmkit.value._covariates import _CovariateModel

    x, tx, T = (a.astype(float) for a in cdnow)
    m = load_cdnow_summary()["monetary_value"]
    rng = np.random.default_rng(0)
    cases = (
        (BetaGeoCovariates(), {"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.5}, (x, tx, T)),
        (GammaGammaCovariates(), {"p": 6.0, "q": 3.7, "gamma": 15.0}, (x[x > 0], m[x > 0])),
    )
    for model, base, data in cases:
        n = data[0].size
        p = {k: v * np.exp(0.1 * rng.standard_normal(n)) if k in ("alpha", "a", "b", "gamma") else v
             for k, v in base.items()}  # fmt: skip
        rows, slopes = model._rows_slopes(p, data)
        rows_fd, slopes_fd = _CovariateModel._rows_slopes(model, p, data)
        np.testing.assert_array_equal(rows, rows_fd)
        for name in base:
            np.testing.assert_allclose(slopes[name], slopes_fd[name], rtol=1e-5, atol=1e-5)


def test_covariates_from_a_data_frame_keyed_by_customer(cdnow: tuple[np.ndarray, ...]) -> None:
    pd = pytest.importorskip("pandas")
    d = load_cdnow_summary()
    rng = np.random.default_rng(1)
    n = len(d["frequency"])
    table = pd.DataFrame(
        {
            "customer": d["customer_id"],
            "channel": np.where(rng.random(n) < 0.4, "web", "shop"),
            "age": rng.normal(40, 10, n),
        }
    ).sample(frac=1.0, random_state=2)  # another order: align by customer first
    aligned = table.set_index("customer").loc[d["customer_id"]]
    args = (d["frequency"], d["recency"], d["T"])
    from_frame = ParetoNBDCovariates().fit(*args, purchase=aligned)
    from_dict = ParetoNBDCovariates().fit(
        *args, purchase={"channel": aligned["channel"].to_numpy(), "age": aligned["age"].to_numpy()}
    )
    assert from_frame.params_ == from_dict.params_
    assert "purchase.channel[web]" in from_frame.params_
