from __future__ import annotations

import copy
import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import (
    ENTITY_TYPES,
    Account,
    Campaign,
    CampaignMember,
    Channel,
    Consent,
    Contact,
    CustomerType,
    Entity,
    FrozenDict,
    Interaction,
    Lead,
    MemberStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    Product,
    SurveyResponse,
    Ticket,
)
from crmkit.errors import ValidationError
from crmkit.testing.strategies import entities

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def paths(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p for p, _ in exc.value.errors]


# ---------------------------------------------------------------- the shared base


def test_defaults_of_a_new_entity() -> None:
    c = Contact(first_name="Ada")
    assert isinstance(c.id, UUID) and c.id.version == 4
    assert c.version == 1
    assert c.created_at.tzinfo is not None
    assert c.updated_at == c.created_at
    assert c.attributes == {}


def test_naive_datetimes_are_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError) as info:
        Contact(first_name="Ada", created_at=datetime(2026, 1, 1))
    assert paths(info) == ["created_at"]
    assert "timezone-aware" in str(info.value) and "tzinfo" in str(info.value)


def test_updated_at_not_before_created_at() -> None:
    with pytest.raises(ValidationError) as info:
        Contact(first_name="Ada", created_at=T0, updated_at=T0 - timedelta(seconds=1))
    assert paths(info) == ["updated_at"]


def test_every_broken_field_is_listed() -> None:
    with pytest.raises(ValidationError) as info:
        Contact(
            first_name="", version=0, email=None, tags=["", "ok"], created_at=datetime(2026, 1, 1)
        )  # type: ignore[arg-type]
    assert set(paths(info)) == {"version", "created_at", "first_name", "tags"}


def test_entities_are_immutable() -> None:
    c = Contact(first_name="Ada", attributes={"tier": "gold", "sizes": [1, 2]})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        c.first_name = "Grace"  # type: ignore[misc]
    with pytest.raises(TypeError):
        c.attributes["tier"] = "silver"  # type: ignore[index]
    assert isinstance(c.attributes, FrozenDict)
    assert c.attributes["sizes"] == (1, 2)


def test_attributes_must_be_json() -> None:
    with pytest.raises(ValidationError) as info:
        Contact(first_name="Ada", attributes={"when": datetime(2026, 1, 1)})
    assert paths(info) == ["attributes.when"]
    with pytest.raises(ValidationError, match="keys must be strings"):
        Contact(first_name="Ada", attributes={1: "x"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="mapping"):
        Contact(first_name="Ada", attributes=[1, 2])  # type: ignore[arg-type]
    deep: dict[str, object] = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="nesting"):
        Contact(first_name="Ada", attributes=deep)


def test_evolve_checks_rules_and_names() -> None:
    c = Contact(first_name="Ada")
    assert c.evolve(last_name="Lovelace").last_name == "Lovelace"
    with pytest.raises(ValidationError, match="no field 'nickname'"):
        c.evolve(nickname="A")
    with pytest.raises(ValidationError) as info:
        c.evolve(email="nope")
    assert paths(info) == ["address"] or "e-mail" in str(info.value)


@given(entities(Contact))
def test_entities_hash_pickle_and_copy(c: Contact) -> None:
    assert hash(c) == hash(pickle.loads(pickle.dumps(c)))
    assert pickle.loads(pickle.dumps(c)) == c
    assert copy.deepcopy(c) == c


def test_every_entity_type_is_an_entity() -> None:
    assert len(ENTITY_TYPES) == 12
    for cls in ENTITY_TYPES:
        assert issubclass(cls, Entity)
        assert all(f.kw_only for f in attrs.fields(cls))


# ---------------------------------------------------------------- parties


def test_contact_needs_a_way_to_be_identified() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        Contact()
    assert Contact(phone="+442079460958").name == "+442079460958"
    assert Contact(email="a@example.com").is_reachable
    assert not Contact(first_name="A").is_reachable


