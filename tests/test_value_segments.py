"""RFM scores and segments; value concentration (Lorenz, Gini, Pareto 80/20)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.datasets import load_cdnow_summary
from crmkit.errors import DefinitionError, InsufficientData, ValidationError
from crmkit.value import DEFAULT_RFM_RULES, concentration, rfm_scores


def test_gini_by_hand() -> None:
    c = concentration([1, 2, 3, 4, 5])
    # Mean absolute difference 2 * (1*4 + 2*3 + 3*2 + 4*1) / 25 = 1.6; Gini = 1.6 / (2 * 3) = 0.2667.
    assert c.gini == pytest.approx(4 / 15)
    assert concentration([1, 2, 3, 4, 5], corrected=True).gini == pytest.approx(1 / 3)
    assert c.top_shares[0.2] == pytest.approx(5 / 15)
    assert c.top_shares[0.5] == pytest.approx((5 + 4 + 3) / 15)  # ceil(2.5) = 3 customers
    assert c.customers_for[0.5] == pytest.approx(2 / 5)  # 5 < 7.5 <= 5 + 4
    x, y = c.lorenz
    assert x.tolist() == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    np.testing.assert_allclose(y, [0, 1 / 15, 3 / 15, 6 / 15, 10 / 15, 1])
    assert concentration([0, 0, 0, 7]).gini == pytest.approx(0.75)
    assert concentration([3, 3, 3]).gini == pytest.approx(0.0)
    assert concentration([0.2] * 20).gini == 0.0  # the sum rounds to -5.6e-18 before clamping


def test_known_distributions() -> None:
    """Exponential: Gini 1/2. Pareto with alpha = 2: Gini 1/3 and the top 20% hold 0.2^(1/2) = 44.7%."""
    rng = np.random.default_rng(80)
    assert concentration(rng.exponential(size=1_000_000)).gini == pytest.approx(0.5, abs=0.003)
    pareto = rng.pareto(2.0, size=2_000_000) + 1
    c = concentration(pareto)
    assert c.gini == pytest.approx(1 / 3, abs=0.01)
    assert c.top_shares[0.2] == pytest.approx(0.2**0.5, abs=0.01)
    # The 80/20 rule itself: alpha = log 5 / log 4 puts 80% of the value on 20% of the customers.
    alpha = np.log(5) / np.log(4)
    assert 0.2 ** (1 - 1 / alpha) == pytest.approx(0.8)


@given(
    st.lists(st.floats(0, 1e6), min_size=2, max_size=50).filter(lambda v: sum(v) > 0), st.randoms()
)
def test_population_figures_ignore_order(values: list[float], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(values)
    rnd.shuffle(shuffled)
    a, b = concentration(values), concentration(shuffled)
    assert a.gini == pytest.approx(b.gini, abs=1e-12)
    assert a.top_shares == pytest.approx(b.top_shares)
    assert 0 <= a.gini <= 1 - 1 / len(values) + 1e-12
    assert all(0 < v <= 1 + 1e-12 for v in a.top_shares.values())


def test_concentration_refuses_bad_values() -> None:
    with pytest.raises(ValidationError, match="positions 1"):
        concentration([1.0, -2.0, 3.0])
    with pytest.raises(ValidationError, match="finite"):
        concentration([1.0, float("nan")])
    with pytest.raises(InsufficientData):
        concentration([0.0, 0.0])
    with pytest.raises(InsufficientData):
        concentration([5.0])


def test_rfm_scores_by_hand() -> None:
    summary = {
        "customer_id": np.array(["a", "b", "c", "d", "e"]),
        "frequency": np.array([0, 1, 2, 3, 9]),
        "recency": np.array([0.0, 5.0, 20.0, 30.0, 39.0]),
        "T": np.full(5, 40.0),
        "monetary_value": np.array([0.0, 10.0, 20.0, 30.0, 90.0]),
    }
    s = rfm_scores(summary)
    # Weeks since the last purchase: 40, 35, 20, 10, 1 -> recency scores 1..5.
    assert s.recency_score.tolist() == [1, 2, 3, 4, 5]
    assert s.frequency_score.tolist() == [1, 2, 3, 4, 5]
    assert s.code.tolist() == ["111", "222", "333", "444", "555"]
    assert s.segment.tolist() == ["lost", "hibernating", "need attention", "champions", "champions"]
    assert "champions" in str(s) and s.segment_sizes()["champions"] == 2


def test_ties_share_a_score() -> None:
    summary = {
        "frequency": np.array([0, 0, 0, 0, 1, 2]),
        "recency": np.zeros(6),
        "T": np.full(6, 10.0),
        "monetary_value": np.array([0, 0, 0, 0, 5, 6.0]),
    }
    s = rfm_scores(summary, bins=3)
    assert s.frequency_score.tolist() == [1, 1, 1, 1, 3, 3]
    assert len(set(s.recency_score.tolist())) == 1


def test_every_cell_has_a_segment_on_cdnow() -> None:
    s = rfm_scores(load_cdnow_summary())
    sizes = s.segment_sizes()
    assert sum(sizes.values()) == 2357
    assert set(sizes) <= {name for name, _, _ in DEFAULT_RFM_RULES}
    assert s.to_dict()["bins"] == 5


def test_custom_rules_and_errors() -> None:
    summary = load_cdnow_summary()
    simple = (("active", (3, 5), (1, 5)), ("lapsed", (1, 2), (1, 5)))
    s = rfm_scores(summary, rules=simple)
    assert set(s.segment_sizes()) == {"active", "lapsed"}
    with pytest.raises(DefinitionError, match="R = 1, FM = 1"):
        rfm_scores(summary, rules=(("active", (3, 5), (1, 5)),))
    with pytest.raises(DefinitionError, match="1-5"):
        rfm_scores(summary, rules=(("x", (0, 5), (1, 5)),))
    with pytest.raises(ValidationError, match="bins"):
        rfm_scores(summary, bins=1)
