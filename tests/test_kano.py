"""Kano classification against the evaluation table of the issue (Kano et al. 1984; Berger et al. 1993)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import InsufficientData, ValidationError
from crmkit.satisfaction import kano, kano_category

# Rows the functional answer, columns the dysfunctional answer, 1 = like ... 5 = dislike.
TABLE = ["QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ"]


def test_every_cell_of_the_evaluation_table() -> None:
    f, d = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    got = kano_category(f.ravel(), d.ravel()).reshape(5, 5)
    assert ["".join(row) for row in got] == TABLE


def test_counts_category_and_coefficients_by_hand() -> None:
    # 10 respondents: 5 attractive (1,3), 3 one-dimensional (1,5), 1 must-be (3,5), 1 indifferent (3,3).
    functional = [1] * 5 + [1] * 3 + [3] + [3]
    dysfunctional = [3] * 5 + [5] * 3 + [5] + [3]
    (f,) = kano(functional, dysfunctional, features=["chat"]).features
    assert f.counts == {"A": 5, "O": 3, "M": 1, "I": 1, "R": 0, "Q": 0}
    assert f.category == "A"
    assert f.better == pytest.approx(0.8) and f.worse == pytest.approx(-0.4)
    # Fong (1996): |5 - 3| = 2 < 1.65 sqrt((5 + 3)(20 - 8) / 20) = 3.62: not significant.
    assert not f.significant
    (g,) = kano([1] * 18 + [3] * 2, [3] * 18 + [5] * 2).features
    assert g.category == "A" and g.significant  # |18 - 2| >= 1.65 sqrt(20 * 20 / 40) = 5.2


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=60))
def test_coefficients_stay_in_range(pairs: list[tuple[int, int]]) -> None:
    f = [p[0] for p in pairs]
    d = [p[1] for p in pairs]
    letters = kano_category(f, d)
    if not np.isin(letters, ["A", "O", "M", "I"]).any():
        with pytest.raises(InsufficientData):
            kano(f, d)
        return
    (r,) = kano(f, d).features
    assert 0 <= r.better <= 1 and -1 <= r.worse <= 0
    assert sum(r.counts.values()) == len(pairs)
    assert r.counts[r.category] == max(r.counts.values())


def test_several_features_at_once() -> None:
    f = np.array([[1, 2], [1, 3], [2, 1]])
    d = np.array([[5, 5], [3, 5], [5, 5]])
    r = kano(f, d, features=["a", "b"])
    assert [x.feature for x in r.features] == ["a", "b"]
    assert r.features[1].counts["M"] == 2 and r.features[1].counts["O"] == 1
    assert "must-be" in str(r)


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="answers must be 1-5"):
        kano_category([1, 6], [1, 1])
    with pytest.raises(ValidationError, match="shape"):
        kano(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValidationError, match="name the 2 feature columns"):
        kano(np.ones((3, 2)), np.ones((3, 2)), features=["only one"])
