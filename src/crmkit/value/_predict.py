"""Checked inputs of the models' predictions."""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit.errors import ValidationError
from crmkit.value._fitting import Array

#: Times beyond a billion periods and counts beyond a million purchases per customer are
#: typing errors, not customers (and would overflow the models' tables and integers).
MAX_TIME = 1e9
MAX_COUNT = 10**6


def as_times(values: Any, name: str, *, high: float = MAX_TIME) -> Array:
    """A scalar or array of finite times from 0 to ``high``."""
    from crmkit._validation import as_numbers

    arr = as_numbers(values, name)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > high)
    if bad.any():
        where = f" at positions {np.flatnonzero(bad.ravel())[:5].tolist()}" if arr.ndim else ""
        raise ValidationError([(name, f"must be finite, from 0 to {high:g}{where}")])
    return arr


def as_counts(values: Any, name: str) -> Array:
    arr = as_times(values, name, high=MAX_COUNT)
    if (arr != np.round(arr)).any():
        raise ValidationError([(name, "must be whole numbers")])
    return arr


def one_shape(**arrays: Any) -> tuple[int, ...]:
    """The broadcast shape of the named arrays, or a ValidationError naming their shapes."""
    try:
        return tuple(np.broadcast_shapes(*(np.shape(a) for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValidationError(
            [(next(iter(arrays)), f"must broadcast to one shape, got {shapes}")]
        ) from None


def customers(frequency: Any, recency: Any, T: Any) -> tuple[Array, Array, Array]:
    """Per-customer ``(x, t_x, T)``: three array-likes, or a summary as ``frequency`` alone."""
    if recency is None and T is None:
        source = frequency
        try:
            frequency, recency, T = source.frequency, source.recency, source.T
        except AttributeError:
            try:
                frequency, recency, T = source["frequency"], source["recency"], source["T"]
            except (KeyError, TypeError, IndexError):
                raise ValidationError(
                    [("frequency", "pass frequency, recency and T, or a summary holding them")]
                ) from None
    if recency is None or T is None:
        raise ValidationError([("recency", "pass frequency, recency and T together")])
    x = as_counts(frequency, "frequency")
    tx = as_times(recency, "recency")
    t = as_times(T, "T")
    try:
        x, tx, t = np.broadcast_arrays(x, tx, t)
    except ValueError:
        raise ValidationError(
            [
                (
                    "recency",
                    f"frequency, recency and T must have one shape, got {np.shape(x)}, {np.shape(tx)}, {np.shape(t)}",
                )
            ]
        ) from None
    bad = tx > t
    if bad.any():
        raise ValidationError([("recency", "must not exceed T")])
    return x, tx, t


def finite_result(values: Any, what: str) -> Any:
    """``values`` if every one is finite; else a ValidationError (inputs too large to compute with)."""
    if not np.all(np.isfinite(values)):
        raise ValidationError(
            [(what, "the inputs are too large: the result overflows (rescale them)")]
        )
    return values
