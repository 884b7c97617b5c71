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
  email: 'nope' is not a valid e-mail address (expected local@domain per the WHATWG grammar, e.g. 'ada@example.com')
  shoe_size: unknown field
"""

from __future__ import annotations

import json
import re
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
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

from crmkit.entities._base import JsonObject
from crmkit.entities._frozen import FrozenDict, freeze_json, thaw_json
from crmkit.entities._rules import describe
from crmkit.entities._values import Email, PhoneNumber
from crmkit.errors import ValidationError, join_path, key_path

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


#: ISO 8601 text of calendar days by proleptic ordinal, filled as ``to_dict`` meets them.
#: Records' timestamps cluster on few days (a million orders over ten years touch
#: ~3,650), so a dictionary read replaces building a ``date`` and formatting it.
_DAY_TEXT: dict[int, str] = {}
_DAY_TEXT_LIMIT = 16_384  # 45 years of days, ~1 MB; emptied when full


def _day_text(value: datetime) -> str:
    """``value.date().isoformat()``, remembered by day (see ``_DAY_TEXT``)."""
    text = value.date().isoformat()
    if len(_DAY_TEXT) >= _DAY_TEXT_LIMIT:
        _DAY_TEXT.clear()
    _DAY_TEXT[value.toordinal()] = text
    return text


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


_INLINE_TYPES = {str: "str", int: "int", bool: "bool"}


def _field_errors(
    errors: list[tuple[str, str]] | None, exc: Exception, path: str
) -> list[tuple[str, str]]:
    out = errors if errors is not None else []
    out.extend(_flatten(exc, path))
    return out


def _compile_structure(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Generate ``structure_<cls>(data, _)`` that reads untrusted ``data`` into ``cls``.

    Like cattrs' own generated functions, but with the None checks and the
    type tests of plain fields inlined, every field's failure collected
    with its path, and unknown keys counted instead of set-differenced on
    the happy path. The attrs validators then run in ``cls.__init__``.
    """
    hints = typing.get_type_hints(cls)
    fields = attrs.fields(cls)
    env: dict[str, Any] = {
        "cls": cls,
        "Mapping": Mapping,
        "ValidationError": ValidationError,
        "field_errors": _field_errors,
        "expected": _expected,
        "flatten": _flatten,
        "key_path": key_path,
        "allowed": frozenset(a.name for a in fields),
    }
    lines = [
        "def structure(o, _=None):",
        "    if type(o) is not dict:",
        "        if not isinstance(o, Mapping):",
        f"            raise expected('an object for {cls.__name__}', o)",
        "        o = dict(o)",
        "    res = {}",
        "    errors = None",
        "    seen = 0",
    ]
    for i, a in enumerate(fields):
        tp = hints[a.name]
        args = get_args(tp)
        optional = type(None) in args
        inner = next(x for x in args if x is not type(None)) if optional else tp
        env[f"h{i}"] = converter.get_structure_hook(inner)
        env[f"t{i}"] = inner
        key = repr(a.name)
        has_default = a.default is not attrs.NOTHING
        indent = "        " if has_default else "    "
        if has_default:
            lines.append(f"    if {key} in o:")
            lines.append(f"        v = o[{key}]")
        else:
            lines.append(f"    try:\n        v = o[{key}]")
            lines.append("    except KeyError:")
            lines.append(f"        errors = field_errors(errors, KeyError({key}), {key})")
            lines.append("    else:")
            indent = "        "
        lines.append(f"{indent}seen += 1")
        test = []
        if optional:
            test.append(("v is None", "None"))
        if inner in _INLINE_TYPES:
            test.append((f"type(v) is {_INLINE_TYPES[inner]}", "v"))
        branch = "if"
        for cond, value in test:
            lines.append(f"{indent}{branch} {cond}:")
            lines.append(f"{indent}    res[{key}] = {value}")
            branch = "elif"
        body = indent + ("    " if test else "")
        if test:
            lines.append(f"{indent}else:")
        lines.append(f"{body}try:")
        lines.append(f"{body}    res[{key}] = h{i}(v, t{i})")
        lines.append(f"{body}except Exception as e:")
        lines.append(f"{body}    errors = field_errors(errors, e, {key})")
    lines += [
        "    if seen != len(o):",
        "        errors = (errors or []) + [(key_path('', k), 'unknown field') for k in o if k not in allowed]",
        "    if errors:",
        "        raise ValidationError(errors)",
        "    try:",
        "        return cls(**res)",
        "    except ValidationError:",
        "        raise",
        "    except Exception as e:",
        "        raise ValidationError(flatten(e, '$')) from None",
    ]
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<crmkit.serde structure {cls.__qualname__}>", "exec"), env)
    return env["structure"]  # type: ignore[no-any-return]