def test_contact_repr_hides_contact_data() -> None:
    c = Contact(
        first_name="Ada",
        email="ada.lovelace@example.com",
        phone="+442079460958",
    )
    text = repr(c)
    assert "lovelace@" not in text and "2079460958" not in text
    from crmkit.entities import Address

    c2 = Contact(first_name="Ada", address=Address(lines=["12 Secret Lane"], country="GB"))
    assert "Secret" not in repr(c2) and "GB" in repr(c2)


def test_account_rules() -> None:
    a = Account(name="Acme", customer_type="government")
    assert a.customer_type is CustomerType.GOVERNMENT
    with pytest.raises(ValidationError) as info:
        Account(name="Acme", customer_type="consumer")
    assert paths(info) == ["customer_type"]
    assert "'retail'" in str(info.value)
    with pytest.raises(ValidationError, match="own parent"):
        Account(name="Acme", id=a.id, parent_id=a.id)
    with pytest.raises(ValidationError) as info:
        Account(name="Acme", website="acme.example", employees=-1)
    assert paths(info) == ["website", "employees"]


# ---------------------------------------------------------------- sales


def test_lead_rules() -> None:
    with pytest.raises(ValidationError, match="a lead needs"):
        Lead(source="web")
    with pytest.raises(ValidationError) as info:
        Lead(company="Initech", score=101)
    assert paths(info) == ["score"]
    with pytest.raises(ValidationError, match="converted_at"):
        Lead(company="Initech", converted_contact_id=uuid4())


def test_order_totals() -> None:
    order = Order(
        contact_id=uuid4(),
        ordered_at=T0,
        currency="eur",
        lines=[
            OrderLine(description="A", quantity=3, unit_price=Money("9.99", "EUR")),
            OrderLine(
                description="B",
                quantity=1,
                unit_price=Money("100", "EUR"),
                discount=Money("10", "EUR"),
            ),
        ],
        shipping=Money("4.50", "EUR"),
        tax=Money("23.79", "EUR"),
    )
    assert order.currency == "EUR"
    assert order.subtotal == Money("119.97", "EUR")
    assert order.total == Money("148.26", "EUR")
    assert order.customer_id == order.contact_id


def test_order_rules_name_the_line() -> None:
    with pytest.raises(ValidationError) as info:
        Order(
            account_id=uuid4(),
            ordered_at=T0,
            currency="USD",
            lines=[
                OrderLine(description="A", quantity=1, unit_price=Money("1", "USD")),
                OrderLine(description="B", quantity=1, unit_price=Money("1", "EUR")),
            ],
            tax=Money("1", "GBP"),
        )
    assert paths(info) == ["lines[1].unit_price.currency", "tax.currency"]
    with pytest.raises(ValidationError) as info:
        Order(account_id=uuid4(), ordered_at=T0, currency="USD", lines=[])
    assert paths(info) == ["lines"]
    with pytest.raises(ValidationError) as info:
        Order(account_id=uuid4(), ordered_at=T0, currency="USD", lines=["x"])  # type: ignore[list-item]
    assert paths(info) == ["lines[0]"]
    with pytest.raises(ValidationError, match="contact_id or an account_id"):
        Order(
            ordered_at=T0,
            currency="USD",
            lines=[OrderLine(description="A", quantity=1, unit_price=Money("1", "USD"))],
        )


def test_order_line_rules() -> None:
    with pytest.raises(ValidationError) as info:
        OrderLine(description="A", quantity=0, unit_price=Money("1", "USD"))
    assert paths(info) == ["quantity"]
    with pytest.raises(ValidationError, match="exceed"):
        OrderLine(
            description="A", quantity=2, unit_price=Money("1", "USD"), discount=Money("3", "USD")
        )
    with pytest.raises(ValidationError) as info:
        OrderLine(
            description="A", quantity=2, unit_price=Money("1", "USD"), discount=Money("1", "EUR")
        )
    assert paths(info) == ["discount.currency"]
    with pytest.raises(ValidationError, match=">= 0"):
        OrderLine(description="A", quantity=1, unit_price=Money("-1", "USD"))


