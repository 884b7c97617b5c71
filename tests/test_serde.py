from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import (
    ENTITY_TYPES,
    Address,
    Contact,
    Entity,
    Interaction,
    Money,
    Order,
    OrderLine,
    PhoneNumber,
)
from crmkit.entities.serde import from_dict, from_dicts, from_json, to_dict, to_dicts, to_json
from crmkit.errors import ValidationError
from crmkit.testing.strategies import entities, json_values

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def only_json_types(value: Any) -> bool:
    if value is None or type(value) in (str, int, float, bool):
        return True
    if type(value) is list:
        return all(only_json_types(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and only_json_types(v) for k, v in value.items())
    return False


# ---------------------------------------------------------------- round trips (the core property)


@pytest.mark.parametrize("cls", ENTITY_TYPES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_round_trip_every_entity(cls: type[Entity], data: st.DataObject) -> None:
    x = data.draw(entities(cls))
    d = to_dict(x)
    assert only_json_types(d)
    assert from_dict(cls, d) == x
    text = to_json(x)
    assert from_json(cls, text) == x
    assert json.loads(text) == d
    assert from_dict(cls, d).id == x.id


def test_json_shapes() -> None:
    i = Interaction(
        channel="phone",
        direction="inbound",
        occurred_at=T0,
        contact_ids=[uuid4()],
        duration=timedelta(minutes=7, microseconds=5),
        attributes={"tags": ["a"], "n": 1.5},
    )
    d = to_dict(i)
    assert d["channel"] == "phone"
    assert d["occurred_at"] == "2026-03-02T09:00:00+00:00"
    assert d["duration"] == "PT420.000005S"
    assert d["contact_ids"] == [str(i.contact_ids[0])]
    assert d["attributes"] == {"tags": ["a"], "n": 1.5}
    c = Contact(
        first_name="Ada",
        tags={"b", "a"},
        phone=PhoneNumber("+16502530000", "12"),
        lifetime_value=Money("10.50", "USD"),
    )
    d = to_dict(c)
    assert d["tags"] == ["a", "b"]
    assert d["phone"] == "+16502530000;ext=12"
    assert d["lifetime_value"] == {"amount": "10.50", "currency": "USD"}
    assert from_dict(Contact, d) == c


def test_value_objects_serialize_too() -> None:
    assert to_dict(Money("1.50", "EUR")) == {"amount": "1.50", "currency": "EUR"}
    assert from_dict(Money, {"amount": "1.50", "currency": "EUR"}) == Money("1.50", "EUR")
    a = Address(lines=["1 Main St"], country="US")
    assert from_dict(Address, to_dict(a)) == a


def test_python_values_from_a_database_row_are_accepted() -> None:
    uid = uuid4()
    c = from_dict(
        Contact,
        {
            "id": uid,
            "first_name": "Ada",
            "created_at": T0,
            "lifetime_value": {"amount": Decimal("1.5"), "currency": "EUR"},
        },
    )
    assert c.id == uid and c.created_at == T0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT420S", timedelta(minutes=7)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT1M30.5S", timedelta(seconds=90.5)),
        ("P2D", timedelta(days=2)),
        ("PT0S", timedelta(0)),
    ],
)
def test_duration_forms(text: str, expected: timedelta) -> None:
    d = to_dict(
        Interaction(channel="phone", direction="inbound", occurred_at=T0, contact_ids=[uuid4()])
    )
    d["duration"] = text
    assert from_dict(Interaction, d).duration == expected


def test_z_suffix_and_offsets_are_read() -> None:
    c = from_dict(Contact, {"first_name": "Ada", "created_at": "2026-03-02T09:00:00Z"})
    assert c.created_at == T0
    c = from_dict(Contact, {"first_name": "Ada", "created_at": "2026-03-02T10:00:00+01:00"})
    assert c.created_at == T0


# ---------------------------------------------------------------- errors, with paths


