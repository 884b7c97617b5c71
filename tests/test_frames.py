"""Customer value in the user's engine: summary, compression and scores equal the in-memory ones.

pandas, Polars (eager and lazy) and DuckDB run here on CDNOW (the 2,357-customer
sample with a holdout period, and the full 23,570-customer log) and on
simulated data with weekly and monthly collapsing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crmkit.datasets import load_cdnow
from crmkit.errors import ValidationError
from crmkit.value import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    compress,
    customer_lifetime_value,
    rfm_summary,
    score,
)
from engine_data import CALENDAR_END, calendar_log

nw = pytest.importorskip("narwhals.stable.v2")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")

END = np.datetime64("1998-06-30")
CAL = np.datetime64("1997-09-30")
ENGINES = ["pandas", "polars", "polars-lazy", "duckdb"]


def _frame(engine: str, columns: dict[str, Any]) -> Any:
    df = pd.DataFrame(columns)
    if engine == "pandas":
        return df
    if engine == "polars":
        return pl.from_pandas(df)
    if engine == "polars-lazy":
        return pl.from_pandas(df).lazy()
    return duckdb.from_df(df)


def _columns(native: Any) -> dict[str, np.ndarray]:
    frame = nw.from_native(native)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    frame = frame.sort("customer_id")
    return {c: frame[c].to_numpy() for c in frame.columns}


def _log(full: bool = False) -> dict[str, Any]:
    tx = load_cdnow(full=full)
    return {
        "customer_id": tx["customer_id"],
        "date": tx["date"].astype("datetime64[us]"),
        "amount": tx["amount"],
    }


def _same(got: dict[str, np.ndarray], ref: Any, names: list[str]) -> None:
    order = np.argsort(ref.customer_id, kind="stable")
    assert got["customer_id"].tolist() == ref.customer_id[order].tolist()
    for name in names:
        want = np.asarray(getattr(ref, name))[order]
        if want.dtype.kind in "iu":  # counts: exactly
            np.testing.assert_array_equal(got[name], want, name)
        else:  # sums in another order: equal to the last bits
            np.testing.assert_allclose(got[name], want, rtol=1e-13, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_with_holdout_equals_the_in_memory_one(engine: str) -> None:
    log = _log()
    ref = rfm_summary(
        log["customer_id"], log["date"], log["amount"], observation_end=END, calibration_end=CAL
    )
    out = rfm_summary(_frame(engine, log), observation_end=END, calibration_end=CAL)
    assert type(out).__module__.split(".")[0] == ("duckdb" if engine == "duckdb" else engine[:6])
    got = _columns(out)
    _same(
        got,
        ref,
        [
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "holdout_frequency",
            "holdout_monetary_value",
        ],
    )


@pytest.mark.parametrize("collapse", ["W", "M"])
@pytest.mark.parametrize("engine", ["pandas", "polars-lazy", "duckdb"])
def test_simulated_log_with_collapsing_and_no_amounts(engine: str, collapse: str) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    ids = rng.integers(0, 400, n)
    days = rng.integers(0, 700, n)
    stamps = np.datetime64("2024-01-01", "D") + days
    # Some datetimes in the afternoon, so truncation to the day matters.
    times = stamps.astype("datetime64[us]") + rng.integers(0, 86_400_000_000, n).astype(
        "timedelta64[us]"
    )
    end = np.datetime64("2025-09-15")
    ref = rfm_summary(ids, times, observation_end=end, time_unit="D", collapse=collapse)
    frame = _frame(engine, {"customer": ids, "when": times})
    out = rfm_summary(
        frame, observation_end=end, time_unit="D", collapse=collapse, columns=("customer", "when")
    )
    got = _columns(out)
    order = np.argsort(ref.customer_id)
    assert got["customer_id"].tolist() == ref.customer_id[order].tolist()
    np.testing.assert_array_equal(got["frequency"], ref.frequency[order])
    for name in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[name], getattr(ref, name)[order], rtol=1e-13, err_msg=name)


@pytest.mark.parametrize("collapse", ["D", "W", "M"])
@pytest.mark.parametrize("engine", ["pandas", "polars-lazy", "duckdb"])
def test_calendar_arithmetic_across_centuries(engine: str, collapse: str) -> None:
    """Day, ISO-week and month numbers from the calendar fields equal numpy's, 1600 to 2400."""
    ids, days = calendar_log()
    hi = CALENDAR_END
    ref = rfm_summary(ids, days, observation_end=hi, time_unit="D", collapse=collapse)
    frame = _frame(engine, {"customer": ids, "when": days.astype("datetime64[us]")})
    out = rfm_summary(
        frame, observation_end=hi, time_unit="D", collapse=collapse, columns=("customer", "when")
    )
    got = _columns(out)
    order = np.argsort(ref.customer_id)
    for name in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(got[name], getattr(ref, name)[order], err_msg=name)


