"""Parties: Contact (a person) and Account (an organisation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit._text import shown
from crmkit.entities import _base as b
from crmkit.entities import _rules as r
from crmkit.entities._enums import Channel, CustomerType
from crmkit.entities._values import Address, Email, Money, PhoneNumber

__all__ = ["Account", "Contact"]


def _address_repr(address: Address | None) -> str:
    # Street lines are personal data: keep them out of logs.
    return "None" if address is None else f"Address(country={address.country!r}, ...)"


def _address_field() -> Any:
    return attrs.field(
        default=None, validator=r.instance_of(Address, optional=True), repr=_address_repr
    )


@attrs.frozen(kw_only=True)
class Contact(b.Entity):
    """A person the company deals with: a retail customer or someone at an account.

    A contact must be identifiable: at least one of ``first_name``,
    ``last_name``, ``email`` or ``phone`` is set (unless the contact was
    erased, see :func:`crmkit.entities.privacy.erase`). ``repr()`` masks the
    e-mail address, the phone number and the street lines.

    >>> c = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    >>> c.name
    'Ada Lovelace'
    >>> c.email
    Email('a**@example.com')
    >>> Contact(first_name="  ")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: first_name: must not be blank
    """

    first_name: str | None = b.optional_text_field()
    last_name: str | None = b.optional_text_field()
    email: Email | None = attrs.field(
        default=None, converter=b.to_email, validator=b.OPTIONAL_EMAIL
    )
    phone: PhoneNumber | None = attrs.field(
        default=None, converter=b.to_phone, validator=b.OPTIONAL_PHONE
    )
    address: Address | None = _address_field()
    job_title: str | None = b.optional_text_field()
    account_id: UUID | None = b.optional_uuid_field()
    owner: str | None = b.optional_text_field()
    lifecycle_stage: str = b.stage_field("awareness")
    preferred_channel: Channel | None = b.enum_field(Channel, optional=True)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=b.to_tags, validator=r.tags)
    lifetime_value: Money | None = b.money_field()
    erased_at: datetime | None = b.optional_time_field()

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.erased_at is None and not (
            self.first_name or self.last_name or self.email or self.phone
        ):
            errors.append(
                ("$", "a contact needs at least one of first_name, last_name, email or phone")
            )

    @property
    def name(self) -> str:
        """Full name, else the e-mail address, else the phone number."""
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        if full:
            return full
        if self.email is not None:
            return str(self.email)
        if self.phone is not None:
            return str(self.phone)
        return "(erased)" if self.erased_at else "(unnamed)"

    @property
    def is_reachable(self) -> bool:
        """Whether there is an e-mail address or a phone number to reach the person by."""
        return self.email is not None or self.phone is not None


def _website(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if type(value) is not str or not value.startswith(("http://", "https://")) or len(value) > 2000:
        r.fail(
            inst,
            attr.name,
            f"must be an http(s) URL of at most 2000 characters (got {shown(value)})",
        )


@attrs.frozen(kw_only=True)
class Account(b.Entity):
    """An organisation the company sells to or serves.

    ``customer_type`` is one of retail, commercial, wholesale, industrial or
    government; ``parent_id`` links a subsidiary to its parent account.

    >>> Account(name="Acme Ltd", customer_type="wholesale").customer_type
    <CustomerType.WHOLESALE: 'wholesale'>
    """

    name: str = b.text_field(max_length=300)
    customer_type: CustomerType = b.enum_field(CustomerType, default=CustomerType.COMMERCIAL)
    industry: str | None = b.optional_text_field()
    website: str | None = attrs.field(default=None, validator=_website)
    email: Email | None = attrs.field(
        default=None, converter=b.to_email, validator=b.OPTIONAL_EMAIL
    )
    phone: PhoneNumber | None = attrs.field(
        default=None, converter=b.to_phone, validator=b.OPTIONAL_PHONE
    )
    address: Address | None = _address_field()
    parent_id: UUID | None = b.optional_uuid_field()
    owner: str | None = b.optional_text_field()
    lifecycle_stage: str = b.stage_field("awareness")
    employees: int | None = attrs.field(default=None, validator=r.optional_integer(minimum=0))
    annual_revenue: Money | None = b.money_field()
    lifetime_value: Money | None = b.money_field()
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=b.to_tags, validator=r.tags)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.parent_id is not None and self.parent_id == self.id:
            errors.append(("parent_id", "an account cannot be its own parent"))
