"""Privacy: Consent, a person's permission for one purpose (GDPR art. 6 and 7)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.entities import _base as b
from crmkit.entities import _rules as r
from crmkit.entities._enums import LawfulBasis
from crmkit.errors import ValidationError

__all__ = ["Consent"]


@attrs.frozen(kw_only=True)
class Consent(b.Entity):
    """The lawful basis on which a contact's data is processed for one purpose.

    ``purpose`` is the application's own name for the processing
    (``"marketing_email"``); ``lawful_basis`` is one of the six bases of
    GDPR art. 6(1). A consent is active from ``granted_at`` until it is
    withdrawn (art. 7(3)) or expires.

    >>> from datetime import datetime, timezone
    >>> from uuid import uuid4
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> c = Consent(contact_id=uuid4(), purpose="marketing_email", granted_at=t)
    >>> c.is_active(datetime(2026, 2, 1, tzinfo=timezone.utc))
    True
    >>> c.withdraw(datetime(2026, 3, 1, tzinfo=timezone.utc)).is_active(datetime(2026, 4, 1, tzinfo=timezone.utc))
    False
    """

    contact_id: UUID = b.uuid_field()
    purpose: str = b.text_field(max_length=200)
    lawful_basis: LawfulBasis = b.enum_field(LawfulBasis, default=LawfulBasis.CONSENT)
    granted_at: datetime = b.time_field()
    withdrawn_at: datetime | None = b.optional_time_field()
    expires_at: datetime | None = b.optional_time_field()
    source: str | None = b.optional_text_field(max_length=500)
    wording_version: str | None = b.optional_text_field(max_length=100)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        r.not_before(self, "withdrawn_at", "granted_at", errors)
        if self.expires_at is not None and self.expires_at <= self.granted_at:
            errors.append(("expires_at", "must be after granted_at"))

    def is_active(self, at: datetime | None = None) -> bool:
        """Whether the consent holds at ``at`` (timezone-aware; default now)."""
        when = b.utcnow() if at is None else r.aware_argument("at", at)
        if when < self.granted_at:
            return False
        if self.withdrawn_at is not None and when >= self.withdrawn_at:
            return False
        return self.expires_at is None or when < self.expires_at

    def withdraw(self, at: datetime | None = None) -> Consent:
        """Return a copy withdrawn at ``at`` (default now); refused if already withdrawn."""
        when = b.utcnow() if at is None else r.aware_argument("at", at)
        if self.withdrawn_at is not None:
            raise ValidationError(
                [
                    (
                        "withdrawn_at",
                        f"consent was already withdrawn at {self.withdrawn_at.isoformat()}",
                    )
                ]
            )
        return attrs.evolve(self, withdrawn_at=when, updated_at=max(when, self.updated_at))
