"""Personal-data export and erasure for contacts and leads (GDPR art. 15 and 17).

:func:`export_personal_data` gathers everything held about one person into
a JSON document (the right of access, art. 15); :func:`erase` returns an
anonymised copy of a contact or lead (the right to erasure, art. 17) that
keeps the id, dates, version and aggregates, so that orders, interactions
and statistics still add up while the person can no longer be identified.

>>> from datetime import datetime, timezone
>>> from crmkit.entities import Consent, Contact
>>> ada = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com")
>>> consent = Consent(contact_id=ada.id, purpose="newsletter",
...                   granted_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
>>> doc = export_personal_data(ada, [consent], at=datetime(2026, 2, 1, tzinfo=timezone.utc))
>>> doc["subject"]["email"], [r["purpose"] for r in doc["records"]["Consent"]]
('ada@example.com', ['newsletter'])
>>> gone = erase(ada, at=datetime(2026, 3, 1, tzinfo=timezone.utc))
>>> gone.id == ada.id, gone.first_name, gone.email, gone.name
(True, None, None, '(erased)')
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs

from crmkit._args import items
from crmkit.entities._base import Entity, utcnow
from crmkit.entities._consent import Consent
from crmkit.entities._feedback import SurveyResponse
from crmkit.entities._frozen import EMPTY
from crmkit.entities._parties import Contact
from crmkit.entities._rules import aware_argument, describe
from crmkit.entities._sales import Lead, Opportunity, Order
from crmkit.entities._service import Interaction, Ticket
from crmkit.errors import ValidationError

__all__ = ["EXPORT_FORMAT", "erase", "erase_related", "export_personal_data", "relates_to"]

#: The ``format`` tag of the export document; bumped if its layout ever changes.
EXPORT_FORMAT = "crmkit.personal-data/1"

# Fields that identify a person or hold free text about them. ``attributes``
# is dropped too: custom fields are where applications keep what nobody predicted.
_PERSONAL_FIELDS = {
    Contact: ("first_name", "last_name", "email", "phone", "address", "job_title", "owner"),
    Lead: (
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "company",
        "owner",
        "disqualified_reason",
    ),
}

_LINK_FIELDS = ("contact_id", "converted_contact_id")

P = TypeVar("P", Contact, Lead)


def relates_to(record: Entity, person_id: UUID) -> bool:
    """Whether ``record`` refers to the person with ``person_id``.

    A record relates through ``contact_id``, ``converted_contact_id``,
    ``contact_ids`` (interactions), or by being the person itself.
    """
    if not isinstance(record, Entity):
        raise ValidationError([("record", f"must be a crmkit entity, got {describe(record)}")])
    if not isinstance(person_id, UUID):
        raise ValidationError([("person_id", f"must be a UUID, got {describe(person_id)}")])
    if record.id == person_id:
        return True
    if any(getattr(record, f, None) == person_id for f in _LINK_FIELDS):
        return True
    return person_id in getattr(record, "contact_ids", ())


def export_personal_data(
    contact: Contact, related: Iterable[Entity] = (), *, at: datetime | None = None
) -> dict[str, Any]:
    """A JSON-safe document of everything held about ``contact`` (GDPR art. 15).

    Parameters
    ----------
    contact:
        The data subject.
    related:
        Records the application holds that may concern the person (consents,
        interactions, orders, tickets, survey responses, campaign memberships,
        leads ...). Only those that refer to the contact are included (see
        :func:`relates_to`); the others are counted in ``"ignored"``.
    at:
        Time of the export (default now), timezone-aware.

    Returns
    -------
    dict
        ``{"format", "exported_at", "subject", "records": {type name: [dicts]}, "ignored"}``,
        ready for ``json.dumps``.
    """
    from crmkit.entities.serde import to_dict

    if not isinstance(contact, Contact):
        raise ValidationError([("contact", f"must be a Contact, got {describe(contact)}")])
    when = utcnow() if at is None else aware_argument("at", at)
    records: dict[str, list[dict[str, Any]]] = {}
    ignored = 0
    for record in items(related, "related", of=Entity):
        if record.id == contact.id:
            continue
        if relates_to(record, contact.id):
            records.setdefault(type(record).__name__, []).append(to_dict(record))
        else:
            ignored += 1
    return {
        "format": EXPORT_FORMAT,
        "exported_at": when.isoformat(),
        "subject": to_dict(contact),
        "records": dict(sorted(records.items())),
        "ignored": ignored,
    }


def erase(person: P, *, at: datetime | None = None) -> P:
    """An anonymised copy of a contact or lead (GDPR art. 17).

    Names, e-mail, phone, address, job title, owner, free text, tags (a tag
    may be an e-mail address or a health note), a lead's ``source`` ("referral
    from ...") and custom ``attributes`` are removed; the id, version,
    creation time, links to other records (account, converted ids),
    lifecycle stage and aggregates such as ``lifetime_value`` are kept so
    reports still add up.
    A contact gets ``erased_at``; ``updated_at`` becomes ``at``. Erasing
    twice is harmless.

    Related records (interaction summaries, ticket descriptions, survey
    comments, consent sources, a converted lead ...) hold the person too:
    :func:`erase_related` erases them, over the same records
    :func:`export_personal_data` exports.
    """
    if not isinstance(person, (Contact, Lead)):
        raise ValidationError([("person", f"must be a Contact or a Lead, got {describe(person)}")])
    when = utcnow() if at is None else aware_argument("at", at)
    changes: dict[str, Any] = dict.fromkeys(_PERSONAL_FIELDS[type(person)], None)
    changes["attributes"] = EMPTY
    changes["tags"] = frozenset()
    changes["updated_at"] = max(when, person.updated_at)
    if isinstance(person, Contact):
        changes["erased_at"] = person.erased_at or when
    else:
        # A lead must stay identifiable to be valid: keep a neutral placeholder.
        changes["company"] = "(erased)"
        changes["source"] = "(erased)"
    return attrs.evolve(person, **changes)


# Free text written about the person: cleared whole (``None``, or "(erased)" where the
# field is required), since no matcher finds every way a note can identify someone.
_FREE_TEXT: dict[type, tuple[str, ...]] = {
    Interaction: ("summary",),
    Ticket: ("description",),
    SurveyResponse: ("comment",),
    Consent: ("source",),
    Opportunity: ("close_reason",),
}
# Short text that is about the business, not the person: kept, with the person's
# identifiers (names, e-mail, phone, address) replaced wherever they occur.
_SHORT_TEXT: dict[type, tuple[str, ...]] = {
    Interaction: ("subject", "owner"),
    Ticket: ("subject", "assignee"),
    SurveyResponse: ("survey",),
    Consent: ("purpose", "wording_version"),
    Opportunity: ("name", "owner"),
    Order: ("number",),
}
_ERASED = "(erased)"


def _identifiers(contact: Contact) -> list[str]:
    """Every written form of the contact's personal values, longest first."""
    values: list[str] = []
    for name in ("first_name", "last_name", "job_title"):
        values.append(getattr(contact, name) or "")
    if contact.first_name and contact.last_name:
        values.append(f"{contact.first_name} {contact.last_name}")
    if contact.email is not None:
        values += [contact.email.address, contact.email.address.partition("@")[0]]
    if contact.phone is not None:
        values += [contact.phone.e164, contact.phone.format("national")]
        values.append(contact.phone.format("international"))
    if contact.address is not None:
        a = contact.address
        values += [*a.lines, a.city or "", a.postal_code or "", a.region or ""]
    return sorted({v.strip() for v in values if len(v.strip()) >= 2}, key=len, reverse=True)


