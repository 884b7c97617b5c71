from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import Lead
from crmkit.errors import InsufficientData, ValidationError
from crmkit.lifecycle import LEAD
from crmkit.lifecycle.analytics import (
    TransitionLog,
    cohort_conversion,
    funnel,
    time_in_stage,
    transition_matrix,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
STATES = ["a", "b", "c", "d"]


@st.composite
def logs(draw: st.DrawFn) -> list[tuple[int, str, str, datetime]]:
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, 5),
                st.sampled_from(STATES),
                st.sampled_from(STATES),
                st.integers(0, 400 * 24).map(lambda h: T0 + timedelta(hours=h)),
            ),
            min_size=1,
            max_size=40,
        )
    )


def _log(rows: list[tuple[int, str, str, datetime]]) -> TransitionLog:
    return TransitionLog.from_columns(
        entity=[r[0] for r in rows],
        from_state=[r[1] for r in rows],
        to_state=[r[2] for r in rows],
        at=np.array([r[3] for r in rows], dtype=object),
        states=STATES,
    )


@given(logs())
def test_funnel_equals_a_brute_force_count(rows: list[tuple[int, str, str, datetime]]) -> None:
    reached: dict[int, set[str]] = defaultdict(set)
    for e, f, t, _ in rows:
        reached[e] |= {f, t}
    stages = ["a", "b", "c"]
    counts = [sum(1 for s in reached.values() if st_ in s) for st_ in stages]
    if 0 in counts[:-1]:
        with pytest.raises(InsufficientData):
            funnel(_log(rows), stages)
        return
    result = funnel(_log(rows), stages)
    assert result.reached == tuple(counts)
    for i in range(2):
        both = sum(1 for s in reached.values() if stages[i] in s and stages[i + 1] in s)
        assert result.step_rates[i] == pytest.approx(both / counts[i])


@given(logs())
def test_transition_matrix_equals_a_brute_force_count(
    rows: list[tuple[int, str, str, datetime]],
) -> None:
    m = transition_matrix(_log(rows))
    expected = Counter((f, t) for _, f, t, _ in rows)
    for i, f in enumerate(m.states):
        for j, t in enumerate(m.states):
            assert m.counts[i, j] == expected[(f, t)]
    assert np.allclose(m.probabilities.sum(axis=1)[m.counts.sum(axis=1) > 0], 1.0)


@given(logs())
def test_time_in_stage_equals_numpy_percentiles_per_state(
    rows: list[tuple[int, str, str, datetime]],
) -> None:
    by_entity: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for e, f, _, at in rows:
        by_entity[e].append((at, f))
    spans: dict[str, list[float]] = defaultdict(list)
    for events in by_entity.values():
        events.sort(key=lambda ev: ev[0])  # ties keep their input order, as in the library
        for (t_prev, _), (t_next, f_next) in itertools.pairwise(events):
            spans[f_next].append((t_next - t_prev).total_seconds() / 86400)
    if not spans:
        with pytest.raises(InsufficientData):
            time_in_stage(_log(rows))
        return
    result = time_in_stage(_log(rows))
    assert set(result.states) == set(spans)
    for i, state in enumerate(result.states):
        values = np.array(spans[state])
        assert result.n[i] == len(values)
        assert result.mean[i] == pytest.approx(values.mean())
        assert result.median[i] == pytest.approx(np.percentile(values, 50))
        assert result.p90[i] == pytest.approx(np.percentile(values, 90))


def test_time_in_stage_ties_sort_like_python() -> None:
    # Records of one entity at the same instant: the durations are zero, not negative.
    log = _log([(1, "a", "b", T0), (1, "b", "c", T0), (1, "c", "d", T0 + timedelta(days=1))])
    assert min(time_in_stage(log).mean) >= 0


def test_cohorts() -> None:
    rows = [
        (1, "a", "b", T0),
        (1, "b", "c", T0 + timedelta(days=3)),
        (2, "a", "b", T0 + timedelta(days=40)),
        (3, "a", "c", T0 + timedelta(days=45)),
        (4, "d", "b", T0),
    ]
    result = cohort_conversion(_log(rows), entry="a", target="c")
    assert result.months == ("2026-01", "2026-02")
    assert result.entered == (1, 2)
    assert result.converted == (1, 1)
    assert result.rates == (1.0, 0.5)


def test_from_records_of_a_machine() -> None:
    history = []
    for i in range(3):
        lead = Lead(company=f"C{i}", email=f"x{i}@example.com", created_at=T0)
        for event in ("contact", "qualify", "convert")[: i + 1]:
            lead, record = LEAD.fire(lead, event, at=T0 + timedelta(days=i + 1))
            history.append(record)
    log = TransitionLog.from_records(history, states=LEAD.state_names)
    assert funnel(log, ["new", "contacted", "qualified", "converted"]).reached == (3, 3, 2, 1)


