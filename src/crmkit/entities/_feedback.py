"""Feedback: SurveyResponse."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.entities import _base as b
from crmkit.entities._enums import InstrumentKind

__all__ = ["SurveyResponse"]


@attrs.frozen(kw_only=True)
class SurveyResponse(b.Entity):
    """One respondent's answers to one survey instrument.

    ``answers`` maps item keys to JSON values (usually numbers on the
    instrument's scale); :mod:`crmkit.satisfaction` reads them. The
    respondent and what prompted the survey are optional links.

    >>> from datetime import datetime, timezone
    >>> r = SurveyResponse(instrument="nps", answers={"nps": 9, "why": "fast delivery"},
    ...                    answered_at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    >>> r.instrument, r.answers["nps"]
    (<InstrumentKind.NPS: 'nps'>, 9)
    """

    instrument: InstrumentKind = b.enum_field(InstrumentKind)
    answers: b.JsonObject = b.json_object_field(required=True)
    answered_at: datetime = b.time_field()
    survey: str | None = b.optional_text_field()
    contact_id: UUID | None = b.optional_uuid_field()
    account_id: UUID | None = b.optional_uuid_field()
    interaction_id: UUID | None = b.optional_uuid_field()
    ticket_id: UUID | None = b.optional_uuid_field()
    campaign_id: UUID | None = b.optional_uuid_field()
    comment: str | None = b.optional_text_field(max_length=10_000)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        if not self.answers:
            errors.append(("answers", "must hold at least one answer"))
        for key in self.answers:
            if not key.strip() or len(key) > 100:
                errors.append(
                    (f"answers.{key}", "item keys must be non-blank and at most 100 characters")
                )
