from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given

from crmkit.entities import Account, Address, Channel, Contact, Money
from crmkit.errors import ValidationError
from crmkit.repository import F, InMemoryRepository, Query, resolve_field
from crmkit.testing.contract import contact_queries, contact_sets

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def ids(xs: list[Contact]) -> list[UUID]:
    return [x.id for x in xs]


# ---------------------------------------------------------------- checking names and values


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ("shoe_size", "has no field 'shoe_size'"),
        ("address.planet", "Address has no field 'planet'"),
        ("first_name.upper", "has no fields"),
        ("lifetime_value", "lifetime_value.amount or lifetime_value.currency"),
        ("address", "address.lines"),
        ("attributes", "cannot be filtered"),
        ("", "field name"),
        ("first_name; DROP TABLE x", "has no field"),
    ],
)
def test_unknown_or_unfilterable_fields_are_refused(field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Query(Contact).where(F(field) == "x")
    assert fragment in str(info.value)


def test_resolved_fields() -> None:
    info = resolve_field(Contact, "address.country")
    assert (info.kind, info.parts, info.optional) == ("text", ("address", "country"), True)
    assert resolve_field(Contact, "tags").kind == "tags"
    assert resolve_field(Contact, "preferred_channel").kind == "enum"
    assert resolve_field(Contact, "lifetime_value.amount").kind == "decimal"


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        (F("version") == "1", "takes an integer"),
        (F("created_at") > datetime(2026, 1, 1), "timezone-aware"),
        (F("preferred_channel") == "pigeon", "one of 'email'"),
        (F("id") == "not-a-uuid", "a UUID"),
        (F("email") == "nope", "an e-mail address"),
        (F("lifetime_value.amount") > 1.5, "Decimal"),
        (F("tags").startswith("v"), "does not apply"),
        (F("version").contains(1), "does not apply"),
        (F("first_name").in_("Ada"), "a list"),
        (F("first_name").is_null("yes"), "true or false"),
        (F("first_name").contains(3), "takes a string"),
    ],
)
def test_values_are_checked_against_the_field(condition: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Query(Contact).where(condition)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert info.value.errors[0][0].startswith("where[0]")


def test_values_are_converted_to_the_field_type() -> None:
    q = Query(Contact).where(
        F("preferred_channel") == "email",
        F("account_id") == "12345678-1234-5678-1234-567812345678",
        F("lifetime_value.amount") >= "10.5",
    )
    c = Contact(
        first_name="A",
        preferred_channel=Channel.EMAIL,
        account_id=UUID("12345678-1234-5678-1234-567812345678"),
        lifetime_value=Money("10.50", "EUR"),
    )
    assert q.matches(c)


def test_filters_are_not_accepted_from_other_shapes() -> None:
    with pytest.raises(ValidationError, match="expected a filter"):
        Query(Contact).where("first_name = 'Ada'")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="entity class"):
        Query(dict)  # type: ignore[type-var]
    with pytest.raises(ValidationError, match="positive"):
        Query(Contact).limit(0)
    with pytest.raises(ValidationError, match="cannot order"):
        Query(Contact).order_by("tags")
    with pytest.raises(ValidationError, match="field name"):
        Query(Contact).order_by("-")


# ---------------------------------------------------------------- reference semantics


def test_three_valued_logic() -> None:
    nobody = Contact(first_name="Ada")  # no last name
    q = Query(Contact)
    assert not q.where(F("last_name") == "X").matches(nobody)
    assert not q.where(F("last_name") != "X").matches(nobody)  # unknown, not true
    assert not q.where(~(F("last_name") == "X")).matches(nobody)  # not unknown is unknown
    assert q.where(F("last_name").is_null()).matches(nobody)
    assert q.where((F("last_name") == "X") | (F("first_name") == "Ada")).matches(
        nobody
    )  # unknown or true
    assert not q.where((F("last_name") == "X") & (F("first_name") == "Ada")).matches(nobody)
    assert not q.where(F("last_name").in_([])).matches(nobody)
    assert q.where(~F("last_name").in_([])).matches(nobody)  # empty IN is false even for NULL


def test_text_operators_are_case_sensitive_and_email_is_is_not() -> None:
    ada = Contact(first_name="Ada Lovelace", email="Ada@Example.com")
    q = Query(Contact)
    assert q.where(F("first_name").contains("Love")).matches(ada)
    assert not q.where(F("first_name").contains("love")).matches(ada)
    assert q.where(F("first_name").startswith("Ada")).matches(ada)
    assert q.where(F("email").email_is("ADA@EXAMPLE.COM")).matches(ada)
    assert not q.where(F("email") == "ada@example.com").matches(
        ada
    )  # the local part keeps its case
    assert q.where(F("email") == "Ada@EXAMPLE.com").matches(ada)  # the domain does not
    assert q.where(F("tags").contains("vip")).matches(ada.evolve(tags={"vip"}))


