"""Quality measures of the blocks: Cronbach's alpha, rho_A, HTMT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from crmkit.satisfaction.pls._algorithm import Layout

__all__ = ["alpha", "htmt", "rho_a"]

Array = npt.NDArray[np.float64]


def alpha(s: Any) -> float:
    s = np.atleast_2d(s)
    k = s.shape[0]
    if k < 2:
        return 1.0
    return float(k / (k - 1) * (1 - np.trace(s) / s.sum()))


def htmt(corr: Array, lay: Layout) -> dict[tuple[str, str], float]:
    """Heterotrait-monotrait ratio (Henseler, Ringle & Sarstedt 2015) for blocks of two or more indicators."""
    r = np.abs(corr)
    out: dict[tuple[str, str], float] = {}
    blocks = lay.blocks
    mono = []
    for idx in blocks:
        if idx.size < 2:
            mono.append(np.nan)
            continue
        sub = r[np.ix_(idx, idx)]
        mono.append(float(sub[np.triu_indices(idx.size, 1)].mean()))
    for a in range(len(blocks)):
        for b in range(a + 1, len(blocks)):
            if np.isnan(mono[a]) or np.isnan(mono[b]):
                continue
            hetero = float(r[np.ix_(blocks[a], blocks[b])].mean())
            out[(lay.constructs[a], lay.constructs[b])] = hetero / np.sqrt(mono[a] * mono[b])
    return out


def rho_a(corr: Array, w: Array, sd: Array) -> float:
    """Dijkstra & Henseler's (2015) consistent reliability of a reflective block (1 for one indicator).

    On standardised indicators with the weights normalised so that the
    composite has unit variance (w' S w = 1, S the correlation matrix):
    rho_A = (w'w)^2 w'(S - diag S) w / w'(w w' - diag(w w')) w.
    ``sd`` converts the weights of the fitted (scaled or centred) indicators.
    """
    if w.size == 1:
        return 1.0
    w = w * sd
    w = w / np.sqrt(w @ corr @ w)
    ww = np.outer(w, w)
    num = w @ (corr - np.diag(np.diag(corr))) @ w
    den = w @ (ww - np.diag(np.diag(ww))) @ w
    return float((w @ w) ** 2 * num / den)
