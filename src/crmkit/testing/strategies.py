"""Hypothesis strategies that build valid crmkit entities and value objects.

For application developers and adapter authors who property-test their own
code: every strategy draws only valid objects, covering the corners
(unicode names, every currency, odd time zones, nested custom attributes).

>>> from hypothesis import given
>>> from crmkit.entities import Contact
>>> from crmkit.testing.strategies import entities
>>> @given(entities(Contact))
... def test_contacts_have_a_name(contact):
...     assert contact.name
>>> test_contacts_have_a_name()

Needs hypothesis (``pip install "crmkit[test]"``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'crmkit.testing.strategies needs hypothesis: pip install "crmkit[test]"'
    ) from exc

from crmkit.entities import (
    Account,
    Address,
    Campaign,
    CampaignMember,
    Channel,
    Consent,
    Contact,
    CustomerType,
    Direction,
    Email,
    Entity,
    InstrumentKind,
    Interaction,
    LawfulBasis,
    Lead,
    Money,
    Opportunity,
    Order,
    OrderLine,
    PhoneNumber,
    Priority,
    Product,
    SurveyResponse,
    Ticket,
)
from crmkit.entities._iso import COUNTRIES, CURRENCY_MINOR_UNITS
from crmkit.errors import ValidationError

__all__ = [
    "accounts",
    "addresses",
    "aware_datetimes",
    "campaign_members",
    "campaigns",
    "consents",
    "contacts",
    "emails",
    "entities",
    "interactions",
    "json_objects",
    "json_values",
    "leads",
    "money",
    "opportunities",
    "optional",
    "order_lines",
    "orders",
    "phone_numbers",
    "products",
    "survey_responses",
    "tags",
    "text",
    "tickets",
    "timezones",
]

E = TypeVar("E", bound=Entity)
SearchStrategy = st.SearchStrategy

_CURRENCIES = sorted(c for c, u in CURRENCY_MINOR_UNITS.items() if u is not None)
_COUNTRIES = sorted(COUNTRIES)
_ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-"


def text(max_size: int = 40) -> SearchStrategy[str]:
    """Non-blank unicode text (no surrogates) of at most ``max_size`` characters."""
    return st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=max_size
    ).filter(lambda s: bool(s.strip()))


def optional(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.none() | strategy


def timezones() -> SearchStrategy[timezone]:
    """UTC or a fixed offset in whole minutes between -23:59 and +23:59."""
    return st.just(timezone.utc) | st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
        lambda m: timezone(timedelta(minutes=m))
    )


def aware_datetimes(
    min_value: datetime = datetime(1970, 1, 2), max_value: datetime = datetime(2100, 1, 1)
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes between the given naive bounds."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=timezones())


def emails() -> SearchStrategy[Email]:
    """Valid e-mail addresses (WHATWG grammar), with mixed-case domains."""
    local = st.text(_ATEXT, min_size=1, max_size=20)
    label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True)
    domain = st.lists(label, min_size=1, max_size=3).map(".".join)
    return st.builds(lambda lp, d: Email(f"{lp}@{d}"), local, domain)


def phone_numbers() -> SearchStrategy[PhoneNumber]:
    """E.164-shaped numbers, some with an extension."""
    digits = st.from_regex(r"\+[1-9][0-9]{4,14}", fullmatch=True)
    ext = optional(st.from_regex(r"[0-9]{1,6}", fullmatch=True))
    return st.builds(PhoneNumber, digits, ext)


def money(
    currency: str | None = None, *, min_value: int = -(10**9), max_value: int = 10**9
) -> SearchStrategy[Money]:
    """Amounts with at most the currency's minor-unit digits."""
    cur = st.just(currency) if currency else st.sampled_from(_CURRENCIES)

    @st.composite
    def build(draw: st.DrawFn) -> Money:
        code = draw(cur)
        places = CURRENCY_MINOR_UNITS[code] or 0
        amount = draw(
            st.decimals(
                min_value=min_value,
                max_value=max_value,
                places=places,
                allow_nan=False,
                allow_infinity=False,
            )
        )
        return Money(amount, code)

    return build()


