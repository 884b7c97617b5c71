"""Checked inputs of the models' predictions."""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit.errors import ValidationError
from crmkit.value._fitting import Array


def as_times(values: Any, name: str) -> Array:
    """A scalar or array of finite times >= 0."""
    from crmkit._validation import as_numbers

    arr = as_numbers(values, name)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = f" at positions {np.flatnonzero(bad.ravel())[:5].tolist()}" if arr.ndim else ""
        raise ValidationError([(name, f"must be finite and >= 0{where}")])
    return arr


def as_counts(values: Any, name: str) -> Array:
    arr = as_times(values, name)
    if (arr != np.round(arr)).any():
        raise ValidationError([(name, "must be whole numbers")])
    return arr


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
