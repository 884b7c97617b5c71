"""The bootstrap: refit the model on resampled respondents, one implementation for every caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from crmkit._progress import Progress, reporting
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError
from crmkit.satisfaction.pls._algorithm import estimate, layout
from crmkit.satisfaction.pls._result import BootstrapResult, PlsResult, flatten

#: More resamples than this add nothing but time (and a typo of 10**9 would run for days).
MAX_RESAMPLES = 100_000

__all__ = ["bootstrap", "resample"]

Array = npt.NDArray[np.float64]


def resample(
    result: PlsResult, n: int, *, seed: Any = None, progress: Progress = None
) -> Iterator[tuple[npt.NDArray[np.intp], PlsResult | None]]:
    """``n`` bootstrap resamples of the fit's respondents, each refitted with the fit's options.

    Yields ``(rows, fit)``: the resample's row indices into the data the
    model was fitted on, and its fit, or ``None`` when it cannot be fitted
    (an indicator constant in the resample, iterations that do not
    converge, a singular matrix, collinear formative indicators). Callers count the ``None`` as failed.
    """
    from crmkit._args import instance, whole
    from crmkit._validation import as_rng

    instance(result, PlsResult, "result")
    n = whole(n, "n", 1, MAX_RESAMPLES)

    rng = as_rng(seed)
    raw = result.data
    rows = raw.shape[0]
    lay = layout(result.model)
    with reporting(progress, n, "bootstrap") as step:
        for b in range(n):
            picked = np.asarray(rng.integers(0, rows, rows), dtype=np.intp)
            sample = raw[picked]
            fit: PlsResult | None = None
            if not np.any(sample.std(axis=0) == 0):
                try:
                    fit = estimate(result.model, sample, lay=lay, **result.options)
                except (ConvergenceError, ValidationError, np.linalg.LinAlgError):
                    fit = None
            yield picked, fit
            step(b + 1)


def bootstrap(
    result: PlsResult,
    n: int = 500,
    *,
    seed: Any = None,
    confidence: float = 0.95,
    progress: Progress = None,
) -> BootstrapResult:
    """Resample respondents ``n`` times and refit: standard errors, t-values, percentile intervals.

    Covers outer weights, loadings, paths and total effects. Resamples
    that cannot be fitted (see :func:`resample`) are dropped and counted.
    ``progress``: a callable ``(done, n)`` called after each resample, or
    True for a tqdm bar (the ``progress`` extra).

    Raises :class:`~crmkit.errors.InsufficientData` when fewer than two
    resamples could be fitted. A quantity with no spread across resamples
    (the weight of a one-indicator block) has ``t = None``.
    """
    from crmkit._args import instance, whole
    from crmkit._validation import check_confidence

    instance(result, PlsResult, "result")
    conf = check_confidence(confidence)
    n = whole(n, "n", 2, MAX_RESAMPLES)
    keys = result.keys()
    draws: list[Array] = []
    failed = 0
    for _, fit in resample(result, n, seed=seed, progress=progress):
        if fit is None:
            failed += 1
        else:
            draws.append(flatten(fit, keys))
    if len(draws) < 2:
        raise InsufficientData(
            f"fewer than two of {n} bootstrap resamples could be fitted ({failed} failed)"
        )
    est = flatten(result, keys)
    mat = np.vstack(draws)
    se = mat.std(axis=0, ddof=1)
    lo, hi = np.quantile(mat, [(1 - conf) / 2, (1 + conf) / 2], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, est / se, np.nan)
    table = {
        key: {
            "estimate": float(est[i]),
            "mean": float(mat[:, i].mean()),
            "standard_error": float(se[i]),
            # None, not NaN: a quantity every resample gives alike (a one-indicator
            # block's weight) has no t-value.
            "t": float(t[i]) if se[i] > 0 else None,
            "lower": float(lo[i]),
            "upper": float(hi[i]),
        }
        for i, key in enumerate(keys)
    }
    return BootstrapResult(len(draws), failed, conf, table)
