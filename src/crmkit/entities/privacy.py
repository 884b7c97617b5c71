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

from crmkit.entities._base import Entity, utcnow
from crmkit.entities._frozen import EMPTY
from crmkit.entities._parties import Contact
from crmkit.entities._rules import aware_argument, describe
from crmkit.entities._sales import Lead
from crmkit.errors import ValidationError

__all__ = ["EXPORT_FORMAT", "erase", "export_personal_data", "relates_to"]

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
    for i, record in enumerate(related):
        if not isinstance(record, Entity):
            raise ValidationError(
                [(f"related[{i}]", f"must be a crmkit entity, got {describe(record)}")]
            )
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

    Related records with free text about the person (interaction summaries,
    ticket descriptions, survey comments) are the application's to erase or
    delete; :func:`relates_to` finds them.
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
