"""Closed-form CLV (Gupta & Lehmann 2003) and discounted cash flows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.value import clv, discounted_cash_flows


def test_gupta_lehmann_margin_multiples() -> None:
    """Table 1 of Gupta & Lehmann (2003): r / (1 + i - r) for retention 60-90% and discount 10-16%."""
    retention = np.array([0.6, 0.7, 0.8, 0.9])[:, None]
    discount = np.array([0.10, 0.12, 0.14, 0.16])[None, :]
    table = clv(1.0, retention, discount)
    expected = [
        [1.20, 1.15, 1.11, 1.07],
        [1.75, 1.67, 1.59, 1.52],
        [2.67, 2.50, 2.35, 2.22],
        [4.50, 4.09, 3.75, 3.46],
    ]
    np.testing.assert_allclose(table.round(2), expected)


@given(
    st.floats(-100, 1000),
    st.floats(0, 1),
    st.floats(0, 0.5),
    st.integers(1, 60),
    st.sampled_from(["end", "start"]),
)
def test_finite_horizon_equals_the_explicit_sum(
    margin: float, r: float, i: float, horizon: int, timing: str
) -> None:
    t = np.arange(1, horizon + 1) if timing == "end" else np.arange(horizon)
    explicit = (margin * r**t / (1 + i) ** t).sum()
    assert float(clv(margin, r, i, horizon=horizon, timing=timing)) == pytest.approx(  # type: ignore[arg-type]
        explicit, rel=1e-9, abs=1e-9
    )


def test_long_horizon_tends_to_the_infinite_formula_and_costs_subtract() -> None:
    assert float(clv(100, 0.8, 0.1, horizon=500)) == pytest.approx(float(clv(100, 0.8, 0.1)))
    assert float(clv(100, 0.8, 0.1, timing="start")) == pytest.approx(100 * 1.1 / 0.3)
    assert float(clv(100, 0.8, 0.1, acquisition_cost=50)) == pytest.approx(
        float(clv(100, 0.8, 0.1)) - 50
    )
    values = clv(np.array([10.0, 20.0]), np.array([0.5, 0.9]), 0.1)
    assert values.shape == (2,)


def test_discounted_cash_flows() -> None:
    assert float(discounted_cash_flows([100, 100], 0.1)) == pytest.approx(100 / 1.1 + 100 / 1.21)
    assert float(discounted_cash_flows([100, 100], 0.1, timing="start")) == pytest.approx(
        100 + 100 / 1.1
    )
    per_customer = discounted_cash_flows([[10, 10, 10], [0, 0, 30]], 0.0, acquisition_cost=5)
    assert per_customer.tolist() == [25.0, 25.0]


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="retention"):
        clv(10, 1.2, 0.1)
    with pytest.raises(ValidationError, match="discount"):
        clv(10, 0.5, -0.1)
    with pytest.raises(ValidationError, match="infinite value"):
        clv(10, 1.0, 0.0)
    with pytest.raises(ValidationError, match="horizon"):
        clv(10, 0.5, 0.1, horizon=0)
    with pytest.raises(ValidationError, match="timing"):
        clv(10, 0.5, 0.1, timing="middle")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cash_flows"):
        discounted_cash_flows([[[1.0]]], 0.1)
    with pytest.raises(ValidationError, match="margin"):
        clv("lots", 0.5, 0.1)
