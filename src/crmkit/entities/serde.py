"""Lossless (de)serialization of entities through one cattrs converter.

``to_dict`` gives JSON-safe data: UUIDs, Decimals, dates and durations as
strings (datetimes in ISO 8601 with their UTC offset, durations as ISO 8601
``PT<seconds>S``), enums by value, e-mail addresses and phone numbers as
text, tags as sorted lists. ``from_dict`` reads such data back, treating
it as untrusted: unknown keys, missing fields, wrong types and broken rules
all raise one :class:`~crmkit.errors.ValidationError` listing every problem
with its path; no other exception escapes. ``from_dict(T, to_dict(x)) == x``
for every entity.

>>> from crmkit.entities import Contact, Money
>>> from crmkit.entities.serde import from_dict, to_dict
>>> ada = Contact(first_name="Ada", email="ada@example.com", lifetime_value=Money("120.50", "GBP"))
>>> data = to_dict(ada)
>>> data["email"], data["lifetime_value"]
('ada@example.com', {'amount': '120.50', 'currency': 'GBP'})
>>> from_dict(Contact, data) == ada
True
>>> from_dict(Contact, {"first_name": 7, "email": "nope", "shoe_size": 44})
Traceback (most recent call last):
...
crmkit.errors.ValidationError: 3 validation errors:
  first_name: expected a string, got int 7
  email: '****' is not a valid e-mail address (expected local@domain per the WHATWG grammar, e.g. 'ada@example.com')
  shoe_size: unknown field
"""

from __future__ import annotations

import json
import re
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args
from uuid import UUID

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from crmkit._paths import join_path, key_path
from crmkit._text import shown
from crmkit.entities._base import JsonObject
from crmkit.entities._frozen import FrozenDict, freeze_json, thaw_json
from crmkit.entities._rules import describe
from crmkit.entities._values import Email, PhoneNumber
from crmkit.errors import ValidationError

__all__ = [
    "from_dict",
    "from_dicts",
    "from_json",
    "make_converter",
    "to_dict",
    "to_dicts",
    "to_json",
]

T = TypeVar("T")


def _expected(what: str, value: Any) -> ValidationError:
    return ValidationError([("$", f"expected {what}, got {describe(value)}")])


