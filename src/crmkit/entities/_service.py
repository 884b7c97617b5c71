"""Service: Interaction (a touchpoint) and Ticket (a support case)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from crmkit.entities import _base as b
from crmkit.entities import _rules as r
from crmkit.entities._enums import Channel, Direction, Priority

__all__ = ["Interaction", "Ticket"]


def _uuid_tuple_field() -> Any:
    return attrs.field(
        factory=tuple,
        converter=lambda v: tuple(r.to_uuid(x) for x in v) if type(v) is list else v,
        validator=r.uuids,
    )


@attrs.frozen(kw_only=True)
class Interaction(b.Entity):
    """One touchpoint between the company and a customer: a call, an e-mail, a chat ...

    ``direction`` says who started it; ``contact_ids`` and ``account_id`` are
    the parties involved (at least one is required); ``sentiment`` runs from
    -1 (negative) to 1 (positive); ``personalized`` records that the
    interaction used the customer's recorded preferences (the "customize"
    step of IDIC).

    >>> from datetime import datetime, timezone
    >>> from uuid import uuid4
    >>> call = Interaction(channel="phone", direction="inbound", contact_ids=[uuid4()],
    ...                    occurred_at=datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc),
    ...                    duration=timedelta(minutes=7))
    >>> call.channel, call.duration
    (<Channel.PHONE: 'phone'>, datetime.timedelta(seconds=420))
    """

    channel: Channel = b.enum_field(Channel)
    direction: Direction = b.enum_field(Direction)
    occurred_at: datetime = b.time_field()
    contact_ids: tuple[UUID, ...] = _uuid_tuple_field()
    account_id: UUID | None = b.optional_uuid_field()
    subject: str | None = b.optional_text_field(max_length=500)
    summary: str | None = attrs.field(
        default=None,
        validator=r.optional_text(max_length=10_000),
        repr=b.masked_text,
    )
    duration: timedelta | None = attrs.field(default=None, validator=r.optional_duration)
    sentiment: float | None = attrs.field(default=None, validator=r.optional_number(-1, 1))
    owner: str | None = b.optional_text_field()
    campaign_id: UUID | None = b.optional_uuid_field()
    opportunity_id: UUID | None = b.optional_uuid_field()
    ticket_id: UUID | None = b.optional_uuid_field()
    personalized: bool = attrs.field(default=False, validator=r.instance_of(bool))

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if not self.contact_ids and self.account_id is None:
            errors.append(("$", "an interaction needs at least one contact_id or an account_id"))


@attrs.frozen(kw_only=True)
class Ticket(b.Entity):
    """A support case, from opening to closing.

    ``status`` starts at ``"new"`` (the ticket machine of
    :mod:`crmkit.lifecycle` moves it); ``opened_at`` defaults to
    ``created_at``. The timestamps must keep their order: first response
    and resolution not before opening, closing not before resolution.

    >>> from datetime import datetime, timedelta, timezone
    >>> from uuid import uuid4
    >>> t0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
    >>> t = Ticket(subject="Cannot log in", contact_id=uuid4(), opened_at=t0,
    ...            first_response_at=t0 + timedelta(minutes=20), resolved_at=t0 + timedelta(hours=3),
    ...            sla_due=t0 + timedelta(hours=4))
    >>> t.response_time, t.resolution_time, t.sla_breached()
    (datetime.timedelta(seconds=1200), datetime.timedelta(seconds=10800), False)
    """

    subject: str = b.text_field(max_length=500)
    contact_id: UUID | None = b.optional_uuid_field()
    account_id: UUID | None = b.optional_uuid_field()
    description: str | None = b.optional_text_field(max_length=20_000)
    priority: Priority = b.enum_field(Priority, default=Priority.NORMAL)
    status: str = b.stage_field("new")
    channel: Channel | None = b.enum_field(Channel, optional=True)
    opened_at: datetime = attrs.field(validator=r.aware)
    first_response_at: datetime | None = b.optional_time_field()
    resolved_at: datetime | None = b.optional_time_field()
    closed_at: datetime | None = b.optional_time_field()
    sla_due: datetime | None = b.optional_time_field()
    assignee: str | None = b.optional_text_field()

    @opened_at.default
    def _opened_at_default(self) -> datetime:
        return self.created_at

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.contact_id is None and self.account_id is None:
            errors.append(("$", "a ticket needs a contact_id or an account_id"))
        r.not_before(self, "first_response_at", "opened_at", errors)
        r.not_before(self, "resolved_at", "opened_at", errors)
        r.not_before(self, "closed_at", "opened_at", errors)
        r.not_before(self, "closed_at", "resolved_at", errors)

    @property
    def response_time(self) -> timedelta | None:
        """Time from opening to the first response, if there was one."""
        return None if self.first_response_at is None else self.first_response_at - self.opened_at

    @property
    def resolution_time(self) -> timedelta | None:
        """Time from opening to resolution, if resolved."""
        return None if self.resolved_at is None else self.resolved_at - self.opened_at

    def sla_breached(self, at: datetime | None = None) -> bool:
        """Whether the SLA due time was missed: resolved after it, or unresolved past it at ``at``.

        ``at`` defaults to now; it must be timezone-aware. Without ``sla_due``
        nothing can be breached.
        """
        if self.sla_due is None:
            return False
        if self.resolved_at is not None:
            return self.resolved_at > self.sla_due
        now = b.utcnow() if at is None else r.aware_argument("at", at)
        return now > self.sla_due