_STRUCTURE: dict[type, Callable[..., Any]] = {}


def _structure_fn(cls: type) -> Callable[..., Any]:
    fn = _STRUCTURE.get(cls)
    if fn is None:
        fn = _STRUCTURE[cls] = _compile_structure(cls, make_converter())
    return fn


def _unstructure_expr(tp: Any, var: str, env: dict[str, Any], depth: int = 0) -> str:
    """A Python expression turning ``var`` (of type ``tp``) into JSON-safe data.

    One inlined expression per field, nested attrs classes included, keeps
    ``to_dict`` free of per-value dispatch and function calls: that is what
    makes it faster than a generic converter.
    """
    args = get_args(tp)
    if type(None) in args:  # Optional[X]
        (inner,) = [a for a in args if a is not type(None)]
        local = f"v{len(env)}_{depth}"
        env[local] = None  # reserve the name
        expr = _unstructure_expr(inner, local, env, depth + 1)
        if expr == local:
            return var
        return f"(None if ({local} := {var}) is None else {expr})"
    if tp in (str, int, float, bool, Any):
        return var
    if tp is UUID:
        # str(uuid) inline, from the 16 bytes' hex in groups of two bytes
        # ("aaaa-bbbb-cccc-dddd-eeee-ffff-gggg-hhhh"), of which the 8-4-4-4-12
        # form drops three dashes: a C hex pass and four slices, no method call.
        h = f"h{len(env)}_{depth}"
        env[h] = None
        return (
            f'f\'{{({h} := {var}.int.to_bytes(16, "big").hex("-", 2))[:4]}}'
            f"{{{h}[5:29]}}{{{h}[30:34]}}{{{h}[35:]}}'"
        )
    if tp is Decimal:
        return f"str({var})"
    if tp is datetime:
        # ``isoformat`` of an aware datetime spends half its time asking the tzinfo for
        # its offset; UTC (what parsing "+00:00" or "Z" gives) is spelled out instead,
        # the day's text read from a table of the days met so far.
        local = f"v{len(env)}_{depth}"
        env[local] = None
        env["_UTC"], env["_datetime"] = timezone.utc, datetime
        env["_DAY_TEXT"], env["_day_text"] = _DAY_TEXT, _day_text
        return (
            f'(f"{{_DAY_TEXT.get({local}.toordinal()) or _day_text({local})}}'
            f'T{{{local}.time().isoformat()}}+00:00" '
            f"if ({local} := {var}).tzinfo is _UTC and type({local}) is _datetime "
            f"else {local}.isoformat())"
        )
    if tp is date:
        return f"{var}.isoformat()"
    if tp is timedelta:
        env["unstructure_timedelta"] = _unstructure_timedelta
        return f"unstructure_timedelta({var})"
    if tp is Email:
        return f"{var}.address"
    if tp is PhoneNumber:
        env["unstructure_phone"] = _unstructure_phone
        return f"({var}.e164 if {var}.extension is None else unstructure_phone({var}))"
    if _is_enum(tp):
        return f"{var}._value_"
    if _is_frozenset(tp):
        return f"sorted({var})"
    if tp is FrozenDict or _is_json_object(tp):
        env["thaw_json"] = thaw_json
        return f"({{**{var}}} if {var}.flat else thaw_json({var}))"
    if _is_tuple(tp):
        item = _unstructure_expr(args[0], f"x{depth}", env, depth + 1)
        return f"list({var})" if item == f"x{depth}" else f"[{item} for x{depth} in {var}]"
    if attrs.has(tp):
        if "." in var:  # evaluate the attribute once
            local = f"v{len(env)}_{depth}"
            env[local] = None
            return f"(({local} := {var}), {_attrs_dict_expr(tp, local, env, depth + 1)})[1]"
        return _attrs_dict_expr(tp, var, env, depth + 1)
    raise TypeError(f"crmkit.serde cannot serialize {tp!r}")  # a bug in crmkit, not bad input


