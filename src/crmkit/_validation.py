"""Checks at the door of the numeric functions: array-likes in, numpy arrays out.

Lists, tuples, numpy arrays, pandas and polars columns all go through
``numpy.asarray``. Problems raise :class:`~crmkit.errors.ValidationError`
naming the argument, the first offending positions and what was expected.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from crmkit._text import shown
from crmkit.errors import ValidationError

NanPolicy = Literal["raise", "omit"]

_SHOWN = 5


def _positions(mask: npt.NDArray[np.bool_]) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:_SHOWN])
    more = f" and {idx.size - _SHOWN} more" if idx.size > _SHOWN else ""
    return f"{shown}{more}"


def as_numbers(values: Any, name: str, *, ndim: int | None = None) -> npt.NDArray[np.float64]:
    """Numbers as a float array: a scalar, a list, a numpy array, a pandas or polars column.

    Text is refused even when it reads as a number (``"7"``): every numeric
    function answers the same to the same input (convert a column read from
    a file first). ``ndim`` checks the number of dimensions.
    """
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
        if arr.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in arr.ravel()):
            raise TypeError("text")
        if arr.dtype.kind not in "biufO":
            raise TypeError(str(arr.dtype))
        out = arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ValidationError(
            [(name, f"must be a number or an array of numbers, got {_kind(values)}")]
        ) from None
    if ndim is not None and out.ndim != ndim:
        raise ValidationError([(name, f"must be {ndim}-dimensional, got shape {out.shape}")])
    return out


def _kind(values: Any) -> str:
    """What ``values`` holds, for a message (never the values themselves: they may be personal)."""
    if isinstance(values, (str, bytes)):
        return "text"
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return type(values).__name__
    return "text" if arr.dtype.kind in "USO" else f"{type(values).__name__} of {arr.dtype}"


def as_array(values: Any, name: str) -> npt.NDArray[Any]:
    """A one-dimensional numpy array of ``values`` (a pandas/polars column works)."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ValidationError(
            [(name, f"must be a one-dimensional array, got {type(values).__name__}")]
        ) from None
    if arr.ndim != 1:
        raise ValidationError([(name, f"must be one-dimensional, got shape {arr.shape}")])
    return arr


def as_scale(
    values: Any,
    name: str,
    *,
    low: int,
    high: int,
    nan_policy: NanPolicy = "raise",
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Integer answers on the scale ``low..high``; returns the answers and the mask of kept positions.

    With ``nan_policy="omit"`` missing answers (NaN / None) are dropped and
    reported in the mask; otherwise they are refused.
    """
    if nan_policy not in ("raise", "omit"):
        raise ValidationError(
            [("nan_policy", f"must be 'raise' or 'omit', got {shown(nan_policy)}")]
        )
    arr = as_array(values, name)
    if arr.size == 0:
        raise ValidationError([(name, "is empty: give at least one answer")])
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError([(name, "must hold numbers")]) from None
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValidationError(
            [(name, f"must hold integer answers {low}-{high}, got dtype {arr.dtype}")]
        )
    if arr.dtype.kind in "iu":
        # The common case, in a few passes and no temporaries: integers, nothing missing.
        lo_, hi_ = arr.min(), arr.max()
        if low <= lo_ and hi_ <= high:
            return arr.astype(np.int64, copy=False), np.ones(arr.shape[0], dtype=bool)
    keep = np.ones(arr.shape[0], dtype=bool)
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
        if missing.any():
            if nan_policy == "raise":
                raise ValidationError(
                    [
                        (
                            name,
                            f"has missing answers at positions {_positions(missing)}; pass nan_policy='omit' to drop them",
                        )
                    ]
                )
            keep = ~missing
        fractional = keep & (arr != np.floor(np.where(keep, arr, 0)))
        if fractional.any():
            raise ValidationError(
                [(name, f"must hold whole numbers; not at positions {_positions(fractional)}")]
            )
    kept = arr[keep]
    if kept.size == 0:
        raise ValidationError([(name, "has no answer left after dropping the missing ones")])
    outside = (arr < low) | (arr > high)
    outside &= keep
    if outside.any():
        first = arr[np.flatnonzero(outside)[0]]
        raise ValidationError(
            [
                (
                    name,
                    f"answers must be {low}-{high}; positions {_positions(outside)} are not (first: {first})",
                )
            ]
        )
    return kept.astype(np.int64), keep


def as_finite(values: Any, name: str, n: int | None = None) -> npt.NDArray[np.float64]:
    """A one-dimensional float array of finite numbers (of length ``n`` when given)."""
    out = as_numbers(values, name, ndim=1)
    if n is not None and out.shape[0] != n:
        raise ValidationError([(name, f"must have {n} values, got {out.shape[0]}")])
    bad = ~np.isfinite(out)
    if bad.any():
        raise ValidationError(
            [(name, f"must be finite numbers; positions {_positions(bad)} are not")]
        )
    return out


def as_weights(values: Any, name: str, n: int) -> npt.NDArray[np.float64]:
    """Non-negative finite weights, one per answer, not all zero."""
    arr = as_numbers(values, name, ndim=1) if values is not None else np.ones(n)
    if arr.shape[0] != n:
        raise ValidationError(
            [(name, f"must have one weight per answer ({n}), got {arr.shape[0]}")]
        )
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ValidationError(
            [(name, f"must be finite and >= 0; positions {_positions(bad)} are not")]
        )
    if not arr.any():
        raise ValidationError([(name, "must not all be zero")])
    with np.errstate(over="ignore"):
        total = arr.sum()
    if not np.isfinite(total):
        raise ValidationError([(name, "are too large: their sum overflows (rescale them)")])
    return arr


def check_confidence(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
        raise ValidationError(
            [("confidence", f"must be between 0 and 1 (exclusive), got {shown(value)}")]
        )
    return float(value)


def check_decimals(value: Any) -> int:
    """Digits after the decimal point for a printed table: a whole number 0-12."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 12:
        raise ValidationError([("decimals", f"must be a whole number 0-12, got {shown(value)}")])
    return value


def factorize(labels: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Sorted distinct labels and each position's code, like ``np.unique(return_inverse=True)``.

    Integer labels within a modest range are counted instead of sorted (linear time).
    """
    if labels.dtype.kind in "iu" and labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if hi - lo <= 4 * labels.size + 1_000_000:
            shifted = (labels - lo).astype(np.int64, copy=False)
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            code_of = np.cumsum(present) - 1
            distinct = np.flatnonzero(present).astype(labels.dtype) + labels.dtype.type(lo)
            return distinct, code_of[shifted]
    names, inverse = np.unique(labels, return_inverse=True)
    return names, inverse.astype(np.int64, copy=False)


def as_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A numpy random generator from a seed: ``None`` (fresh entropy), a non-negative
    integer below ``2**128``, a :class:`numpy.random.SeedSequence` or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed < 2**128:
        return np.random.default_rng(int(seed))
    from crmkit.entities._rules import describe

    raise ValidationError(
        [
            (
                name,
                f"must be None, an integer from 0 to 2**128 - 1 or a numpy Generator, got {describe(seed)}",
            )
        ]
    )