def test_opportunity_rules() -> None:
    deal = Opportunity(
        name="Deal",
        account_id=uuid4(),
        amount=Money("1000", "EUR"),
        probability=0.25,
        expected_close=date(2026, 6, 30),
    )
    assert deal.weighted_amount == Money("250", "EUR")
    assert deal.stage == "prospecting"
    with pytest.raises(ValidationError) as info:
        Opportunity(
            name="Deal",
            account_id=uuid4(),
            amount=Money("1000", "EUR"),
            probability=1.5,
            expected_close=T0,
        )  # type: ignore[arg-type]
    assert paths(info) == ["probability", "expected_close"]
    with pytest.raises(ValidationError) as info:
        Opportunity(
            name="Deal",
            account_id=uuid4(),
            amount=Money("1000", "EUR"),
            lines=[OrderLine(description="A", quantity=1, unit_price=Money("1", "USD"))],
        )
    assert paths(info) == ["lines[0].unit_price.currency"]


def test_product() -> None:
    p = Product(sku="X-1", name="X", price=Money("1", "EUR"))
    assert p.active
    with pytest.raises(ValidationError) as info:
        Product(sku="X-1", name="X", price="1 EUR")  # type: ignore[arg-type]
    assert paths(info) == ["price"]


# ---------------------------------------------------------------- service


def test_interaction_needs_a_party_and_valid_ranges() -> None:
    with pytest.raises(ValidationError, match="at least one contact_id"):
        Interaction(channel="email", direction="inbound", occurred_at=T0)
    with pytest.raises(ValidationError) as info:
        Interaction(
            channel="fax",
            direction="sideways",
            occurred_at=T0,
            contact_ids=[uuid4()],
            sentiment=2.0,
            duration=timedelta(seconds=-1),
        )
    assert paths(info) == ["channel", "direction", "duration", "sentiment"]
    same = uuid4()
    with pytest.raises(ValidationError, match="repeat"):
        Interaction(channel="email", direction="inbound", occurred_at=T0, contact_ids=[same, same])
    ok = Interaction(
        channel=Channel.CHAT, direction="outbound", occurred_at=T0, contact_ids=[str(same)]
    )  # type: ignore[list-item]
    assert ok.contact_ids == (same,)


def test_ticket_times_and_sla() -> None:
    t = Ticket(subject="Broken", contact_id=uuid4(), opened_at=T0, sla_due=T0 + timedelta(hours=4))
    assert t.response_time is None and t.resolution_time is None
    assert not t.sla_breached(T0 + timedelta(hours=3))
    assert t.sla_breached(T0 + timedelta(hours=5))
    late = t.evolve(resolved_at=T0 + timedelta(hours=6))
    assert late.sla_breached() and late.resolution_time == timedelta(hours=6)
    with pytest.raises(ValidationError) as info:
        Ticket(
            subject="x",
            contact_id=uuid4(),
            opened_at=T0,
            first_response_at=T0 - timedelta(minutes=1),
            resolved_at=T0 + timedelta(hours=2),
            closed_at=T0 + timedelta(hours=1),
        )
    assert paths(info) == ["first_response_at", "closed_at"]
    with pytest.raises(ValidationError, match="at"):
        t.sla_breached(datetime(2026, 1, 1))
    assert Ticket(subject="x", account_id=uuid4(), created_at=T0).opened_at == T0


# ---------------------------------------------------------------- marketing, feedback, privacy