def test_datetimes_compare_by_instant() -> None:
    paris = timezone(timedelta(hours=1))
    c = Contact(first_name="A", created_at=datetime(2026, 1, 1, 1, 30, tzinfo=paris))  # 00:30 UTC
    q = Query(Contact)
    assert q.where(F("created_at") < datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)).matches(c)
    assert q.where(F("created_at") == datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)).matches(c)


def test_ordering_puts_none_last_ascending_and_first_descending() -> None:
    a = Contact(first_name="A", last_name="Zed", created_at=T0)
    b = Contact(first_name="B", created_at=T0)
    c = Contact(first_name="C", last_name="Abe", created_at=T0)
    asc = Query(Contact).order_by("last_name").run([a, b, c]).items
    desc = Query(Contact).order_by("-last_name").run([a, b, c]).items
    assert [x.first_name for x in asc] == ["C", "A", "B"]
    assert [x.first_name for x in desc] == ["B", "A", "C"]


def test_ties_are_broken_by_id() -> None:
    people = [Contact(first_name="Same", id=UUID(int=i)) for i in (3, 1, 2)]
    got = Query(Contact).order_by("first_name").run(people).items
    assert [p.id.int for p in got] == [1, 2, 3]


def test_text_orders_by_code_point() -> None:
    names = ["b", "B", "Åsa", "a", "Zoë"]
    people = [Contact(first_name=n) for n in names]
    got = [p.first_name for p in Query(Contact).order_by("first_name").run(people).items]
    assert got == sorted(names)  # Python's order: code points


def test_nested_fields() -> None:
    gb = Contact(first_name="A", address=Address(lines=["1 Main St"], country="GB"))
    nowhere = Contact(first_name="B")
    q = Query(Contact).where(F("address.country") == "GB")
    assert q.matches(gb) and not q.matches(nowhere)
    assert Query(Contact).where(F("address.country").is_null()).matches(nowhere)


def test_matches_refuses_other_types() -> None:
    with pytest.raises(ValidationError, match="must be a Contact"):
        Query(Contact).matches(Account(name="Acme"))


# ---------------------------------------------------------------- cursors


def test_pages_walk_the_whole_result_once() -> None:
    people = [
        Contact(first_name=n, created_at=T0 + timedelta(minutes=i))
        for i, n in enumerate("EDCBAEDCBA")
    ]
    q = Query(Contact).order_by("first_name", "-created_at").limit(3)
    seen: list[Contact] = []
    page = q.run(people)
    while True:
        seen += page.items
        if page.next_cursor is None:
            break
        page = q.after(page.next_cursor).run(people)
    assert ids(seen) == ids(
        list(Query(Contact).order_by("first_name", "-created_at").run(people).items)
    )


@pytest.mark.parametrize("cursor", ["garbage", "e30", 42, "eyJ0IjoiQWNjb3VudCJ9"])
def test_bad_cursors_are_refused(cursor: object) -> None:
    with pytest.raises(ValidationError) as info:
        Query(Contact).order_by("first_name").after(cursor)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == "cursor"


def test_a_cursor_belongs_to_its_order() -> None:
    people = [Contact(first_name=n) for n in "ABC"]
    page = Query(Contact).order_by("first_name").limit(1).run(people)
    assert page.next_cursor is not None
    with pytest.raises(ValidationError, match="another entity type or order"):
        Query(Contact).order_by("-first_name").after(page.next_cursor)


@given(contact_sets(), contact_queries())
def test_paging_equals_one_big_page(contacts: list[Contact], query: Query[Contact]) -> None:
    whole = query.limit(None).run(contacts).items
    seen: list[Contact] = []
    page = query.run(contacts)
    while True:
        seen += page.items
        if page.next_cursor is None:
            break
        page = query.after(page.next_cursor).run(contacts)
    assert ids(seen) == ids(list(whole))
    assert all(query.matches(c) for c in seen)
    assert len(whole) == sum(1 for c in contacts if query.matches(c))


