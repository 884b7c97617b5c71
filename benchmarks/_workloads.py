"""crmkit's numeric workloads for the benchmarks: the data sets and one function per workload.

The data builders run in the harness's parent process; the workload
functions in the workers. Every function takes the loaded data (a dict of
arrays) and returns a small JSON-able result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ECSI = ROOT / "tests" / "data" / "ecsi_satisfaction.csv"
ECSI_BLOCKS = {
    "image": ("imag", 5),
    "expectations": ("expe", 5),
    "quality": ("qual", 5),
    "value": ("val", 4),
    "satisfaction": ("sat", 4),
    "loyalty": ("loy", 4),
}
ECSI_COLUMNS = [f"{p}{i}" for p, k in ECSI_BLOCKS.values() for i in range(1, k + 1)]
LEAD_STATES = ["new", "contacted", "qualified", "disqualified", "converted"]
PIPELINE_STATES = ["prospecting", "proposal", "closed_won", "closed_lost"]


# -- data sets (parent process) ----------------------------------------------------------------


def cdnow_master_summary() -> dict[str, Any]:
    """The full CDNOW cohort summarised by day to 1997-09-30: 23,570 customers, 8,685 patterns."""
    import numpy as np

    from crmkit.datasets import load_cdnow
    from crmkit.value import rfm_summary

    tx = load_cdnow(full=True)
    s = rfm_summary(
        tx["customer_id"],
        tx["date"],
        tx["amount"],
        observation_end=np.datetime64("1997-09-30"),
        time_unit="D",
    )
    return {
        "frequency": s.frequency,
        "recency": s.recency,
        "T": s.T,
        "monetary_value": s.monetary_value,
    }


def cdnow_sample_summary() -> dict[str, Any]:
    from crmkit.datasets import load_cdnow_summary

    c = load_cdnow_summary()
    return {k: c[k] for k in ("frequency", "recency", "T", "monetary_value")}


def simulated_customers(n: int, seed: int = 2026) -> dict[str, Any]:
    """BG/NBD customers at CDNOW-like parameters (T uniform on 20-78 weeks) with Gamma-Gamma spend."""
    import numpy as np

    from crmkit.value import BetaGeo, GammaGamma

    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 78, n)
    sim = BetaGeo.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5).simulate(T, seed=rng)
    x = sim["frequency"]
    spend = GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0).simulate(np.maximum(x, 1), seed=rng)
    return {
        "frequency": x,
        "recency": sim["recency"],
        "T": sim["T"],
        "monetary_value": np.where(x > 0, spend["monetary_value"], 0.0),
    }


def simulated_pareto(n: int, seed: int = 2027) -> dict[str, Any]:
    import numpy as np

    from crmkit.value import ParetoNBD

    rng = np.random.default_rng(seed)
    sim = ParetoNBD.from_params(r=0.55, alpha=10.0, s=0.6, beta=12.0).simulate(
        rng.uniform(20, 78, n), seed=rng
    )
    return {k: np.asarray(v) for k, v in sim.items()}


def simulated_spend(n: int, seed: int = 2028) -> dict[str, Any]:
    import numpy as np

    from crmkit.value import GammaGamma

    rng = np.random.default_rng(seed)
    x = rng.integers(1, 10, size=n)
    return GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0).simulate(x, seed=rng)


def donations() -> dict[str, Any]:
    from crmkit.datasets import load_donations

    return load_donations()


def transactions(n: int, seed: int = 1) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        "customer": rng.integers(0, n // 10, n),
        "day": (np.datetime64("2024-01-01") + rng.integers(0, 730, n)).astype("datetime64[D]"),
        "amount": rng.gamma(2.0, 20.0, n),
    }


def idic_arrays(n: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        "completeness": rng.random(n),
        "reachable": rng.random(n) < 0.9,
        "consent": rng.random(n) < 0.7,
        "duplicate": rng.random(n) < 0.05,
        "value": rng.gamma(1.0, 100.0, n),
        "segment": rng.integers(0, 10, n),
        "days_since_interaction": rng.exponential(100.0, n),
        "interactions": rng.poisson(5, n),
        "inbound_share": rng.random(n),
        "channels": rng.integers(0, 4, n),
        "satisfaction": rng.random(n),
        "personalized_share": rng.random(n),
    }


def answers(n: int, groups: int, seed: int = 2003) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {"score": rng.integers(0, 11, n), "group": rng.integers(0, groups, n)}


def ratings(n: int, seed: int = 5) -> dict[str, Any]:
    """Ten correlated 1-5 items, an overall rating and a 0/1 satisfied flag per respondent."""
    import numpy as np

    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    items = np.clip(np.rint(3 + latent + rng.normal(0, 0.8, (n, 10))), 1, 5).astype(np.int64)
    overall = np.clip(np.rint(3 + 0.8 * latent[:, 0] + rng.normal(0, 0.5, n)), 1, 5)
    return {"items": items, "overall": overall.astype(np.int64)}


def servqual_answers(n: int, seed: int = 6) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        "expectations": rng.integers(1, 8, (n, 22)).astype(np.int8),
        "perceptions": rng.integers(1, 8, (n, 22)).astype(np.int8),
    }


def kano_answers(n: int, seed: int = 7) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        "functional": rng.integers(1, 6, (n, 10)),
        "dysfunctional": rng.integers(1, 6, (n, 10)),
    }


def transition_log(n: int, seed: int = 1) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    names = np.array(LEAD_STATES)
    return {
        "entity": rng.integers(0, n // 5, n),
        "from_state": names[rng.integers(0, len(names), n)],
        "to_state": names[rng.integers(0, len(names), n)],
        "at": np.datetime64("2025-01-01T00:00:00")
        + rng.integers(0, 10**9, n).astype("timedelta64[s]"),
    }


def pipeline(n: int, seed: int = 3) -> dict[str, Any]:
    """Deals moving through a known continuous-time Markov chain (rates per day)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0, 200, n)
    # prospecting -> proposal (0.10 a day) or lost (0.05); proposal -> won (0.08) or lost (0.04).
    t1 = t0 + rng.exponential(1 / 0.15, n)
    to_proposal = rng.random(n) < 0.10 / 0.15
    t2 = t1 + rng.exponential(1 / 0.12, n)
    won = rng.random(n) < 0.08 / 0.12
    deal = np.arange(n)
    first_to = np.where(to_proposal, "proposal", "closed_lost")
    second = to_proposal
    start = np.datetime64("2026-01-01T00:00:00")

    def at(days: Any) -> Any:
        return start + (days * 86400).astype(np.int64).astype("timedelta64[s]")

    return {
        "entity": np.concatenate((deal, deal[second])),
        "from_state": np.concatenate(
            (np.full(n, "prospecting"), np.full(second.sum(), "proposal"))
        ),
        "to_state": np.concatenate((first_to, np.where(won, "closed_won", "closed_lost")[second])),
        "at": np.concatenate((at(t1), at(t2[second]))),
        "amount": rng.choice([1000.0, 5000.0, 20000.0], n),
    }


