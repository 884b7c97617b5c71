"""The mixing distributions of the customer-base models, on their closed parameter spaces.

Every probabilistic customer-base model mixes a simple individual process
over customers with a gamma or a beta distribution: purchase and dropout
rates lambda, mu ~ Gamma(shape, rate); purchase, dropout or churn
probabilities p ~ Beta(a, b). When the customers do not differ, the
likelihood keeps rising as the shape parameters grow (a, b -> infinity with
a / (a + b) fixed): the maximum lies on the boundary of the parameter
space, where the mixture becomes a single value, and an optimiser working
in (a, b) wanders off towards infinity, stopping wherever its tolerance
says (different for every start, seed and thread count).

Here each mixing distribution is written by its mean and a dispersion that
is 0 at the boundary:

* gamma: ``mean = shape / rate`` and ``kappa = 1 / shape`` (the squared
  coefficient of variation); ``kappa = 0`` is a point mass at ``mean``;
* beta: ``m = a / (a + b)`` and ``rho = 1 / (a + b + 1)`` (the intra-class
  correlation of the beta-binomial); ``rho = 0`` is a point mass at ``m``,
  ``rho = 1`` the polarised limit (mass ``m`` at 1, ``1 - m`` at 0).

The quantities the models need are written so that they stay exact up to
and including the boundary:

* ``B(a + i, b + j) / B(a, b)`` for whole i, j is a ratio of rising
  factorials; multiplied through by ``rho`` each factor becomes
  ``m (1 - rho) + l rho`` (Johnson, Kemp & Kotz, *Univariate Discrete
  Distributions*, 3rd ed., 2005, sec. 6.2.2 for the beta-binomial in these
  terms), a sum of logs read from one cumulative sum;
* ``E[lambda^x exp(-lambda t)] = Gamma(r + x) / Gamma(r) alpha^r / (alpha + t)^(r + x)``
  becomes ``prod_{l<x} (1 + l kappa) mean^x (1 + kappa mean t)^-(x + 1/kappa)``,
  which tends to ``mean^x exp(-mean t)`` (Poisson) as ``kappa -> 0``.

Nothing here loops over customers: the sums over ``l`` run once up to the
largest count and are indexed per customer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


# -- small stable functions --------------------------------------------------------------------


def log1p_ratio(kappa: float, y: Any) -> Array:
    """``log(1 + kappa y) / kappa``, and its limit ``y`` at ``kappa = 0``."""
    y = np.asarray(y, dtype=float)
    if kappa == 0:
        return y
    return np.log1p(kappa * y) / kappa


def log1p_ratio_dkappa(kappa: float, y: Any) -> Array:
    """d/dkappa of :func:`log1p_ratio`: ``-y^2 H(kappa y)`` with ``H(z) = (log1p(z) - z/(1+z)) / z^2``.

    H(0) = 1/2; below z = 1e-3 its series ``1/2 - 2z/3 + 3z^2/4 - 4z^3/5 + 5z^4/6`` is used,
    since the difference of logs cancels there.
    """
    y = np.asarray(y, dtype=float)
    z = kappa * y
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = (np.log1p(z) - z / (1 + z)) / (z * z)
    series = 0.5 + z * (-2 / 3 + z * (3 / 4 + z * (-4 / 5 + z * 5 / 6)))
    return -(y * y) * np.where(np.abs(z) < 1e-3, series, direct)


def expm1_ratio(z: Any) -> Array:
    """``expm1(z) / z``, and its limit 1 at ``z = 0``."""
    z = np.asarray(z, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(z == 0, 1.0, np.expm1(z) / np.where(z == 0, 1.0, z))


def _prefix(terms: Array) -> Array:
    """``S[k] = sum(terms[:k - 1])`` for k = 0..len(terms) + 1 (sums over 1 <= l < k)."""
    return np.concatenate(([0.0, 0.0], np.cumsum(terms)))


# -- beta mixing -------------------------------------------------------------------------------


class BetaMix:
    """Beta-mixture ratios ``B(a + i, b + j) / B(a, b)`` at ``(m, rho)``, for whole ``0 <= i, j``.

    ``size`` bounds the largest ``i + j`` asked for. With every factor of the
    rising factorials multiplied by ``rho``::

        log B(a + i, b + j) / B(a, b) = [i > 0] log m + [j > 0] log(1 - m)
            + [i > 0 and j > 0] log(1 - rho)
            + sum_{1<=l<i} log(m (1 - rho) + l rho) + sum_{1<=l<j} log((1 - m)(1 - rho) + l rho)
            - sum_{1<=l<i+j} log((1 - rho) + l rho)

    exact for every ``0 <= rho <= 1`` (the l = 0 factors ``m (1 - rho)``,
    ``(1 - m)(1 - rho)``, ``(1 - rho)`` are taken out by hand, so ``rho = 1``
    needs no division by zero). The derivatives in ``m`` and ``rho`` come
    from the same sums.

    >>> from scipy.special import betaln
    >>> mix = BetaMix(0.25, 0.2, size=10)            # a = 1, b = 3
    >>> round(float(mix.log_ratio(2, 3)), 12) == round(float(betaln(3, 6) - betaln(1, 3)), 12)
    True
    >>> float(np.exp(BetaMix(0.25, 0.0, size=5).log_ratio(0, 2)))   # homogeneous: (1 - m)^2
    0.5625
    """

    def __init__(self, m: float, rho: float, size: int) -> None:
        self.m, self.rho = float(m), float(rho)
        k = np.arange(1, max(int(size), 1), dtype=float)
        a = m * (1 - rho) + k * rho
        b = (1 - m) * (1 - rho) + k * rho
        c = (1 - rho) + k * rho
        with np.errstate(divide="ignore"):
            self._la, self._lb, self._lc = (
                _prefix(np.log(a)),
                _prefix(np.log(b)),
                _prefix(np.log(c)),
            )
            # d/dm and d/drho of each log factor
            self._ma, self._mb = _prefix((1 - rho) / a), _prefix(-(1 - rho) / b)
            self._ra, self._rb, self._rc = (
                _prefix((k - m) / a),
                _prefix((k - (1 - m)) / b),
                _prefix((k - 1) / c),
            )
        with np.errstate(divide="ignore"):
            self._log_m = math.log(m) if m > 0 else -math.inf
            self._log_1m = math.log1p(-m) if m < 1 else -math.inf
            self._log_1r = math.log1p(-rho) if rho < 1 else -math.inf

    def log_ratio(self, i: Any, j: Any) -> Array:
        """``log B(a + i, b + j) / B(a, b)`` (-inf where the ratio is 0, at m = 0, m = 1 or rho = 1)."""
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        out = self._la[i] + self._lb[j] - self._lc[i + j]
        out = out + np.where(i > 0, self._log_m, 0.0) + np.where(j > 0, self._log_1m, 0.0)
        return out + np.where((i > 0) & (j > 0), self._log_1r, 0.0)

    def d_log_ratio(self, i: Any, j: Any) -> tuple[Array, Array]:
        """The derivatives of :meth:`log_ratio` in ``m`` and in ``rho`` (for 0 < m < 1, rho < 1)."""
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        inv_m = 1 / self.m if self.m > 0 else math.inf
        inv_1m = 1 / (1 - self.m) if self.m < 1 else math.inf
        inv_1r = 1 / (1 - self.rho) if self.rho < 1 else math.inf
        d_m = self._ma[i] + self._mb[j]
        d_m = d_m + np.where(i > 0, inv_m, 0.0) - np.where(j > 0, inv_1m, 0.0)
        d_rho = self._ra[i] + self._rb[j] - self._rc[i + j]
        d_rho = d_rho - np.where((i > 0) & (j > 0), inv_1r, 0.0)
        return d_m, d_rho


def beta_coords(a: float, b: float) -> tuple[float, float]:
    """``(m, rho)`` of Beta(a, b)."""
    return a / (a + b), 1 / (a + b + 1)


def beta_natural(m: float, rho: float) -> tuple[float, float]:
    """``(a, b)`` of the beta at ``(m, rho)``: infinite at ``rho = 0``, 0 at ``rho = 1``."""
    if rho == 0:
        return math.inf, math.inf
    s = (1 - rho) / rho
    return m * s, (1 - m) * s


# -- gamma mixing ------------------------------------------------------------------------------


def rising_log(x: Any, kappa: float) -> tuple[Array, Array]:
    """``sum_{l<x} log(1 + l kappa)`` (= log of Gamma(r + x) / (Gamma(r) r^x), r = 1/kappa) and its kappa-derivative."""
    x = np.asarray(x, dtype=np.int64)
    size = int(x.max(initial=0))
    k = np.arange(1, max(size, 1), dtype=float)
    return _prefix(np.log1p(k * kappa))[x], _prefix(k / (1 + k * kappa))[x]


def gamma_poisson_log(x: Any, t: Any, mean: float, kappa: float) -> Array:
    """``log E[lambda^x exp(-lambda t)]`` for lambda ~ Gamma with ``mean`` and ``kappa = 1 / shape``.

    ``= sum_{l<x} log(1 + l kappa) + x log(mean) - x log1p(kappa mean t) - log1p(kappa mean t) / kappa``;
    at kappa = 0, ``x log(mean) - mean t``.

    >>> from scipy.special import gammaln
    >>> r, alpha, x, t = 0.25, 4.0, 3, 10.0
    >>> exact = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + t)
    >>> bool(abs(gamma_poisson_log(x, t, r / alpha, 1 / r) - exact) < 1e-12)
    True
    """
    x = np.asarray(x)
    t = np.asarray(t, dtype=float)
    rising, _ = rising_log(x, kappa)
    return (
        rising + x * math.log(mean) - x * np.log1p(kappa * mean * t) - log1p_ratio(kappa, mean * t)
    )


def gamma_poisson_log_ratio(x: Any, t1: Any, t2: Any, mean: float, kappa: float) -> Array:
    """``gamma_poisson_log(x, t1, ...) - gamma_poisson_log(x, t2, ...)``, without the terms in x alone.

    ``= -(x + 1 / kappa) (log1p(kappa mean t1) - log1p(kappa mean t2))``; at
    kappa = 0, ``-mean (t1 - t2)``. Half the work of the two logs apart
    (P(alive) of BG/NBD needs only the ratio).

    >>> bool(abs(gamma_poisson_log_ratio(3, 2.0, 10.0, 0.06, 4.0)
    ...          - (gamma_poisson_log(3, 2.0, 0.06, 4.0) - gamma_poisson_log(3, 10.0, 0.06, 4.0)))
    ...      < 1e-12)
    True
    """
    x = np.asarray(x)
    y1 = mean * np.asarray(t1, dtype=float)
    y2 = mean * np.asarray(t2, dtype=float)
    if kappa == 0:
        return np.asarray(y2 - y1, dtype=float)
    diff = np.log1p(kappa * y1) - np.log1p(kappa * y2)
    return -(x + 1 / kappa) * diff


def gamma_poisson_grad(x: Any, t: Any, mean: float, kappa: float) -> tuple[Array, Array]:
    """Derivatives of :func:`gamma_poisson_log` in ``log(mean)`` and in ``kappa``."""
    x = np.asarray(x)
    t = np.asarray(t, dtype=float)
    _, d_rising = rising_log(x, kappa)
    y = mean * t
    one = 1 + kappa * y
    d_log_mean = (x - y) / one
    d_kappa = d_rising - x * y / one - log1p_ratio_dkappa(kappa, y)
    return d_log_mean, d_kappa


def gamma_coords(shape: float, rate: float) -> tuple[float, float]:
    """``(mean, kappa)`` of Gamma(shape, rate)."""
    return shape / rate, 1 / shape


def gamma_natural(mean: float, kappa: float) -> tuple[float, float]:
    """``(shape, rate)`` of the gamma at ``(mean, kappa)``: both infinite at ``kappa = 0``."""
    if kappa == 0:
        return math.inf, math.inf
    return 1 / kappa, 1 / (kappa * mean)


def log_rising_over_power(inv_a: Any, b: Any) -> Array:
    """``log Gamma(a + b) - log Gamma(a) - b log(a)`` given ``1 / a`` (0 allowed: the value is then 0).

    It tends to 0 as a grows (``Gamma(a + b) / Gamma(a) ~ a^b``). For a >= 10
    Stirling's series gives it without the cancellation of two large
    log-gammas: ``(a + b - 1/2) log1p(b / a) - b`` plus the corrections
    ``s(a + b) - s(a)``, ``s(z) = 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5)``
    (error below 1e-12 at a = 10); below that, log-gammas directly.

    >>> from scipy.special import gammaln
    >>> a, b = 37.5, 2.25
    >>> bool(abs(log_rising_over_power(1 / a, b) - (gammaln(a + b) - gammaln(a) - b * np.log(a))) < 1e-12)
    True
    """
    from scipy.special import gammaln

    inv_a = np.asarray(inv_a, dtype=float)
    b = np.asarray(b, dtype=float)
    large = inv_a <= 0.1
    inv = np.where(large, inv_a, 0.1)
    inv_ab = inv / (1 + b * inv)  # 1 / (a + b)

    def s(z_inv: Array) -> Array:
        z2 = z_inv * z_inv
        return z_inv * (1 / 12 - z2 * (1 / 360 - z2 / 1260))

    # (a + b - 1/2) log1p(b / a) = (1 + (b - 1/2) / a) * log1p(b / a) * a
    stirling = (1 + (b - 0.5) * inv) * log1p_ratio_array(inv, b) - b + s(inv_ab) - s(inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(large, 10.0, 1 / np.where(large, 1.0, inv_a))
        direct = gammaln(a + b) - gammaln(a) - b * np.log(a)
    return np.where(large, stirling, direct)


def log1p_ratio_array(kappa: Any, y: Any) -> Array:
    """:func:`log1p_ratio` with array ``kappa`` (``y`` where kappa is 0)."""
    kappa = np.asarray(kappa, dtype=float)
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kappa == 0, y, np.log1p(kappa * y) / np.where(kappa == 0, 1.0, kappa))