def test_campaign_member_status_and_order() -> None:
    base = {"campaign_id": uuid4(), "contact_id": uuid4()}
    assert CampaignMember(**base).status is MemberStatus.TARGETED
    m = CampaignMember(
        **base, sent_at=T0, opened_at=T0 + timedelta(hours=1), converted_at=T0 + timedelta(days=2)
    )
    assert m.status is MemberStatus.CONVERTED
    with pytest.raises(ValidationError) as info:
        CampaignMember(**base, opened_at=T0)
    assert paths(info) == ["opened_at"]
    with pytest.raises(ValidationError) as info:
        CampaignMember(**base, sent_at=T0, clicked_at=T0 - timedelta(seconds=1))
    assert paths(info) == ["clicked_at"]
    with pytest.raises(ValidationError, match="contact_id or a lead_id"):
        CampaignMember(campaign_id=uuid4())


def test_campaign_rules() -> None:
    with pytest.raises(ValidationError) as info:
        Campaign(
            name="Spring",
            starts_at=T0,
            ends_at=T0 - timedelta(days=1),
            budget=Money("1", "EUR"),
            cost=Money("1", "USD"),
        )
    assert paths(info) == ["ends_at", "cost.currency"]


def test_survey_response_rules() -> None:
    r = SurveyResponse(instrument="csat", answers={"q1": 5}, answered_at=T0)
    assert r.answers == {"q1": 5}
    with pytest.raises(ValidationError, match="at least one answer"):
        SurveyResponse(instrument="csat", answers={}, answered_at=T0)
    with pytest.raises(ValidationError) as info:
        SurveyResponse(instrument="nope", answers={"q1": float("inf")}, answered_at=T0)
    assert set(paths(info)) >= {"answers.q1"} or paths(info) == ["instrument"]


def test_consent_lifecycle() -> None:
    c = Consent(
        contact_id=uuid4(), purpose="newsletter", granted_at=T0, expires_at=T0 + timedelta(days=365)
    )
    assert not c.is_active(T0 - timedelta(seconds=1))
    assert c.is_active(T0)
    assert not c.is_active(T0 + timedelta(days=365))
    w = c.withdraw(T0 + timedelta(days=10))
    assert w.is_active(T0 + timedelta(days=9)) and not w.is_active(T0 + timedelta(days=10))
    assert w.updated_at == T0 + timedelta(days=10) or w.updated_at >= c.updated_at
    with pytest.raises(ValidationError, match="already withdrawn"):
        w.withdraw(T0 + timedelta(days=11))
    with pytest.raises(ValidationError, match="withdrawn_at"):
        c.withdraw(T0 - timedelta(days=1))
    with pytest.raises(ValidationError) as info:
        c.is_active(datetime(2026, 1, 1))
    assert paths(info) == ["at"]
    with pytest.raises(ValidationError, match="after granted_at"):
        Consent(contact_id=uuid4(), purpose="x", granted_at=T0, expires_at=T0)


def test_text_refuses_the_nul_character() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        Contact(first_name="Ada\x00")
    with pytest.raises(ValidationError, match="NUL"):
        Account(name="Acme\x00Ltd")
    with pytest.raises(ValidationError) as info:
        Contact(first_name="Ada", tags={"v\x00ip"})
    assert paths(info) == ["tags"]


def test_integers_fit_a_signed_64_bit_column() -> None:
    """Issue 17: version or employees = 10**5000 passed, then to_json and the adapter failed."""
    from crmkit.entities import Account

    for make in (
        lambda: Contact(first_name="Ada", version=10**5000),
        lambda: Contact(first_name="Ada", version=2**63),
        lambda: Account(name="Initech", employees=10**19),
    ):
        with pytest.raises(ValidationError, match="must be <= 9223372036854775807"):
            make()
    assert Contact(first_name="Ada", version=2**63 - 1).version == 2**63 - 1