def ecsi() -> dict[str, Any]:
    import numpy as np

    raw = np.genfromtxt(ECSI, delimiter=",", names=True)
    return {name: np.asarray(raw[name], dtype=float) for name in ECSI_COLUMNS}


def pls_rows(n: int, seed: int = 0) -> dict[str, Any]:
    """ECSI respondents resampled with noise on every answer (a large survey of the same model)."""
    import numpy as np

    base = ecsi()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(base["imag1"]), n)
    return {k: v[idx] + rng.normal(0, 0.5, n) for k, v in base.items()}


def datasets(customers: int) -> dict[str, Any]:
    """The builders, by name (each runs only if a case uses it)."""
    return {
        "cdnow_master": cdnow_master_summary,
        "cdnow_sample": cdnow_sample_summary,
        "simulated": lambda: simulated_customers(customers),
        "donations": donations,
        "transactions": lambda: transactions(1_000_000),
        "idic": lambda: idic_arrays(customers),
        "answers": lambda: answers(1_000_000, 1_000),
        "ratings": lambda: ratings(customers),
        "servqual": lambda: servqual_answers(customers),
        "kano": lambda: kano_answers(customers),
        "transition_log": lambda: transition_log(1_000_000),
        "pipeline": lambda: pipeline(20_000),
        "ecsi": ecsi,
        "pls_rows": lambda: pls_rows(customers),
    }


