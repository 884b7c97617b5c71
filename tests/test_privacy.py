from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import given

from crmkit.entities import (
    Account,
    Address,
    Consent,
    Contact,
    Interaction,
    Lead,
    Money,
    Order,
    OrderLine,
    SurveyResponse,
)
from crmkit.entities.privacy import EXPORT_FORMAT, erase, export_personal_data, relates_to
from crmkit.errors import ValidationError
from crmkit.testing.strategies import entities

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _person() -> Contact:
    return Contact(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        address=Address(lines=["12 St James's Square"], city="London", country="GB"),
        job_title="Analyst",
        account_id=uuid4(),
        tags={"vip"},
        lifetime_value=Money("1200", "GBP"),
        attributes={"shoe_size": 38},
        created_at=T0,
    )


def test_export_gathers_only_what_relates_to_the_person() -> None:
    ada = _person()
    other = Contact(first_name="Grace", created_at=T0)
    mine = [
        Consent(contact_id=ada.id, purpose="newsletter", granted_at=T0),
        Interaction(
            channel="email", direction="inbound", occurred_at=T0, contact_ids=[other.id, ada.id]
        ),
        Order(
            contact_id=ada.id,
            ordered_at=T0,
            currency="GBP",
            lines=[OrderLine(description="Book", quantity=1, unit_price=Money("20", "GBP"))],
        ),
        SurveyResponse(instrument="nps", answers={"nps": 10}, answered_at=T0, contact_id=ada.id),
        Lead(company="Analytical Engines", converted_at=T0, converted_contact_id=ada.id),
    ]
    theirs = [
        Consent(contact_id=other.id, purpose="newsletter", granted_at=T0),
        Account(name="Acme"),
    ]
    doc = export_personal_data(ada, [*mine, *theirs, ada], at=T0 + timedelta(days=1))
    assert doc["format"] == EXPORT_FORMAT
    assert doc["exported_at"] == "2026-03-03T09:00:00+00:00"
    assert doc["subject"]["email"] == "ada@example.com"
    assert doc["subject"]["attributes"] == {"shoe_size": 38}
    assert {k: len(v) for k, v in doc["records"].items()} == {
        "Consent": 1,
        "Interaction": 1,
        "Lead": 1,
        "Order": 1,
        "SurveyResponse": 1,
    }
    assert doc["ignored"] == 2
    json.dumps(doc)  # JSON-safe as promised
    assert all(relates_to(r, ada.id) for r in mine)
    assert not any(relates_to(r, ada.id) for r in theirs)


def test_export_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="contact"):
        export_personal_data("ada")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"related\[0\]"):
        export_personal_data(_person(), [{"contact_id": 1}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="at"):
        export_personal_data(_person(), at=datetime(2026, 1, 1))


def test_erase_removes_what_identifies_and_keeps_the_rest() -> None:
    ada = _person()
    when = T0 + timedelta(days=30)
    gone = erase(ada, at=when)
    for field in ("first_name", "last_name", "email", "phone", "address", "job_title", "owner"):
        assert getattr(gone, field) is None, field
    assert gone.attributes == {}
    assert (
        gone.id,
        gone.version,
        gone.created_at,
        gone.account_id,
        gone.lifetime_value,
    ) == (
        ada.id,
        ada.version,
        ada.created_at,
        ada.account_id,
        ada.lifetime_value,
    )
    assert ada.tags and gone.tags == frozenset()  # a tag may name or describe the person
    assert gone.erased_at == when and gone.updated_at == when
    assert gone.name == "(erased)"
    assert "Lovelace" not in repr(gone) and "ada@" not in json.dumps(export_personal_data(gone))
    assert erase(gone, at=when + timedelta(days=1)).erased_at == when  # idempotent


@given(entities(Contact))
def test_erased_contacts_are_valid_and_round_trip(c: Contact) -> None:
    from crmkit.entities.serde import from_dict, to_dict

    gone = erase(c, at=c.updated_at)
    assert gone.email is None and gone.phone is None and gone.first_name is None
    assert from_dict(Contact, to_dict(gone)) == gone


def test_erase_lead_and_refusals() -> None:
    lead = Lead(first_name="Peter", email="peter@initech.example", company="Initech", created_at=T0)
    gone = erase(lead, at=T0)
    assert (gone.first_name, gone.email, gone.company) == (None, None, "(erased)")
    with pytest.raises(ValidationError, match="Contact or a Lead"):
        erase(Account(name="Acme"))  # type: ignore[type-var]


def test_reprs_mask_every_personal_field() -> None:
    """Issue 17: a standalone Address showed its street lines, Interaction.summary and
    attributes printed in full, and Query's repr showed the values searched for."""
    from uuid import uuid4

    from crmkit.entities import Address, Contact, Interaction
    from crmkit.repository import F, Query

    address = Address(
        lines=["10 Downing Street"], city="London", postal_code="SW1A 2AA", country="gb"
    )
    assert "Downing" not in repr(address) and "SW1A 2AA" not in repr(address)
    contact = Contact(first_name="Ada", attributes={"diagnosis": "asthma"})
    assert "asthma" not in repr(contact) and "diagnosis" in repr(contact)
    note = Interaction(
        contact_ids=(uuid4(),),
        channel="email",
        direction="inbound",
        occurred_at=contact.created_at,
        summary="Ada's asthma flared up",
    )
    assert "asthma" not in repr(note)
    query = Query(Contact).where(
        F("email").email_is("ada@lovelace.example") | F("last_name").contains("Lovelace")
    )
    assert "lovelace" not in repr(query).lower()


def test_erasing_a_lead_drops_its_tags_and_source() -> None:
    """Issue 17: erase() kept a lead's source ("referral from Charles Babbage") and tags."""
    from crmkit.entities import Lead
    from crmkit.entities.serde import to_dict

    lead = Lead(
        first_name="Ada",
        email="ada@example.com",
        source="referral from Charles Babbage",
        tags={"ada@example.com", "wheelchair-user"},
    )
    gone = erase(lead)
    assert gone.source == "(erased)" and gone.tags == frozenset()
    assert "Babbage" not in json.dumps(to_dict(gone)) and "wheelchair" not in repr(gone)