@pytest.mark.parametrize("engine", ["pandas", "polars-lazy", "duckdb"])
def test_fit_on_engine_patterns_equals_the_full_fit_and_scores_agree(engine: str) -> None:
    log = _log(full=True)
    ref = rfm_summary(
        log["customer_id"], log["date"], log["amount"], observation_end=END, time_unit="D"
    )
    summary = rfm_summary(_frame(engine, log), observation_end=END, time_unit="D")
    patterns = compress(summary)
    assert patterns.weights.sum() == len(ref.frequency) and len(patterns) < len(ref.frequency)
    for model in (BetaGeo, ParetoNBD):
        full = model().fit(ref)
        weighted = model().fit(
            patterns.frequency, patterns.recency, patterns.T, weights=patterns.weights
        )
        for name, value in full.params_.items():
            assert weighted.params_[name] == pytest.approx(value, rel=1e-9), (model, name)
    bg = BetaGeo().fit(patterns.frequency, patterns.recency, patterns.T, weights=patterns.weights)
    repeat = ref.frequency > 0
    gg = GammaGamma().fit(ref.frequency[repeat], ref.monetary_value[repeat], nonpositive="exclude")
    scored = _columns(score(summary, bg, gg, horizon=12, nonpositive="population"))
    order = np.argsort(ref.customer_id, kind="stable")
    expected_clv = customer_lifetime_value(bg, gg, ref, horizon=12, nonpositive="population")
    np.testing.assert_allclose(scored["clv"], expected_clv[order], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        scored["p_alive"],
        bg.probability_alive(ref.frequency, ref.recency, ref.T)[order],
        rtol=1e-12,
    )
    month = 4.348214285714286
    np.testing.assert_allclose(
        scored["expected_purchases"],
        bg.conditional_expected_purchases(12 * month, ref.frequency, ref.recency, ref.T)[order],
        rtol=1e-12,
    )


def test_score_without_spend_and_refusals() -> None:
    log = _log()
    summary = rfm_summary(_frame("polars-lazy", log), observation_end=END)
    patterns = compress(summary)
    bg = BetaGeo().fit(patterns.frequency, patterns.recency, patterns.T, weights=patterns.weights)
    out = score(summary, bg)
    assert isinstance(out, pl.LazyFrame)  # still lazy: nothing ran per customer in Python
    assert {"p_alive", "expected_purchases"} <= set(out.collect_schema().names())
    with pytest.raises(ValidationError, match="summary: must be a data frame"):
        score({"frequency": [1]}, bg)
    with pytest.raises(ValidationError, match="transaction_model"):
        score(summary, "bg")
    with pytest.raises(ValidationError, match="columns"):
        rfm_summary(_frame("pandas", log), observation_end=END, columns=("customer_id",))
    with pytest.raises(ValidationError, match="must name a column"):
        rfm_summary(_frame("pandas", log), observation_end=END, columns=("who", "date"))
    with pytest.raises(ValidationError, match="name its columns"):
        rfm_summary(_frame("pandas", log), "date", observation_end=END)
    zero = dict(log, amount=np.where(np.arange(len(log["amount"])) % 2, 0.0, log["amount"]))
    spend_summary = rfm_summary(_frame("duckdb", zero), observation_end=END)
    gg = GammaGamma().from_params(p=6.25, q=3.74, gamma=15.44)
    with pytest.raises(ValidationError, match="monetary_value: must be > 0"):
        score(spend_summary, bg, gg)
    assert "clv" in _columns(score(spend_summary, bg, gg, nonpositive="zero"))


@pytest.mark.parametrize("engine", [None, "duckdb", "polars-lazy"])
def test_spend_patterns_fit_gamma_gamma_like_every_repeat_customer(engine: str | None) -> None:
    log = _log(full=True)
    ref = rfm_summary(
        log["customer_id"], log["date"], log["amount"], observation_end=END, time_unit="D"
    )
    repeat = ref.frequency > 0
    full = GammaGamma().fit(
        ref.frequency[repeat], ref.monetary_value[repeat], nonpositive="exclude"
    )
    source = (
        ref
        if engine is None
        else rfm_summary(_frame(engine, log), observation_end=END, time_unit="D")
    )
    spend = compress(source, spend=True)
    assert spend.monetary_value is not None and spend.weights.sum() == repeat.sum()
    weighted = GammaGamma().fit(
        spend.frequency, spend.monetary_value, weights=spend.weights, nonpositive="exclude"
    )
    for name, value in full.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-9), name
