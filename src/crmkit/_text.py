"""Short, safe descriptions of values for error messages (the bottom layer: no crmkit imports)."""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["MAX_MESSAGE", "cap", "describe", "shown"]

#: The longest message line an error carries; longer ones are cut with an ellipsis.
MAX_MESSAGE = 300


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxlevel = 2
    short.maxstring = short.maxother = short.maxlong = 50
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = short.maxfrozenset = 4
    return short


_SHORT = _short_repr()


def describe(value: Any) -> str:
    """A short description of a value for error messages.

    Nested containers are cut two levels down and long texts shortened, so
    a hostile value gives a short message (never a RecursionError, never
    the whole value); an integer too long to write in decimal says so.
    """
    try:
        text = _SHORT.repr(value)
    except ValueError:  # an int beyond Python's decimal conversion limit
        text = f"with {value.bit_length():,} bits" if isinstance(value, int) else "..."
    except Exception:  # a repr of the user's own that fails
        text = "..."
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def cap(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with every line cut to ``limit`` characters (an ellipsis marks the cut)."""
    lines = text.splitlines() or [""]
    if all(len(line) <= limit for line in lines):
        return text
    return "\n".join(line if len(line) <= limit else line[: limit - 1] + "…" for line in lines)


def shown(value: Any) -> str:
    """``repr(value)`` for a message, cut short and safe (deep nesting, huge integers)."""
    text = describe(value)
    return text.split(" ", 1)[1] if " " in text else text
