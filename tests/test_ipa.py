"""Importance-performance (Martilla & James 1977) and penalty-reward (Brandt 1987) analyses."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction import importance_performance, penalty_reward


def test_stated_importance_by_hand() -> None:
    performance = [[4, 2, 5, 3], [4, 2, 5, 3]]
    importance = [[5, 5, 1, 2], [5, 5, 1, 2]]
    r = importance_performance(performance, importance=importance, attributes=["a", "b", "c", "d"])
    # Crosshairs at mean importance 3.25 and mean performance 3.5.
    assert r.quadrant == (
        "keep up the good work",
        "concentrate here",
        "possible overkill",
        "low priority",
    )
    assert "concentrate here" in str(r)


def test_derived_importance() -> None:
    rng = np.random.default_rng(1977)
    x = rng.normal(size=(5000, 3))
    overall = 0.6 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(scale=0.5, size=5000)
    corr = importance_performance(x, overall=overall, method="correlation")
    assert corr.importance == pytest.approx([np.corrcoef(x[:, j], overall)[0, 1] for j in range(3)])
    reg = importance_performance(x, overall=overall, method="regression")
    sd_y = overall.std(ddof=1)
    assert reg.importance == pytest.approx([0.6 / sd_y, 0.3 / sd_y, 0.0], abs=0.02)


def test_penalty_reward_recovers_the_two_factors() -> None:
    rng = np.random.default_rng(1987)
    n = 4000
    ratings = rng.integers(1, 6, (n, 2))
    low, high = (ratings <= 2), (ratings >= 4)
    overall = 7 - 2.0 * low[:, 0] + 0.1 * high[:, 0] - 0.1 * low[:, 1] + 1.5 * high[:, 1]
    overall = overall + rng.normal(scale=0.3, size=n)
    r = penalty_reward(ratings, overall, low=2, high=4, attributes=["billing", "surprise gift"])
    assert r.penalty == pytest.approx([-2.0, -0.1], abs=0.05)
    assert r.reward == pytest.approx([0.1, 1.5], abs=0.05)
    assert r.factor == ("basic", "excitement")
    assert r.r_squared > 0.9


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="importance"):
        importance_performance([[1, 2]])
    with pytest.raises(ValidationError, match="overall"):
        importance_performance([[1, 2]], method="correlation")
    with pytest.raises(InsufficientData):
        importance_performance([[1, 2], [2, 1]], overall=[1, 2], method="regression")
    with pytest.raises(ValidationError, match=r"performance\[0, 1\]"):
        importance_performance([[1, np.nan]], importance=[[1, 2]])
    with pytest.raises(InsufficientData, match="high rating"):
        penalty_reward(np.ones((10, 1)), np.arange(10), low=1, high=4)
    with pytest.raises(ValidationError, match="must have low < high"):
        penalty_reward(np.ones((10, 1)), np.arange(10), low=4, high=2)