# -- workloads (worker processes) --------------------------------------------------------------


def _params(model: Any) -> dict[str, float]:
    return {k: float(v) for k, v in model.params_.items()}


def bgnbd_fit(d: dict[str, Any]) -> Any:
    from crmkit.value import BetaGeo

    return _params(BetaGeo().fit(d["frequency"], d["recency"], d["T"]))


def bgnbd_fit_se(d: dict[str, Any]) -> Any:
    from crmkit.value import BetaGeo

    return BetaGeo().fit(d["frequency"], d["recency"], d["T"]).summary().to_dict()["parameters"]


def pareto_fit(d: dict[str, Any]) -> Any:
    from crmkit.value import ParetoNBD

    return _params(ParetoNBD().fit(d["frequency"], d["recency"], d["T"]))


def gamma_fit(d: dict[str, Any]) -> Any:
    from crmkit.value import GammaGamma

    keep = (d["frequency"] > 0) & (d["monetary_value"] > 0)
    return _params(GammaGamma().fit(d["frequency"][keep], d["monetary_value"][keep]))


def bgnbd_predict(d: dict[str, Any]) -> Any:
    from crmkit.value import BetaGeo

    m = BetaGeo.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    x, tx, T = d["frequency"], d["recency"], d["T"]
    e = m.conditional_expected_purchases(52, x, tx, T)
    p = m.probability_alive(x, tx, T)
    return {"expected": float(e.sum()), "alive": float(p.sum())}


def pareto_predict(d: dict[str, Any]) -> Any:
    from crmkit.value import ParetoNBD

    m = ParetoNBD.from_params(r=0.55, alpha=10.0, s=0.6, beta=12.0)
    x, tx, T = d["frequency"], d["recency"], d["T"]
    e = m.conditional_expected_purchases(52, x, tx, T)
    return {"expected": float(e.sum())}


def clv(d: dict[str, Any]) -> Any:
    from crmkit.value import BetaGeo, GammaGamma, customer_lifetime_value

    value = customer_lifetime_value(
        BetaGeo.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5),
        GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0),
        d,
    )
    return {"total": float(value.sum())}


def bgbb_fit(d: dict[str, Any]) -> Any:
    from crmkit.value import BetaGeoBetaBinom

    m = BetaGeoBetaBinom().fit(d["frequency"], d["recency"], d["n_periods"], weights=d["weights"])
    return _params(m)


def sbg_fit(d: dict[str, Any]) -> Any:
    from crmkit.value import ShiftedBetaGeo

    return _params(ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241]))


def rfm_summary(d: dict[str, Any]) -> Any:
    import numpy as np

    from crmkit.value import rfm_summary as summarise

    s = summarise(
        d["customer"],
        d["day"],
        d["amount"],
        observation_end=np.datetime64("2025-12-31"),
        time_unit="W",
    )
    return {"customers": len(s)}


def segments(d: dict[str, Any]) -> Any:
    from crmkit.value import concentration, rfm_scores

    s = rfm_scores(d)
    c = concentration(d["monetary_value"])
    return {
        "segments": len(s.segment_counts()) if hasattr(s, "segment_counts") else 0,
        "gini": c.gini,
    }


