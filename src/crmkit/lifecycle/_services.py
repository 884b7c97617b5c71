"""Services that move several entities at once: lead conversion, stages replayed from orders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmkit._args import items
from crmkit._text import shown
from crmkit.entities import Account, Contact, CustomerType, Lead, Money, Opportunity, Order
from crmkit.entities._base import utcnow
from crmkit.entities._rules import aware_argument, describe
from crmkit.errors import InvalidTransition, ValidationError
from crmkit.lifecycle._machine import Machine, TransitionRecord
from crmkit.lifecycle._standard import CUSTOMER_LIFECYCLE, LEAD, OPPORTUNITY_PIPELINE

__all__ = ["Conversion", "StageReplay", "convert_lead", "replay_customer_stages"]


@attrs.frozen(kw_only=True)
class Conversion:
    """What converting a lead produced: the moved lead, the new (or given) account,
    the new contact, the new opportunity if one was asked for, and the records."""

    lead: Lead
    account: Account
    contact: Contact
    opportunity: Opportunity | None
    records: tuple[TransitionRecord, ...]
    created_account: bool


def convert_lead(
    lead: Lead,
    *,
    account: Account | None = None,
    opportunity_amount: Money | None = None,
    opportunity_name: str | None = None,
    customer_type: CustomerType = CustomerType.COMMERCIAL,
    at: datetime | None = None,
    actor: str | None = None,
    uow: Any = None,
    machine: Machine = LEAD,
) -> Conversion:
    """Turn a qualified lead into an account, a contact and optionally an opportunity.

    The new contact carries the lead's name, e-mail, phone and job title and
    belongs to ``account`` (an existing one) or to a new account named after
    the lead's company (else the person). With ``opportunity_amount`` an
    opportunity is opened for the account. The lead moves to ``converted``
    with the ids of what it became.

    With a unit of work (``uow``), the new entities are added and the lead is
    saved in it (optimistically: a lead changed meanwhile raises
    :class:`~crmkit.errors.ConcurrencyError`), and the transition record is
    recorded as a domain event; commit it yourself. Without one, nothing is
    stored: the result holds plain objects.

    Raises
    ------
    InvalidTransition
        When the lead is not qualified, or was converted already; nothing changes.

    >>> from crmkit.entities import Lead
    >>> lead = Lead(company="Initech", first_name="Peter", email="peter@initech.example", status="qualified")
    >>> result = convert_lead(lead, opportunity_amount=Money("12000", "USD"))
    >>> result.lead.status, result.account.name, result.contact.name, result.opportunity.stage
    ('converted', 'Initech', 'Peter', 'prospecting')
    >>> result.lead.converted_contact_id == result.contact.id
    True
    >>> convert_lead(result.lead)
    Traceback (most recent call last):
    ...
    crmkit.errors.InvalidTransition: lead ... was converted already (at ...); nothing was changed
    """
    if not isinstance(lead, Lead):
        raise ValidationError([("lead", f"must be a Lead, got {describe(lead)}")])
    if account is not None and not isinstance(account, Account):
        raise ValidationError([("account", f"must be an Account or None, got {describe(account)}")])
    when = utcnow() if at is None else aware_argument("at", at)
    if lead.converted_at is not None or lead.status == "converted":
        stamp = lead.converted_at.isoformat() if lead.converted_at else "an unknown time"
        raise InvalidTransition(
            f"lead {lead.id} was converted already (at {stamp}); nothing was changed"
        )
    if not machine.can_fire(lead, "convert", context={"at": when}):
        allowed = ", ".join(repr(e) for e in machine.allowed_events(lead, context={"at": when}))
        raise InvalidTransition(
            f"lead {lead.id} is {shown(lead.status)}, not qualified: qualify it first "
            f"(allowed there: {allowed or 'nothing'}); nothing was changed"
        )
    person = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    created = account is None
    if account is None:
        account = Account(
            name=lead.company or person or str(lead.email or lead.phone),
            customer_type=customer_type,
            owner=lead.owner,
            lifecycle_stage="acquisition",
            created_at=when,
        )
    contact = Contact(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone=lead.phone,
        job_title=lead.job_title,
        account_id=account.id,
        owner=lead.owner,
        lifecycle_stage="acquisition",
        tags=lead.tags,
        created_at=when,
    )
    opportunity = None
    if opportunity_amount is not None:
        opportunity = Opportunity(
            name=opportunity_name or f"{account.name}: first deal",
            account_id=account.id,
            contact_id=contact.id,
            amount=opportunity_amount,
            probability=OPPORTUNITY_PIPELINE.state(OPPORTUNITY_PIPELINE.initial).probability,
            owner=lead.owner,
            source_lead_id=lead.id,
            created_at=when,
        )
    ids = {
        "converted_account_id": account.id,
        "converted_contact_id": contact.id,
        "converted_opportunity_id": opportunity.id if opportunity else None,
    }
    moved, record = machine.fire(
        lead, "convert", at=when, actor=actor, context={"converted_ids": ids}
    )
    if uow is not None:
        if created:
            uow.repository(Account).add(account)
        uow.repository(Contact).add(contact)
        if opportunity is not None:
            uow.repository(Opportunity).add(opportunity)
        moved = uow.repository(Lead).save(moved)
        uow.record(record)
    return Conversion(
        lead=moved,
        account=account,
        contact=contact,
        opportunity=opportunity,
        records=(record,),
        created_account=created,
    )


@attrs.frozen
class StageReplay:
    """Customers moved through :data:`CUSTOMER_LIFECYCLE` by their orders, and the records."""

    customers: tuple[Account | Contact, ...]
    records: tuple[TransitionRecord, ...]

    def counts(self) -> dict[str, int]:
        """Customers per stage, in the machine's order of states."""
        seen: dict[str, int] = {}
        for c in self.customers:
            seen[c.lifecycle_stage] = seen.get(c.lifecycle_stage, 0) + 1
        return {s: seen[s] for s in CUSTOMER_LIFECYCLE.state_names if s in seen}

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(), "records": len(self.records)}

    def __str__(self) -> str:
        return "customers by lifecycle stage: " + ", ".join(
            f"{k} {v:,}" for k, v in self.counts().items()
        )