def error_map(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return dict(exc.value.errors)


def test_every_problem_is_listed_with_its_path() -> None:
    good = to_dict(
        Order(
            contact_id=uuid4(),
            ordered_at=T0,
            currency="USD",
            lines=[
                OrderLine(description=f"L{i}", quantity=1, unit_price=Money("1", "USD"))
                for i in range(3)
            ],
        )
    )
    bad = json.loads(json.dumps(good))
    bad["lines"][2]["quantity"] = 0
    bad["lines"][1]["unit_price"]["amount"] = 1.5
    bad["lines"][0]["sku"] = 7
    bad["ordered_at"] = "yesterday"
    bad["colour"] = "red"
    del bad["currency"]
    with pytest.raises(ValidationError) as info:
        from_dict(Order, bad)
    errors = error_map(info)
    assert errors == {
        "ordered_at": errors["ordered_at"],
        "currency": "required field is missing",
        "lines[0].sku": "expected a string, got int 7",
        "lines[1].unit_price.amount": errors["lines[1].unit_price.amount"],
        "lines[2].quantity": "must be >= 1 (got 0)",
        "colour": "unknown field",
    }
    assert "ISO 8601" in errors["ordered_at"]
    assert "decimal" in errors["lines[1].unit_price.amount"]


def test_architecture_example_path() -> None:
    data = {
        "first_name": "Ada",
        "address": {"lines": ["1 Main St"], "country": "GB", "postal_code": 12},
    }
    with pytest.raises(ValidationError) as info:
        from_dict(Contact, data)
    assert info.value.errors == [("address.postal_code", "expected a string, got int 12")]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("version", True, "expected an integer"),
        ("version", "1", "expected an integer"),
        ("id", "not-a-uuid", "UUID"),
        ("created_at", "2026-03-02T09:00:00", "timezone-aware"),
        ("created_at", 1700000000, "ISO 8601"),
        ("tags", "vip", "expected an array"),
        ("tags", ["ok", 3], "expected a string"),
        ("email", ["a@b.c"], "e-mail"),
        ("phone", "+44 20 7946 0958", "E.164"),
        ("preferred_channel", "pigeon", "must be one of"),
        ("attributes", [1], "expected an object"),
        ("attributes", {"x": {"y": float("inf")}}, "finite"),
        ("lifetime_value", {"amount": "1"}, "required field is missing"),
        ("lifetime_value", {"amount": "NaN", "currency": "EUR"}, "finite"),
        ("address", "1 Main St", "expected an object"),
    ],
)
def test_wrong_types_are_named(field: str, value: Any, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(Contact, {"first_name": "Ada", field: value})
    assert all(p.split(".")[0].split("[")[0] == field for p, _ in info.value.errors), (
        info.value.errors
    )
    assert fragment in str(info.value)


@pytest.mark.parametrize("data", [None, [], "x", 3, 1.5, True, [{"first_name": "Ada"}]])
def test_non_objects_are_refused(data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        from_dict(Contact, data)
    assert info.value.errors[0][0] == "$"


def test_from_dicts_reports_rows() -> None:
    rows = [{"first_name": "Ada"}, {"first_name": 1}, {"first_name": "Grace", "email": "x"}]
    with pytest.raises(ValidationError) as info:
        from_dicts(Contact, rows)
    assert [p for p, _ in info.value.errors] == ["[1].first_name", "[2].email"]
    ok = from_dicts(Contact, rows[:1])
    assert to_dicts(ok)[0]["first_name"] == "Ada"
    with pytest.raises(ValidationError, match="iterable"):
        from_dicts(Contact, {"first_name": "Ada"})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "invalid JSON"),
        ('{"version": NaN}', "NaN"),
        ("[" * 100_000 + "]" * 100_000, "deep"),
        (b"\xff\xfe", "invalid JSON"),
    ],
)
def test_from_json_refuses_bad_text(text: str | bytes, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        from_json(Contact, text)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="entity or value object"):
        to_dict({"a": 1})
    with pytest.raises(ValidationError, match="to a string"):
        to_dict(PhoneNumber("+442079460958"))
    with pytest.raises(ValidationError, match="class"):
        from_dict(dict, {})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="JSON text"):
        from_json(Contact, 42)  # type: ignore[arg-type]


# ---------------------------------------------------------------- fuzzing: only ValidationError escapes


@pytest.mark.parametrize("cls", ENTITY_TYPES, ids=lambda c: c.__name__)
@given(value=json_values())
def test_arbitrary_json_only_raises_validation_error(cls: type[Entity], value: Any) -> None:
    try:
        from_dict(cls, value)
    except ValidationError as exc:
        assert exc.errors  # noqa: PT017 - the input may also be valid
        assert all(isinstance(p, str) and m for p, m in exc.errors)  # noqa: PT017


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


@st.composite
def mutated_records(draw: st.DrawFn) -> tuple[type[Entity], Any]:
    cls = draw(st.sampled_from(ENTITY_TYPES))
    data = json.loads(to_json(draw(entities(cls))))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values())
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values())
        else:
            parent.append(draw(json_values()))
    return cls, data


@given(mutated_records())
def test_mutated_records_only_raise_validation_error(case: tuple[type[Entity], Any]) -> None:
    cls, data = case
    try:
        result = from_dict(cls, data)
    except ValidationError as exc:
        assert exc.errors  # noqa: PT017 - the mutation may also leave a valid record
        for path, message in exc.errors:
            assert isinstance(path, str) and path and isinstance(message, str) and message
            assert not message.startswith("invalid value ("), message  # no unexplained failure
    else:
        assert isinstance(result, cls)
        assert from_dict(cls, to_dict(result)) == result


@given(st.integers(0, 2**128 - 1) | st.sampled_from([0, 1, 2**64, 2**128 - 1]))
def test_uuid_formatting_matches_the_standard_library(value: int) -> None:
    u = UUID(int=value)
    data = to_dict(Contact(first_name="x", id=u, account_id=u))
    assert data["id"] == data["account_id"] == str(u)


@given(
    st.datetimes(
        timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        )
    )
)
def test_datetimes_are_written_exactly_as_isoformat(when: datetime) -> None:
    contact = Contact(first_name="Ada", created_at=when, updated_at=when)
    data = to_dict(contact)
    assert data["created_at"] == when.isoformat()
    assert from_dict(Contact, data) == contact


def test_text_that_utf8_cannot_store_is_refused() -> None:
    """Issue 17: a lone surrogate passed from_dict and then broke to_json(...).encode()."""
    from crmkit.errors import ValidationError

    for data in (
        {"first_name": "Ada\ud800"},
        {"first_name": "Ada", "tags": ["vip\udfff"]},
        {"first_name": "Ada", "attributes": {"note": "\ud800"}},
        {"first_name": "Ada", "attributes": {"\ud800": 1}},
        {"first_name": "Ada", "attributes": {"note": "a\x00b"}},
    ):
        with pytest.raises(ValidationError, match="surrogate"):
            from_dict(Contact, data)
    ok = from_dict(Contact, {"first_name": "Zoë 😀", "attributes": {"note": "日本"}})
    assert from_json(Contact, to_json(ok).encode("utf-8")) == ok