def idic(d: dict[str, Any]) -> Any:
    from crmkit.value import idic_scores

    r = idic_scores(**d)
    return {"mean": float(r.total.mean()) if hasattr(r, "total") else 0.0}


def nps(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import nps as nps_
    from crmkit.satisfaction import nps_by

    a = nps_(d["score"])
    b = nps_by(d["score"], d["group"])
    return {"nps": a.score, "groups": len(b.groups)}


def scores(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import cronbach_alpha, csat

    c = csat(d["overall"])
    r = cronbach_alpha(d["items"])
    return {"csat": c.share, "alpha": r.alpha}


def servqual(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import servqual as sq

    r = sq(d["expectations"], d["perceptions"])
    return {"mean": float(r.dimension_mean.mean())}


def kano(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import kano as k

    r = k(d["functional"], d["dysfunctional"])
    return {"features": len(r.features)}


def ipa(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import importance_performance, penalty_reward

    a = importance_performance(d["items"], overall=d["overall"], method="regression")
    b = penalty_reward(d["items"], d["overall"], low=2, high=4)
    return {"ipa": len(a.attributes), "pr": len(b.attributes)}


def lifecycle(d: dict[str, Any]) -> Any:
    from crmkit.lifecycle.analytics import TransitionLog, funnel, time_in_stage, transition_matrix

    log = TransitionLog.from_columns(
        entity=d["entity"],
        from_state=d["from_state"],
        to_state=d["to_state"],
        at=d["at"],
        states=LEAD_STATES,
    )
    f = funnel(log, ["new", "contacted", "qualified", "converted"])
    transition_matrix(log)
    time_in_stage(log)
    return {"stages": len(f.stages)}


def forecast(d: dict[str, Any]) -> Any:
    import numpy as np

    from crmkit.lifecycle.analytics import TransitionLog, forecast_pipeline

    log = TransitionLog.from_columns(
        entity=d["entity"],
        from_state=d["from_state"],
        to_state=d["to_state"],
        at=d["at"],
        states=PIPELINE_STATES,
    )
    amounts = dict(enumerate(d["amount"].tolist()))
    r = forecast_pipeline(
        log, amounts, as_of=np.datetime64("2026-06-01"), period_days=7, periods=12, backtest=True
    )
    return {"won": float(sum(r.expected_won))}


def _ecsi_model() -> Any:
    from crmkit.satisfaction.acsi import ecsi_model

    return ecsi_model(
        **{lv: [f"{p}{i}" for i in range(1, k + 1)] for lv, (p, k) in ECSI_BLOCKS.items()}
    )


def pls_fit(d: dict[str, Any]) -> Any:
    r = _ecsi_model().fit(d, scheme="path", scaled=False)
    return {k[0] + "->" + k[1]: v for k, v in r.paths.items()}


def pls_bootstrap(d: dict[str, Any], resamples: int = 200) -> Any:
    r = _ecsi_model().fit(d, scheme="path", scaled=False).bootstrap(resamples, seed=1)
    return {"resamples": resamples, "ok": r is not None}


FUNCTIONS = {
    name: fn
    for name, fn in globals().items()
    if callable(fn) and not name.startswith("_") and fn.__module__ == __name__
}


def covariate_truth(model: str) -> Any:
    """The known covariate model the covariate benchmarks simulate from and fit again:
    effects of both signs on purchase ("g", "age") and dropout ("g")."""
    from crmkit.value import BetaGeoCovariates, ParetoNBDCovariates

    if model == "pareto":
        return ParetoNBDCovariates.from_params(
            r=0.8, alpha=10.0, s=0.7, beta=12.0, purchase={"g": 0.4, "age": -0.3},
            dropout={"g": -0.5},
        )  # fmt: skip
    return BetaGeoCovariates.from_params(
        r=0.8, alpha=8.0, a=0.9, b=3.0, purchase={"g": 0.4, "age": -0.3},
        dropout={"g": (0.6, -0.4)},
    )  # fmt: skip
