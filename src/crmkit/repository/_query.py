"""The query model: filters, ordering, limits and keyset cursors over entity fields.

A :class:`Query` is bound to one entity type. Every field name in it is
checked against that type when the query is built, and every value is
checked against the field's type, so a query that reaches an adapter holds
only known fields and typed values: it can never carry SQL.

:meth:`Query.matches` and :meth:`Query.sort_key` are the reference
semantics every adapter must reproduce (the contract suite compares them):

* comparisons follow SQL's three-valued logic: a comparison with a missing
  (``None``) field is *unknown*, ``not`` of unknown is unknown, and only
  entities for which the filter is *true* match;
* text compares by Unicode code point (``COLLATE "C"`` in SQL), datetimes
  by instant, UUIDs by their 128-bit value, enums by their value;
* ordering puts ``None`` after every value in ascending order and before
  every value in descending order (PostgreSQL's default), and always ends
  with ``id`` ascending, so the order is total and cursors are stable.
"""

from __future__ import annotations

import base64
import binascii
import functools
import heapq
import json
import operator
import typing
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Generic, Literal, NoReturn, TypeVar, Union, get_args, get_origin
from uuid import UUID

import attrs

from crmkit._args import items as list_of
from crmkit._text import shown
from crmkit.entities import Email, Entity, Money, PhoneNumber
from crmkit.entities._rules import describe, to_uuid
from crmkit.entities._values import masked
from crmkit.errors import ValidationError

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "F",
    "FieldInfo",
    "Filter",
    "Not",
    "Or",
    "Page",
    "Query",
    "resolve_field",
]

E = TypeVar("E", bound=Entity)

Kind = Literal[
    "text",
    "integer",
    "number",
    "decimal",
    "bool",
    "uuid",
    "datetime",
    "date",
    "enum",
    "email",
    "phone",
    "tags",
    "uuids",
]
Op = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "is_null", "contains", "startswith", "email_is"
]

_ORDERABLE = frozenset(get_args(Kind)) - {"tags", "uuids"}
_OPS_BY_KIND: dict[str, frozenset[str]] = {
    kind: frozenset({"eq", "ne", "in", "is_null", "lt", "le", "gt", "ge"}) for kind in _ORDERABLE
}
_OPS_BY_KIND["text"] = _OPS_BY_KIND["text"] | {"contains", "startswith"}
_OPS_BY_KIND["email"] = _OPS_BY_KIND["email"] | {"email_is", "contains", "startswith"}
_OPS_BY_KIND["bool"] = frozenset({"eq", "ne", "in", "is_null"})
_OPS_BY_KIND["tags"] = frozenset({"contains"})
_OPS_BY_KIND["uuids"] = frozenset({"contains"})

_SCALAR_KINDS: dict[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    Decimal: "decimal",
    bool: "bool",
    UUID: "uuid",
    datetime: "datetime",
    date: "date",
    Email: "email",
    PhoneNumber: "phone",
}


@attrs.frozen
class FieldInfo:
    """A checked field path of an entity type: its parts, kind and Python type."""

    path: str
    parts: tuple[str, ...]
    kind: str
    python_type: Any
    optional: bool

    def get(self, entity: Any) -> Any:
        """The field's value on ``entity`` (``None`` if any step on the way is ``None``)."""
        value = entity
        for part in self.parts:
            value = getattr(value, part)
            if value is None:
                return None
        return value

    def storage_value(self, value: Any) -> Any:
        """The value as crmkit's reference semantics compare it (an enum by its value, an e-mail as text)."""
        if value is None:
            return None
        if self.kind == "enum":
            return value.value
        if self.kind == "email":
            return value.address
        if self.kind == "phone":
            return str(value)
        return value


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    args = get_args(tp)
    if get_origin(tp) is Union or (args and type(None) in args and get_origin(tp) is not tuple):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and type(None) in args:
            return inner[0], True
    return tp, False