def addresses() -> SearchStrategy[Address]:
    return st.builds(
        Address,
        lines=st.lists(text(60), min_size=1, max_size=4),
        city=optional(text(40)),
        region=optional(text(40)),
        postal_code=optional(text(10)),
        country=st.sampled_from(_COUNTRIES),
    )


def _storable_text(max_size: int) -> SearchStrategy[str]:
    """Any text a database can store: UTF-8 encodable, no NUL (blank allowed)."""
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=max_size)


def json_values() -> SearchStrategy[Any]:
    """JSON values as crmkit stores them in ``attributes`` (text without NUL or surrogates)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63)
        | st.floats(allow_nan=False, allow_infinity=False)
        | _storable_text(20)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(_storable_text(10), children, max_size=4)
        ),
        max_leaves=12,
    )


def json_objects() -> SearchStrategy[dict[str, Any]]:
    """Custom ``attributes``: small JSON objects, nested values included."""
    return st.dictionaries(_storable_text(10), json_values(), max_size=5)


def tags() -> SearchStrategy[frozenset[str]]:
    return st.frozensets(text(20), max_size=4)


@st.composite
def _base(draw: st.DrawFn) -> dict[str, Any]:
    created = draw(aware_datetimes())
    updated = created + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
    return {
        "id": draw(st.uuids()),
        "version": draw(st.integers(1, 10**6)),
        "created_at": created,
        "updated_at": updated,
        "attributes": draw(json_objects()),
    }


def _after(draw: st.DrawFn, start: datetime, days: int = 400) -> datetime:
    return start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=days)))


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    fields = draw(_base())
    fields.update(
        first_name=draw(optional(text())),
        last_name=draw(optional(text())),
        email=draw(optional(emails())),
        phone=draw(optional(phone_numbers())),
        address=draw(optional(addresses())),
        job_title=draw(optional(text())),
        account_id=draw(optional(st.uuids())),
        owner=draw(optional(text(20))),
        lifecycle_stage=draw(
            st.sampled_from(
                ["awareness", "acquisition", "conversion", "retention", "loyalty", "churned"]
            )
        ),
        preferred_channel=draw(optional(st.sampled_from(Channel))),
        tags=draw(tags()),
        lifetime_value=draw(optional(money(min_value=0))),
    )
    if draw(st.integers(0, 9)) == 0:
        fields["erased_at"] = _after(draw, fields["created_at"])
    elif not (fields["first_name"] or fields["last_name"] or fields["email"] or fields["phone"]):
        fields["first_name"] = draw(text())
    return Contact(**fields)


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    fields = draw(_base())
    currency = draw(st.sampled_from(_CURRENCIES))
    fields.update(
        name=draw(text(60)),
        customer_type=draw(st.sampled_from(CustomerType)),
        industry=draw(optional(text())),
        website=draw(
            optional(st.from_regex(r"https://[a-z]{1,12}\.example(/[a-z]{0,8})?", fullmatch=True))
        ),
        email=draw(optional(emails())),
        phone=draw(optional(phone_numbers())),
        address=draw(optional(addresses())),
        parent_id=draw(optional(st.uuids())),
        owner=draw(optional(text(20))),
        employees=draw(optional(st.integers(0, 10**6))),
        annual_revenue=draw(optional(money(currency, min_value=0))),
        lifetime_value=draw(optional(money(currency))),
        tags=draw(tags()),
    )
    if fields["parent_id"] == fields["id"]:
        fields["parent_id"] = None
    return Account(**fields)


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    fields = draw(_base())
    fields.update(
        first_name=draw(optional(text())),
        last_name=draw(optional(text())),
        company=draw(optional(text())),
        email=draw(optional(emails())),
        phone=draw(optional(phone_numbers())),
        source=draw(st.sampled_from(["web", "referral", "event", "partner", "unknown"])),
        status=draw(
            st.sampled_from(["new", "contacted", "qualified", "disqualified", "converted"])
        ),
        score=draw(optional(st.floats(0, 100))),
        tags=draw(tags()),
    )
    if not any(fields[k] for k in ("first_name", "last_name", "company", "email", "phone")):
        fields["company"] = draw(text())
    if draw(st.booleans()):
        fields["converted_at"] = _after(draw, fields["created_at"])
        fields["converted_contact_id"] = draw(st.uuids())
        fields["converted_account_id"] = draw(optional(st.uuids()))
    return Lead(**fields)


@st.composite
def products(draw: st.DrawFn) -> Product:
    fields = draw(_base())
    fields.update(
        sku=draw(st.from_regex(r"[A-Z]{2,4}-[0-9]{3,6}", fullmatch=True)),
        name=draw(text()),
        price=draw(money(min_value=0)),
        active=draw(st.booleans()),
        category=draw(optional(text())),
    )
    return Product(**fields)


def order_lines(currency: str) -> SearchStrategy[OrderLine]:
    @st.composite
    def build(draw: st.DrawFn) -> OrderLine:
        price = draw(money(currency, min_value=0, max_value=10**6))
        quantity = draw(st.integers(1, 1000))
        discount = None
        if draw(st.booleans()):
            cap = price.amount * quantity
            fraction = Decimal(draw(st.integers(0, 100))) / 100
            discount = Money(cap * fraction, currency).round()
            if discount.amount > cap:
                discount = Money(cap, currency)
        return OrderLine(
            description=draw(text()),
            quantity=quantity,
            unit_price=price,
            discount=discount,
            product_id=draw(optional(st.uuids())),
            sku=draw(optional(st.from_regex(r"[A-Z]{2}-[0-9]{3}", fullmatch=True))),
        )

    return build()


@st.composite
def opportunities(draw: st.DrawFn) -> Opportunity:
    fields = draw(_base())
    currency = draw(st.sampled_from(_CURRENCIES))
    fields.update(
        name=draw(text()),
        account_id=draw(st.uuids()),
        amount=draw(money(currency, min_value=0)),
        stage=draw(st.sampled_from(["prospecting", "qualification", "proposal", "closed_won"])),
        probability=draw(optional(st.floats(0, 1))),
        contact_id=draw(optional(st.uuids())),
        expected_close=draw(optional(st.dates(date(2000, 1, 1), date(2100, 1, 1)))),
        close_reason=draw(optional(text())),
        lines=draw(st.lists(order_lines(currency), max_size=3)),
    )
    if draw(st.booleans()):
        fields["closed_at"] = _after(draw, fields["created_at"])
    return Opportunity(**fields)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    fields = draw(_base())
    currency = draw(st.sampled_from(_CURRENCIES))
    contact_id = draw(optional(st.uuids()))
    fields.update(
        ordered_at=draw(aware_datetimes()),
        currency=currency,
        lines=draw(st.lists(order_lines(currency), min_size=1, max_size=4)),
        contact_id=contact_id,
        account_id=draw(st.uuids()) if contact_id is None else draw(optional(st.uuids())),
        number=draw(optional(st.from_regex(r"SO-[0-9]{4,8}", fullmatch=True))),
        status=draw(st.sampled_from(["placed", "paid", "shipped", "cancelled"])),
        shipping=draw(optional(money(currency, min_value=0, max_value=1000))),
        tax=draw(optional(money(currency, min_value=0, max_value=10**5))),
    )
    return Order(**fields)


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    fields = draw(_base())
    contact_ids = draw(st.lists(st.uuids(), max_size=3, unique=True))
    fields.update(
        channel=draw(st.sampled_from(Channel)),
        direction=draw(st.sampled_from(Direction)),
        occurred_at=draw(aware_datetimes()),
        contact_ids=contact_ids,
        account_id=draw(st.uuids()) if not contact_ids else draw(optional(st.uuids())),
        subject=draw(optional(text())),
        summary=draw(optional(text(200))),
        duration=draw(optional(st.timedeltas(timedelta(0), timedelta(days=2)))),
        sentiment=draw(optional(st.floats(-1, 1))),
        personalized=draw(st.booleans()),
    )
    return Interaction(**fields)


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    fields = draw(_base())
    opened = draw(aware_datetimes())
    first = draw(optional(st.timedeltas(timedelta(0), timedelta(days=5)).map(lambda d: opened + d)))
    resolved = draw(
        optional(st.timedeltas(timedelta(0), timedelta(days=30)).map(lambda d: opened + d))
    )
    closed = None
    if resolved is not None and draw(st.booleans()):
        closed = _after(draw, resolved, days=10)
    fields.update(
        subject=draw(text()),
        contact_id=draw(st.uuids()),
        account_id=draw(optional(st.uuids())),
        description=draw(optional(text(200))),
        priority=draw(st.sampled_from(Priority)),
        status=draw(st.sampled_from(["new", "open", "pending", "solved", "closed"])),
        channel=draw(optional(st.sampled_from(Channel))),
        opened_at=opened,
        first_response_at=first,
        resolved_at=resolved,
        closed_at=closed,
        sla_due=draw(
            optional(st.timedeltas(timedelta(hours=1), timedelta(days=5)).map(lambda d: opened + d))
        ),
    )
    return Ticket(**fields)


@st.composite
def campaigns(draw: st.DrawFn) -> Campaign:
    fields = draw(_base())
    currency = draw(st.sampled_from(_CURRENCIES))
    starts = draw(optional(aware_datetimes()))
    fields.update(
        name=draw(text()),
        channel=draw(optional(st.sampled_from(Channel))),
        starts_at=starts,
        ends_at=None if starts is None else draw(optional(st.just(_after(draw, starts)))),
        budget=draw(optional(money(currency, min_value=0))),
        cost=draw(optional(money(currency, min_value=0))),
        tags=draw(tags()),
    )
    return Campaign(**fields)


@st.composite
def campaign_members(draw: st.DrawFn) -> CampaignMember:
    fields = draw(_base())
    contact_id = draw(optional(st.uuids()))
    fields.update(
        campaign_id=draw(st.uuids()),
        contact_id=contact_id,
        lead_id=draw(st.uuids()) if contact_id is None else draw(optional(st.uuids())),
    )
    if draw(st.booleans()):
        sent = draw(aware_datetimes())
        fields["sent_at"] = sent
        for step in ("opened_at", "clicked_at", "responded_at", "converted_at"):
            if draw(st.booleans()):
                fields[step] = _after(draw, sent, days=30)
    return CampaignMember(**fields)


@st.composite
def survey_responses(draw: st.DrawFn) -> SurveyResponse:
    fields = draw(_base())
    kind = draw(st.sampled_from(InstrumentKind))
    if kind is InstrumentKind.NPS:
        answers: dict[str, Any] = {"nps": draw(st.integers(0, 10))}
    else:
        answers = draw(
            st.dictionaries(
                st.from_regex(r"q[0-9]{1,2}", fullmatch=True),
                st.integers(1, 7),
                min_size=1,
                max_size=6,
            )
        )
    fields.update(
        instrument=kind,
        answers=answers,
        answered_at=draw(aware_datetimes()),
        survey=draw(optional(text())),
        contact_id=draw(optional(st.uuids())),
        comment=draw(optional(text(200))),
    )
    return SurveyResponse(**fields)


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    fields = draw(_base())
    granted = draw(aware_datetimes())
    fields.update(
        contact_id=draw(st.uuids()),
        purpose=draw(st.sampled_from(["marketing_email", "profiling", "sms", "newsletter"])),
        lawful_basis=draw(st.sampled_from(LawfulBasis)),
        granted_at=granted,
        withdrawn_at=draw(optional(st.just(_after(draw, granted)))),
        expires_at=draw(optional(st.just(granted + timedelta(days=draw(st.integers(1, 3650)))))),
        source=draw(optional(text())),
    )
    return Consent(**fields)


_BY_TYPE: dict[type[Entity], Any] = {
    Account: accounts,
    Contact: contacts,
    Lead: leads,
    Opportunity: opportunities,
    Product: products,
    Order: orders,
    Interaction: interactions,
    Ticket: tickets,
    Campaign: campaigns,
    CampaignMember: campaign_members,
    SurveyResponse: survey_responses,
    Consent: consents,
}


def entities(cls: type[E]) -> SearchStrategy[E]:
    """A strategy for valid instances of the entity class ``cls``.

    >>> from crmkit.entities import Order
    >>> isinstance(entities(Order).example(), Order)  # doctest: +SKIP
    True
    """
    try:
        factory = _BY_TYPE[cls]
    except (KeyError, TypeError):
        names = ", ".join(t.__name__ for t in _BY_TYPE)
        raise ValidationError(
            [("cls", f"no strategy for {cls!r}; expected one of {names}")]
        ) from None
    return factory()  # type: ignore[no-any-return]
