"""rfm_summary and compress: the papers' CDNOW summary, a loop-based reference, bad input."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.datasets import load_cdnow, load_cdnow_summary
from crmkit.entities import Money, Order, OrderLine
from crmkit.errors import InsufficientData, ValidationError
from crmkit.value import compress, rfm_summary, rfm_summary_from_orders


def test_reproduces_the_published_cdnow_summary() -> None:
    """The 39-week calibration summary of Fader, Hardie & Lee (2005) from the raw transactions."""
    tx = load_cdnow()
    s = rfm_summary(
        tx["customer_id"],
        tx["date"],
        tx["amount"],
        observation_end=date(1998, 6, 30),
        calibration_end=date(1997, 9, 30),
    )
    ref = load_cdnow_summary()
    assert len(s) == 2357
    np.testing.assert_array_equal(s.customer_id, ref["customer_id"])
    np.testing.assert_array_equal(s.frequency, ref["frequency"])
    # The published file rounds to two decimals.
    np.testing.assert_allclose(s.recency, ref["recency"], atol=0.005)
    np.testing.assert_allclose(s.T, ref["T"], atol=0.005)
    np.testing.assert_allclose(s.monetary_value, ref["monetary_value"], atol=0.005)
    assert s.holdout_duration == 39.0
    assert s.holdout_frequency is not None and s.holdout_frequency.sum() > 0


def _reference(ids, days, amounts, end, unit):  # type: ignore[no-untyped-def]
    """A plain-Python summary: a dict of customers, one loop over the transactions."""
    per: dict[object, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for c, d, a in zip(ids, days, amounts, strict=True):
        if d <= end:
            per[c][d] += a
    out = {}
    for c, purchases in per.items():
        ds = sorted(purchases)
        x = len(ds) - 1
        monetary = sum(purchases[d] for d in ds[1:]) / x if x else 0.0
        out[c] = (x, (ds[-1] - ds[0]) / unit, (end - ds[0]) / unit, monetary)
    return out


@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 60), st.integers(1, 500)),
        min_size=1,
        max_size=80,
    ),
    st.integers(0, 70),
    st.sampled_from(["D", "W"]),
)
def test_agrees_with_a_loop_over_transactions(
    rows: list[tuple[int, int, int]], end: int, unit: str
) -> None:
    ids = [f"c{r[0]}" for r in rows]
    start = np.datetime64("2026-01-01")
    days = [r[1] for r in rows]
    amounts = [r[2] / 100 for r in rows]
    ref = _reference(ids, days, amounts, end, 7.0 if unit == "W" else 1.0)
    if not ref:
        with pytest.raises(InsufficientData):
            rfm_summary(
                ids, start + np.array(days), amounts, observation_end=start + end, time_unit=unit
            )
        return
    s = rfm_summary(
        ids, start + np.array(days), amounts, observation_end=start + end, time_unit=unit
    )
    assert sorted(ref) == s.customer_id.tolist()
    for i, c in enumerate(s.customer_id.tolist()):
        x, r, t, m = ref[c]
        assert s.frequency[i] == x
        assert s.recency[i] == pytest.approx(r)
        assert s.T[i] == pytest.approx(t)
        assert s.monetary_value[i] == pytest.approx(m)


def test_purchases_on_one_day_count_once_and_later_ones_are_ignored() -> None:
    s = rfm_summary(
        [1, 1, 1, 1],
        ["2026-01-01T09:00", "2026-01-01T17:00", "2026-01-15T10:00", "2026-02-01"],
        [5.0, 5.0, 30.0, 99.0],
        observation_end=date(2026, 1, 15),
        time_unit="D",
    )
    assert (s.frequency[0], s.recency[0], s.T[0], s.monetary_value[0]) == (1, 14.0, 14.0, 30.0)


def test_collapse_by_week_and_month() -> None:
    # Monday 2026-01-05 and Sunday 2026-01-11 are one ISO week; 2026-01-12 starts the next.
    days = ["2026-01-05", "2026-01-11", "2026-01-12"]
    w = rfm_summary(
        [1, 1, 1], days, [1.0, 2.0, 4.0], observation_end=date(2026, 1, 31), collapse="W"
    )
    assert (w.frequency[0], w.recency[0], w.monetary_value[0]) == (1, 1.0, 4.0)
    m = rfm_summary(
        [1, 1, 1],
        days,
        [1.0, 2.0, 4.0],
        observation_end=date(2026, 3, 31),
        collapse="M",
        time_unit="M",
    )
    assert m.frequency[0] == 0


def test_timezone_aware_datetimes_are_taken_in_utc() -> None:
    cet = timezone(timedelta(hours=1))
    s = rfm_summary(
        ["a", "a"],
        [datetime(2026, 1, 2, 0, 30, tzinfo=cet), datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)],
        observation_end=datetime(2026, 1, 10, tzinfo=timezone.utc),
        time_unit="D",
    )
    # 00:30 in UTC+1 is 23:30 on 1 January in UTC: two days, one repeat purchase.
    assert s.frequency[0] == 1 and s.recency[0] == 1.0


def test_holdout_columns() -> None:
    s = rfm_summary(
        ["a", "a", "a", "b", "c"],
        ["2026-01-01", "2026-01-10", "2026-02-10", "2026-01-05", "2026-02-02"],
        [10.0, 20.0, 40.0, 5.0, 7.0],
        observation_end=date(2026, 2, 28),
        calibration_end=date(2026, 1, 31),
        time_unit="D",
    )
    assert s.customer_id.tolist() == ["a", "b"]  # c first bought in the holdout period
    assert s.frequency.tolist() == [1, 0]
    assert s.holdout_frequency is not None and s.holdout_monetary_value is not None
    assert s.holdout_frequency.tolist() == [1, 0]
    assert s.holdout_monetary_value.tolist() == [40.0, 0.0]
    assert s.T.tolist() == [30.0, 26.0] and s.holdout_duration == 28.0
    assert set(s.to_dict()) >= {"holdout_frequency", "time_unit", "customer_id"}


def test_from_order_entities() -> None:
    buyer = __import__("uuid").uuid4()
    line = OrderLine(
        product_id=None, description="CD", quantity=1, unit_price=Money("12.50", "EUR")
    )
    orders = [
        Order(
            contact_id=buyer,
            ordered_at=datetime(2026, 1, d, tzinfo=timezone.utc),
            currency="EUR",
            lines=(line,),
            status=st_,
        )
        for d, st_ in ((1, "placed"), (8, "placed"), (15, "cancelled"))
    ]
    s = rfm_summary_from_orders(orders, observation_end=date(2026, 1, 29))
    assert s.customer_id.tolist() == [str(buyer)]
    assert (s.frequency[0], s.recency[0], s.monetary_value[0]) == (1, 1.0, float(Decimal("12.50")))


def test_compress_round_trip() -> None:
    ref = load_cdnow_summary()
    c = compress(ref)
    assert c.weights.sum() == len(ref["T"])
    np.testing.assert_array_equal(c.expand(c.frequency), ref["frequency"])
    np.testing.assert_array_equal(c.expand(c.T), ref["T"])
    np.testing.assert_array_equal(c.expand(c.recency), ref["recency"])


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValidationError, match="timestamps"):
        rfm_summary([1, 2], ["2026-01-01"], observation_end=date(2026, 2, 1))
    with pytest.raises(ValidationError, match=r"timestamps\[1\].*NaT"):
        rfm_summary(
            [1, 2],
            np.array(["2026-01-01", "NaT"], dtype="datetime64[D]"),
            observation_end=date(2026, 2, 1),
        )
    with pytest.raises(ValidationError, match="timestamps: must hold dates"):
        rfm_summary([1], [3.5], observation_end=date(2026, 2, 1))
    with pytest.raises(ValidationError, match=r"timestamps\[1\]: must be a date"):
        rfm_summary([1, 1], [date(2026, 1, 1), "soon"], observation_end=date(2026, 2, 1))
    with pytest.raises(ValidationError, match=r"customer_ids\[1\]"):
        rfm_summary(
            np.array(["a", None], dtype=object),
            ["2026-01-01", "2026-01-02"],
            observation_end=date(2026, 2, 1),
        )
    with pytest.raises(ValidationError, match="amounts"):
        rfm_summary([1], ["2026-01-01"], [float("nan")], observation_end=date(2026, 2, 1))
    with pytest.raises(ValidationError, match="time_unit"):
        rfm_summary([1], ["2026-01-01"], observation_end=date(2026, 2, 1), time_unit="fortnight")
    with pytest.raises(ValidationError, match="calibration_end"):
        rfm_summary(
            [1], ["2026-01-01"], observation_end=date(2026, 2, 1), calibration_end=date(2026, 3, 1)
        )
    with pytest.raises(InsufficientData):
        rfm_summary([], [], observation_end=date(2026, 2, 1))
    with pytest.raises(InsufficientData):
        rfm_summary([1], ["2026-03-01"], observation_end=date(2026, 2, 1))