@functools.lru_cache(maxsize=4096)
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def resolve_field(cls: type, path: str) -> FieldInfo:
    """Check ``path`` (``"email"``, ``"address.country"``) against ``cls`` and describe it.

    Raises :class:`~crmkit.errors.ValidationError` naming the unknown part,
    or a field that cannot be filtered on (custom ``attributes``, a whole
    ``Money`` or ``Address``: use ``lifetime_value.amount``, ``address.city``).
    """
    if type(path) is not str or not path:
        raise ValidationError(
            [("field", f"must be a field name such as 'email', got {describe(path)}")]
        )
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise ValidationError([("cls", f"must be an entity class, got {describe(cls)}")])
    parts = tuple(path.split("."))
    current: Any = cls
    optional = False
    for i, part in enumerate(parts):
        if i and current in (Email, PhoneNumber):
            whole = ".".join(parts[:i])
            raise ValidationError(
                [
                    (
                        "field",
                        f"{shown(whole)} is compared as a whole ({current.__name__} is stored as one "
                        f"text): filter on F({shown(whole)}), not on {shown(path)}",
                    )
                ]
            )
        if not attrs.has(current):
            raise ValidationError(
                [
                    (
                        "field",
                        f"{shown('.'.join(parts[:i]))} of {cls.__name__} has no fields; cannot read {shown(path)}",
                    )
                ]
            )
        names = attrs.fields_dict(current)
        if part not in names:
            known = ", ".join(sorted(names))
            raise ValidationError(
                [
                    (
                        "field",
                        f"{current.__name__} has no field {shown(part)} (in {shown(path)}); known fields: {known}",
                    )
                ]
            )
        tp, opt = _unwrap_optional(_type_hints(current)[part])
        optional = optional or opt
        current = tp
    kind: str | None
    if isinstance(current, type) and issubclass(current, Enum):
        kind = "enum"
    elif get_origin(current) is frozenset:
        kind = "tags"
    elif get_origin(current) is tuple and get_args(current)[:1] == (UUID,):
        kind = "uuids"
    else:
        kind = _SCALAR_KINDS.get(current)
    if kind is None:
        hint = ""
        if current is Money:
            hint = f"; filter on {path}.amount or {path}.currency"
        elif attrs.has(current):
            hint = f"; filter on one of its fields, e.g. {path}.{attrs.fields(current)[0].name}"
        raise ValidationError(
            [("field", f"{shown(path)} of {cls.__name__} cannot be filtered or ordered on{hint}")]
        )
    return FieldInfo(path, parts, kind, current, optional)


def _coerce(info: FieldInfo, value: Any, where: str) -> Any:
    """Check a query value against the field; return it in the field's Python type."""

    def bad(expected: str) -> ValidationError:
        return ValidationError(
            [(where, f"{shown(info.path)} takes {expected}, got {describe(value)}")]
        )

    kind = info.kind
    if kind == "text":
        if type(value) is str:
            return value
        raise bad("a string")
    if kind == "integer":
        if type(value) is int:
            return value
        raise bad("an integer")
    if kind == "number":
        if type(value) in (int, float) and value == value:  # not NaN
            return value
        raise bad("a number")
    if kind == "decimal":
        if type(value) in (Decimal, int, str):
            try:
                result = Decimal(value)
            except InvalidOperation:
                raise bad("a decimal number") from None
            if result.is_finite():
                return result
        raise bad("a finite Decimal, int or decimal string")
    if kind == "bool":
        if type(value) is bool:
            return value
        raise bad("true or false")
    if kind in ("uuid", "uuids"):
        parsed = to_uuid(value)
        if type(parsed) is UUID:
            return parsed
        raise bad("a UUID")
    if kind == "datetime":
        if (
            isinstance(value, datetime)
            and value.tzinfo is not None
            and value.utcoffset() is not None
        ):
            try:
                value.astimezone(timezone.utc)  # as entities: representable in UTC
            except OverflowError:
                raise bad("a datetime between years 1 and 9999 in UTC") from None
            return value
        raise bad("a timezone-aware datetime")
    if kind == "date":
        if type(value) is date:
            return value
        raise bad("a date")
    if kind == "enum":
        enum = info.python_type
        if isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in enum)
            raise bad(f"one of {allowed}") from None
    if kind == "email":
        if isinstance(value, Email):
            return value
        if type(value) is str:
            try:
                return Email(value)
            except ValidationError:
                pass
        raise bad("an e-mail address")
    if kind == "phone":
        if isinstance(value, PhoneNumber):
            return value
        if type(value) is str:
            try:
                return PhoneNumber(value)
            except ValidationError:
                pass
        raise bad("an E.164 phone number")
    if kind == "tags":
        if type(value) is str:
            return value
        raise bad("a tag (a string)")
    raise AssertionError(f"unhandled kind {kind}")  # pragma: no cover


# --------------------------------------------------------------------------- filter expressions


