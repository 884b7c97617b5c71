"""One BLAS thread while scipy's optimisers fit a value model.

crmkit's own sums over customers never call BLAS (:mod:`crmkit._numeric`).
What remains is inside scipy: L-BFGS-B solves a triangular system of at most
20 x 20 in every iteration, and OpenBLAS (scipy's wheels bring their own
copy) runs even that on all its threads. The woken threads then spin,
waiting for more work, on the cores the fit needs: on a 2-core machine a
BG/NBD fit took 10 % longer with the default threads than with one, and 25-30 %
longer when another process kept one core busy.

:func:`one_blas_thread` sets the BLAS libraries to one thread for the length
of the optimisation, through threadpoolctl (made for exactly this and used
by scikit-learn for its own loops). The setting is process-wide, so the guard
counts: when several threads of an application fit models at once, the first
to enter sets one thread and the last to leave restores the original
setting (a plain save-and-restore per fit could leave BLAS at one thread for
good when fits overlap). Work that runs meanwhile in other threads gets one
BLAS thread too; the fits themselves take milliseconds to seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["one_blas_thread"]


class _Guard:
    """The process-wide count of fits holding one BLAS thread, and what to restore."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.controller: Any = None  # threadpoolctl's inventory of BLAS libraries, built once
        self.limiter: Any = None

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                if self.controller is None:
                    from threadpoolctl import ThreadpoolController

                    # ~2 ms to find the loaded libraries: once per process, not per fit.
                    self.controller = ThreadpoolController()
                self.limiter = self.controller.limit(limits=1, user_api="blas")
            self.depth += 1

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.limiter is not None:
                self.limiter.restore_original_limits()
                self.limiter = None


_GUARD = _Guard()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread inside the block (nested and concurrent blocks share one limit).

    Call it after scipy's optimiser module is imported, so that its BLAS is
    among the libraries found.
    """
    _GUARD.enter()
    try:
        yield
    finally:
        _GUARD.leave()