def test_decimal_values_in_cursors_survive() -> None:
    people = [
        Contact(first_name=str(i), lifetime_value=Money(Decimal(i) / 3, "EUR")) for i in range(5)
    ]
    q = Query(Contact).order_by("-lifetime_value.amount").limit(2)
    page = q.run(people)
    assert page.next_cursor is not None
    rest = q.after(page.next_cursor).run(people).items
    assert [p.first_name for p in rest] == ["2", "1"]


def test_ten_thousand_or_ed_conditions_flatten_into_one_or() -> None:
    """Issue 17: reduce(operator.or_, ...) over 400+ conditions used to overflow the recursion."""
    import functools
    import operator

    from crmkit.entities import Contact
    from crmkit.repository import And, F, InMemoryStore, InMemoryUnitOfWork, Or, Query

    emails = [f"user{i}@example.com" for i in range(10_000)]
    any_of = functools.reduce(operator.or_, [F("email") == e for e in emails])
    assert isinstance(any_of, Or) and len(any_of.items) == 10_000
    all_of = functools.reduce(operator.and_, [F("first_name") != str(i) for i in range(5_000)])
    assert isinstance(all_of, And) and len(all_of.items) == 5_000
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        for e in emails[::1000]:
            uow.repository(Contact).add(Contact(first_name="Ada", email=e))
        uow.commit()
    with InMemoryUnitOfWork(store) as uow:
        found = uow.repository(Contact).query(Query(Contact).where(any_of & all_of).limit(50))
    assert len(found.items) == 10


def test_hostile_cursors_are_refused_with_a_validation_error() -> None:
    """Issue 17: cursors come from clients; each of these escaped as a foreign exception or
    (a number for a text field) was accepted and gave a wrong page."""
    import base64
    import json

    from crmkit.entities import Contact
    from crmkit.errors import ValidationError
    from crmkit.repository import Query

    def cursor(query: Query, values: list) -> str:  # type: ignore[type-arg]
        data = {"t": "Contact", "o": query._order_spec(), "v": values}
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    by_name = Query(Contact).order_by("last_name")
    by_time = Query(Contact).order_by("created_at")
    uid = "00000000-0000-0000-0000-000000000000"
    hostile = [
        (by_name, "[" * 100_000),
        (by_name, "[" * 3_000),
        (by_name, cursor(by_name, [5, uid])),
        (by_name, cursor(by_name, [["a"], uid])),
        (by_name, cursor(by_name, ["x", 7])),
        (by_time, cursor(by_time, ["2020-01-01T00:00:00", uid])),  # naive
        (by_time, cursor(by_time, ["0001-01-01T00:00:00+01:00", uid])),  # before year 1 in UTC
        (by_time, cursor(by_time, [10**30, uid])),
    ]
    for query, text in hostile:
        with pytest.raises(ValidationError, match="cursor"):
            query.after(text)
    good = cursor(by_name, ["Lovelace", uid])
    assert by_name.after(good).cursor == good


def test_parts_of_emails_and_phone_numbers_are_not_fields() -> None:
    """Issue 17: Query accepted F("email.address") and the SQL adapter raised KeyError."""
    from crmkit.entities import Contact
    from crmkit.errors import ValidationError
    from crmkit.repository import F, Query

    for path in ("email.address", "phone.e164", "phone.extension"):
        with pytest.raises(ValidationError, match="compared as a whole"):
            Query(Contact).where(F(path) == "x")


def test_signed_cursors_refuse_edits() -> None:
    from crmkit.repository import CursorSigner

    repo = InMemoryRepository(Contact)
    for name in "ABCDE":
        repo.add(Contact(first_name=name))
    signer = CursorSigner(b"application key of 32 bytes....")
    q = Query(Contact).order_by("first_name").limit(2)
    token = signer.sign(repo.query(q).next_cursor)
    assert token is not None
    page = repo.query(q.after(signer.verify(token)))
    assert [c.first_name for c in page.items] == ["C", "D"]
    # A client edits the cursor to start after "Y": same length, valid JSON, wrong tag.
    forged = repo.query(Query(Contact).order_by("first_name").limit(1)).next_cursor
    assert forged is not None
    with pytest.raises(ValidationError, match="cursor: not a cursor this application issued"):
        signer.verify(forged + token[token.rindex(".") :])
    with pytest.raises(ValidationError, match="cursor: not a cursor this application issued"):
        CursorSigner(b"another key of thirty-two bytes").verify(token)
    assert signer.sign(None) is None
    with pytest.raises(ValidationError, match="key: must be at least 16 bytes"):
        CursorSigner(b"short")
    assert "application key" not in repr(signer)