def test_money_fields_hold_only_storable_sensible_amounts() -> None:
    """Issue 17: 1E-1000000000, a million digits and '١٢٣' passed; negative prices,
    tax, shipping, budgets and costs too."""
    from crmkit.entities import Campaign, Money, Order, OrderLine, Product

    for make in (
        lambda: Money("1E-1000000000", "EUR"),
        lambda: Money("0." + "1" * 1_000_000, "EUR"),
        lambda: Money("١٢٣", "EUR"),
        lambda: Product(sku="A-1", name="Album", price=Money("-1", "EUR")),
        lambda: Campaign(name="Spring", budget=Money("-5", "EUR")),
        lambda: Campaign(name="Spring", cost=Money("-5", "EUR")),
        lambda: Order(
            contact_id=uuid4(),
            currency="EUR",
            ordered_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            tax=Money("-1", "EUR"),
            lines=[OrderLine(description="A", quantity=1, unit_price=Money("9", "EUR"))],
        ),
    ):
        with pytest.raises(ValidationError) as info:
            make()
        assert len(str(info.value)) < 300
    assert (Money("1", "EUR") / 7).amount.as_tuple().exponent >= -40  # division stays valid


def test_every_accepted_order_has_a_computable_total() -> None:
    # issue 17: quantity 10**9 at 1e13 validated, then .total raised.
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match=r"quantity: unit_price \* quantity must be less"):
        OrderLine(description="A", quantity=10**9, unit_price=Money("1E13", "EUR"))
    big = OrderLine(description="A", quantity=10**9, unit_price=Money("999999999999", "EUR"))
    with pytest.raises(
        ValidationError, match="lines: the order total must be less than 10\\*\\*21"
    ):
        Order(contact_id=uuid4(), currency="EUR", ordered_at=when, lines=[big, big])
    with pytest.raises(ValidationError, match="order total"):
        Order(
            contact_id=uuid4(),
            currency="EUR",
            ordered_at=when,
            lines=[big],
            shipping=Money("999999999999999999999", "EUR"),
        )
    order = Order(contact_id=uuid4(), currency="EUR", ordered_at=when, lines=[big])
    assert order.total == Money("999999999999000000000", "EUR")


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**9),
            st.decimals(0, Decimal(10**12), places=40, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_order_totals_are_exact_or_the_order_is_refused(lines: list[tuple[int, Decimal]]) -> None:
    """A total is the exact sum of exact products (no rounding to 28 digits), or no order."""
    from fractions import Fraction

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    exact = sum(Fraction(price) * q for q, price in lines)
    try:
        order = Order(
            contact_id=uuid4(),
            currency="EUR",
            ordered_at=when,
            lines=[
                OrderLine(description="x", quantity=q, unit_price=Money(p, "EUR")) for q, p in lines
            ],
        )
    except ValidationError:
        assert exact >= 10**21
        return
    assert Fraction(order.total.amount) == exact


def test_money_arithmetic_is_exact_for_every_amount_it_accepts() -> None:
    biggest = Money("9" * 21 + "." + "9" * 40, "EUR")
    finest = Money("1E-40", "EUR")
    assert (biggest - finest + finest) == biggest
    assert (-biggest).amount == biggest.amount.copy_negate() and abs(-biggest) == biggest
    assert (finest * 3).amount == Decimal("3E-40")
    assert (Money("1", "EUR") / 3).amount == Decimal("0." + "3" * 40)  # 40 places, not 28 digits
    with pytest.raises(ValidationError, match="amount: must be less than 10\\*\\*21"):
        biggest + finest
    with pytest.raises(ValidationError, match="factor"):
        Money("1", "EUR") * 10**5000
    with pytest.raises(ValidationError, match="divisor"):
        Money("1", "EUR") / Decimal("NaN")


def test_datetimes_must_be_representable_in_utc() -> None:
    from datetime import timedelta

    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))  # 31 Dec of year 0 in UTC
    with pytest.raises(ValidationError, match="created_at: must lie between years 1 and 9999"):
        Contact(first_name="Ada", created_at=early, updated_at=early)
    from crmkit.repository import F, Query

    with pytest.raises(ValidationError, match="years 1 and 9999"):
        Query(Contact).where(F("created_at") < early)
    edge = datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert Contact(first_name="Ada", created_at=edge, updated_at=edge).created_at == edge
