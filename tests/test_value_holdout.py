"""Holdout and tracking reports on CDNOW: their figures recomputed independently."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from crmkit.datasets import load_cdnow
from crmkit.errors import ValidationError
from crmkit.value import BetaGeo, ParetoNBD, holdout_report, rfm_summary, tracking_report

END, CAL = date(1998, 6, 30), date(1997, 9, 30)


@pytest.fixture(scope="module")
def data() -> tuple[dict[str, np.ndarray], object, BetaGeo]:
    tx = load_cdnow()
    s = rfm_summary(
        tx["customer_id"], tx["date"], tx["amount"], observation_end=END, calibration_end=CAL
    )
    return tx, s, BetaGeo().fit(s)


def test_holdout_report_by_hand(data) -> None:  # type: ignore[no-untyped-def]
    _, s, model = data
    r = holdout_report(model, s, max_frequency=3)
    pred = model.conditional_expected_purchases(39, s.frequency, s.recency, s.T)
    assert r.predicted == pytest.approx(pred.sum())
    assert r.actual == s.holdout_frequency.sum()
    assert r.buckets == ("0", "1", "2", "3+")
    assert r.bucket_customers.sum() == len(s)
    for i, lo in enumerate((0, 1, 2)):
        pick = s.frequency == lo
        assert r.bucket_actual[i] == pytest.approx(s.holdout_frequency[pick].mean())
        assert r.bucket_predicted[i] == pytest.approx(pred[pick].mean())
    pick = s.frequency >= 3
    assert r.bucket_actual[3] == pytest.approx(s.holdout_frequency[pick].mean())
    assert r.mae == pytest.approx(np.abs(pred - s.holdout_frequency).mean())
    assert json.loads(json.dumps(r.to_dict()))["customers"] == 2357
    assert "holdout check over 39 time units" in str(r)
    # Pareto/NBD works the same way.
    assert holdout_report(ParetoNBD().fit(s), s).customers == 2357


def test_tracking_report(data) -> None:  # type: ignore[no-untyped-def]
    tx, s, model = data
    tr = tracking_report(
        model, tx["customer_id"], tx["date"], observation_end=END, calibration_end=CAL
    )
    assert tr.start == "1997-01-01" and tr.times.size == 78
    # All repeat purchases of the cohort by the end: calibration plus holdout.
    assert tr.actual[-1] == s.frequency.sum() + s.holdout_frequency.sum()
    assert np.all(np.diff(tr.actual) >= 0) and np.all(np.diff(tr.expected) >= 0)
    # Expected at week 20, summed customer by customer.
    starts = 38.857142857142854 - s.T  # weeks from 1 January 1997 to each first purchase
    by_hand = model.expected_purchases(np.clip(20 - starts, 0, None)).sum()
    assert tr.expected[19] == pytest.approx(by_hand, rel=1e-9)
    assert tr.calibration_end == pytest.approx(38.857, abs=1e-3)
    assert set(tr.to_dict()) >= {"times", "actual", "expected"}


def test_holdout_needs_a_holdout_period(data) -> None:  # type: ignore[no-untyped-def]
    tx, _, model = data
    plain = rfm_summary(tx["customer_id"], tx["date"], observation_end=CAL)
    with pytest.raises(ValidationError, match="calibration_end"):
        holdout_report(model, plain)
