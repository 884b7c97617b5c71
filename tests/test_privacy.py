from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import (
    Account,
    Address,
    Consent,
    Contact,
    Interaction,
    Lead,
    Money,
    Opportunity,
    Order,
    OrderLine,
    SurveyResponse,
    Ticket,
)
from crmkit.entities.privacy import (
    EXPORT_FORMAT,
    erase,
    erase_related,
    export_personal_data,
    relates_to,
)
from crmkit.entities.serde import from_dict, to_dict
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


def _records_mentioning(ada: Contact, other: Contact) -> list[Any]:
    """Every kind of record export finds, each mentioning Ada in every text it has."""
    who = "Ada Lovelace (ada@example.com, +44 20 7946 0958, 12 St James's Square, London)"
    line = OrderLine(
        description=f"Engraved pen for {who}",
        quantity=1,
        unit_price=Money("20", "GBP"),
        sku="PEN-ADA",
    )
    return [
        Consent(
            contact_id=ada.id,
            purpose="newsletter for Ada",
            granted_at=T0,
            source=f"web form filled in by {who}",
            wording_version="v2 (ada@example.com)",
            attributes={"ip": "203.0.113.9", "by": "Ada"},
        ),
        Interaction(
            channel="phone",
            direction="inbound",
            occurred_at=T0,
            contact_ids=[other.id, ada.id],
            subject="Call with Ada LOVELACE",
            summary=f"{who} asked about her analytical engine; son Byron sick",
            owner="Grace",
            attributes={"recording": "ada-call.mp3"},
        ),
        Ticket(
            contact_id=ada.id,
            subject="ada@example.com cannot log in",
            description=f"{who} says the password reset fails",
            assignee="Grace",
            opened_at=T0,
        ),
        Order(
            contact_id=ada.id,
            ordered_at=T0,
            currency="GBP",
            number="LOVELACE-0001",
            lines=[line],
        ),
        Opportunity(
            name="Lovelace renewal",
            account_id=ada.account_id,
            contact_id=ada.id,
            amount=Money("5000", "GBP"),
            close_reason=f"{who} signed on the phone",
            tags={"ada@example.com", "big"},
        ),
        SurveyResponse(
            instrument="nps",
            answers={"nps": 10, "why": f"{who} loves the service", "extra": ["Ada", 3]},
            answered_at=T0,
            contact_id=ada.id,
            comment=f"call me, Ada, on 020 7946 0958 ({who})",
        ),
        Lead(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            company="Analytical Engines",
            source="referral from Charles Babbage",
            converted_at=T0,
            converted_contact_id=ada.id,
        ),
    ]


def test_no_exported_value_survives_erasure() -> None:
    ada = _person()
    other = Contact(first_name="Grace", created_at=T0)
    mine = _records_mentioning(ada, other)
    theirs = [Consent(contact_id=other.id, purpose="Ada's friend", granted_at=T0)]
    when = T0 + timedelta(days=40)
    before = export_personal_data(ada, [*mine, *theirs], at=when)
    erased = erase_related(ada, [*mine, *theirs, ada], at=when)
    assert [r.id for r in erased] == [r.id for r in mine]  # the same records export found
    after = export_personal_data(erase(ada, at=when), erased, at=when)
    # Ids are random hex, which can spell "ada": they are links, kept on purpose.
    text = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "<id>",
        json.dumps(after, ensure_ascii=False).casefold(),
    )
    subject = before["subject"]
    personal = [
        subject["first_name"],
        subject["last_name"],
        subject["email"],
        subject["email"].partition("@")[0],
        subject["phone"],
        "020 7946 0958",
        "+44 20 7946 0958",
        subject["job_title"],
        *subject["address"]["lines"],
        subject["address"]["city"],
        "ada-call.mp3",  # attributes
        "203.0.113.9",
        "Byron",  # free text about her family
        "Charles Babbage",  # the converted lead's source
    ]
    survivors = [p for p in personal if p.casefold() in text]
    assert not survivors, f"still exported after erasure: {survivors}"
    # Links, amounts, scores and counts are kept: reports still add up.
    assert {k: len(v) for k, v in after["records"].items()} == {
        k: len(v) for k, v in before["records"].items()
    }
    by_type = {type(r).__name__: r for r in erased}
    assert by_type["Interaction"].contact_ids == (other.id, ada.id)
    assert by_type["Interaction"].subject == "Call with [erased]"
    assert by_type["Ticket"].subject == "[erased] cannot log in"
    assert by_type["Order"].total == Money("20", "GBP")
    assert (
        by_type["Order"].lines[0].description
        == "Engraved pen for [erased] ([erased], [erased], [erased], [erased])"
    )
    assert by_type["Opportunity"].amount == Money("5000", "GBP")
    assert by_type["Opportunity"].tags == frozenset({"big"})
    assert by_type["SurveyResponse"].answers == {
        "nps": 10,
        "why": "(erased)",
        "extra": ("(erased)", 3),
    }
    assert by_type["Lead"].converted_contact_id == ada.id
    assert all(r.updated_at == max(when, r0.updated_at) for r, r0 in zip(erased, mine, strict=True))
    for record in erased:  # still valid, and storable
        assert from_dict(type(record), to_dict(record)) == record


def test_erase_related_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="contact: must be a Contact"):
        erase_related("ada", [])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"related\[1\]"):
        erase_related(_person(), [Account(name="A"), {"contact_id": 1}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="at"):
        erase_related(_person(), [], at=datetime(2026, 1, 1))
    nameless = Contact(email="x@example.com")
    assert erase_related(nameless, [Account(name="A")]) == []


@given(entities(Contact), st.lists(st.sampled_from(["call", "re:", "order", "–", "✓"]), max_size=3))
def test_erase_related_leaves_no_identifier_in_any_text(c: Contact, filler: list[str]) -> None:
    names = [c.first_name, c.last_name, c.email.address if c.email else None]
    found = [n.strip() for n in names if n and len(n.strip()) >= 2]
    said = " ".join(
        ["hi", *filler, *found, *(n.upper() for n in found if len(n.upper()) == len(n))]
    )
    records = [
        Ticket(contact_id=c.id, subject=f"re {said}"[:500], description=said, opened_at=T0),
        Interaction(
            channel="email",
            direction="inbound",
            occurred_at=T0,
            contact_ids=[c.id],
            subject=said[:500],
            summary=said,
        ),
    ]
    for record in erase_related(c, records, at=T0):
        for field in ("subject", "description", "summary"):
            value = getattr(record, field, None) or ""
            assert not [n for n in found if n.casefold() in value.casefold()], (field, value)
