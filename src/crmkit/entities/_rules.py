"""Field validators and converters shared by every entity.

Validators are small named factories in the attrs style. Each raises
:class:`~crmkit.errors.ValidationError` naming the field and the rule. When
one field of an object fails, :func:`fail` runs every other validator of the
object too, so one error lists every broken field, not only the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, NoReturn, TypeVar
from uuid import UUID

import attrs

from crmkit._text import describe as describe
from crmkit._text import shown
from crmkit.errors import ValidationError

T = TypeVar("T")
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

_state = threading.local()


def fail(instance: Any, path: str, message: str) -> NoReturn:
    """Raise a ValidationError for ``path``, listing every other broken field too."""
    if getattr(_state, "collecting", False):
        raise ValidationError([(path, message)])
    errors: list[tuple[str, str]] = []
    _state.collecting = True
    try:
        for a in attrs.fields(type(instance)):
            if a.validator is None:
                continue
            try:
                a.validator(instance, a, getattr(instance, a.name))
            except ValidationError as exc:
                errors.extend(exc.errors)
    finally:
        _state.collecting = False
    if (path, message) not in errors:
        errors.insert(0, (path, message))
    raise ValidationError(errors)


# --------------------------------------------------------------------------- text


# Text may hold any character but U+0000, which databases such as PostgreSQL cannot store.
NUL = "\x00"
NUL_MESSAGE = (
    "must be text a database can store: no NUL character (U+0000) and no lone surrogate "
    "(U+D800-U+DFFF, which UTF-8 cannot encode)"
)


def storable(value: str) -> bool:
    """No NUL and valid as UTF-8 (no lone surrogates): what JSON and SQL can store."""
    if NUL in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(*, max_length: int = 1000, blank: bool = False) -> Validator:
    """A ``str`` of at most ``max_length`` characters; not blank unless ``blank``."""

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if (
            type(value) is str
            and len(value) <= max_length
            and (blank or value.strip())
            and storable(value)
        ):
            return
        if type(value) is not str:
            fail(inst, attr.name, f"must be a string, got {describe(value)}")
        if not storable(value):
            fail(inst, attr.name, NUL_MESSAGE)
        if not blank and not value.strip():
            fail(inst, attr.name, "must not be blank")
        if len(value) > max_length:
            fail(inst, attr.name, f"must be at most {max_length} characters (got {len(value)})")

    return check


def optional_text(*, max_length: int = 1000) -> Validator:
    """``None`` or a non-blank ``str`` of at most ``max_length`` characters."""
    inner = text(max_length=max_length)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        # The common case inline: this runs for most fields of every entity.
        if value is None or (
            type(value) is str and len(value) <= max_length and value.strip() and storable(value)
        ):
            return
        inner(inst, attr, value)

    return check


def tags(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """A frozenset of non-blank strings of at most 100 characters."""
    if type(value) is not frozenset:
        fail(inst, attr.name, f"must be a frozenset of strings, got {describe(value)}")
    for tag in value:
        if type(tag) is not str or not tag.strip() or len(tag) > 100 or not storable(tag):
            fail(
                inst,
                attr.name,
                "each tag must be a non-blank string of at most 100 characters without NUL or "
                f"lone surrogates (got {describe(tag)})",
            )


def to_frozenset(value: Any) -> Any:
    """Converter: any iterable of tags (not a bare string) becomes a frozenset."""
    if type(value) is frozenset or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, Iterable):
        try:
            return frozenset(value)
        except TypeError:  # unhashable items: the validator names them
            try:
                return tuple(value)
            except TypeError:  # not iterable after all (a 0-d numpy array)
                return value
    return value


def to_tuple(value: Any) -> Any:
    """Converter: a list becomes a tuple, so the entity stays immutable."""
    if type(value) is list:
        return tuple(value)
    return value


# --------------------------------------------------------------------------- numbers


#: Integers must fit a signed 64-bit column (SQL BIGINT), whatever narrower bounds a field sets.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Validator:
    """An ``int`` (not a ``bool``) within the given bounds and the signed 64-bit range."""
    low = INT64_MIN if minimum is None else max(minimum, INT64_MIN)
    high = INT64_MAX if maximum is None else min(maximum, INT64_MAX)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not int:
            fail(inst, attr.name, f"must be an integer, got {describe(value)}")
        if low <= value <= high:
            return
        shown = value if INT64_MIN <= value <= INT64_MAX else describe(value)
        if value < low:
            fail(inst, attr.name, f"must be >= {low} (got {shown})")
        fail(inst, attr.name, f"must be <= {high} (got {shown})")

    return check


def optional_integer(*, minimum: int | None = None, maximum: int | None = None) -> Validator:
    inner = integer(minimum=minimum, maximum=maximum)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            inner(inst, attr, value)

    return check


def number(minimum: float, maximum: float) -> Validator:
    """A finite ``int`` or ``float`` (not a ``bool``) in ``[minimum, maximum]``."""

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if type(value) not in (float, int):
            fail(inst, attr.name, f"must be a number, got {describe(value)}")
        if not (minimum <= value <= maximum):  # also refuses NaN
            fail(
                inst, attr.name, f"must be between {minimum:g} and {maximum:g} (got {shown(value)})"
            )

    return check


def optional_number(minimum: float, maximum: float) -> Validator:
    inner = number(minimum, maximum)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            inner(inst, attr, value)

    return check


def decimal(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """A finite :class:`~decimal.Decimal`."""
    if type(value) is not Decimal:
        fail(inst, attr.name, f"must be a Decimal, got {describe(value)}")
    if not value.is_finite():
        fail(inst, attr.name, f"must be a finite number (got {value})")


def to_decimal(field: str) -> Callable[[Any], Any]:
    """Converter: ``int`` and ``str`` become ``Decimal``; ``float`` is refused (it loses cents)."""

    def convert(value: Any) -> Any:
        if type(value) is Decimal:
            return value
        if type(value) is int:
            return Decimal(value)
        if type(value) is str:
            text = value.strip()
            if not text.isascii() or len(text) > 100:
                # Decimal reads '١٢٣' as 123: amounts are written in ASCII digits.
                raise ValidationError(
                    [(field, f"must be a decimal number in ASCII digits, got {describe(value)}")]
                )
            try:
                return Decimal(text)
            except ArithmeticError:
                raise ValidationError(
                    [(field, f"must be a decimal number, got {describe(value)}")]
                ) from None
        if type(value) is float:
            raise ValidationError(
                [
                    (
                        field,
                        f"must be a Decimal, int or str, not float ({shown(value)}): floats cannot hold cents exactly; pass a string such as '19.99'",
                    )
                ]
            )
        return value

    return convert


# --------------------------------------------------------------------------- time


def aware(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """A timezone-aware :class:`~datetime.datetime`."""
    if type(value) is not datetime:
        if isinstance(value, datetime):  # a subclass, e.g. pandas.Timestamp, is fine
            pass
        else:
            fail(inst, attr.name, f"must be a timezone-aware datetime, got {describe(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        fail(
            inst,
            attr.name,
            f"must be timezone-aware, got naive datetime {value.isoformat()}; "
            "attach a time zone, e.g. value.replace(tzinfo=datetime.timezone.utc)",
        )
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        fail(inst, attr.name, f"must lie between years 1 and 9999 in UTC (got {value.isoformat()})")


def aware_argument(name: str, value: Any) -> datetime:
    """Check a datetime argument of a public function or method; return it."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError([(name, f"must be a timezone-aware datetime, got {describe(value)}")])
    return value