def replay_customer_stages(
    customers: Iterable[Account | Contact],
    orders: Iterable[Order],
    *,
    as_of: datetime,
    churn_after: timedelta = timedelta(days=180),
) -> StageReplay:
    """Each customer's lifecycle stage replayed from its order history, through the machine.

    From ``awareness``: no order -> ``acquisition``; a first order ->
    ``conversion``; two -> ``retention``; four -> ``loyalty``; and a
    customer with orders whose last one is more than ``churn_after`` before
    ``as_of`` -> ``churned`` (at the last order). Moves are 30 days apart
    from the customer's creation. Orders count for their
    ``customer_id`` (the contact, else the account). Every move goes through
    :data:`CUSTOMER_LIFECYCLE`, so the records replay to the stages.
    """
    at = aware_argument("as_of", as_of)
    customers = items(customers, "customers", of=(Account, Contact))
    orders = items(orders, "orders", of=Order)
    if not isinstance(churn_after, timedelta) or churn_after <= timedelta(0):
        raise ValidationError(
            [("churn_after", f"must be a positive timedelta, got {describe(churn_after)}")]
        )
    count: dict[Any, int] = {}
    last: dict[Any, datetime] = {}
    for order in orders:
        key = order.customer_id
        count[key] = count.get(key, 0) + 1
        if key not in last or order.ordered_at > last[key]:
            last[key] = order.ordered_at
    moved_all: list[Account | Contact] = []
    records: list[TransitionRecord] = []
    for customer in customers:
        n = count.get(customer.id, 0)
        events = ["acquire"] if n == 0 else ["convert"]
        if n >= 2:
            events.append("retain")
        if n >= 4:
            events.append("reward")
        if n and at - last[customer.id] > churn_after:
            events.append("churn")
        moved: Account | Contact = customer.evolve(lifecycle_stage="awareness")
        when = customer.created_at
        for event in events:
            when = last.get(customer.id, at) if event == "churn" else when + timedelta(days=30)
            moved, record = CUSTOMER_LIFECYCLE.fire(moved, event, at=max(when, moved.updated_at))
            records.append(record)
        moved_all.append(moved)
    return StageReplay(tuple(moved_all), tuple(records))