def test_bad_columns() -> None:
    with pytest.raises(ValidationError, match="equal length"):
        TransitionLog.from_columns(entity=[1, 2], from_state=["a"], to_state=["b"], at=[T0])
    with pytest.raises(ValidationError, match=r"to_state\[0\].*unknown state 'z'"):
        TransitionLog.from_columns(
            entity=[1], from_state=["a"], to_state=["z"], at=[T0], states=STATES
        )
    with pytest.raises(ValidationError, match="timezone-aware"):
        TransitionLog.from_columns(
            entity=[1],
            from_state=["a"],
            to_state=["b"],
            at=np.array([datetime(2026, 1, 1)], dtype=object),
        )
    with pytest.raises(ValidationError, match="unknown state 'q'"):
        funnel(_log([(1, "a", "b", T0)]), ["a", "q"])


def test_datetime64_columns_and_millions_of_records_stay_vectorised() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    entity = rng.integers(0, 20_000, n)
    frm = np.array(STATES)[rng.integers(0, 4, n)]
    to = np.array(STATES)[rng.integers(0, 4, n)]
    at = np.datetime64("2026-01-01") + rng.integers(0, 10**6, n).astype("timedelta64[m]")
    log = TransitionLog.from_columns(
        entity=entity, from_state=frm, to_state=to, at=at, states=STATES
    )
    f = funnel(log, STATES)
    assert f.reached[0] > 0
    m = transition_matrix(log)
    assert int(m.counts.sum()) == n
    assert sum(time_in_stage(log).n) == n - len(np.unique(entity))


def test_pipeline_metrics_by_hand() -> None:
    from uuid import uuid4

    from crmkit.entities import Money, Opportunity
    from crmkit.lifecycle.analytics import pipeline_metrics

    def deal(
        stage: str,
        amount: str,
        days: int | None = None,
        currency: str = "EUR",
        p: float | None = None,
    ) -> Opportunity:
        closed = None if days is None else T0 + timedelta(days=days)
        return Opportunity(
            name="d",
            account_id=uuid4(),
            amount=Money(amount, currency),
            stage=stage,
            probability=p,
            created_at=T0,
            closed_at=closed,
        )

    deals = [
        deal("closed_won", "1000", 10),
        deal("closed_won", "3000", 30),
        deal("closed_lost", "500", 5),
        deal("proposal", "2000"),
        deal("negotiation", "1000", p=0.5),
        deal("closed_won", "99", 1, "USD"),
    ]
    eur, usd = pipeline_metrics(deals)
    assert (eur.currency, eur.open_deals, eur.won, eur.lost) == ("EUR", 2, 2, 1)
    assert eur.open_amount == 3000.0
    assert eur.weighted_pipeline == pytest.approx(
        2000 * 0.6 + 1000 * 0.5
    )  # stage default, given probability
    assert eur.win_rate == pytest.approx(2 / 3)
    assert eur.average_deal == 2000.0
    assert eur.cycle_days == 20.0 and eur.median_cycle_days == 20.0
    assert eur.velocity_per_day == pytest.approx(2 * (2 / 3) * 2000 / 20)
    assert usd.open_deals == 0 and usd.velocity_per_day == 0.0
    with pytest.raises(InsufficientData, match="no closed GBP deal"):
        pipeline_metrics([deal("proposal", "1", currency="GBP")])
    with pytest.raises(ValidationError, match="unknown stage"):
        pipeline_metrics([deal("limbo", "1")])


def _simulate_pipeline(
    n: int, seed: int
) -> tuple[TransitionLog, dict[int, float], np.ndarray, dict[int, Any]]:
    """Deals moving through a known continuous-time Markov chain (rates per day)."""
    states = ["prospecting", "proposal", "closed_won", "closed_lost"]
    rates = np.array(
        [
            [0.0, 0.10, 0.0, 0.05],
            [0.0, 0.0, 0.08, 0.04],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, str, str, np.datetime64]] = []
    start = np.datetime64("2026-01-01T00:00:00")
    started = {}
    for deal in range(n):  # a simulation in the test, not in the library
        t = rng.uniform(0, 200)
        started[deal] = start + np.timedelta64(int(t * 86400), "s")
        state = 0
        while rates[state].sum() > 0:
            total = rates[state].sum()
            t += rng.exponential(1 / total)
            nxt = int(rng.choice(4, p=rates[state] / total))
            rows.append(
                (deal, states[state], states[nxt], start + np.timedelta64(int(t * 86400), "s"))
            )
            state = nxt
    log = TransitionLog.from_columns(
        entity=np.array([r[0] for r in rows]),
        from_state=[r[1] for r in rows],
        to_state=[r[2] for r in rows],
        at=np.array([r[3] for r in rows]),
        states=states,
    )
    amounts = {d: float(rng.choice([1000.0, 5000.0, 20000.0])) for d in range(n)}
    return log, amounts, rates, started


