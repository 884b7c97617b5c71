"""Reading indicator columns from dicts, data frames, structured arrays or (matrix, names) pairs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from crmkit._validation import as_numbers
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["indicator_matrix"]

Array = npt.NDArray[np.float64]


def indicator_matrix(data: Any, names: Sequence[str], *, omit: bool = False) -> Array:
    """The indicator columns ``names`` of ``data`` as an n x p float matrix, checked.

    ``data`` maps indicator names to columns: a dict of arrays, a pandas or
    polars DataFrame, a numpy structured array, or a ``(matrix, names)``
    pair. Missing or non-finite answers raise a ValidationError naming the
    first one, unless ``omit`` drops incomplete respondents (listwise).
    """
    from crmkit._args import texts

    names = texts(names, "names")
    if isinstance(data, tuple) and len(data) == 2:
        matrix, labels = data
        m = as_numbers(matrix, "data")
        labels = list(texts(labels, "data names"))
        if m.ndim != 2 or m.shape[1] != len(labels):
            raise ValidationError(
                [
                    (
                        "data",
                        f"a (matrix, names) pair needs one name per column; got shape {m.shape} and {len(labels)} names",
                    )
                ]
            )
        data = {lab: m[:, i] for i, lab in enumerate(labels)}
    elif isinstance(data, np.ndarray) and data.dtype.names:
        data = {name: data[name] for name in data.dtype.names}
    if hasattr(data, "columns") and hasattr(data, "__getitem__") and not isinstance(data, Mapping):
        available = [str(c) for c in data.columns]
        getter: Callable[[str], Any] = lambda n: data[n]  # noqa: E731
    elif isinstance(data, Mapping):
        available = [str(k) for k in data]
        getter = lambda n: data[n]  # noqa: E731
    else:
        raise ValidationError(
            [
                (
                    "data",
                    f"must map indicator names to columns (a dict or DataFrame), got {type(data).__name__}",
                )
            ]
        )
    missing = [n for n in names if n not in available]
    if missing:
        raise ValidationError([("data", f"has no column for the indicators {', '.join(missing)}")])
    cols = []
    for n in names:
        col = getter(n)
        if hasattr(col, "to_numpy"):
            col = col.to_numpy()
        try:
            arr = np.asarray(col, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError([(n, "must hold numbers")]) from None
        cols.append(arr)
    lengths = {c.shape[0] for c in cols}
    if len(lengths) != 1:
        raise ValidationError([("data", f"indicator columns differ in length: {sorted(lengths)}")])
    x = np.column_stack(cols)
    bad = ~np.isfinite(x)
    if omit and bad.any():
        x = x[~bad.any(axis=1)]
        bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            [(f"{names[c]}[{r}]", "is missing or not finite (drop incomplete respondents first)")]
        )
    if x.shape[0] < 3:
        raise InsufficientData(f"PLS needs at least 3 respondents, got {x.shape[0]}")
    const = np.flatnonzero(x.std(axis=0) == 0)
    if const.size:
        raise ValidationError([(names[int(const[0])], "is constant: it carries no information")])
    return x
