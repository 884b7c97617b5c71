"""Marketing: Campaign and CampaignMember."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.entities import _base as b
from crmkit.entities import _rules as r
from crmkit.entities._enums import Channel, MemberStatus
from crmkit.entities._values import Money

__all__ = ["Campaign", "CampaignMember"]


@attrs.frozen(kw_only=True)
class Campaign(b.Entity):
    """A marketing campaign: where it runs, when, and what it may cost.

    >>> Campaign(name="Spring sale", channel="email", budget=Money("5000", "EUR")).status
    'planned'
    """

    name: str = b.text_field(max_length=300)
    channel: Channel | None = b.enum_field(Channel, optional=True)
    status: str = b.stage_field("planned")
    starts_at: datetime | None = b.optional_time_field()
    ends_at: datetime | None = b.optional_time_field()
    budget: Money | None = b.money_field(negative=False)
    cost: Money | None = b.money_field(negative=False)
    description: str | None = b.optional_text_field(max_length=5000)
    owner: str | None = b.optional_text_field()
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=b.to_tags, validator=r.tags)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        r.not_before(self, "ends_at", "starts_at", errors)
        if self.budget is not None:
            b.check_currency(errors, "cost", self.cost, self.budget.currency)


# The steps a member goes through, in order; each later one requires ``sent_at``.
_STEPS = ("sent_at", "opened_at", "clicked_at", "responded_at", "converted_at")


@attrs.frozen(kw_only=True)
class CampaignMember(b.Entity):
    """A contact or lead targeted by a campaign, and how far they went.

    Each step (opened, clicked, responded, converted) requires ``sent_at``
    and may not precede it. :attr:`status` is the furthest step reached.

    >>> from datetime import datetime, timezone
    >>> from uuid import uuid4
    >>> t = datetime(2026, 4, 1, tzinfo=timezone.utc)
    >>> CampaignMember(campaign_id=uuid4(), contact_id=uuid4(), sent_at=t, clicked_at=t).status
    <MemberStatus.CLICKED: 'clicked'>
    """

    campaign_id: UUID = b.uuid_field()
    contact_id: UUID | None = b.optional_uuid_field()
    lead_id: UUID | None = b.optional_uuid_field()
    sent_at: datetime | None = b.optional_time_field()
    opened_at: datetime | None = b.optional_time_field()
    clicked_at: datetime | None = b.optional_time_field()
    responded_at: datetime | None = b.optional_time_field()
    converted_at: datetime | None = b.optional_time_field()

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if self.contact_id is None and self.lead_id is None:
            errors.append(("$", "a campaign member needs a contact_id or a lead_id"))
        for step in _STEPS[1:]:
            if getattr(self, step) is not None and self.sent_at is None:
                errors.append((step, "requires sent_at"))
            else:
                r.not_before(self, step, "sent_at", errors)

    @property
    def status(self) -> MemberStatus:
        """The furthest step reached (``targeted`` before anything was sent)."""
        for step, status in zip(reversed(_STEPS), reversed(list(MemberStatus)[1:]), strict=True):
            if getattr(self, step) is not None:
                return status
        return MemberStatus.TARGETED