def _shown(value: Any) -> str:
    """A query value in a repr: text masked (it is often someone's e-mail or name)."""
    if isinstance(value, (str, Email, PhoneNumber)):
        return masked(str(value))
    if isinstance(value, (list, tuple, frozenset, set)):
        return f"<{len(value)} values>"
    return repr(value)


def _filter_operand(other: Any, op: str) -> None:
    if not isinstance(other, _Combinable):
        raise _not_a_filter(other, op)


def _not_a_filter(other: Any, op: str) -> ValidationError:
    return ValidationError(
        [("filter", f"{op} combines filters such as F('email') == x, got {describe(other)}")]
    )


class _Combinable:
    """``&``, ``|`` and ``~`` on filters. ``And`` and ``Or`` are n-ary and flatten: OR-ing
    10,000 conditions one by one gives one ``Or`` of 10,000 items, not a chain 10,000 deep
    that every recursive walk over it would overflow."""

    def __and__(self, other: Filter) -> And:
        _filter_operand(other, "&")
        left = self.items if isinstance(self, And) else (self,)
        right = other.items if isinstance(other, And) else (other,)
        return And((*left, *right))

    def __or__(self, other: Filter) -> Or:
        _filter_operand(other, "|")
        left = self.items if isinstance(self, Or) else (self,)
        right = other.items if isinstance(other, Or) else (other,)
        return Or((*left, *right))

    # Reached only when the left operand is not a filter: refused with a clear message.
    def __rand__(self, other: Any) -> NoReturn:
        raise _not_a_filter(other, "&")

    def __ror__(self, other: Any) -> NoReturn:
        raise _not_a_filter(other, "|")

    def __invert__(self) -> Not:
        return Not(self)  # type: ignore[arg-type]


@attrs.frozen
class Comparison(_Combinable):
    """``field op value``: one condition on one field (``value`` unused by ``is_null`` only as a flag)."""

    field: str
    op: Op
    value: Any = None

    def __repr__(self) -> str:
        return f"Comparison(field={self.field!r}, op={self.op!r}, value={_shown(self.value)})"


@attrs.frozen
class And(_Combinable):
    """All of ``items`` hold (an empty ``And`` is true)."""

    items: tuple[Filter, ...]


@attrs.frozen
class Or(_Combinable):
    """At least one of ``items`` holds (an empty ``Or`` is false)."""

    items: tuple[Filter, ...]


@attrs.frozen
class Not(_Combinable):
    """``item`` does not hold (unknown stays unknown)."""

    item: Filter


Filter = Comparison | And | Or | Not


