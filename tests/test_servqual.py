"""SERVQUAL checked by hand and by its symmetries (Parasuraman, Zeithaml & Berry 1988)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crmkit.errors import DefinitionError, ValidationError
from crmkit.satisfaction import STANDARD_SERVQUAL, ServqualInstrument, servqual

TINY = ServqualInstrument.from_mapping({"speed": [0, 1], "care": [2]})


def test_standard_instrument() -> None:
    assert STANDARD_SERVQUAL.names == (
        "tangibles",
        "reliability",
        "responsiveness",
        "assurance",
        "empathy",
    )
    assert [len(i) for _, i in STANDARD_SERVQUAL.dimensions] == [4, 5, 4, 4, 5]
    assert STANDARD_SERVQUAL.n_items == 22


def test_by_hand() -> None:
    e = [[5, 6, 7], [4, 4, 6], [6, 6, 5]]
    p = [[4, 6, 5], [5, 3, 6], [6, 4, 5]]
    r = servqual(e, p, instrument=TINY)
    # gaps: [[-1, 0, -2], [1, -1, 0], [0, -2, 0]]; speed = mean of the first two items per respondent
    assert r.item_mean.tolist() == pytest.approx([0, -1, -2 / 3])
    speed = np.array([-0.5, 0, -1])
    care = np.array([-2, 0, 0])
    assert r.dimension_mean.tolist() == pytest.approx([speed.mean(), care.mean()])
    assert r.dimension_sd[0] == pytest.approx(speed.std(ddof=1))
    assert r.score == pytest.approx((speed.mean() + care.mean()) / 2)
    assert r.worst_dimension == "care"
    w = servqual(e, p, instrument=TINY, importance=[[50, 50], [100, 0], [0, 100]])
    assert w.weighted_score == pytest.approx(np.mean([0.5 * -0.5 + 0.5 * -2, 0.0, 0.0]))
    assert "gap" in r.alpha["speed"] and "care" not in r.alpha  # one item: no alpha


@given(
    arrays(np.int64, (12, 22), elements=st.integers(1, 7)),
    arrays(np.int64, (12, 22), elements=st.integers(1, 7)),
)
def test_gaps_are_antisymmetric_and_equal_weights_change_nothing(
    e: np.ndarray, p: np.ndarray
) -> None:
    a, b = servqual(e, p), servqual(p, e)
    assert np.allclose(a.item_mean, -b.item_mean)
    assert np.allclose(a.dimension_mean, -b.dimension_mean)
    assert a.score == pytest.approx(-b.score)
    equal = servqual(e, p, importance=np.full((12, 5), 20.0))
    assert equal.weighted_score == pytest.approx(a.score)


def test_servperf_is_perceptions_only() -> None:
    p = np.full((5, 22), 6)
    p[0, 0] = 7
    r = servqual(None, p)
    assert r.measure == "SERVPERF"
    assert r.dimension_mean[1:].tolist() == pytest.approx([6.0] * 4)


def test_bad_input() -> None:
    e = np.full((3, 22), 5)
    p = np.full((3, 22), 5)
    p[0, 1] = 9
    with pytest.raises(ValidationError, match=r"perceptions\[0, 1\].*1-7"):
        servqual(e, p)
    with pytest.raises(ValidationError, match="shape"):
        servqual(e, np.full((3, 21), 5))
    with pytest.raises(ValidationError, match=r"importance\[0\].*100"):
        servqual(e, e, importance=np.full((3, 5), 10))
    with pytest.raises(DefinitionError, match=r"columns 0\.\.3"):
        ServqualInstrument.from_mapping({"a": [0, 1], "b": [1, 3]})
    with pytest.raises(DefinitionError, match="no item"):
        ServqualInstrument.from_mapping({"a": [0], "b": []})


def test_a_million_respondents_is_vectorised() -> None:
    import time

    rng = np.random.default_rng(1991)
    e = rng.integers(1, 8, (200_000, 22)).astype(np.int8)
    p = rng.integers(1, 8, (200_000, 22)).astype(np.int8)
    t0 = time.perf_counter()
    servqual(e, p)
    assert time.perf_counter() - t0 < 5  # 1M x 22 in about 3 s: see benchmarks/satisfaction.py
