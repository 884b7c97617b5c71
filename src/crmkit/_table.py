"""Plain-text tables for the ``__str__`` of result objects: one formatter, one look.

>>> print(table(("stage", "reached", "rate"), [("lead", 1200, None), ("won", 150, 0.125)],
...             formats=("", ",", ".1%"), title="funnel"))
funnel
stage  reached   rate
lead     1,200
won        150  12.5%
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["HEAD", "more", "table"]


def _cell(value: Any, spec: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


#: How many rows a long result prints before "... n more".
HEAD = 5


def more(n: int) -> list[str]:
    """The note under a table that shows the first :data:`HEAD` of ``n`` rows."""
    return [f"... {n - HEAD:,} more"] if n > HEAD else []


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    formats: Sequence[str] | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """``header`` and ``rows`` as aligned text: the first column to the left, the others right.

    ``formats`` gives a format spec per column (``","``, ``".3f"``, ``".1%"``;
    ``""`` for ``str``); ``None`` cells stay blank and NaN reads ``n/a``.
    ``title`` comes first and ``notes`` last, one line each.
    """
    specs = list(formats) if formats is not None else [""] * len(header)
    body = [
        [_cell(v, specs[i] if i < len(specs) else "") for i, v in enumerate(row)] for row in rows
    ]
    widths = [len(h) for h in header]
    for cells in body:
        for i, text in enumerate(cells):
            widths[i] = max(widths[i], len(text))

    def line(cells: Sequence[str]) -> str:
        out = [cells[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)
        ]
        return "  ".join(out).rstrip()

    lines = [] if title is None else [title]
    lines.append(line(list(header)))
    lines += [line(cells) for cells in body]
    lines += list(notes)
    return "\n".join(lines)
