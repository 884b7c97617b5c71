"""Checks for the arguments of public functions that are not arrays (no numpy here).

Each returns the value in the form the function uses, or raises
:class:`~crmkit.errors.ValidationError` naming the argument (and the
position) and what was expected, with the value shown short and safe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from crmkit._text import describe
from crmkit.errors import ValidationError

__all__ = ["choice", "instance", "int_pair", "items", "number", "pair", "text", "texts", "whole"]

T = TypeVar("T")


def _bad(name: str, expected: str, value: Any) -> ValidationError:
    return ValidationError([(name, f"must be {expected}, got {describe(value)}")])


def instance(value: Any, cls: type[T] | tuple[type, ...], name: str) -> T:
    """``value`` if it is an instance of ``cls``."""
    if not isinstance(value, cls):
        what = " or ".join(c.__name__ for c in cls) if isinstance(cls, tuple) else cls.__name__
        raise _bad(name, f"a {what}", value)
    return value  # type: ignore[return-value]


def items(value: Any, name: str, of: type | tuple[type, ...] | None = None) -> list[Any]:
    """The elements of an iterable (a list, a tuple, a generator ...), each an ``of`` if given.

    Text, bytes and mappings are refused: a string is not a list of records.
    """
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise _bad(name, "a list or another iterable", value)
    try:
        out = list(value)
    except (TypeError, ValueError):  # a 0-d numpy array, an iterator that fails
        raise _bad(name, "a list or another iterable", value) from None
    if of is not None:
        for i, v in enumerate(out):
            if not isinstance(v, of):
                what = " or ".join(c.__name__ for c in of) if isinstance(of, tuple) else of.__name__
                raise _bad(f"{name}[{i}]", f"a {what}", v)
    return out


def text(value: Any, name: str) -> str:
    """A non-blank string (a name)."""
    if type(value) is not str or not value.strip():
        raise _bad(name, "a non-blank string", value)
    return value


def texts(value: Any, name: str, *, min_length: int = 0) -> tuple[str, ...]:
    """A list of non-blank strings (names of states, indicators, features ...)."""
    out = items(value, name)
    for i, v in enumerate(out):
        if type(v) is not str or not v.strip():
            raise _bad(f"{name}[{i}]", "a non-blank string", v)
    if len(out) < min_length:
        raise ValidationError([(name, f"must hold at least {min_length} names, got {len(out)}")])
    return tuple(out)


def choice(value: Any, name: str, options: Iterable[str]) -> str:
    """One of ``options`` (compared as text, so an unhashable value is simply not one)."""
    allowed = list(options)
    if type(value) is not str or value not in allowed:
        shown = ", ".join(repr(o) for o in allowed[:12])
        raise _bad(name, f"one of {shown}", value)
    return value


def whole(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool) within ``[low, high]``."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if ok and ((low is not None and value < low) or (high is not None and value > high)):
        ok = False
    if not ok:
        if low is not None and high is not None:
            expected = f"an integer from {low} to {high}"
        elif low is not None:
            expected = f"an integer >= {low}"
        else:
            expected = "an integer"
        raise _bad(name, expected, value)
    return int(value)


def number(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """A finite real number (int or float, not bool) within the bounds."""
    try:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        x = float(value) if ok else math.nan
    except OverflowError:  # an int beyond float range
        ok, x = False, math.nan
    if ok and math.isfinite(x):
        if low is not None and (x < low or (open_low and x == low)):
            ok = False
        if high is not None and (x > high or (open_high and x == high)):
            ok = False
    else:
        ok = False
    if not ok:
        lo = "" if low is None else f"{'>' if open_low else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if open_high else '<='} {high:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        raise _bad(name, f"a finite number{' ' + bounds if bounds else ''}", value)
    return x


def pair(value: Any, name: str, *, integers: bool = False) -> tuple[float, float]:
    """Two numbers ``(low, high)`` with ``low < high`` (a scale's ends)."""
    kind = "integers" if integers else "numbers"
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _bad(name, f"two {kind} (low, high)", value)
    try:
        parts = list(value)
    except (TypeError, ValueError):
        raise _bad(name, f"two {kind} (low, high)", value) from None
    if len(parts) != 2:
        raise _bad(name, f"two {kind} (low, high)", value)
    check = whole if integers else number
    low, high = (check(p, f"{name}[{i}]") for i, p in enumerate(parts))
    if not low < high:
        raise ValidationError([(name, f"must have low < high, got {low:g}, {high:g}")])
    return low, high


def int_pair(value: Any, name: str) -> tuple[int, int]:
    """Two integers ``(low, high)`` with ``low < high`` (a rating scale's ends)."""
    low, high = pair(value, name, integers=True)
    return int(low), int(high)
