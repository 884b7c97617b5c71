"""NPS checked against Rocks (2016) and the R package NPS (Rogers), by properties and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction import nps, nps_by, nps_compare


def answers(detractors: int, passives: int, promoters: int) -> list[int]:
    return [3] * detractors + [8] * passives + [10] * promoters


def test_check_values_small_sample() -> None:
    # Counts (1, 2, 3): NPS 1/3, variance 5/9, SE 0.304 (n = 6) -- R package NPS, Rocks (2016).
    r = nps(answers(1, 2, 3))
    assert r.score == pytest.approx(100 / 3)
    assert (r.standard_error / 100) ** 2 * 6 == pytest.approx(5 / 9)
    assert r.standard_error / 100 == pytest.approx(0.304, abs=5e-4)
    assert (r.detractors, r.passives, r.promoters, r.n) == (1, 2, 3, 6)


@pytest.mark.parametrize(
    ("method", "lower", "upper"),
    [("wald", 0.0291, 0.3709), ("adjusted_wald", 0.0265, 0.3618), ("score", 0.0249, 0.3622)],
)
def test_check_values_intervals(method: str, lower: float, upper: float) -> None:
    # Counts (30, 20, 50) on the -1..1 scale: Rocks (2016).
    r = nps(answers(30, 20, 50), method=method)  # type: ignore[arg-type]
    assert r.interval[0] / 100 == pytest.approx(lower, abs=5e-5)
    assert r.interval[1] / 100 == pytest.approx(upper, abs=5e-5)


def test_categories_follow_reichheld() -> None:
    r = nps(list(range(11)))
    assert (r.detractors, r.passives, r.promoters) == (7, 2, 2)


@given(st.lists(st.integers(0, 10), min_size=1, max_size=200), st.randoms())
def test_properties(scores: list[int], rnd: object) -> None:
    r = nps(scores)
    shuffled = list(scores)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert nps(shuffled) == r
    assert -100 <= r.score <= 100
    assert -100 <= r.interval[0] <= r.interval[1] <= 100
    assert nps(scores, weights=[1.0] * len(scores)) == r
    assert sum(r.shares) == pytest.approx(1.0)


def test_weights_and_kish_effective_size() -> None:
    r = nps([10, 0], weights=[3, 1])
    assert r.score == pytest.approx(50.0)
    assert r.effective_n == pytest.approx(16 / 10)  # (3 + 1)^2 / (9 + 1)


def test_adjusted_wald_covers_95_percent() -> None:
    # 2,000 samples of 60 answers from a known population: the nominal 95 % interval
    # must cover the true NPS 93-97 % of the time. Vectorised through nps_by.
    rng = np.random.default_rng(2016)
    shares = np.array([0.25, 0.30, 0.45])  # detractors, passives, promoters
    true = 100 * (shares[2] - shares[0])
    samples, size = 2000, 60
    category = rng.choice(3, size=(samples, size), p=shares)
    scores = np.array([3, 8, 10])[category].ravel()
    groups = np.repeat(np.arange(samples), size)
    g = nps_by(scores, groups)
    coverage = np.mean((g.lower <= true) & (true <= g.upper))
    assert 0.93 <= coverage <= 0.97, coverage


def test_compare() -> None:
    a, b = nps(answers(30, 20, 50)), nps(answers(40, 20, 40))
    c = nps_compare(a, b)
    assert c.difference == pytest.approx(20.0)
    assert c.standard_error == pytest.approx(np.hypot(a.standard_error, b.standard_error))
    assert 0 < c.p_value < 0.2
    assert nps_compare(a, a).p_value == pytest.approx(1.0)
    with pytest.raises(InsufficientData):
        nps_compare(nps([10, 10]), nps([10]))


def test_by_groups_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 11, 500)
    groups = rng.choice(["north", "south", "west"], 500)
    g = nps_by(scores, groups)
    for i, name in enumerate(g.groups):
        one = nps(scores[groups == name])
        assert g.score[i] == pytest.approx(one.score)
        assert (g.lower[i], g.upper[i]) == pytest.approx(one.interval)
        assert g.n[i] == one.n


@pytest.mark.parametrize(
    ("scores", "fragment"),
    [
        ([], "empty"),
        ([1, 11, 5, -1], "answers must be 0-10; positions 1, 3"),
        ([1.5, 2], "whole numbers"),
        ([1, float("nan")], "nan_policy='omit'"),
        ([[1, 2]], "one-dimensional"),
        (["a", "b"], "integer answers 0-10"),
        ([True, False], "integer answers"),
    ],
)
def test_bad_input_is_named(scores: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        nps(scores)
    assert fragment in str(info.value)
    assert info.value.errors[0][0] == "scores"


def test_missing_answers_only_with_a_policy() -> None:
    r = nps([10, float("nan"), 0], nan_policy="omit")
    assert r.n == 2 and r.score == 0
    with pytest.raises(ValidationError, match="confidence"):
        nps([10], confidence=1.5)
    with pytest.raises(ValidationError, match="method"):
        nps([10], method="bayes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="one weight per answer"):
        nps([10, 9], weights=[1])
    with pytest.raises(ValidationError, match="one label per answer"):
        nps_by([10, 9], ["a"])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64", "uint64"])
def test_integer_arrays_take_the_fast_path_with_the_same_answer(dtype: str) -> None:
    arr = np.array([0, 6, 7, 8, 9, 10, 10], dtype=dtype)
    assert nps(arr) == nps(arr.tolist())


def test_fast_path_still_refuses_out_of_range_arrays() -> None:
    with pytest.raises(ValidationError, match="positions 1"):
        nps(np.array([3, -2, 5]))
    with pytest.raises(ValidationError, match="positions 2"):
        nps(np.array([3, 5, 12]))


def test_nps_reads_survey_responses() -> None:
    from datetime import datetime, timezone

    from crmkit.entities import SurveyResponse

    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    responses = [
        SurveyResponse(instrument="nps", answers={"nps": s}, answered_at=t) for s in (10, 9, 3)
    ]
    responses.append(SurveyResponse(instrument="nps", answers={"why": "no score"}, answered_at=t))
    r = nps(responses, nan_policy="omit")
    assert r == nps([10, 9, 3])
    with pytest.raises(ValidationError, match="nan_policy"):
        nps(responses)
    with pytest.raises(ValidationError, match=r"scores\[1\]"):
        nps([responses[0], 5])


def test_huge_weights_give_the_unweighted_figures_or_a_clear_error() -> None:
    """Weights are scale-free (issue 17: 1e200 gave NaN in silence)."""
    from crmkit.errors import ValidationError

    big = nps([10, 0, 9], weights=[1e200] * 3)
    plain = nps([10, 0, 9])
    assert big.score == pytest.approx(plain.score)
    assert big.standard_error == pytest.approx(plain.standard_error)
    with pytest.raises(ValidationError, match="weights: are too large"):
        nps([10, 0], weights=[1e308, 1e308])
