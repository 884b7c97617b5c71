"""Sales: Lead, Product, OrderLine, Opportunity, Order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from crmkit._text import shown
from crmkit.entities import _base as b
from crmkit.entities import _rules as r
from crmkit.entities._iso import CURRENCY_MINOR_UNITS
from crmkit.entities._values import (
    _EXACT,
    MAX_AMOUNT_DIGITS,
    Email,
    Money,
    PhoneNumber,
    amount_fits,
    upper_code,
)

__all__ = ["Lead", "Opportunity", "Order", "OrderLine", "Product"]


@attrs.frozen(kw_only=True)
class Lead(b.Entity):
    """A prospective customer not yet qualified.

    ``status`` starts at ``"new"`` (the lead machine of
    :mod:`crmkit.lifecycle` moves it). After conversion the ids of the
    account, contact and opportunity it became are recorded with
    ``converted_at``.

    >>> Lead(company="Initech", email="peter@initech.example", source="web").status
    'new'
    """

    first_name: str | None = b.optional_text_field()
    last_name: str | None = b.optional_text_field()
    company: str | None = b.optional_text_field(max_length=300)
    job_title: str | None = b.optional_text_field()
    email: Email | None = attrs.field(
        default=None, converter=b.to_email, validator=b.OPTIONAL_EMAIL
    )
    phone: PhoneNumber | None = attrs.field(
        default=None, converter=b.to_phone, validator=b.OPTIONAL_PHONE
    )
    source: str = b.text_field(max_length=100, default="unknown")
    status: str = b.stage_field("new")
    score: float | None = attrs.field(default=None, validator=r.optional_number(0, 100))
    owner: str | None = b.optional_text_field()
    disqualified_reason: str | None = b.optional_text_field(max_length=1000)
    converted_at: datetime | None = b.optional_time_field()
    converted_account_id: UUID | None = b.optional_uuid_field()
    converted_contact_id: UUID | None = b.optional_uuid_field()
    converted_opportunity_id: UUID | None = b.optional_uuid_field()
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=b.to_tags, validator=r.tags)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if not (self.first_name or self.last_name or self.company or self.email or self.phone):
            errors.append(
                ("$", "a lead needs at least one of first_name, last_name, company, email or phone")
            )
        if self.converted_at is None and (
            self.converted_account_id is not None
            or self.converted_contact_id is not None
            or self.converted_opportunity_id is not None
        ):
            errors.append(("converted_at", "must be set when a converted_*_id is set"))

    @property
    def is_reachable(self) -> bool:
        """Whether there is an e-mail address or a phone number to reach the lead by."""
        return self.email is not None or self.phone is not None


@attrs.frozen(kw_only=True)
class Product(b.Entity):
    """Something the company sells, with its list price.

    >>> Product(sku="CD-001", name="Kind of Blue", price=Money("9.99", "USD")).price
    Money('9.99', 'USD')
    """

    sku: str = b.text_field(max_length=100)
    name: str = b.text_field(max_length=300)
    price: Money = b.money_field(optional=False, negative=False)
    active: bool = attrs.field(default=True, validator=r.instance_of(bool))
    category: str | None = b.optional_text_field()
    description: str | None = b.optional_text_field(max_length=5000)


@attrs.frozen(kw_only=True)
class OrderLine:
    """One product line of an order or an opportunity.

    ``total`` is ``unit_price * quantity - discount``; the discount is in the
    same currency and at most the line's gross amount.

    >>> line = OrderLine(description="Kind of Blue", quantity=2, unit_price=Money("9.99", "USD"),
    ...                  discount=Money("1.98", "USD"))
    >>> line.total
    Money('18.00', 'USD')
    """

    description: str = b.text_field(max_length=500)
    quantity: int = attrs.field(validator=r.integer(minimum=1, maximum=10**9))
    unit_price: Money = b.money_field(optional=False)
    discount: Money | None = b.money_field()
    product_id: UUID | None = b.optional_uuid_field()
    sku: str | None = b.optional_text_field(max_length=100)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not amount_fits(_EXACT.multiply(self.unit_price.amount, Decimal(self.quantity))):
            r.raise_all([("quantity", _TOO_LARGE.format(what="unit_price * quantity"))])
        if self.unit_price.amount < 0:
            errors.append(("unit_price.amount", f"must be >= 0 (got {self.unit_price.amount})"))
        b.check_currency(errors, "discount", self.discount, self.unit_price.currency)
        if self.discount is not None and not errors:
            if self.discount.amount < 0:
                errors.append(("discount.amount", f"must be >= 0 (got {self.discount.amount})"))
            elif self.discount.amount > self.gross.amount:
                errors.append(("discount", "must not exceed unit_price * quantity"))
        r.raise_all(errors)

    @property
    def gross(self) -> Money:
        """``unit_price * quantity``, before the discount."""
        return self.unit_price * self.quantity

    @property
    def total(self) -> Money:
        """``unit_price * quantity - discount``."""
        gross = self.gross
        return gross if self.discount is None else gross - self.discount


_TOO_LARGE = f"{{what}} must be less than 10**{MAX_AMOUNT_DIGITS}, the largest amount"


def _line_currencies(
    errors: list[tuple[str, str]], lines: tuple[OrderLine, ...], currency: str
) -> None:
    for i, line in enumerate(lines):
        b.check_currency(errors, f"lines[{i}].unit_price", line.unit_price, currency)


@attrs.frozen(kw_only=True)
class Opportunity(b.Entity):
    """A deal in the sales pipeline.

    ``stage`` starts at ``"prospecting"``; ``probability`` (0-1) is the
    chance of winning; line items, when given, are in the currency of
    ``amount``.

    >>> from uuid import uuid4
    >>> deal = Opportunity(name="Acme renewal", account_id=uuid4(), amount=Money("12000", "EUR"),
    ...                    probability=0.4)
    >>> deal.weighted_amount
    Money('4800.0', 'EUR')
    """

    name: str = b.text_field(max_length=300)
    account_id: UUID = b.uuid_field()
    amount: Money = b.money_field(optional=False)
    stage: str = b.stage_field("prospecting")
    probability: float | None = attrs.field(default=None, validator=r.optional_number(0, 1))
    contact_id: UUID | None = b.optional_uuid_field()
    expected_close: date | None = attrs.field(default=None, validator=r.optional_date)
    closed_at: datetime | None = b.optional_time_field()
    close_reason: str | None = b.optional_text_field(max_length=1000)
    lines: tuple[OrderLine, ...] = attrs.field(
        factory=tuple, converter=r.to_tuple, validator=r.tuple_of(OrderLine)
    )
    owner: str | None = b.optional_text_field()
    source_lead_id: UUID | None = b.optional_uuid_field()
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=b.to_tags, validator=r.tags)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.amount.amount < 0:
            errors.append(("amount.amount", f"must be >= 0 (got {self.amount.amount})"))
        _line_currencies(errors, self.lines, self.amount.currency)
        if self.closed_at is not None and self.closed_at < self.created_at:
            errors.append(("closed_at", "must not be before created_at"))

    @property
    def weighted_amount(self) -> Money:
        """``amount * probability`` (zero when no probability is set)."""
        from decimal import Decimal

        p = Decimal(repr(self.probability)) if self.probability is not None else Decimal(0)
        return self.amount * p


def _check_currency_code(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not str or value not in CURRENCY_MINOR_UNITS:
        r.fail(
            inst, attr.name, f"must be an ISO 4217 currency code such as 'EUR' (got {shown(value)})"
        )


@attrs.frozen(kw_only=True)
class Order(b.Entity):
    """A purchase: who bought, when, and the lines, all in one currency.

    The buyer is a contact, an account, or both. ``subtotal`` adds the line
    totals; ``total`` adds shipping and tax.

    >>> from datetime import datetime, timezone
    >>> from uuid import uuid4
    >>> order = Order(contact_id=uuid4(), ordered_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
    ...               currency="USD", shipping=Money("4.50", "USD"),
    ...               lines=[OrderLine(description="CD", quantity=3, unit_price=Money("9.99", "USD"))])
    >>> order.total
    Money('34.47', 'USD')
    """

    ordered_at: datetime = b.time_field()
    currency: str = attrs.field(converter=upper_code, validator=_check_currency_code)
    lines: tuple[OrderLine, ...] = attrs.field(
        converter=r.to_tuple, validator=r.tuple_of(OrderLine, min_length=1)
    )
    contact_id: UUID | None = b.optional_uuid_field()
    account_id: UUID | None = b.optional_uuid_field()
    number: str | None = b.optional_text_field(max_length=100)
    status: str = b.stage_field("placed")
    shipping: Money | None = b.money_field(negative=False)
    tax: Money | None = b.money_field(negative=False)
    opportunity_id: UUID | None = b.optional_uuid_field()
    campaign_id: UUID | None = b.optional_uuid_field()

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.contact_id is None and self.account_id is None:
            errors.append(("$", "an order needs a contact_id or an account_id"))
        _line_currencies(errors, self.lines, self.currency)
        b.check_currency(errors, "shipping", self.shipping, self.currency)
        b.check_currency(errors, "tax", self.tax, self.currency)
        if not errors:
            extras = (m.amount for m in (self.shipping, self.tax) if m is not None)
            parts = [*(line.total.amount for line in self.lines), *extras]
            total = Decimal(0)
            for part in parts:  # all >= 0, so no partial sum cancels out
                total = _EXACT.add(total, part)
            if not amount_fits(total):
                errors.append(("lines", _TOO_LARGE.format(what="the order total")))

    @property
    def customer_id(self) -> UUID:
        """The buyer: the contact if there is one, else the account."""
        return self.contact_id if self.contact_id is not None else self.account_id  # type: ignore[return-value]

    @property
    def subtotal(self) -> Money:
        """Sum of the line totals."""
        return sum((line.total for line in self.lines), Money.zero(self.currency))

    @property
    def total(self) -> Money:
        """Subtotal plus shipping and tax."""
        total = self.subtotal
        for extra in (self.shipping, self.tax):
            if extra is not None:
                total = total + extra
        return total
