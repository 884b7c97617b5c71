"""CSAT, CES and Cronbach's alpha against hand-worked values and simulations."""

from __future__ import annotations

import numpy as np
import pytest

from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction import ces, cronbach_alpha, csat


def test_csat_by_hand() -> None:
    r = csat([5, 4, 4, 3, 1, 5, 5, 2, 4, 5])
    assert (r.n, r.share, r.mean) == (10, 0.7, 3.8)
    # Wilson (1927) by hand: centre (p + z^2/2n) / (1 + z^2/n), half-width
    # z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n), with z = 1.95996.
    z, p, n = 1.959964, 0.7, 10
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert r.share_interval == pytest.approx((centre - half, centre + half))
    assert r.distribution == {1: 1, 2: 1, 3: 1, 4: 3, 5: 4}
    assert r.standard_deviation == pytest.approx(np.std([5, 4, 4, 3, 1, 5, 5, 2, 4, 5], ddof=1))


def test_ces_defaults_and_bad_input() -> None:
    r = ces([7, 6, 5, 4, 1])
    assert r.scale == (1, 7) and r.top == (5, 6, 7) and r.share == 0.6
    with pytest.raises(ValidationError, match="answers must be 1-7"):
        ces([8])
    with pytest.raises(ValidationError, match="satisfied"):
        csat([5], satisfied=(6,))
    with pytest.raises(ValidationError, match="scale"):
        csat([5], scale=(5, 1))


def test_alpha_by_hand() -> None:
    # Item variances 2.5, 1.3, 1.3; variance of the total 13.5: alpha = 3/2 (1 - 5.1/13.5).
    x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]])
    r = cronbach_alpha(x)
    assert r.alpha == pytest.approx(1.5 * (1 - 5.1 / 13.5))
    # Without item 1: variances 1.3 and 1.3, covariance 0.95: alpha = 2 (1 - 2.6 / 4.5).
    assert r.alpha_if_deleted[0] == pytest.approx(2 * (1 - 2.6 / 4.5))
    corr = np.corrcoef(x, rowvar=False)
    mean_r = corr[np.triu_indices(3, 1)].mean()
    assert cronbach_alpha(x, standardized=True).alpha == pytest.approx(
        3 * mean_r / (1 + 2 * mean_r)
    )
    rest = x.sum(axis=1) - x[:, 0]
    assert r.item_total_correlation[0] == pytest.approx(np.corrcoef(x[:, 0], rest)[0, 1])


def test_alpha_recovers_the_reliability_of_parallel_items() -> None:
    # k parallel items T + e_i, var T = 1, var e = 1: inter-item correlation 1/2,
    # so alpha = k (1/2) / (1 + (k - 1)/2) = 0.8 for k = 4.
    rng = np.random.default_rng(1951)
    true = rng.normal(size=(20_000, 1))
    x = true + rng.normal(size=(20_000, 4))
    r = cronbach_alpha(x)
    assert r.alpha == pytest.approx(0.8, abs=0.01)
    assert r.interval[0] < 0.8 < r.interval[1]


def test_feldt_interval_covers_about_95_percent() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    trials = 400
    for _ in range(trials):
        x = rng.normal(size=(60, 1)) + rng.normal(size=(60, 4))
        lo, hi = cronbach_alpha(x).interval
        hits += lo <= 0.8 <= hi
    assert 0.92 <= hits / trials <= 0.98


def test_alpha_bad_input() -> None:
    with pytest.raises(InsufficientData, match="two items"):
        cronbach_alpha(np.ones((5, 1)))
    with pytest.raises(ValidationError, match="constant"):
        cronbach_alpha(np.column_stack([np.arange(5), np.ones(5)]))
    with pytest.raises(ValidationError, match=r"items\[1, 0\]"):
        cronbach_alpha([[1, 2], [np.nan, 3], [2, 2], [3, 1]])
    with pytest.raises(ValidationError, match="2-D"):
        cronbach_alpha([1, 2, 3])


def test_disconfirmation() -> None:
    from crmkit.satisfaction import disconfirmation

    d = disconfirmation([4, 4, 3, 5, 2], [5, 4, 2, 5, 4])
    assert d.difference.tolist() == [1, 0, -1, 0, 2]
    assert (d.positive, d.zero, d.negative, d.n) == (2, 2, 1, 5)
    assert d.mean == pytest.approx(0.4)
    sd = np.std([1, 0, -1, 0, 2], ddof=1)
    assert d.mean_interval[1] - d.mean == pytest.approx(
        2.776445 * sd / np.sqrt(5), rel=1e-5
    )  # t(0.975, 4)
    assert "40% positive" in str(d)
    with pytest.raises(ValidationError, match="nan_policy"):
        disconfirmation([1, np.nan], [1, 2])
    assert disconfirmation([1, np.nan, 2, 3], [1, 2, 2, 4], nan_policy="omit").n == 3
    with pytest.raises(ValidationError, match="one answer per expectation"):
        disconfirmation([1, 2], [1])
    with pytest.raises(InsufficientData):
        disconfirmation([1], [2])
