"""Sums of products over customers and answers, computed without BLAS.

numpy hands ``a @ b``, ``np.dot`` and ``np.inner`` on float arrays to BLAS.
OpenBLAS, which the numpy and scipy wheels bring, shares a dot product
between its threads once the vectors pass about 10,000 elements, and between
two such calls its threads go to sleep. Inside a model fit, where every
evaluation of the likelihood runs a dozen weighted sums over the customers
between element-wise work, each sum then pays for waking the threads: on a
2-core machine a BG/NBD fit on 23,570 customers took 0.14 s with the default
thread settings and 0.014 s with one thread.

The weighted sums here run numpy's own ``einsum`` loops instead, in the
calling thread. Two gains: the time no longer depends on the BLAS thread
setting, and neither does the result (a threaded dot product adds its parts
in an order that depends on the number of threads, so the last bits of a
fitted parameter did). BLAS keeps the work it is good at: matrix products of
real size (the PLS engine), which a thread limit around everything would
slow down. ``benchmarks/threads.py`` times every numeric workload both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["dot", "matvec", "vecmat"]


#: OpenBLAS keeps a dot product in the calling thread up to 10,000 elements; below this size its
#: ``ddot`` is the fastest sum of products there is, and wakes nobody.
_SMALL = 8192


def dot(a: Any, b: Any) -> float:
    """``sum(a * b)`` of two vectors, as a Python float.

    Short vectors (distinct frequencies, a few thousand rows) go to BLAS's
    ``ddot``, which stays single-threaded at that size and costs least per
    call; longer ones to ``einsum``'s own loop.

    >>> dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    32.0
    """
    if len(a) <= _SMALL:
        return float(np.dot(a, b))
    return float(np.einsum("i,i->", a, b))


def matvec(m: Any, v: Any) -> npt.NDArray[Any]:
    """``m @ v`` for a (k, n) matrix and an n-vector: one weighted sum per row of ``m``.

    >>> matvec([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).tolist()
    [3.0, 7.0]
    """
    out: npt.NDArray[Any] = np.einsum("ij,j->i", m, v)
    return out


def vecmat(v: Any, m: Any) -> npt.NDArray[Any]:
    """``v @ m`` for a k-vector and a (k, n) matrix: one weighted sum per column of ``m``.

    >>> vecmat([1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]).tolist()
    [7.0, 10.0]
    """
    out: npt.NDArray[Any] = np.einsum("i,ij->j", v, m)
    return out
