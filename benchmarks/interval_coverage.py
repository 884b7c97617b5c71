"""Do the intervals hold their rate? Coverage of crmkit's intervals over repeated simulated data sets.

    python benchmarks/interval_coverage.py [--fits 200] [--quick]

For each model with covariates: simulate customer bases from known
parameters (effects of both signs), fit each, and count how often the 95 %
Wald interval of every parameter contains the truth. For predictions:
simulate BG/NBD customer bases, fit, and count how often the intervals of
a prospect's expected purchases, three customers' conditional expectations
and P(alive) contain the values at the true parameters, by the delta
method, parameter draws and the parametric bootstrap. With N fits a true
95 % rate shows as 0.95 +- 1.96 sqrt(0.95 * 0.05 / N) (+-0.030 at 200).

crmkit runs in the README's install (``benchmarks/.venv-crmkit``); no peer.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w


def _coefficients(label: str, fits: int, draw: Callable[[Any], tuple[Any, Any]]) -> None:
    """Coverage of every parameter's 95 % interval over ``fits`` simulated data sets."""
    import numpy as np

    rng = np.random.default_rng(20)
    hits: list[list[bool]] = []
    failed = 0
    start = time.perf_counter()
    names: list[str] = []
    for _ in range(fits):
        truth, fit = draw(rng)
        if fit is None:
            failed += 1
            continue
        ci = fit.confidence_intervals()
        names = list(truth.params_)
        hits.append([ci[k][0] < v < ci[k][1] for k, v in truth.params_.items()])
    rates = np.mean(hits, axis=0)
    seconds = time.perf_counter() - start
    shown = ", ".join(f"{n} {r:.3f}" for n, r in zip(names, rates, strict=True))
    print(
        f"{label}: {len(hits)} fits ({failed} failed) in {seconds:.0f} s\n    {shown}", flush=True
    )


def _transactions(model: str, rng: Any) -> tuple[Any, Any]:
    """Simulate 2,000 customers from known effects of both signs and fit them again."""
    import numpy as np

    n = 2000
    g, age = rng.integers(0, 2, n).astype(float), rng.standard_normal(n)
    truth = w.covariate_truth(model)
    covs = {"purchase": {"g": g, "age": age}, "dropout": {"g": g}}
    sim = truth.simulate(np.full(n, 52.0), seed=rng, **covs)
    return truth, type(truth)().fit(**sim, **covs)


def _gamma(rng: Any) -> tuple[Any, Any]:
    from crmkit.value import GammaGammaCovariates

    n = 2000
    g, age = rng.integers(0, 2, n).astype(float), rng.standard_normal(n)
    truth = GammaGammaCovariates.from_params(
        p=2.0, q=4.0, gamma=40.0, spend={"g": 0.3, "age": -0.2}
    )
    sim = truth.simulate(rng.integers(1, 10, n), spend={"g": g, "age": age}, seed=rng)
    return truth, GammaGammaCovariates().fit(**sim, spend={"g": g, "age": age})


def _dynamic(rng: Any) -> tuple[Any, Any]:
    import numpy as np

    from crmkit.value import ParetoNBDDynamic

    n, periods = 1500, 52
    season = np.sin(2 * np.pi * np.arange(periods) / 52)
    member = (np.arange(periods)[None, :] >= rng.integers(0, periods, n)[:, None]).astype(float)
    birth = rng.uniform(0, 10, n)
    truth = ParetoNBDDynamic.from_params(
        r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"season": 0.5, "member": 0.4},
        dropout={"member": -0.6},
    )  # fmt: skip
    covs = {"purchase": {"season": season, "member": member}, "dropout": {"member": member}}
    sim = truth.simulate(periods - birth, birth=birth, seed=rng, **covs)
    fit = ParetoNBDDynamic().fit(
        sim["frequency"], sim["recency"], sim["T"], birth=birth,
        repeat_counts=sim["repeat_counts"], **covs,
    )  # fmt: skip
    return truth, fit


def _predictions(fits: int, bootstrap_fits: int) -> None:
    import numpy as np

    from crmkit.value import BetaGeo, prediction_interval

    profiles = (np.array([0.0, 3, 10]), np.array([0.0, 40, 50]), np.full(3, 52.0))
    truth = BetaGeo.from_params(r=0.8, alpha=8.0, a=0.9, b=3.0)

    def purchases(m: Any) -> Any:
        return np.concatenate(
            [np.ravel(m.expected_purchases(52.0)), m.conditional_expected_purchases(26, *profiles)]
        )

    def alive(m: Any) -> Any:
        return m.probability_alive(*profiles)[1:]

    want = {"purchases": purchases(truth), "alive": alive(truth)}
    labels = "E[X(52)] prospect, E[Y(26)] x=0, x=3, x=10; P(alive) x=3, x=10"
    for method, count in (("delta", fits), ("simulation", fits), ("bootstrap", bootstrap_fits)):
        rng = np.random.default_rng(30)
        hits = []
        start = time.perf_counter()
        for _ in range(count):
            fit = BetaGeo().fit(**truth.simulate(np.full(1500, 52.0), seed=rng))
            options: dict[str, Any] = {"method": method, "seed": rng}
            if method == "bootstrap":
                options.update(
                    draws=100,
                    refit=lambda g, fit=fit: BetaGeo().fit(
                        **fit.simulate(np.full(1500, 52.0), seed=g)
                    ),
                )
            row = []
            for name, fn in (("purchases", purchases), ("alive", alive)):
                scale = {"scale": "logit"} if name == "alive" and method == "delta" else {}
                iv = prediction_interval(fn, fit, **options, **scale)
                row.extend(((iv.lower < want[name]) & (want[name] < iv.upper)).tolist())
            hits.append(row)
        rates = np.mean(hits, axis=0)
        seconds = time.perf_counter() - start
        print(
            f"BG/NBD prediction intervals, {method}: {count} data sets of 1,500 in {seconds:.0f} s\n"
            f"    ({labels}) " + " ".join(f"{r:.3f}" for r in rates),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 fits per study (a smoke run)")
    args = parser.parse_args()
    h.single()
    fits = 20 if args.quick else args.fits
    print(
        "\n95 % intervals: share of simulated data sets whose interval holds the truth\n",
        flush=True,
    )
    _coefficients(
        "Pareto/NBD with covariates (2,000 customers)", fits, lambda g: _transactions("pareto", g)
    )
    _coefficients(
        "BG/NBD with covariates (2,000 customers)", fits, lambda g: _transactions("bgnbd", g)
    )
    _coefficients("Gamma-Gamma with covariates (2,000 repeat customers)", fits, _gamma)
    _coefficients(
        "Pareto/NBD with time-varying covariates (1,500 x 52 weeks)", max(fits // 2, 10), _dynamic
    )
    _predictions(fits, max(fits // 2, 10))


if __name__ == "__main__":
    main()