def _redactor(contact: Contact) -> Any:
    import re

    found = _identifiers(contact)
    if not found:
        return lambda text: text
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, found)) + r")(?!\w)", re.IGNORECASE
    )
    return lambda text: pattern.sub("[erased]", text)


def _json_text_erased(value: Any) -> Any:
    """A JSON value with every string replaced (numbers and booleans kept)."""
    if isinstance(value, str):
        return _ERASED
    if isinstance(value, (list, tuple)):
        return [_json_text_erased(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _json_text_erased(v) for k, v in value.items()}
    return value


def _erase_record(record: Entity, redact: Any, when: datetime) -> Entity:
    if isinstance(record, Lead):
        return erase(record, at=when)
    changes: dict[str, Any] = {"attributes": EMPTY, "updated_at": max(when, record.updated_at)}
    fields = attrs.fields_dict(type(record))
    for name in _FREE_TEXT.get(type(record), ()):
        optional = fields[name].default is None
        if getattr(record, name) is not None:
            changes[name] = None if optional else _ERASED
    for name in _SHORT_TEXT.get(type(record), ()):
        value = getattr(record, name)
        if value is not None:
            changes[name] = redact(value).strip() or _ERASED
    if "tags" in fields:
        changes["tags"] = frozenset(t for t in record.tags if redact(t) == t)  # type: ignore[attr-defined]
    if "lines" in fields:
        changes["lines"] = tuple(
            attrs.evolve(
                line,
                description=redact(line.description).strip() or _ERASED,
                sku=None if line.sku is None else redact(line.sku),
            )
            for line in record.lines  # type: ignore[attr-defined]
        )
    if isinstance(record, SurveyResponse):
        changes["answers"] = _json_text_erased(record.answers)
    return attrs.evolve(record, **changes)


def erase_related(
    contact: Contact, related: Iterable[Entity], *, at: datetime | None = None
) -> list[Entity]:
    """Erased copies of the records in ``related`` that refer to ``contact`` (GDPR art. 17).

    Call it with the contact *before* :func:`erase` (it reads the names to
    find), on the same records you would pass to :func:`export_personal_data`;
    it returns, in their order, the records that refer to the contact (see
    :func:`relates_to`), each erased, for the application to save in one
    unit of work. Records that do not refer to the contact are left out.

    What changes, so that nothing the export showed about the person survives:

    * free text written about the person is cleared whole: interaction
      summaries, ticket descriptions, survey comments, consent sources, an
      opportunity's close reason;
    * text answers of a survey response become "(erased)" (scores are kept);
    * short business text (subjects, names of deals, order numbers, line
      descriptions, purposes, owners) is kept with the person's names,
      e-mail address and its local part, phone number in every format,
      address lines, city, region, postal code and job title replaced by
      ``[erased]`` wherever they occur as whole words; tags that mention
      them are dropped;
    * custom ``attributes`` are dropped, as :func:`erase` drops the person's;
    * a lead converted into the contact is erased with :func:`erase`.

    Ids, links (``contact_id``, ``contact_ids``, account and order links),
    amounts, scores, stages and dates are kept, so reports still add up;
    ``updated_at`` becomes ``at``.

    >>> from datetime import datetime, timezone
    >>> from crmkit.entities import Contact, Ticket
    >>> ada = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    >>> t = Ticket(contact_id=ada.id, subject="Ada Lovelace cannot log in",
    ...            description="Ada called from her home number about her account")
    >>> [gone] = erase_related(ada, [t], at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    >>> gone.subject, gone.description, gone.contact_id == ada.id
    ('[erased] cannot log in', None, True)
    """
    if not isinstance(contact, Contact):
        raise ValidationError([("contact", f"must be a Contact, got {describe(contact)}")])
    when = utcnow() if at is None else aware_argument("at", at)
    redact = _redactor(contact)
    out: list[Entity] = []
    for record in items(related, "related", of=Entity):
        if record.id != contact.id and relates_to(record, contact.id):
            out.append(_erase_record(record, redact, when))
    return out
