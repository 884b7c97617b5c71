"""Progress of long work (bootstraps, permutation tests): a callback, or a bar when tqdm is there.

Library code never prints. ``progress`` arguments take:

* ``None`` or ``False``: nothing;
* a callable ``progress(done, total)``: called after each step;
* ``True``: a tqdm bar on stderr when tqdm is installed (the ``progress``
  extra: ``pip install "crmkit[progress]"``); without tqdm, nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crmkit._text import shown
from crmkit.errors import ValidationError

__all__ = ["Progress", "reporting"]

#: What a ``progress=`` argument takes.
Progress = bool | Callable[[int, int], Any] | None


@contextmanager
def reporting(progress: Progress, total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A function ``step(done)`` to call after each of ``total`` steps of ``what``."""
    if progress is None or progress is False:
        yield lambda done: None
        return
    if progress is not True:
        if not callable(progress):
            raise ValidationError(
                [
                    (
                        "progress",
                        f"must be True, False or a callable (done, total), got {shown(progress)}",
                    )
                ]
            )
        callback = progress
        yield lambda done: callback(done, total)
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the extra is not installed: no bar
        yield lambda done: None
        return
    bar = tqdm(total=total, desc=what, leave=False)
    try:
        yield lambda done: bar.update(done - bar.n)
    finally:
        bar.close()