class F:
    """A field reference for building filters: ``F("address.country") == "GB"``.

    Operators give :class:`Comparison` objects; combine them with ``&``,
    ``|`` and ``~``. The field name is checked when the filter is given to a
    :class:`Query`.

    >>> (F("lifecycle_stage") == "loyalty") & F("email").email_is("ADA@example.com")  # text masked
    And(items=(Comparison(field='lifecycle_stage', op='eq', value='lo***ty'), Comparison(field='email', op='email_is', value='AD***********om')))
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def __eq__(self, value: object) -> Comparison:  # type: ignore[override]
        return Comparison(self.name, "eq", value)

    def __ne__(self, value: object) -> Comparison:  # type: ignore[override]
        return Comparison(self.name, "ne", value)

    def __lt__(self, value: object) -> Comparison:
        return Comparison(self.name, "lt", value)

    def __le__(self, value: object) -> Comparison:
        return Comparison(self.name, "le", value)

    def __gt__(self, value: object) -> Comparison:
        return Comparison(self.name, "gt", value)

    def __ge__(self, value: object) -> Comparison:
        return Comparison(self.name, "ge", value)

    __hash__ = None  # type: ignore[assignment]

    def in_(self, values: Iterable[Any]) -> Comparison:
        """The field equals one of ``values``."""
        return Comparison(self.name, "in", values)

    def is_null(self, null: bool = True) -> Comparison:
        """The field is ``None`` (or, with ``null=False``, is set)."""
        return Comparison(self.name, "is_null", null)

    def contains(self, value: Any) -> Comparison:
        """Text contains ``value`` (case-sensitive), or a collection (tags, ids) holds it."""
        return Comparison(self.name, "contains", value)

    def startswith(self, prefix: str) -> Comparison:
        """Text starts with ``prefix`` (case-sensitive)."""
        return Comparison(self.name, "startswith", prefix)

    def email_is(self, address: str) -> Comparison:
        """The e-mail address equals ``address``, ignoring case in every part."""
        return Comparison(self.name, "email_is", address)


# --------------------------------------------------------------------------- binding and evaluation


@attrs.frozen(repr=False)
class Condition:
    """A comparison checked against the entity type: what adapters translate.

    ``info`` is the resolved field, ``op`` one of ``eq ne lt le gt ge in
    is_null contains startswith email_is``, and ``value`` the typed value
    (a tuple for ``in``, a bool for ``is_null``, the lower-cased address for
    ``email_is``). :attr:`Query.filter` is a tree of conditions under
    :class:`And`, :class:`Or` and :class:`Not`.
    """

    info: FieldInfo
    op: str
    value: Any

    def __repr__(self) -> str:
        return f"{self.info.path} {self.op} {_shown(self.value)}"


def _bind(cls: type, node: Any, where: str) -> Any:
    if isinstance(node, Comparison):
        info = resolve_field(cls, node.field)
        allowed = _OPS_BY_KIND[info.kind]
        if node.op not in allowed:
            raise ValidationError(
                [
                    (
                        where,
                        f"{shown(node.op)} does not apply to {shown(info.path)} ({info.kind}); use one of {', '.join(sorted(allowed))}",
                    )
                ]
            )
        value: Any
        if node.op == "is_null":
            if type(node.value) is not bool:
                raise ValidationError(
                    [(where, f"is_null takes true or false, got {describe(node.value)}")]
                )
            value = node.value
        elif node.op == "in":
            listed = list_of(node.value, where)
            value = tuple(_coerce(info, v, f"{where}[{i}]") for i, v in enumerate(listed))
        elif node.op in ("contains", "startswith") and info.kind in ("text", "email"):
            if type(node.value) is not str:
                raise ValidationError(
                    [(where, f"{node.op} takes a string, got {describe(node.value)}")]
                )
            value = node.value
        elif node.op == "email_is":
            if type(node.value) is not str and not isinstance(node.value, Email):
                raise ValidationError(
                    [(where, f"email_is takes an e-mail address, got {describe(node.value)}")]
                )
            value = str(node.value).lower()
        else:
            value = _coerce(info, node.value, where)
        return Condition(info, node.op, value)
    if isinstance(node, (And, Or)):
        name = type(node).__name__
        return type(node)(
            tuple(
                _bind(cls, item, f"{where}.{name.lower()}[{i}]")
                for i, item in enumerate(node.items)
            )
        )
    if isinstance(node, Not):
        return Not(_bind(cls, node.item, f"{where}.not"))
    raise ValidationError(
        [(where, f"expected a filter such as F('email') == 'x', got {describe(node)}")]
    )


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda field_value, values: field_value in values,
}

Predicate = Callable[[Any], "bool | None"]


def _getter(info: FieldInfo) -> Callable[[Any], Any]:
    """Read a field path, giving ``None`` when any step on the way is ``None``."""
    if len(info.parts) == 1:
        return operator.attrgetter(info.parts[0])
    first, *rest = info.parts

    def get(entity: Any) -> Any:
        value = getattr(entity, first)
        for part in rest:
            if value is None:
                return None
            value = getattr(value, part)
        return value

    return get


def _condition(node: Condition) -> Predicate:
    get, op, info = _getter(node.info), node.op, node.info
    if op == "is_null":
        wanted = node.value
        return lambda e: (get(e) is None) is wanted
    if op == "in" and not node.value:
        return lambda e: False  # SQL: a comparison with an empty set is false, even for NULL
    if op == "contains" and info.kind in ("tags", "uuids"):
        item = node.value

        def holds(e: Any) -> bool | None:
            raw = get(e)
            return None if raw is None else item in raw

        return holds
    to_storage = info.storage_value if info.kind in ("enum", "email", "phone") else None
    if op in ("contains", "startswith", "email_is"):
        text = node.value
        if op == "email_is":
            return lambda e: None if (raw := get(e)) is None else raw.address.lower() == text
        convert = info.storage_value
        if op == "contains":
            return lambda e: None if (raw := get(e)) is None else text in convert(raw)
        return lambda e: None if (raw := get(e)) is None else convert(raw).startswith(text)
    compare = _COMPARE[op]
    value = node.value
    if to_storage is not None:
        value = tuple(to_storage(v) for v in value) if op == "in" else to_storage(value)

        def compare_stored(e: Any) -> bool | None:
            raw = get(e)
            return None if raw is None else bool(compare(to_storage(raw), value))

        return compare_stored

    def compare_plain(e: Any) -> bool | None:
        raw = get(e)
        return None if raw is None else bool(compare(raw, value))

    return compare_plain


@functools.lru_cache(maxsize=256)
def _compile(node: Any) -> Predicate:
    """Turn a checked filter into a function of an entity giving True, False or None (unknown).

    SQL's three-valued logic: ``False and unknown`` is false, ``True or unknown``
    is true, ``not unknown`` is unknown.
    """
    if isinstance(node, Condition):
        return _condition(node)
    if isinstance(node, And):
        parts = [_compile(item) for item in node.items]

        def all_of(e: Any) -> bool | None:
            result: bool | None = True
            for part in parts:
                r = part(e)
                if r is False:
                    return False
                if r is None:
                    result = None
            return result

        return all_of
    if isinstance(node, Or):
        parts = [_compile(item) for item in node.items]

        def any_of(e: Any) -> bool | None:
            result: bool | None = False
            for part in parts:
                r = part(e)
                if r is True:
                    return True
                if r is None:
                    result = None
            return result

        return any_of
    if isinstance(node, Not):
        inner = _compile(node.item)

        def negation(e: Any) -> bool | None:
            r = inner(e)
            return None if r is None else not r

        return negation
    raise AssertionError(node)  # pragma: no cover


# --------------------------------------------------------------------------- ordering and cursors

#: Cursors come from clients: longer ones are refused before they are decoded.
_MAX_CURSOR = 4096


@attrs.frozen
class OrderItem:
    """One ordering key: a checked field and its direction."""

    info: FieldInfo
    descending: bool


class _Desc:
    """Sort key of one value in descending order: ``None`` before everything, then larger first."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        if other.value is None:
            return False
        if self.value is None:
            return True
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def _component(value: Any, descending: bool) -> Any:
    """Sort key of one value. Ascending keys are plain ``(is None, value)`` pairs, compared
    in C; ``None`` sorts after every value ascending and before every value descending."""
    if descending:
        return _Desc(value)
    return (value is None, value)