# --------------------------------------------------------------------------- scalar hooks


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _expected("a string", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise _expected("an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _expected("a number", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise _expected("true or false", value)


def _structure_uuid(value: Any, _: Any) -> UUID:
    if type(value) is str:
        try:
            return UUID(value)
        except ValueError:
            pass
    elif type(value) is UUID:
        return value
    raise _expected("a UUID string such as '12345678-1234-5678-1234-567812345678'", value)


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if type(value) is str:
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise _expected("a decimal number as a string such as '19.99'", value) from None
        if result.is_finite():
            return result
    elif type(value) is int or type(value) is Decimal:
        return Decimal(value)
    raise _expected("a finite decimal number as a string such as '19.99'", value)


if sys.version_info >= (3, 11):
    _fromisoformat = datetime.fromisoformat
else:  # pragma: no cover - Python 3.10 reads no "Z" suffix

    def _fromisoformat(text: str) -> datetime:
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return datetime.fromisoformat(text)


_NAIVE = "must be timezone-aware: add a UTC offset, e.g. '2026-03-01T09:30:00+00:00' (got {!r})"


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is str:
        try:
            result = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if result.tzinfo is None:
                raise ValidationError([("$", _NAIVE.format(value))])
            return result
    elif isinstance(value, datetime):
        return value
    raise _expected(
        "an ISO 8601 date-time with a UTC offset such as '2026-03-01T09:30:00+00:00'", value
    )


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is str and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif type(value) is date:
        return value
    raise _expected("an ISO 8601 date such as '2026-03-01'", value)


_DURATION = re.compile(
    r"P(?:(?P<d>\d{1,9})D)?(?:T(?:(?P<h>\d{1,9})H)?(?:(?P<m>\d{1,9})M)?"
    r"(?:(?P<s>\d{1,12}(?:\.\d{1,6})?)S)?)?",
    re.ASCII,
)


def _structure_timedelta(value: Any, _: Any) -> timedelta:
    if type(value) is str:
        match = _DURATION.fullmatch(value)
        if match and value not in ("P", "PT") and not value.endswith("T"):
            parts = match.groupdict()
            try:
                return timedelta(
                    days=int(parts["d"] or 0),
                    hours=int(parts["h"] or 0),
                    minutes=int(parts["m"] or 0),
                    seconds=float(Decimal(parts["s"] or 0))
                    if "." in (parts["s"] or "")
                    else int(parts["s"] or 0),
                )
            except OverflowError:
                pass
    elif type(value) is timedelta:
        return value
    raise _expected("an ISO 8601 duration such as 'PT420S' or 'P1DT2H'", value)


def _unstructure_timedelta(value: timedelta) -> str:
    seconds = value.days * 86400 + value.seconds
    if value.microseconds:
        return f"PT{seconds}.{value.microseconds:06d}S"
    return f"PT{seconds}S"


def _as_whole(exc: ValidationError) -> ValidationError:
    # Email and PhoneNumber serialize as one string: report at the field itself.
    return ValidationError([("$", m) for _, m in exc.errors])


def _structure_email(value: Any, _: Any) -> Email:
    if type(value) is str:
        try:
            return Email(value)
        except ValidationError as exc:
            raise _as_whole(exc) from None
    raise _expected("an e-mail address string", value)


def _structure_phone(value: Any, _: Any) -> PhoneNumber:
    if type(value) is str:
        number, sep, ext = value.partition(";ext=")
        try:
            return PhoneNumber(number, extension=ext if sep else None)
        except ValidationError as exc:
            raise _as_whole(exc) from None
    raise _expected("an E.164 phone number string such as '+442079460958'", value)


def _structure_json_object(value: Any, _: Any) -> FrozenDict:
    if not isinstance(value, Mapping):
        raise _expected("an object", value)
    return freeze_json(value, "$")  # type: ignore[no-any-return]


def _unstructure_phone(value: PhoneNumber) -> str:
    return value.e164 if value.extension is None else f"{value.e164};ext={value.extension}"


def _structure_enum_factory(enum: type[Enum]) -> Callable[[Any, Any], Any]:
    lookup = {m.value: m for m in enum}
    allowed = ", ".join(repr(v) for v in lookup)

    def structure(value: Any, _: Any) -> Any:
        try:
            return lookup[value]
        except (KeyError, TypeError):
            raise ValidationError(
                [("$", f"must be one of {allowed}, got {describe(value)}")]
            ) from None

    return structure


def _structure_tuple_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    args = get_args(tp)
    item_type = args[0] if args else Any
    item_hook = converter.get_structure_hook(item_type)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if type(value) is not list and type(value) is not tuple:
            raise _expected("an array", value)
        items: list[Any] = []
        errors: list[tuple[str, str]] = []
        for i, item in enumerate(value):
            try:
                items.append(item_hook(item, item_type))
            except Exception as exc:
                errors.extend(_flatten(exc, f"[{i}]"))
        if errors:
            raise ValidationError(errors)
        return tuple(items)

    return structure


def _structure_frozenset_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    tuple_hook = _structure_tuple_factory(tuple[get_args(tp)], converter)  # type: ignore[misc]

    def structure(value: Any, _: Any) -> frozenset[Any]:
        return frozenset(tuple_hook(value, None))

    return structure


def _is_tuple(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is tuple


def _is_frozenset(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is frozenset


def _is_json_object(tp: Any) -> bool:
    return bool(tp == JsonObject)


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Enum)


def _is_optional(tp: Any) -> bool:
    args = get_args(tp)
    return len(args) == 2 and type(None) in args


def _register_enums(cls: type, converter: cattrs.Converter) -> None:
    """Hooks for the enums among ``cls``'s field types, by class.

    Hooks by class take precedence over hook factories in cattrs, and a
    ``str``-valued enum is a ``str``: without its own hooks it would be read
    as plain text and written as the member.
    """
    for tp in typing.get_type_hints(cls).values():
        for t in (tp, *get_args(tp)):
            if _is_enum(t):
                converter.register_structure_hook(t, _structure_enum_factory(t))
                converter.register_unstructure_hook(t, _enum_value)


def _enum_value(member: Enum) -> Any:
    return member.value


def _unstructure_attrs_factory(cls: type, converter: cattrs.Converter) -> Callable[[Any], Any]:
    """cattrs' generated function writing ``cls`` as a dict, one hook per field."""
    _register_enums(cls, converter)
    return make_dict_unstructure_fn(cls, converter)


def _structure_attrs_factory(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """cattrs' generated structuring function of ``cls``, for untrusted input.

    It reads every field with the converter's hooks, collects each field's
    failure with its name (detailed validation), refuses unknown keys and
    then calls ``cls(...)``, whose attrs validators check the rules. Only a
    mapping is read at all.
    """
    _register_enums(cls, converter)
    structure_fields: Callable[[Any, Any], Any] = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
    )

    def structure(value: Any, _: Any = None) -> Any:
        if not isinstance(value, Mapping):
            raise _expected(f"an object for {cls.__name__}", value)
        return structure_fields(value, cls)

    return structure


def _unstructure_optional_factory(tp: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    (inner,) = [a for a in get_args(tp) if a is not type(None)]
    hook = converter.get_unstructure_hook(inner)
    return lambda value: None if value is None else hook(value)


# Value objects written as one JSON string: build them with their constructors.
_STRING_VALUES = (Email, PhoneNumber)


@cache
def make_converter() -> cattrs.Converter:
    """Build crmkit's cattrs converter (cached: it is immutable once built).

    Use it to serialize your own attrs classes that hold crmkit values:
    ``make_converter().unstructure(x)``. Prefer :func:`to_dict` and
    :func:`from_dict` for crmkit's entities: they turn every failure into a
    :class:`~crmkit.errors.ValidationError`.
    """
    c = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    hooks: tuple[tuple[type, Callable[[Any, Any], Any]], ...] = (
        (str, _structure_str),
        (int, _structure_int),
        (float, _structure_float),
        (bool, _structure_bool),
        (UUID, _structure_uuid),
        (Decimal, _structure_decimal),
        (datetime, _structure_datetime),
        (date, _structure_date),
        (timedelta, _structure_timedelta),
        (Email, _structure_email),
        (PhoneNumber, _structure_phone),
    )
    for tp, hook in hooks:
        c.register_structure_hook(tp, hook)
    c.register_structure_hook_func(_is_json_object, _structure_json_object)
    c.register_structure_hook_factory(_is_enum, _structure_enum_factory)
    c.register_structure_hook_factory(_is_tuple, lambda tp: _structure_tuple_factory(tp, c))
    c.register_structure_hook_factory(_is_frozenset, lambda tp: _structure_frozenset_factory(tp, c))
    c.register_structure_hook_factory(attrs.has, lambda cls: _structure_attrs_factory(cls, c))

    unhooks: tuple[tuple[type, Callable[[Any], Any]], ...] = (
        (UUID, str),
        (Decimal, str),
        (datetime, datetime.isoformat),
        (date, date.isoformat),
        (timedelta, _unstructure_timedelta),
        (Email, str),
        (PhoneNumber, _unstructure_phone),
        (FrozenDict, thaw_json),
    )
    for utp, unhook in unhooks:
        c.register_unstructure_hook(utp, unhook)
    c.register_unstructure_hook_func(_is_json_object, thaw_json)
    c.register_unstructure_hook_factory(_is_enum, lambda tp: _enum_value)
    c.register_unstructure_hook_factory(
        _is_tuple, lambda tp: _tuple_unstructure(get_args(tp)[0] if get_args(tp) else Any, c)
    )
    c.register_unstructure_hook_factory(_is_frozenset, lambda tp: lambda v: sorted(v))
    c.register_unstructure_hook_factory(
        _is_optional, lambda tp: _unstructure_optional_factory(tp, c)
    )
    c.register_unstructure_hook_factory(attrs.has, lambda cls: _unstructure_attrs_factory(cls, c))
    return c


def _tuple_unstructure(item_type: Any, converter: cattrs.Converter) -> Callable[[Any], list[Any]]:
    hook = converter.get_unstructure_hook(item_type)
    return lambda value: [hook(v) for v in value]


# --------------------------------------------------------------------------- errors


def _flatten(exc: BaseException, path: str) -> list[tuple[str, str]]:
    """Turn any exception raised while structuring into ``(path, message)`` pairs."""
    if isinstance(exc, ValidationError):
        return [(join_path(path, p), m) for p, m in exc.errors]
    if isinstance(exc, ForbiddenExtraKeysError):
        return [(key_path(path, k), "unknown field") for k in sorted(map(str, exc.extra_fields))]
    if isinstance(exc, ClassValidationError):
        out: list[tuple[str, str]] = []
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            out.extend(_flatten(inner, join_path(path, note.name)))
        for inner in without:
            out.extend(_flatten(inner, path))
        return out
    if isinstance(exc, IterableValidationError):
        out = []
        with_notes_i, without_i = exc.group_exceptions()
        for inner, inote in with_notes_i:
            out.extend(_flatten(inner, f"{path}[{inote.index}]"))
        for inner in without_i:
            out.extend(_flatten(inner, path))
        return out
    if isinstance(exc, KeyError):
        return [(path, "required field is missing")]
    if isinstance(exc, RecursionError):
        return [(path, "nested too deeply")]
    return [(path, f"invalid value ({type(exc).__name__}: {exc})")]


# --------------------------------------------------------------------------- API


def to_dict(obj: Any) -> dict[str, Any]:
    """JSON-safe ``dict`` of an entity or value object (see the module docstring).

    Raises :class:`~crmkit.errors.ValidationError` for anything that is not
    an attrs instance.
    """
    cls = type(obj)
    if cls in _STRING_VALUES:
        raise ValidationError(
            [("obj", f"{cls.__name__} serializes to a string, not an object: use str()")]
        )
    if not attrs.has(cls):
        raise ValidationError(
            [("obj", f"expected a crmkit entity or value object, got {describe(obj)}")]
        )
    return make_converter().get_unstructure_hook(cls)(obj)  # type: ignore[no-any-return]


def _structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
    """The converter's structuring function of an attrs class ``cls``."""
    if not isinstance(cls, type) or not attrs.has(cls) or cls in _STRING_VALUES:
        raise ValidationError(
            [("cls", f"expected a crmkit entity or value-object class, got {shown(cls)}")]
        )
    return make_converter().get_structure_hook(cls)


def from_dict(cls: type[T], data: Any) -> T:
    """Build a ``cls`` from untrusted ``data`` (as produced by :func:`to_dict` or parsed JSON).

    Raises
    ------
    ValidationError
        Listing every problem found with its path: unknown keys, missing
        fields, wrong types and broken rules. Nothing else escapes.
    """
    structure = _structure_hook(cls)
    try:
        return structure(data, cls)  # type: ignore[no-any-return]
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(_flatten(exc, "$")) from None


def to_dicts(objs: Iterable[Any]) -> list[dict[str, Any]]:
    """:func:`to_dict` of many records."""
    from crmkit._args import items

    return [to_dict(o) for o in items(objs, "objs")]


def from_dicts(cls: type[T], rows: Iterable[Any]) -> list[T]:
    """:func:`from_dict` of many records; one ValidationError lists the problems of every row.

    Paths start with the row's position: ``[3].email: ...``.
    """
    structure = _structure_hook(cls)
    out: list[T] = []
    errors: list[tuple[str, str]] = []
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise ValidationError([("rows", f"expected an iterable of objects, got {describe(rows)}")])
    from crmkit._args import items

    for i, row in enumerate(items(rows, "rows")):
        try:
            out.append(structure(row, cls))
        except Exception as exc:
            errors.extend(_flatten(exc, f"[{i}]"))
    if errors:
        raise ValidationError(errors)
    return out


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """JSON text of an entity or value object (UTF-8 safe; keys in field order)."""
    if indent is not None and (type(indent) is not int or not 0 <= indent <= 16):
        raise ValidationError([("indent", f"must be None or 0-16, got {describe(indent)}")])
    return json.dumps(to_dict(obj), indent=indent, ensure_ascii=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def from_json(cls: type[T], text: str | bytes) -> T:
    """Parse JSON text and build a ``cls`` as :func:`from_dict` does.

    Malformed JSON, ``NaN``/``Infinity`` and absurd nesting raise
    :class:`~crmkit.errors.ValidationError` too.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise ValidationError([("text", f"expected JSON text, got {describe(text)}")])
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValidationError([("$", "JSON nested too deeply")]) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValidationError([("$", f"invalid JSON: {exc}")]) from None
    return from_dict(cls, data)
