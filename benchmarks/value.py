"""Value-model benchmark: crmkit vs lifetimes 0.11.3, side by side in one process.

    python benchmarks/value.py [--customers 1000000] [--lifetimes-max 1000000] [--skip-large-pareto]

lifetimes pins numpy < 2, pandas < 2.2 and scipy < 1.13, so it lives in its
own environment, ``benchmarks/.venv-lifetimes`` (created on first run, with
crmkit installed editable). On the CDNOW summary and on simulated customer
bases the script fits BG/NBD, Pareto/NBD and Gamma-Gamma with both
libraries, compares the parameters (relative difference) and the times, and
times the predictions for all customers and the RFM summary of a
transaction log. Prints one table of figures and ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_peers

ensure_peers(
    "lifetimes==0.11.3",
    "numpy<2",
    "pandas<2.2",
    "scipy<1.13",
    modules=("lifetimes", "pandas"),
    venv="lifetimes",
)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402

from crmkit.datasets import load_cdnow, load_cdnow_summary  # noqa: E402
from crmkit.value import BetaGeo, GammaGamma, ParetoNBD, compress, rfm_summary  # noqa: E402

warnings.filterwarnings("ignore")


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def rel_diff(ours: dict[str, float], theirs: dict[str, float], names: dict[str, str]) -> float:
    return max(abs(ours[k] - theirs[v]) / abs(theirs[v]) for k, v in names.items())


ROWS: list[tuple[str, float, float | None, str]] = []


def row(label: str, ours: float, theirs: float | None, note: str = "") -> None:
    ROWS.append((label, ours, theirs, note))
    ratio = f"{theirs / ours:8.1f}x" if theirs else "        -"
    peer = f"{theirs:10.3f}" if theirs is not None else "         -"
    print(f"{label:<48} {ours:10.4f} {peer} {ratio}  {note}", flush=True)


BG = {"r": "r", "alpha": "alpha", "a": "a", "b": "b"}
PA = {"r": "r", "alpha": "alpha", "s": "s", "beta": "beta"}
GG = {"p": "p", "q": "q", "gamma": "v"}


def cdnow(repeat: int) -> None:
    c = load_cdnow_summary()
    frame = pd.DataFrame({"frequency": c["frequency"], "recency": c["recency"], "T": c["T"]})
    t_ours, ours = best(lambda: BetaGeo().fit(c), repeat)
    t_lt, lt = best(
        lambda: BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"]), repeat
    )
    row(
        "BG/NBD fit, CDNOW (2,357)",
        t_ours,
        t_lt,
        f"params rel. diff {rel_diff(ours.params_, lt.params_, BG):.1e}",
    )
    # lifetimes computes the Hessian inside fit; crmkit when standard errors are asked for.
    t_se, _ = best(lambda: BetaGeo().fit(c).summary(), repeat)
    row("BG/NBD fit + standard errors, CDNOW", t_se, t_lt)
    t_c, _ = best(lambda: BetaGeo().fit(compress(c)), repeat)
    row("BG/NBD fit, CDNOW compressed", t_c, t_lt)
    t_ours, ours = best(lambda: ParetoNBD().fit(c), repeat)
    t_lt, lt = best(
        lambda: ParetoNBDFitter().fit(frame["frequency"], frame["recency"], frame["T"]),
        max(1, repeat // 2),
    )
    row(
        "Pareto/NBD fit, CDNOW",
        t_ours,
        t_lt,
        f"params rel. diff {rel_diff(ours.params_, lt.params_, PA):.1e} "
        f"(LL crmkit {ours.log_likelihood_:.3f}, lifetimes {-lt._negative_log_likelihood_ * len(frame):.3f})",
    )
    repeaters = c["frequency"] > 0
    x, m = c["frequency"][repeaters], c["monetary_value"][repeaters]
    t_ours, ours = best(lambda: GammaGamma().fit(x, m), repeat)
    t_lt, lt = best(lambda: GammaGammaFitter().fit(pd.Series(x), pd.Series(m)), repeat)
    row(
        "Gamma-Gamma fit, CDNOW (946)",
        t_ours,
        t_lt,
        f"params rel. diff {rel_diff(ours.params_, lt.params_, GG):.1e}",
    )
    t_se, _ = best(lambda: GammaGamma().fit(x, m).summary(), repeat)
    row("Gamma-Gamma fit + standard errors, CDNOW", t_se, t_lt)


def simulated(n: int, lifetimes_max: int, large_pareto: bool) -> None:
    rng = np.random.default_rng(2026)
    T = rng.uniform(20, 78, n)
    sim = BetaGeo(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(T, seed=rng)
    frame = pd.DataFrame(sim)
    label = f"{n:,}"
    t_ours, ours = best(lambda: BetaGeo().fit(sim), 1)
    t_lt = None
    note = ""
    if n <= lifetimes_max:
        t_lt, lt = best(
            lambda: BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"]), 1
        )
        note = f"params rel. diff {rel_diff(ours.params_, lt.params_, BG):.1e}"
    row(f"BG/NBD fit, {label} simulated", t_ours, t_lt, note)
    t_se, _ = best(lambda: BetaGeo().fit(sim).summary(), 1)
    row(f"BG/NBD fit + standard errors, {label}", t_se, t_lt)
    t_pred, _ = best(
        lambda: (
            ours.conditional_expected_purchases(52, sim["frequency"], sim["recency"], sim["T"]),
            ours.probability_alive(sim["frequency"], sim["recency"], sim["T"]),
        ),
        3,
    )
    t_lt_pred = None
    if n <= lifetimes_max:
        t_lt_pred, _ = best(
            lambda: (
                lt.conditional_expected_number_of_purchases_up_to_time(
                    52, frame["frequency"], frame["recency"], frame["T"]
                ),
                lt.conditional_probability_alive(frame["frequency"], frame["recency"], frame["T"]),
            ),
            1,
        )
    row(f"BG/NBD predictions (E[Y(52)], P(alive)), {label}", t_pred, t_lt_pred)
    if large_pareto:
        sim_p = ParetoNBD(r=0.55, alpha=10.0, s=0.6, beta=12.0).simulate(T, seed=rng)
        frame_p = pd.DataFrame(sim_p)
        t_ours, ours_p = best(lambda: ParetoNBD().fit(sim_p), 1)
        t_lt = None
        note = ""
        if n <= lifetimes_max:
            t_lt, lt_p = best(
                lambda: ParetoNBDFitter().fit(
                    frame_p["frequency"], frame_p["recency"], frame_p["T"]
                ),
                1,
            )
            note = f"params rel. diff {rel_diff(ours_p.params_, lt_p.params_, PA):.1e}"
        row(f"Pareto/NBD fit, {label} simulated", t_ours, t_lt, note)
    x = rng.integers(1, 10, size=n)
    spend = GammaGamma(p=6.0, q=4.0, gamma=15.0).simulate(x, seed=rng)
    t_ours, ours_g = best(lambda: GammaGamma().fit(spend), 1)
    t_lt = None
    note = ""
    if n <= lifetimes_max:
        t_lt, lt_g = best(
            lambda: GammaGammaFitter().fit(
                pd.Series(spend["frequency"]), pd.Series(spend["monetary_value"])
            ),
            1,
        )
        note = f"params rel. diff {rel_diff(ours_g.params_, lt_g.params_, GG):.1e}"
    row(f"Gamma-Gamma fit, {label} simulated", t_ours, t_lt, note)
    t_se, _ = best(lambda: GammaGamma().fit(spend).summary(), 1)
    row(f"Gamma-Gamma fit + standard errors, {label}", t_se, t_lt)


def summaries(n_transactions: int, lifetimes_max: int) -> None:
    tx = load_cdnow()
    s, _ = best(
        lambda: rfm_summary(
            tx["customer_id"],
            tx["date"],
            tx["amount"],
            observation_end=np.datetime64("1998-06-30"),
            calibration_end=np.datetime64("1997-09-30"),
        ),
        5,
    )
    row("rfm_summary, CDNOW (6,919 transactions)", s, None)
    rng = np.random.default_rng(1)
    customers = rng.integers(0, n_transactions // 10, n_transactions)
    days = np.datetime64("2024-01-01") + rng.integers(0, 730, n_transactions)
    amounts = rng.gamma(2.0, 20.0, n_transactions)
    t_ours, _ = best(
        lambda: rfm_summary(
            customers, days, amounts, observation_end=np.datetime64("2025-12-31"), time_unit="W"
        ),
        1,
    )
    t_lt = None
    if n_transactions <= lifetimes_max:
        frame = pd.DataFrame({"id": customers, "date": days, "amount": amounts})
        t_lt, _ = best(
            lambda: summary_data_from_transaction_data(
                frame, "id", "date", "amount", observation_period_end="2025-12-31", freq="W"
            ),
            1,
        )
    row(f"rfm_summary, {n_transactions:,} transactions", t_ours, t_lt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument(
        "--lifetimes-max",
        type=int,
        default=1_000_000,
        help="largest data lifetimes is run on (it is slow)",
    )
    parser.add_argument("--skip-large-pareto", action="store_true")
    parser.add_argument("--skip-rfm", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import lifetimes
    import scipy

    print(
        f"crmkit vs lifetimes {lifetimes.__version__} (numpy {np.__version__}, scipy {scipy.__version__})"
    )
    print(f"{'':<48} {'crmkit s':>10} {'lifetimes s':>10} {'ratio':>9}")
    cdnow(args.repeat)
    simulated(100_000, args.lifetimes_max, True)
    simulated(args.customers, args.lifetimes_max, not args.skip_large_pareto)
    if not args.skip_rfm:
        summaries(args.transactions, args.lifetimes_max)


if __name__ == "__main__":
    main()