def _cursor_value(info: FieldInfo, value: Any) -> Any:
    """A JSON-safe form of a sort value, for cursors."""
    value = info.storage_value(value)
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _from_cursor_value(info: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    kind = info.kind
    if kind in ("uuid", "decimal", "datetime", "date", "email", "phone") and type(value) is not str:
        raise TypeError(f"a {kind} is written as text in a cursor")
    if kind == "uuid":
        return UUID(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "enum":
        return info.python_type(value)
    if kind == "email":
        return Email(value)
    if kind == "phone":
        number, sep, ext = value.partition(";ext=")
        return PhoneNumber(number, extension=ext if sep else None)
    return value


# --------------------------------------------------------------------------- the query


@functools.lru_cache(maxsize=256)
def _key_function(order: tuple[OrderItem, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A compiled sort-key function for one order (getters resolved once)."""
    steps = [
        (
            _getter(o.info),
            o.info.storage_value if o.info.kind in ("enum", "email", "phone") else None,
            o.descending,
        )
        for o in order
    ]

    def key(entity: Any) -> tuple[Any, ...]:
        out = []
        for get, convert, descending in steps:
            value = get(entity)
            if convert is not None and value is not None:
                value = convert(value)
            out.append(_Desc(value) if descending else (value is None, value))
        return tuple(out)

    return key


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


@functools.lru_cache(maxsize=1024)
def _full_order(entity_type: type, ordering: tuple[OrderItem, ...]) -> tuple[OrderItem, ...]:
    if any(o.info.path == "id" for o in ordering):
        return ordering
    return (*ordering, OrderItem(resolve_field(entity_type, "id"), False))


@attrs.frozen
class Page(Generic[E]):
    """One page of results: ``items`` and the cursor of the next page (``None`` at the end)."""

    items: tuple[E, ...]
    next_cursor: str | None


def _order_item(cls: type, spec: Any, where: str) -> OrderItem:
    if type(spec) is not str or not spec.lstrip("-"):
        raise ValidationError(
            [(where, f"must be a field name, '-' for descending, got {describe(spec)}")]
        )
    descending = spec.startswith("-")
    info = resolve_field(cls, spec.lstrip("-"))
    if info.kind not in _ORDERABLE:
        raise ValidationError([(where, f"cannot order by {shown(info.path)} ({info.kind})")])
    return OrderItem(info, descending)


@attrs.frozen(init=False)
class Query(Generic[E]):
    """A checked query over one entity type.

    Build it with chained calls, each returning a new query:

    >>> from crmkit.entities import Contact
    >>> q = (Query(Contact)
    ...      .where(F("address.country") == "GB", F("lifecycle_stage").in_(["retention", "loyalty"]))
    ...      .order_by("-created_at", "last_name")
    ...      .limit(50))
    >>> q.matches(Contact(first_name="Ada", lifecycle_stage="loyalty"))  # no address: unknown, so no match
    False
    >>> Query(Contact).where(F("shoe_size") > 40)
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: field: Contact has no field 'shoe_size' (in 'shoe_size'); known fields: ...

    Attributes
    ----------
    entity_type:
        The entity class queried.
    filter:
        The checked filter (``None``: every entity).
    ordering:
        The requested order; :attr:`sort_order` adds the ``id`` tie-breaker.
    page_size:
        The limit (``None``: everything).
    cursor:
        Where the page starts (an opaque string from :attr:`Page.next_cursor`).
    """

    entity_type: type[E]
    filter: Any
    ordering: tuple[OrderItem, ...]
    page_size: int | None
    cursor: str | None

    def __init__(
        self,
        entity_type: type[E],
        *,
        _filter: Any = None,
        _ordering: tuple[OrderItem, ...] = (),
        _limit: int | None = None,
        _cursor: str | None = None,
    ) -> None:
        if not (isinstance(entity_type, type) and issubclass(entity_type, Entity)):
            raise ValidationError(
                [("entity_type", f"must be a crmkit entity class, got {describe(entity_type)}")]
            )
        self.__attrs_init__(entity_type, _filter, _ordering, _limit, _cursor)

    def _copy(self, **changes: Any) -> Query[E]:
        fields = {
            "_filter": self.filter,
            "_ordering": self.ordering,
            "_limit": self.page_size,
            "_cursor": self.cursor,
        }
        fields.update(changes)
        return Query(self.entity_type, **fields)

    # building -----------------------------------------------------------------------

    def where(self, *filters: Filter) -> Query[E]:
        """Add conditions (all must hold), checked against the entity type now."""
        if not filters:
            return self
        bound = [_bind(self.entity_type, f, f"where[{i}]") for i, f in enumerate(filters)]
        if self.filter is not None:
            bound.insert(0, self.filter)
        combined = bound[0] if len(bound) == 1 else And(tuple(bound))
        return self._copy(_filter=combined)

    def order_by(self, *fields: str) -> Query[E]:
        """Order by these fields (``"-created_at"`` for descending); replaces any earlier order."""
        items = tuple(
            _order_item(self.entity_type, f, f"order_by[{i}]") for i, f in enumerate(fields)
        )
        return self._copy(_ordering=items, _cursor=None)

    def limit(self, n: int | None) -> Query[E]:
        """At most ``n`` entities per page (``None``: no limit)."""
        if n is not None and (type(n) is not int or n < 1):
            raise ValidationError(
                [("limit", f"must be a positive integer or None, got {describe(n)}")]
            )
        return self._copy(_limit=n)

    def after(self, cursor: str | None) -> Query[E]:
        """Start after the position ``cursor`` (from :attr:`Page.next_cursor`)."""
        if cursor is not None:
            self._decode(cursor)  # refuse a bad cursor now, not in the adapter
        return self._copy(_cursor=cursor)

    # reference semantics --------------------------------------------------------------

    @property
    def sort_order(self) -> tuple[OrderItem, ...]:
        """The full order: the requested fields, then ``id`` ascending as the tie-breaker."""
        return _full_order(self.entity_type, self.ordering)  # type: ignore[arg-type]

    def matches(self, entity: Any) -> bool:
        """Whether ``entity`` satisfies the filter: the reference semantics."""
        if not isinstance(entity, self.entity_type):
            raise ValidationError(
                [("entity", f"must be a {self.entity_type.__name__}, got {describe(entity)}")]
            )
        return self.filter is None or _compile(self.filter)(entity) is True

    def sort_key(self, entity: Any) -> tuple[Any, ...]:
        """A key that sorts entities in this query's order (``sorted(xs, key=q.sort_key)``)."""
        return _key_function(self.sort_order)(entity)

    def cursor_for(self, entity: Any) -> str:
        """The cursor of the position just after ``entity`` in this query's order."""
        values = [_cursor_value(o.info, o.info.get(entity)) for o in self.sort_order]
        raw = json.dumps(
            {"t": self.entity_type.__name__, "o": self._order_spec(), "v": values},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _order_spec(self) -> list[str]:
        return [("-" if o.descending else "") + o.info.path for o in self.sort_order]

    def _decode(self, cursor: str) -> tuple[Any, ...]:
        typed = self._decode_values(cursor)
        try:
            return tuple(
                _component(o.info.storage_value(v), o.descending)
                for o, v in zip(self.sort_order, typed, strict=True)
            )
        except (ValueError, OverflowError):  # a datetime at the end of the range
            raise ValidationError(
                [("cursor", "not a cursor of this query (a value is out of range)")]
            ) from None

    def _decode_values(self, cursor: str) -> list[Any]:
        def bad(why: str) -> ValidationError:
            return ValidationError([("cursor", f"not a cursor of this query ({why})")])

        if type(cursor) is not str:
            raise bad(f"expected a string, got {describe(cursor)}")
        if len(cursor) > _MAX_CURSOR:
            raise bad(f"longer than {_MAX_CURSOR} characters")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError, RecursionError):
            raise bad("it does not decode") from None
        if (
            not isinstance(data, dict)
            or data.get("t") != self.entity_type.__name__
            or data.get("o") != self._order_spec()
        ):
            raise bad("it belongs to another entity type or order")
        values = data.get("v")
        order = self.sort_order
        if not isinstance(values, list) or len(values) != len(order):
            raise bad("wrong number of values")
        try:
            typed = [
                None if v is None else _coerce(o.info, _from_cursor_value(o.info, v), "cursor")
                for o, v in zip(order, values, strict=True)
            ]
            for value in typed:
                if isinstance(value, datetime):
                    value.astimezone(timezone.utc)  # representable in UTC (year 1 at +01:00 is not)
        except (ValueError, TypeError, ValidationError, InvalidOperation, OverflowError):
            raise bad("a value does not fit its field") from None
        return typed

    def cursor_position(self) -> tuple[Any, ...] | None:
        """The sort key the page starts after, or ``None`` for the first page."""
        return None if self.cursor is None else self._decode(self.cursor)

    def keyset(self) -> list[tuple[FieldInfo, bool, Any]]:
        """``(field, descending, value)`` of the cursor position, for adapters building keyset predicates.

        An entity comes after the cursor when its sort key is greater in the
        lexicographic order of :attr:`sort_order` (``None`` last ascending).
        """
        if self.cursor is None:
            return []
        values = self._decode_values(self.cursor)
        return [(o.info, o.descending, v) for o, v in zip(self.sort_order, values, strict=True)]

    def run(self, entities: Iterable[E]) -> Page[E]:
        """Evaluate the query over ``entities`` in Python: the reference result of an adapter."""
        entity_type = self.entity_type
        keep = (lambda e: True) if self.filter is None else _compile(self.filter)
        matched = []
        for e in list_of(entities, "entities"):
            if not isinstance(e, entity_type):
                raise ValidationError(
                    [("entities", f"must all be {entity_type.__name__}, got {describe(e)}")]
                )
            if keep(e) is True:
                matched.append(e)
        key = _key_function(self.sort_order)
        keyed = [(key(e), e) for e in matched]
        start = self.cursor_position()
        if start is not None:
            keyed = [(k, e) for k, e in keyed if start < k]
        if self.page_size is None:
            keyed.sort(key=_first)
            return Page(tuple(e for _, e in keyed), None)
        # One more than a page tells whether there is a next one; no full sort needed.
        head = heapq.nsmallest(self.page_size + 1, keyed, key=_first)
        items = tuple(e for _, e in head[: self.page_size])
        more = len(head) > self.page_size
        return Page(items, self.cursor_for(items[-1]) if more else None)

    def __repr__(self) -> str:
        parts = [self.entity_type.__name__]
        if self.filter is not None:
            parts.append(f"where={self.filter!r}")
        if self.ordering:
            parts.append(
                f"order_by={[('-' if o.descending else '') + o.info.path for o in self.ordering]}"
            )
        if self.page_size is not None:
            parts.append(f"limit={self.page_size}")
        if self.cursor is not None:
            parts.append("after=...")
        return f"Query({', '.join(parts)})"