def optional_aware(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        aware(inst, attr, value)


def optional_date(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (type(value) is not date):
        fail(inst, attr.name, f"must be a date (not a datetime), got {describe(value)}")


def optional_duration(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if type(value) is not timedelta:
        fail(inst, attr.name, f"must be a timedelta, got {describe(value)}")
    if value < timedelta(0):
        fail(inst, attr.name, f"must not be negative (got {value})")


def not_before(instance: Any, later: str, earlier: str, errors: list[tuple[str, str]]) -> None:
    """Record an error when ``instance.later`` is set and precedes ``instance.earlier``."""
    a = getattr(instance, later)
    b = getattr(instance, earlier)
    if a is not None and b is not None and a < b:
        errors.append((later, f"must not be before {earlier} ({a.isoformat()} < {b.isoformat()})"))


# --------------------------------------------------------------------------- identity and types


def uuid(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not UUID:
        fail(inst, attr.name, f"must be a UUID, got {describe(value)}")


def optional_uuid(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and type(value) is not UUID:
        fail(inst, attr.name, f"must be a UUID or None, got {describe(value)}")


def uuids(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not tuple:
        fail(inst, attr.name, f"must be a tuple of UUIDs, got {describe(value)}")
    for i, item in enumerate(value):
        if type(item) is not UUID:
            fail(inst, f"{attr.name}[{i}]", f"must be a UUID, got {describe(item)}")
    if len(set(value)) != len(value):
        fail(inst, attr.name, "must not repeat an id")


def to_uuid(value: Any) -> Any:
    """Converter: a UUID given as text becomes a :class:`~uuid.UUID` (bad text is left to the validator)."""
    if type(value) is str:
        try:
            return UUID(value)
        except ValueError:
            return value
    return value


def instance_of(cls: type, *, optional: bool = False) -> Validator:
    """An instance of ``cls`` (or ``None`` when ``optional``)."""
    name = cls.__name__

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, cls):
            fail(
                inst,
                attr.name,
                f"must be {'None or ' if optional else ''}a {name}, got {describe(value)}",
            )

    return check


def member_of(enum: type[Enum], *, optional: bool = False) -> Validator:
    """A member of ``enum``; values of the enum given as plain strings are converted earlier."""
    allowed = ", ".join(repr(m.value) for m in enum)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, enum):
            fail(inst, attr.name, f"must be one of {allowed}, got {describe(value)}")

    return check


def to_enum(enum: type[Enum]) -> Callable[[Any], Any]:
    """Converter: an enum's value (``"email"``) becomes its member (``Channel.EMAIL``)."""
    lookup = {m.value: m for m in enum}

    def convert(value: Any) -> Any:
        if isinstance(value, enum):
            return value
        if isinstance(value, str):
            return lookup.get(value, value)
        return value

    return convert


def tuple_of(cls: type, *, min_length: int = 0) -> Validator:
    """A tuple whose every item is a ``cls``; at least ``min_length`` items."""
    name = cls.__name__

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not tuple:
            fail(inst, attr.name, f"must be a tuple of {name}, got {describe(value)}")
        if len(value) < min_length:
            fail(inst, attr.name, f"must hold at least {min_length} item(s) (got {len(value)})")
        for i, item in enumerate(value):
            if not isinstance(item, cls):
                fail(inst, f"{attr.name}[{i}]", f"must be a {name}, got {describe(item)}")

    return check


def raise_all(errors: list[tuple[str, str]]) -> None:
    """Raise one ValidationError for the cross-field ``errors`` collected, if any."""
    if errors:
        raise ValidationError(errors)
