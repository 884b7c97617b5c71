"""IDIC scoring: hand-worked examples, properties, the entity path."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import Consent, Contact, Interaction, Money, Order, OrderLine, SurveyResponse
from crmkit.errors import DefinitionError, ValidationError
from crmkit.value import IdicWeights, idic_from_entities, idic_scores

BASE = {
    "completeness": [1.0, 0.5],
    "reachable": [True, True],
    "consent": [True, False],
    "duplicate": [False, True],
    "value": [1000.0, 10.0],
    "days_since_interaction": [0.0, 90.0],
    "interactions": [12, 3],
    "inbound_share": [0.5, 0.0],
    "channels": [3, 1],
    "satisfaction": [1.0, float("nan")],
    "personalized_share": [1.0, float("nan")],
}


def test_hand_worked_scores() -> None:
    r = idic_scores(**BASE, segment=["retail", "retail"])  # type: ignore[arg-type]
    # Customer 0 is perfect on every component except none: 100 everywhere.
    assert r.identify[0] == pytest.approx(100) and r.interact[0] == pytest.approx(100)
    assert r.differentiate[0] == pytest.approx(100) and r.composite[0] == pytest.approx(100)
    # Customer 1, identify: 0.2 * 0.5 (complete) + 0.2 * 1 (reachable) + 0.3 * 0 + 0.3 * 0 = 0.3.
    assert r.identify[1] == pytest.approx(30.0)
    # Differentiate: value rank 0 of 2 -> 0; needs known -> 0.4.
    assert r.differentiate[1] == pytest.approx(40.0)
    # Interact: recency 0.5 (90 days = one half-life) * 0.3 + frequency 3/12 * 0.2 + two-way 0 + channels 1/3 * 0.1 + 0.
    assert r.interact[1] == pytest.approx(100 * (0.15 + 0.05 + 0.1 / 3))
    assert r.customize[1] == 0.0
    assert r.composite[1] == pytest.approx((30 + 40 + r.interact[1] + 0) / 4)
    reasons = r.reasons(1)
    assert reasons[0] == "customize: recorded preferences not used (-25.0 points)"
    assert any("no active consent" in t for t in reasons + r.reasons(1, limit=10))
    # Two customers: the (lower) 90th percentile potential is 10, which customer 1 already reaches.
    assert r.value_class.tolist() == ["most valuable", "maintain"]


def test_value_classes() -> None:
    n = 20
    base = {
        k: np.repeat(np.asarray(v[:1], dtype=float), n) for k, v in BASE.items() if k != "value"
    }
    value = np.array([-5.0] + [10.0] * 9 + [100.0] * 8 + [500.0, 900.0])
    r = idic_scores(**base, value=value)  # type: ignore[arg-type]
    assert r.value_class[0] == "below zero"
    assert set(r.value_class[-2:]) == {"most valuable"}  # the top decile
    assert set(r.value_class[1:10]) == {
        "most growable"
    }  # at most half the potential (lower q90 = 100)
    assert set(r.value_class[10:18]) == {"maintain"}
    seg = np.array(["a"] * 10 + ["b"] * 10)
    r2 = idic_scores(**base, value=value, segment=seg)  # type: ignore[arg-type]
    # Within segment a the potential is 10: its customers at 10 are at their potential.
    assert set(r2.value_class[1:10]) == {"maintain"}


@given(
    st.lists(
        st.tuples(
            st.floats(0, 1), st.booleans(), st.booleans(), st.booleans(), st.floats(-100, 1e4),
            st.floats(0, 1000), st.integers(0, 50), st.floats(0, 1), st.integers(0, 5), st.floats(0, 1), st.floats(0, 1),
        ),
        min_size=2,
        max_size=30,
    ),
    st.randoms(),
)  # fmt: skip
def test_properties(rows, rnd) -> None:  # type: ignore[no-untyped-def]
    cols = list(zip(*rows, strict=True))
    names = ["completeness", "reachable", "consent", "duplicate", "value", "days_since_interaction",
             "interactions", "inbound_share", "channels", "satisfaction", "personalized_share"]  # fmt: skip
    kw = {k: np.array(v, dtype=float) for k, v in zip(names, cols, strict=True)}
    r = idic_scores(**kw)  # type: ignore[arg-type]
    for s in ("identify", "differentiate", "interact", "customize", "composite"):
        arr = getattr(r, s)
        assert np.all((arr >= -1e-9) & (arr <= 100 + 1e-9))
    # A more complete identity never scores lower on identify.
    better = dict(kw, completeness=np.minimum(kw["completeness"] + 0.3, 1.0))
    assert np.all(idic_scores(**better).identify >= r.identify - 1e-9)  # type: ignore[arg-type]
    # Population figures do not depend on the order of the customers.
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = idic_scores(**{k: v[order] for k, v in kw.items()})  # type: ignore[arg-type]
    for key, value in r.summary().mean.items():
        assert shuffled.summary().mean[key] == pytest.approx(value)
    assert shuffled.summary().value_classes == r.summary().value_classes


def test_weights_are_checked() -> None:
    with pytest.raises(DefinitionError, match="add up to 1"):
        IdicWeights(
            stages={"identify": 0.5, "differentiate": 0.5, "interact": 0.5, "customize": 0.0}
        )
    with pytest.raises(DefinitionError, match="unknown components"):
        IdicWeights(identify={"complete": 1.0, "shoe_size": 0.0})
    w = IdicWeights(stages={"identify": 1.0})
    r = idic_scores(**BASE, weights=w)  # type: ignore[arg-type]
    np.testing.assert_allclose(r.composite, r.identify)


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValidationError, match=r"completeness: must lie in 0-1; positions 1"):
        idic_scores(**dict(BASE, completeness=[1.0, 2.0]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="consent: must have one value per customer"):
        idic_scores(**dict(BASE, consent=[True]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="days_since_interaction"):
        idic_scores(**dict(BASE, days_since_interaction=[-1.0, 2.0]))  # type: ignore[arg-type]


def test_from_entities_by_hand() -> None:
    now = datetime(2026, 6, 30, tzinfo=timezone.utc)
    ada = Contact(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+442079460958"
    )
    twin = Contact(first_name="A.", email="ADA@example.com")  # same normalised e-mail: a duplicate
    bob = Contact(first_name="Bob")
    consents = [
        Consent(contact_id=ada.id, purpose="marketing", granted_at=now - timedelta(days=100)),
        Consent(
            contact_id=twin.id,
            purpose="marketing",
            granted_at=now - timedelta(days=100),
            withdrawn_at=now - timedelta(days=1),
        ),
    ]
    line = OrderLine(description="CD", quantity=2, unit_price=Money("10.00", "EUR"))
    orders = [
        Order(contact_id=ada.id, ordered_at=now - timedelta(days=5), currency="EUR", lines=(line,))
    ]
    interactions = [
        Interaction(
            channel="email",
            direction="inbound",
            occurred_at=now - timedelta(days=90),
            contact_ids=(ada.id,),
            personalized=True,
        ),
        Interaction(
            channel="phone",
            direction="outbound",
            occurred_at=now - timedelta(days=400),
            contact_ids=(ada.id,),
        ),
    ]
    answers = [
        SurveyResponse(
            instrument="nps",
            answers={"nps": 9},
            answered_at=now - timedelta(days=3),
            contact_id=ada.id,
        )
    ]
    r = idic_from_entities(
        [ada, twin, bob], as_of=now, consents=consents, interactions=interactions,
        orders=orders, survey_responses=answers,
    )  # fmt: skip
    c = r.components
    assert c["complete"].tolist() == [0.75, 0.5, 0.25]  # name, e-mail, phone of 4 fields
    assert c["unique"].tolist() == [0.0, 0.0, 1.0]
    assert c["consent"].tolist() == [1.0, 0.0, 0.0]  # twin's consent was withdrawn
    assert c["reachable"].tolist() == [1.0, 1.0, 0.0]
    assert c["recency"][0] == pytest.approx(0.5)  # 90 days ago
    assert c["frequency"][0] == pytest.approx(1 / 12)  # the 400-day-old one is outside the window
    assert c["two_way"][0] == 0.0  # one interaction in the window, inbound only
    assert c["preferences"][0] == 1.0 and c["satisfaction"][0] == pytest.approx(0.9)
    assert math.isclose(c["value"][0], 1.0) and r.customer_id[0] == str(ada.id)
    with pytest.raises(ValidationError, match="as_of"):
        idic_from_entities([ada], as_of=datetime(2026, 1, 1))
