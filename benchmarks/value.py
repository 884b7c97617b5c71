"""Value-model benchmark: crmkit as users install it vs lifetimes 0.11.3 in its own environment.

    python benchmarks/value.py [--large] [--repeat 5] [--json figures.json]

crmkit runs in ``benchmarks/.venv-crmkit`` (the README's install line:
current numpy and scipy, default BLAS threads); lifetimes, which needs
numpy < 2, pandas < 2.2 and scipy < 1.13, in ``benchmarks/.venv-lifetimes``,
in a second process on the same data; runs alternate, best of N (see
``_harness.py``). On the CDNOW sample of the papers, the full CDNOW cohort
summarised by day (23,570 customers), and simulated customer bases of
100,000 and (with ``--large``) 1,000,000, it fits BG/NBD, Pareto/NBD and
Gamma-Gamma with both libraries, times predictions and the RFM summary, and
prints the times, the ratios and the largest relative difference between
the two libraries' parameters. The last rows fit the steady buyers of issue
15, whose likelihood peaks on the boundary.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w

LIFETIMES = h.Env(
    "lifetimes",
    requirements=("lifetimes==0.11.3", "numpy<2", "pandas<2.2", "scipy<1.13"),
    packages=("lifetimes", "numpy", "scipy", "pandas", "autograd"),
)
PYMC = h.Env(
    "pymc",
    requirements=("pymc-marketing",),
    packages=("pymc-marketing", "pymc", "pytensor", "numpy", "scipy", "pandas"),
)
ENVS = [h.crmkit_env(), LIFETIMES, PYMC]
ORDER = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"),
    "gamma": ("p", "q", "gamma"),
}


# -- lifetimes' side (runs in its own environment) -------------------------------------------


def _frame(d: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame({k: d[k] for k in ("frequency", "recency", "T")})


def _quiet() -> None:
    import warnings

    warnings.filterwarnings("ignore")


def lifetimes_bgnbd(d: dict[str, Any]) -> Any:
    from lifetimes import BetaGeoFitter

    _quiet()
    f = _frame(d)
    m = BetaGeoFitter().fit(f["frequency"], f["recency"], f["T"])
    return [float(m.params_[k]) for k in ORDER["bgnbd"]]


def lifetimes_pareto(d: dict[str, Any]) -> Any:
    from lifetimes import ParetoNBDFitter

    _quiet()
    f = _frame(d)
    m = ParetoNBDFitter().fit(f["frequency"], f["recency"], f["T"])
    return [float(m.params_[k]) for k in ORDER["pareto"]]


def lifetimes_gamma(d: dict[str, Any]) -> Any:
    import pandas as pd
    from lifetimes import GammaGammaFitter

    _quiet()
    keep = (d["frequency"] > 0) & (d["monetary_value"] > 0)
    m = GammaGammaFitter().fit(
        pd.Series(d["frequency"][keep]), pd.Series(d["monetary_value"][keep])
    )
    return [float(m.params_[k]) for k in ("p", "q", "v")]


def lifetimes_predict(d: dict[str, Any]) -> Any:
    from lifetimes import BetaGeoFitter

    _quiet()
    f = _frame(d)
    m = BetaGeoFitter()
    m.params_ = __import__("pandas").Series({"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5})
    e = m.conditional_expected_number_of_purchases_up_to_time(
        52, f["frequency"], f["recency"], f["T"]
    )
    p = m.conditional_probability_alive(f["frequency"], f["recency"], f["T"])
    return {"expected": float(e.sum()), "alive": float(p.sum())}


def lifetimes_rfm(d: dict[str, Any]) -> Any:
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    frame = pd.DataFrame({"id": d["customer"], "date": d["day"], "amount": d["amount"]})
    s = summary_data_from_transaction_data(
        frame, "id", "date", "amount", observation_period_end="2025-12-31", freq="W"
    )
    return {"customers": len(s)}


# -- PyMC-Marketing's side (covariates; its own environment) ------------------------------------

#: The covariates of the simulated customer base: purchase (g, age), dropout (g).
COVARIATES = {"purchase": ("g", "age"), "dropout": ("g",)}


def _pymc_fit(d: dict[str, Any], model: str) -> Any:
    import warnings

    import pandas as pd
    from pymc_marketing import clv

    warnings.filterwarnings("ignore")
    frame = pd.DataFrame(
        {
            "customer_id": range(len(d["frequency"])),
            **{k: d[k] for k in ("frequency", "recency", "T", "g", "age")},
        }
    )
    config = {
        "purchase_covariate_cols": list(COVARIATES["purchase"]),
        "dropout_covariate_cols": list(COVARIATES["dropout"]),
    }
    cls = clv.ParetoNBDModel if model == "pareto" else clv.BetaGeoModel
    fitted = cls(data=frame, model_config=config)
    fitted.fit(method="map", progressbar=False)
    post = fitted.idata.posterior

    def values(name: str) -> list[float]:
        return [float(v) for v in post[name].values.ravel()]

    if model == "pareto":
        names = (
            "r",
            "alpha_scale",
            "s",
            "beta_scale",
            "purchase_coefficient",
            "dropout_coefficient",
        )
    else:
        names = ("r", "alpha_scale", "a_scale", "b_scale", "purchase_coefficient_alpha",
                 "dropout_coefficient_a", "dropout_coefficient_b")  # fmt: skip
    return {"params": [v for name in names for v in values(name)]}


def pymc_pareto_cov(d: dict[str, Any]) -> Any:
    return _pymc_fit(d, "pareto")


def pymc_bgnbd_cov(d: dict[str, Any]) -> Any:
    return _pymc_fit(d, "bgnbd")


# -- crmkit's side ----------------------------------------------------------------------------


def _crmkit_cov(d: dict[str, Any], model: str) -> Any:
    from crmkit.value import BetaGeoCovariates, ParetoNBDCovariates

    cls = ParetoNBDCovariates if model == "pareto" else BetaGeoCovariates
    fitted = cls().fit(
        d["frequency"], d["recency"], d["T"],
        purchase={k: d[k] for k in COVARIATES["purchase"]},
        dropout={k: d[k] for k in COVARIATES["dropout"]},
    )  # fmt: skip
    se = fitted.standard_errors_
    return {"params": list(fitted.params_.values()), "se": [se[k] for k in fitted.params_]}


def crmkit_pareto_cov(d: dict[str, Any]) -> Any:
    return _crmkit_cov(d, "pareto")


def crmkit_bgnbd_cov(d: dict[str, Any]) -> Any:
    return _crmkit_cov(d, "bgnbd")


def covariate_customers(model: str, n: int, seed: int = 0) -> dict[str, Any]:
    """Customers simulated from known effects of both signs (crmkit's simulator)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    g, age = rng.integers(0, 2, n).astype(float), rng.standard_normal(n)
    truth = w.covariate_truth(model)
    sim = truth.simulate(
        np.full(n, 52.0), purchase={"g": g, "age": age}, dropout={"g": g}, seed=seed
    )
    return {**sim, "g": g, "age": age}


def _within_errors(results: dict[str, Any]) -> str:
    ours, theirs = results["crmkit"], results["pymc-marketing"]
    gaps = [
        abs(a - b) / s for a, b, s in zip(ours["params"], theirs["params"], ours["se"], strict=True)
    ]
    return f"estimates agree within {max(gaps):.2f} standard errors"


def crmkit_bgnbd(d: dict[str, Any]) -> Any:
    return _fit_quietly("BetaGeo", d)


def crmkit_bgnbd_se(d: dict[str, Any]) -> Any:
    return _fit_quietly("BetaGeo", d, summary=True)


def crmkit_pareto(d: dict[str, Any]) -> Any:
    return _fit_quietly("ParetoNBD", d)


def crmkit_gamma(d: dict[str, Any]) -> Any:
    import warnings

    from crmkit.errors import BoundaryWarning
    from crmkit.value import GammaGamma

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        m = GammaGamma().fit(d["frequency"], d["monetary_value"], nonpositive="exclude")
    return [float(m.params_[k]) for k in ORDER["gamma"]]


def _fit_quietly(name: str, d: dict[str, Any], summary: bool = False) -> Any:
    import warnings

    import crmkit.value
    from crmkit.errors import BoundaryWarning

    model = getattr(crmkit.value, name)()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        model.fit(d["frequency"], d["recency"], d["T"])
    if summary:
        model.summary()
    values = [float(v) for v in model.params_.values()]
    if model.limit_ is not None:
        return {"limit": model.limit_.description, "params": values}
    return values


FUNCTIONS = {
    name: fn
    for name, fn in globals().items()
    if name.startswith(("lifetimes_", "crmkit_", "pymc_")) and callable(fn)
}
FUNCTIONS.update(
    crmkit_predict=w.bgnbd_predict,
    crmkit_rfm=w.rfm_summary,
)


def _agreement(results: dict[str, Any]) -> str:
    ours, theirs = results["crmkit"], results["lifetimes"]
    if isinstance(ours, dict) and "limit" in ours:
        return f"crmkit: limit model ({ours['limit'][:60]})"
    if not isinstance(ours, list):
        return ""
    diff = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs, strict=True))
    return f"parameters agree to {diff:.1e}"


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    datasets = {
        "sample": w.cdnow_sample_summary,
        "master": w.cdnow_master_summary,
        "sim100k": lambda: w.simulated_customers(100_000),
        "pareto100k": lambda: w.simulated_pareto(100_000),
        "spend100k": lambda: w.simulated_spend(100_000),
        "sim1m": lambda: w.simulated_customers(1_000_000),
        "pareto1m": lambda: w.simulated_pareto(1_000_000),
        "spend1m": lambda: w.simulated_spend(1_000_000),
        "steady": lambda: steady(100_000),
        "transactions": lambda: w.transactions(1_000_000),
        "pareto_cov": lambda: covariate_customers("pareto", 5_000),
        "bgnbd_cov": lambda: covariate_customers("bgnbd", 5_000),
    }
    r = args.repeat

    def fits(
        label: str, data: str, repeat: int, models: tuple[str, ...] = ("bgnbd", "pareto", "gamma")
    ) -> list[h.Case]:
        names = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "gamma": "Gamma-Gamma"}
        return [
            h.Case(
                f"{names[m]} fit, {label}",
                data,
                {"crmkit": ("crmkit", f"crmkit_{m}"), "lifetimes": ("lifetimes", f"lifetimes_{m}")},
                repeat=repeat if m != "pareto" or "1,000,000" not in label else 1,
                note=_agreement,
            )
            for m in models
        ]

    small = 3 * r  # millisecond fits: more runs for a steady best
    cases = [
        *fits("CDNOW sample (2,357)", "sample", small),
        h.Case(
            "BG/NBD fit + standard errors, CDNOW sample",
            "sample",
            {
                "crmkit": ("crmkit", "crmkit_bgnbd_se"),
                "lifetimes": ("lifetimes", "lifetimes_bgnbd"),
            },
            repeat=small,
        ),
        *fits("CDNOW cohort by day (23,570)", "master", small),
        *fits("100,000 simulated", "sim100k", max(2, r // 2), ("bgnbd",)),
        *fits("100,000 simulated", "pareto100k", 2, ("pareto",)),
        *fits("100,000 simulated", "spend100k", max(2, r // 2), ("gamma",)),
        h.Case(
            "BG/NBD predictions (E[Y(52)], P(alive)), 100,000",
            "sim100k",
            {
                "crmkit": ("crmkit", "crmkit_predict"),
                "lifetimes": ("lifetimes", "lifetimes_predict"),
            },
            repeat=r,
        ),
        h.Case(
            "rfm_summary, 1,000,000 transactions",
            "transactions",
            {"crmkit": ("crmkit", "crmkit_rfm"), "lifetimes": ("lifetimes", "lifetimes_rfm")},
            repeat=2,
        ),
    ]
    if args.large:
        cases += [
            *fits("1,000,000 simulated", "sim1m", 2, ("bgnbd",)),
            *fits("1,000,000 simulated", "pareto1m", 1, ("pareto",)),
            *fits("1,000,000 simulated", "spend1m", 2, ("gamma",)),
        ]
    cases += [
        h.Case(
            f"{label} with covariates (MAP vs ML + SEs), 5,000 simulated",
            f"{model}_cov",
            {
                "crmkit": ("crmkit", f"crmkit_{model}_cov"),
                "pymc-marketing": ("pymc", f"pymc_{model}_cov"),
            },
            repeat=max(2, r // 2),
            note=_within_errors,
            timeout=900.0,
        )
        for model, label in (("pareto", "Pareto/NBD"), ("bgnbd", "BG/NBD"))
    ]
    steady_cases = fits("steady buyers (issue 15), 100,000", "steady", 1, ("bgnbd", "pareto"))
    cases += [dataclasses.replace(c, timeout=900.0) for c in steady_cases]
    return datasets, cases


def steady(n: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.poisson(2, n)
    return {
        "frequency": x,
        "recency": np.where(x > 0, rng.uniform(0, 52, n), 0.0),
        "T": np.full(n, 52.0),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="also fit 1,000,000 customers")
    h.main(
        ENVS, FUNCTIONS, plan, title="crmkit vs lifetimes 0.11.3 and PyMC-Marketing", parser=parser
    )
