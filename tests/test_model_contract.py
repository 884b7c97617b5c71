"""One contract for every fitted model (issue 16), checked on all of them.

fit(..., weights=None) -> self; fitted attributes end in ``_``, are listed in
the class docstring and raise NotFittedError (also an AttributeError, so
``hasattr`` works) before fit; from_params gives parameters, not a fit; the
repr says which; summary() is one table type; simulate returns the columns
fit takes; the model keeps no training data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from crmkit.datasets import load_cdnow_summary, load_donations
from crmkit.errors import NotFittedError
from crmkit.value import (
    BetaGeo,
    BetaGeoBetaBinom,
    FitSummary,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeo,
)
from crmkit.value._fitting import Model

FITTED = (
    "params_",
    "log_likelihood_",
    "limit_",
    "standard_errors_",
    "covariance_",
    "n_customers_",
)


def _cdnow() -> dict[str, Any]:
    c = load_cdnow_summary()
    return {"frequency": c["frequency"], "recency": c["recency"], "T": c["T"]}


def _spend() -> dict[str, Any]:
    c = load_cdnow_summary()
    repeat = c["frequency"] > 0
    return {"frequency": c["frequency"][repeat], "monetary_value": c["monetary_value"][repeat]}


def _donations() -> dict[str, Any]:
    return dict(load_donations())


def _cohort() -> dict[str, Any]:
    return {"survivors": [1000, 631, 468, 382, 326, 289, 262, 241]}


# model, its data, how to simulate from it (a dict of the columns fit takes)
CASES: list[tuple[type[Model], Callable[[], dict[str, Any]], Callable[[Any], dict[str, Any]]]] = [
    (BetaGeo, _cdnow, lambda m: m.simulate(np.full(2000, 39.0), seed=1)),
    (ParetoNBD, _cdnow, lambda m: m.simulate(np.full(2000, 39.0), seed=1)),
    (GammaGamma, _spend, lambda m: m.simulate(np.arange(1, 2001) % 7 + 1, seed=1)),
    (ShiftedBetaGeo, _cohort, lambda m: m.simulate(5000, 7, seed=1)),
    (BetaGeoBetaBinom, _donations, lambda m: m.simulate(5000, 6, seed=1)),
]
IDS = [c[0].__name__ for c in CASES]


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> tuple[type[Model], dict[str, Any], Model, Any]:
    cls, data, simulate = request.param
    d = data()
    return cls, d, cls().fit(**d), simulate


def test_before_fit_every_fitted_attribute_raises_not_fitted(case: Any) -> None:
    cls = case[0]
    model = cls()
    for name in FITTED:
        assert not hasattr(model, name), name
        with pytest.raises(NotFittedError, match=name.rstrip("_")):
            getattr(model, name)
    with pytest.raises(NotFittedError):
        model.summary()
    with pytest.raises(ValueError, match="fit"):  # NotFittedError is a ValueError too
        model.print_summary()
    assert repr(model) == f"{cls.__name__}() (not fitted)"


def test_fit_returns_the_model_with_every_fitted_attribute(case: Any) -> None:
    cls, _, fitted, _ = case
    assert isinstance(fitted, cls)
    for name in FITTED:
        assert hasattr(fitted, name), name
        assert f"``{name}``" in (cls.__doc__ or ""), f"{cls.__name__} docstring lists {name}"
    assert fitted.n_customers_ > 0
    assert np.isfinite(fitted.log_likelihood_)
    assert set(fitted.standard_errors_) == set(fitted.summary().names)
    cov = fitted.covariance_
    assert cov is not None and cov.shape == (len(fitted.summary().names),) * 2
    text = repr(fitted)
    assert text.startswith(f"{cls.__name__}(") and "fitted on" in text
    assert "log-likelihood" in text


def test_weights_count_rows(case: Any) -> None:
    """Each row twice, or once with weight 2: the same estimates on twice the customers."""
    cls, data, fitted, _ = case
    if cls is ShiftedBetaGeo:  # weights are per cohort
        twice = cls().fit(survivors=[data["survivors"]] * 2)
        weighted = cls().fit(survivors=[data["survivors"]], weights=[2.0])
    else:
        w = np.asarray(data.pop("weights", np.ones(len(data["frequency"]))), dtype=float)
        doubled = {k: np.concatenate([np.asarray(v)] * 2) for k, v in data.items()}
        twice = cls().fit(**doubled, weights=np.concatenate([w, w]))
        weighted = cls().fit(**data, weights=2 * w)
        data["weights"] = w
    for name, value in twice.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-5), name
    assert weighted.n_customers_ == pytest.approx(2 * fitted.n_customers_)
    assert weighted.log_likelihood_ == pytest.approx(2 * fitted.log_likelihood_, rel=1e-8)


def test_given_parameters_are_not_a_fit(case: Any) -> None:
    cls, _, fitted, simulate = case
    given = cls.from_params(**fitted.params_)
    assert given.params_ == fitted.params_
    assert repr(given).startswith(f"{cls.__name__}.from_params(")
    for name in FITTED[1:]:
        assert not hasattr(given, name), name
        with pytest.raises(NotFittedError, match="from_params"):
            getattr(given, name)
    sim = simulate(given)
    assert isinstance(sim, dict) and all(isinstance(v, np.ndarray) for v in sim.values())
    refit = cls().fit(**sim)  # simulate gives the columns fit takes
    assert set(refit.params_) == set(fitted.params_)


def test_one_summary_type_and_no_training_data_kept(case: Any, capsys: Any) -> None:
    cls, _, fitted, _ = case
    summary = fitted.summary()
    assert type(summary) is FitSummary
    assert summary.to_dict()["n"] == pytest.approx(fitted.n_customers_)
    assert str(summary) == summary.format(4)
    fitted.print_summary(decimals=2)
    out = capsys.readouterr().out
    assert out.strip() == summary.format(2).strip()
    first = summary.names[0]
    assert f"{summary.estimates[0]:.2f}" in out.split(first, 1)[1]
    for name, value in vars(fitted).items():  # small state only: the data stay with the caller
        size = np.asarray(value).size if isinstance(value, np.ndarray) else 0
        assert size <= 16, f"{cls.__name__}.{name} holds {size} values"


def test_summary_as_a_frame_when_pandas_is_there(case: Any) -> None:
    pd = pytest.importorskip("pandas")
    frame = case[2].summary().to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == list(case[2].summary().names)
    assert list(frame.columns) == ["estimate", "standard_error", "lower", "upper"]