def test_forecast_recovers_known_rates_and_backtests_well() -> None:
    from crmkit.lifecycle.analytics import forecast_pipeline

    log, amounts, rates, started = _simulate_pipeline(4000, seed=3)
    as_of = np.datetime64("2026-01-01") + np.timedelta64(150, "D")
    result = forecast_pipeline(
        log, amounts, as_of=as_of, period_days=7, periods=8, started=started, backtest=True
    )
    idx = {s: i for i, s in enumerate(result.states)}
    for a, b in [
        ("prospecting", "proposal"),
        ("prospecting", "closed_lost"),
        ("proposal", "closed_won"),
        ("proposal", "closed_lost"),
    ]:
        true = rates[
            ["prospecting", "proposal", "closed_won", "closed_lost"].index(a),
            ["prospecting", "proposal", "closed_won", "closed_lost"].index(b),
        ]
        assert result.generator[idx[a], idx[b]] == pytest.approx(true, rel=0.12), (a, b)
    assert np.allclose(result.step.sum(axis=1), 1.0)
    assert result.actual is not None and result.total_relative_error is not None
    assert abs(result.total_relative_error) < 0.1  # the deals open at as_of, eight weeks on
    assert result.mean_absolute_error is not None
    assert sum(result.expected_won) > 0


def test_forecast_refuses_bad_input() -> None:
    from crmkit.lifecycle.analytics import forecast_pipeline

    log, amounts, _, _ = _simulate_pipeline(50, seed=1)
    as_of = np.datetime64("2026-03-01")
    with pytest.raises(ValidationError, match="periods"):
        forecast_pipeline(log, amounts, as_of=as_of, periods=0)
    with pytest.raises(ValidationError, match="no value for entity"):
        forecast_pipeline(log, {}, as_of=as_of)
    with pytest.raises(InsufficientData):
        forecast_pipeline(log, amounts, as_of=np.datetime64("2000-01-01"))


@given(
    st.lists(
        st.tuples(st.integers(-3, 3) | st.integers(2**61, 2**62), st.integers(0, 5)),
        min_size=1,
        max_size=60,
    )
)
def test_records_sort_by_entity_then_time_then_input_order(rows: list[tuple[int, int]]) -> None:
    # The combined-key sort (dense non-negative codes) and its fallback (negative or huge
    # codes) must both give np.lexsort's order, ties included.
    from crmkit.lifecycle.analytics import _sorted_by_entity_time

    entity = np.array([e for e, _ in rows], dtype=np.int64)
    at = np.array([h for _, h in rows], dtype=np.int64)
    zeros = np.zeros(len(rows), dtype=np.int64)
    for codes in (entity, np.abs(entity) % 4):  # raw codes: the fallback; dense codes: the key
        log = TransitionLog(
            entity=codes,
            from_state=zeros,
            to_state=zeros,
            at=at,
            states=tuple(STATES),
            n_entities=len(set(codes.tolist())),
        )
        assert np.array_equal(_sorted_by_entity_time(log), np.lexsort((at, codes)))


@given(
    st.lists(st.integers(-50, 50) | st.integers(-(2**63), 2**64), max_size=50),
    st.sampled_from([np.int64, np.int32, np.uint64]),
)
def test_integer_ids_factorize_like_np_unique(ids: list[int], dtype: Any) -> None:
    from crmkit._validation import factorize

    info = np.iinfo(dtype)
    values = np.array([min(max(i, info.min), info.max) for i in ids], dtype=dtype)
    uniq, codes = factorize(values)
    expected_uniq, expected_codes = np.unique(values, return_inverse=True)
    assert uniq.dtype == values.dtype
    assert np.array_equal(uniq, expected_uniq)
    assert np.array_equal(codes, expected_codes.reshape(-1))


@pytest.mark.parametrize(
    "values",
    [
        np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64),
        np.array([-(2**63), 2 - 2**63, -(2**63)], dtype=np.int64),
    ],
)
def test_factorize_counts_at_the_ends_of_the_integer_range(values: Any) -> None:
    from crmkit._validation import factorize

    uniq, codes = factorize(values)
    assert uniq.dtype == values.dtype
    assert uniq.tolist() == sorted(set(values.tolist()))
    assert codes.tolist() == ([0, 1, 0] if values[0] < values[1] else [1, 0, 1])


def test_the_results_print_as_tables() -> None:
    from crmkit.lifecycle.analytics import StageTimes, TransitionMatrix

    times = StageTimes(
        ("new", "won"), (3, 1), (1.5, 2.0), (1.0, 2.0), (0.5, 2.0), (2.0, 2.0), (3.0, 2.0)
    )
    text = str(times)
    assert text.splitlines()[0].split() == ["state", "n", "mean", "days", "median", "p90"]
    assert text.splitlines()[1].split() == ["new", "3", "1.50", "1.00", "3.00"]
    matrix = TransitionMatrix(("new", "won"), np.array([[0, 1200], [0, 0]]))
    assert str(matrix).splitlines()[1].split() == ["new", "0", "1,200"]
