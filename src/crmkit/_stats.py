"""Small statistical building blocks shared by the numeric modules (numpy and scipy inside)."""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.errors import InsufficientData

Array = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class OlsFit:
    """Ordinary least squares with an intercept: coefficients, standard errors, t, p, R2.

    The intercept is the first entry of every coefficient array.
    """

    coef: Array
    se: Array
    t: Array
    p: Array
    df: int
    r_squared: float
    adj_r_squared: float
    f_p: float
    residual_sd: float


def ols(x: Array, y: Array) -> OlsFit:
    """Least squares of ``y`` on ``x`` (n x k, no constant column: one is added).

    Classical (homoscedastic) standard errors ``s^2 (X'X)^-1`` and two-sided
    t-tests on ``n - k - 1`` degrees of freedom; the F-test of all slopes being
    zero. Raises :class:`InsufficientData` when there are no residual degrees
    of freedom or the design is rank-deficient.
    """
    from scipy import stats

    n, k = x.shape
    df = n - k - 1
    if df < 1:
        raise InsufficientData(f"the regression needs more observations ({n}) than terms ({k + 1})")
    design = np.column_stack([np.ones(n), x])
    if np.linalg.matrix_rank(design) < k + 1:
        raise InsufficientData("the predictors are collinear (or one is constant)")
    coef = np.asarray(np.linalg.lstsq(design, y, rcond=None)[0], dtype=np.float64)
    resid = y - design @ coef
    sse = float(resid @ resid)
    sst = float(((y - y.mean()) ** 2).sum())
    s2 = sse / df
    cov = s2 * np.linalg.inv(design.T @ design)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, coef / se, np.inf * np.sign(coef))
    p = 2 * stats.t.sf(np.abs(t), df)
    r2 = 1 - sse / sst if sst > 0 else 1.0
    adj = 1 - (1 - r2) * (n - 1) / df
    if k and sse > 0:
        f = ((sst - sse) / k) / s2
        f_p = float(stats.f.sf(f, k, df))
    else:
        f_p = 0.0 if k else 1.0
    return OlsFit(coef, se, t, p, df, float(r2), float(adj), f_p, float(np.sqrt(s2)))