def _attrs_dict_expr(cls: type, var: str, env: dict[str, Any], depth: int) -> str:
    hints = typing.get_type_hints(cls)
    items = [
        f"{a.name!r}: {_unstructure_expr(hints[a.name], f'{var}.{a.name}', env, depth)}"
        for a in attrs.fields(cls)
    ]
    return "{" + ", ".join(items) + "}"


def _compile_unstructure(cls: type) -> Callable[[Any], dict[str, Any]]:
    env: dict[str, Any] = {}
    body = _attrs_dict_expr(cls, "o", env, 0)
    source = f"def unstructure_{cls.__name__}(o):\n    return {body}\n"
    namespace = {k: v for k, v in env.items() if v is not None}
    exec(compile(source, f"<crmkit.serde unstructure {cls.__qualname__}>", "exec"), namespace)
    return namespace[f"unstructure_{cls.__name__}"]  # type: ignore[no-any-return]


_UNSTRUCTURE: dict[type, Callable[[Any], dict[str, Any]]] = {}
# Value objects written as one JSON string: build them with their constructors.
_STRING_VALUES = (Email, PhoneNumber)


def _unstructure_fn(cls: type) -> Callable[[Any], dict[str, Any]]:
    fn = _UNSTRUCTURE.get(cls)
    if fn is None:
        fn = _UNSTRUCTURE[cls] = _compile_unstructure(cls)
    return fn


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
    c.register_structure_hook_factory(attrs.has, lambda cls: _compile_structure(cls, c))

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
    c.register_unstructure_hook_factory(_is_enum, lambda tp: lambda v: v.value)
    c.register_unstructure_hook_factory(
        _is_tuple, lambda tp: _tuple_unstructure(get_args(tp)[0] if get_args(tp) else Any, c)
    )
    c.register_unstructure_hook_factory(_is_frozenset, lambda tp: lambda v: sorted(v))
    c.register_unstructure_hook_factory(attrs.has, _unstructure_fn)
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
    fn = _UNSTRUCTURE.get(type(obj))
    if fn is None:
        if type(obj) in _STRING_VALUES:
            raise ValidationError(
                [("obj", f"{type(obj).__name__} serializes to a string, not an object: use str()")]
            )
        if not attrs.has(type(obj)):
            raise ValidationError(
                [("obj", f"expected a crmkit entity or value object, got {describe(obj)}")]
            )
        fn = _unstructure_fn(type(obj))
    return fn(obj)


def from_dict(cls: type[T], data: Any) -> T:
    """Build a ``cls`` from untrusted ``data`` (as produced by :func:`to_dict` or parsed JSON).

    Raises
    ------
    ValidationError
        Listing every problem found with its path: unknown keys, missing
        fields, wrong types and broken rules. Nothing else escapes.
    """
    if not isinstance(cls, type) or not attrs.has(cls) or cls in _STRING_VALUES:
        raise ValidationError(
            [("cls", f"expected a crmkit entity or value-object class, got {cls!r}")]
        )
    fn = _STRUCTURE.get(cls) or _structure_fn(cls)
    try:
        return fn(data)  # type: ignore[no-any-return]
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(_flatten(exc, "$")) from None


def to_dicts(objs: Iterable[Any]) -> list[dict[str, Any]]:
    """:func:`to_dict` of many records."""
    return [to_dict(o) for o in objs]


def from_dicts(cls: type[T], rows: Iterable[Any]) -> list[T]:
    """:func:`from_dict` of many records; one ValidationError lists the problems of every row.

    Paths start with the row's position: ``[3].email: ...``.
    """
    fn = _structure_fn(cls)
    out: list[T] = []
    errors: list[tuple[str, str]] = []
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise ValidationError([("rows", f"expected an iterable of objects, got {describe(rows)}")])
    for i, row in enumerate(rows):
        try:
            out.append(fn(row))
        except Exception as exc:
            errors.extend(_flatten(exc, f"[{i}]"))
    if errors:
        raise ValidationError(errors)
    return out


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """JSON text of an entity or value object (UTF-8 safe; keys in field order)."""
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
