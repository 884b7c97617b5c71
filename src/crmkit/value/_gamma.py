"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note) and CLV.

A customer's transaction values are Gamma(p, nu) with mean p / nu; across
customers nu ~ Gamma(q, gamma). The mean zbar of a customer's x repeat
transactions then has the likelihood

    L = Gamma(p x + q) / (Gamma(p x) Gamma(q)) * gamma^q zbar^(p x - 1) x^(p x) / (gamma + x zbar)^(p x + q)

and the expected value of a customer's next transaction given (x, zbar) is
``p (gamma + x zbar) / (p x + q - 1)``, a weighted mean of the population
mean ``p gamma / (q - 1)`` and the customer's own mean.

On the closed parameter space the model is written by kappa_p = 1 / p (the
squared coefficient of variation of one customer's purchases), kappa_q =
1 / q (that of the customers' purchase-value rates nu) and theta = p gamma /
q (the spend at the mean rate). With n = p x and rho = gamma / (x zbar) the
likelihood is a beta-prime density, ``log L = -log B(n, q) + q log rho -
(n + q) log1p(rho) - log zbar``, computed so that it stays exact as n or q
grows without bound: kappa_p = 0 is the limit in which each customer spends
the same amount on every purchase (zbar = p / nu exactly, inverse-gamma
across customers), kappa_q = 0 the one in which every customer has the same
mean spend theta.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from crmkit._numeric import dot, vecmat
from crmkit._text import shown
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError
from crmkit.value._fitting import Array, BoundaryLimit, Coordinate, Model, distinct_counts, rng_of
from crmkit.value._mixing import log1p_ratio_array, log_rising_over_power
from crmkit.value._predict import finite_result

_KAPPA_MAX = 1e4
NonPositive = Literal["raise", "population", "zero"]

__all__ = ["GammaGamma", "customer_lifetime_value"]


def _spend(
    frequency: Any, monetary_value: Any, weights: Any, nonpositive: str = "raise"
) -> tuple[Array, Array, Array, float]:
    """Checked repeat customers' ``(x, zbar, weights)`` and the weight of those left out (zbar <= 0)."""
    from crmkit._validation import _positions, as_finite, as_weights

    if monetary_value is None:
        source = frequency
        try:
            frequency, monetary_value = source.frequency, source.monetary_value
        except AttributeError:
            try:
                frequency, monetary_value = source["frequency"], source["monetary_value"]
            except (KeyError, TypeError, IndexError):
                raise ValidationError(
                    [
                        (
                            "monetary_value",
                            "pass frequency and monetary_value, or a summary holding them",
                        )
                    ]
                ) from None
    x = as_finite(frequency, "frequency")
    m = as_finite(monetary_value, "monetary_value", x.shape[0])
    w = as_weights(weights, "weights", x.shape[0]) if weights is not None else np.ones(x.shape[0])
    bad = (x < 0) | (x != np.round(x))
    if bad.any():
        raise ValidationError(
            [("frequency", f"must be whole numbers >= 0; positions {_positions(bad)} are not")]
        )
    if nonpositive not in ("raise", "exclude"):
        raise ValidationError(
            [("nonpositive", f"must be 'raise' or 'exclude', got {shown(nonpositive)}")]
        )
    bad = (x > 0) & (m <= 0)
    if bad.any() and nonpositive == "raise":
        raise ValidationError(
            [
                (
                    "monetary_value",
                    f"must be > 0 for customers with repeat purchases; positions {_positions(bad)} "
                    "are not (free or refunded orders?): pass nonpositive='exclude' to fit the "
                    "spend model on the others",
                )
            ]
        )
    keep = (x > 0) & ~bad
    return x[keep], m[keep], w[keep], float(w[bad].sum())


class GammaGamma(Model):
    """Spend per transaction: ``GammaGamma().fit(frequency, monetary_value)`` (customers with repeats).

    Rows with frequency 0 are left out (they have no repeat transaction to
    average). On CDNOW's 946 repeat customers: p = 6.25, q = 3.74,
    gamma = 15.44 (Fader, Hardie & Lee 2005).

    The model needs positive spend. Real logs hold free items and fully
    discounted orders: ``fit(..., nonpositive="exclude")`` fits on the
    customers whose mean repeat spend is positive and records how many were
    left out (``excluded_``); :meth:`conditional_expected_spend` values those
    at the population's mean (``nonpositive="population"``) or at 0.

    When the likelihood is highest on the boundary (customers who spend the
    same on every purchase, or all spend alike), the fit returns the limit
    model, described by ``limit_``, with a
    :class:`~crmkit.errors.BoundaryWarning`.

    Fitted attributes (reading one before ``fit`` raises
    :class:`~crmkit.errors.NotFittedError`): ``params_`` (also set by
    ``from_params``), ``log_likelihood_``, ``limit_``,
    ``standard_errors_``, ``covariance_``, ``n_customers_``, ``excluded_``.
    """

    param_names = ("p", "q", "gamma")
    label = "Gamma-Gamma"

    def fit(
        self,
        frequency: Any,
        monetary_value: Any = None,
        *,
        weights: Any = None,
        nonpositive: Literal["raise", "exclude"] = "raise",
        initial_params: Mapping[str, float] | None = None,
    ) -> GammaGamma:
        """Maximum likelihood on the repeat customers' frequency and mean repeat spend.

        ``nonpositive="exclude"`` leaves out repeat customers whose mean
        spend is 0 or less (their count, or summed weight, is ``excluded_``)
        instead of refusing the data. ``initial_params`` (p, q, gamma) sets
        the optimiser's start.
        """
        x, m, w, excluded = _spend(frequency, monetary_value, weights, nonpositive)
        if w.sum() < 2 or float(m.min(initial=0.0)) == float(m.max(initial=0.0)):
            raise InsufficientData(
                f"{self.label} needs at least two repeat customers with different spend, got {int(w.sum())}"
            )
        start = self._start(initial_params, np.array([1.0, 2.0, float(np.average(m, weights=w))]))
        if x.shape[0] > 50_000 and initial_params is None:
            # Start the Newton steps on all rows from the estimate of an evenly spaced subsample:
            # a few cheap iterations there save most of the expensive ones.
            step = x.shape[0] // 20_000
            sub = GammaGamma()
            try:
                sub._maximise(self._data(x[::step], m[::step], w[::step]), w[::step], start)
                start = np.array(list(sub.params_.values()))
            except ConvergenceError:
                pass
        self._maximise(self._data(x, m, w), w, start, lambda: (self._extended_data(x, m), w))
        self._excluded = excluded
        return self

    _excluded = 0.0

    @property
    def excluded_(self) -> float:
        """Repeat customers left out by ``nonpositive="exclude"`` (their summed weight)."""
        self._fit_result("excluded_")
        return self._excluded

    @staticmethod
    def _data(x: Array, m: Array, w: Array) -> tuple[Any, ...]:
        """Terms in x alone once per distinct x; log(zbar) and x zbar once per fit."""
        ux, idx = distinct_counts(x)
        wx = np.bincount(idx, weights=w, minlength=ux.size)
        wxlog = np.bincount(idx, weights=w * np.log(m), minlength=ux.size)  # sum w log(zbar) per x
        return (x, m, ux, idx, wx, wxlog, x * m, np.empty(x.shape[0]))

    def _objective(
        self, theta: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array]:
        """Weighted log-likelihood and gradient; per row one log and one division."""
        from scipy.special import digamma, gammaln

        p, q, g = theta
        _, _, ux, idx, wx, wxlog, xm, work = data
        pux = p * ux
        total = float(wx.sum())
        np.add(xm, g, out=work)
        np.log(work, out=work)
        slog = np.bincount(
            idx, weights=weights * work, minlength=ux.size
        )  # sum w log(g + x zbar) per x
        value = (
            dot(wx, gammaln(pux + q) - gammaln(pux) + pux * np.log(ux))
            + dot(pux - 1, wxlog)
            - dot(pux + q, slog)
            + total * (q * np.log(g) - gammaln(q))
        )
        d_pq = digamma(pux + q)
        g_p = dot(ux, wx * (d_pq - digamma(pux) + np.log(ux)) + wxlog - slog)
        g_q = (dot(wx, d_pq) - float(slog.sum())) + total * (np.log(g) - digamma(q))
        np.add(xm, g, out=work)
        np.reciprocal(work, out=work)
        sinv = np.bincount(idx, weights=weights * work, minlength=ux.size)  # sum w / (g + x zbar)
        g_g = total * q / g - dot(pux + q, sinv)
        return value, np.array([g_p, g_q, g_g])

    has_hessian = True
    newton_stage1 = True

    def _hessian(self, theta: Array, data: tuple[Any, ...], weights: Array) -> Array:
        """Analytic Hessian: trigamma terms once per distinct x, two divisions per row.

        trigamma(x) = zeta(2, x), the Hurwitz zeta function, which is what
        ``polygamma(1, x)`` evaluates behind its Python wrapper (same digits,
        half the time per call; the Hessian is asked for at every step).
        """
        from scipy.special import zeta

        p, q, g = theta
        _, _, ux, idx, wx, _, xm, _ = data
        pux = p * ux
        t_pq, t_px, t_q = zeta(2, pux + q), zeta(2, pux), float(zeta(2, q))
        inv = 1 / (g + xm)
        s1 = np.bincount(idx, weights=weights * inv, minlength=ux.size)  # sum w / (g + x zbar)
        s2 = np.bincount(
            idx, weights=weights * inv * inv, minlength=ux.size
        )  # sum w / (g + x zbar)^2
        total = float(wx.sum())
        h = np.empty((3, 3))
        h[0, 0] = dot(wx, ux**2 * (t_pq - t_px))
        h[0, 1] = h[1, 0] = dot(wx, ux * t_pq)
        h[0, 2] = h[2, 0] = -dot(ux, s1)
        h[1, 1] = dot(wx, t_pq) - total * t_q
        h[1, 2] = h[2, 1] = total / g - float(s1.sum())
        h[2, 2] = -total * q / g**2 + dot(pux + q, s2)
        return h

    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import gammaln

        p, q, g = theta
        x, m = data[:2]
        px = p * x
        return (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(g + x * m)
        )

    has_gradient = True

    def _gradient(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import digamma

        p, q, g = theta
        x, m = data[:2]
        px = p * x
        log_gxm = np.log(g + x * m)
        d_pq = digamma(px + q)
        g_p = x * (d_pq - digamma(px) + np.log(m) + np.log(x) - log_gxm)
        g_q = d_pq - digamma(q) + np.log(g) - log_gxm
        g_g = q / g - (px + q) / (g + x * m)
        return np.vstack([g_p, g_q, g_g])

    # -- the closed parameter space ------------------------------------------------------------
    def _extended_data(self, *columns: Array) -> tuple[Any, ...]:
        """``(x, zbar)`` with the distinct x (the terms in x alone are computed once per x)."""
        x, zbar = (np.asarray(c, dtype=float) for c in columns)
        ux, idx = distinct_counts(x)
        return (x, zbar, ux, idx, np.log(zbar), x * zbar)

    def _coordinates(self, data: tuple[Any, ...], weights: Array) -> tuple[Coordinate, ...]:
        m = data[1]
        scale = math.log(float(np.average(m, weights=weights)))
        return (
            Coordinate("kappa_p", 0.0, _KAPPA_MAX, near_lower=1e-2, near_upper=1e3),
            Coordinate("kappa_q", 0.0, _KAPPA_MAX, near_lower=1e-2, near_upper=1e3),
            Coordinate("log_theta", scale - 30, scale + 30),
        )

    def _settle(self, phi: Array, at_lower: set[str], at_upper: set[str]) -> set[str]:
        if at_upper & {"kappa_p", "kappa_q"}:
            raise ConvergenceError(
                f"{self.label} fit ran to p -> 0 or q -> 0 (spend without a finite mean); "
                "check the monetary values"
            )
        return set()

    def _to_phi(self, theta: Array) -> Array:
        p, q, g = theta
        return np.array([1 / p, 1 / q, math.log(p * g / q)])

    def _natural(self, phi: Array) -> dict[str, float]:
        kappa_p, kappa_q, log_theta = phi.tolist()
        theta = math.exp(log_theta)
        p = math.inf if kappa_p == 0 else 1 / kappa_p
        q = math.inf if kappa_q == 0 else 1 / kappa_q
        g = math.inf if kappa_q == 0 else theta * kappa_p / kappa_q  # gamma = theta q / p
        return {"p": p, "q": q, "gamma": g}

    def _report(self, phi: Array, fixed: frozenset[str]) -> dict[str, float]:
        kappa_p, kappa_q, log_theta = phi.tolist()  # at most one of the kappas is 0
        theta = math.exp(log_theta)
        if "kappa_p" in fixed and "kappa_q" not in fixed:
            return {"q": 1 / kappa_q, "scale": theta / kappa_q}
        if "kappa_q" in fixed and "kappa_p" not in fixed:
            return {"p": 1 / kappa_p, "mean_spend": theta}
        return self._natural(phi)

    def _describe(self, phi: Array, fixed: frozenset[str]) -> BoundaryLimit | None:
        _, kappa_q, log_theta = phi.tolist()
        theta = math.exp(log_theta)
        if "kappa_p" in fixed:
            text = (
                "each customer spends the same on every purchase; the customers' spend per purchase "
                f"follows an inverse gamma (q = {1 / kappa_q:.4g}, scale = {theta / kappa_q:.4g})"
            )
            return BoundaryLimit(text, ("p", "gamma"), self._report(phi, fixed))
        if "kappa_q" in fixed:
            text = f"every customer has the same mean spend per purchase ({theta:.4g})"
            return BoundaryLimit(text, ("q", "gamma"), self._report(phi, fixed))
        return None

    def _extended_rows(self, phi: Array, data: tuple[Any, ...]) -> Array:
        """``-log B(n, q) + q log rho - (n + q) log1p(rho) - log zbar``, n = p x, rho = gamma / (x zbar).

        Written with the larger of n and q as the one that may be infinite
        (w = theta / zbar; ``log1p(k y) / k`` is finite at k = 0):
        ``G(n, q) - lgamma(q) + q log(q w) - (x + q kappa_p) log1p(kappa_p q w / x) / kappa_p`` or
        ``G(q, n) - lgamma(n) + n log(n / w) - (n kappa_q + 1) log1p(kappa_q n / w) / kappa_q``,
        ``G(a, b) = lgamma(a + b) - lgamma(a) - b log a``. Which form a row
        takes and the terms in x alone are worked out once per distinct x,
        so each row costs one ``log1p``.
        """
        from scipy.special import gammaln

        x, _, ux, idx, log_zbar, xz = data
        kappa_p, kappa_q, log_theta = float(phi[0]), float(phi[1]), float(phi[2])
        if kappa_p == 0 and kappa_q == 0:
            return np.full(x.shape, -np.inf)  # a point mass at theta
        with np.errstate(divide="ignore", invalid="ignore"):
            q = 1 / kappa_q if kappa_q > 0 else 1.0
            n = ux / kappa_p if kappa_p > 0 else np.ones_like(ux)
            by_q = kappa_p > ux * kappa_q  # q > n: write it in kappa_q (per distinct x)
            # Per distinct x: the constant, the factor of log1p and the factor of (log zbar - log theta).
            const = np.where(
                by_q,
                log_rising_over_power(kappa_q, n) - gammaln(n) + n * np.log(n),
                log_rising_over_power(kappa_p / ux, q) - gammaln(q) + q * np.log(q),
            )
            factor = np.where(by_q, n * kappa_q + 1, ux + q * kappa_p)
            slope = np.where(by_q, n, -q)  # times log(zbar / theta)
            kappa = np.where(by_q, kappa_q, kappa_p)
            u = xz * math.exp(-log_theta)
            row_by_q = by_q[idx]
            y = np.where(row_by_q, u / kappa_p, q / u)
            log1p_term = log1p_ratio_array(kappa[idx], y)
        return (
            const[idx] + slope[idx] * (log_zbar - log_theta) - factor[idx] * log1p_term - log_zbar
        )

    # -- predictions --------------------------------------------------------------------------
    def conditional_expected_spend(
        self,
        frequency: Any,
        monetary_value: Any,
        *,
        nonpositive: NonPositive = "raise",
        params: dict[str, float] | None = None,
    ) -> Array:
        """E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1); the population mean where x = 0.

        A customer with repeat purchases whose mean spend is 0 or less (free
        or refunded orders) has no place in the model: ``nonpositive``
        decides, ``"raise"`` (refuse, the default), ``"population"`` (the
        population's mean spend, :meth:`expected_spend`) or ``"zero"``. A
        limit model gives the customer's own mean (each spends the same on
        every purchase) or the population's (all spend alike).
        """
        from crmkit._validation import _positions
        from crmkit.value._predict import as_counts

        if nonpositive not in ("raise", "population", "zero"):
            raise ValidationError(
                [
                    (
                        "nonpositive",
                        f"must be 'raise', 'population' or 'zero', got {shown(nonpositive)}",
                    )
                ]
            )
        x = as_counts(frequency, "frequency")
        m = _as_spend(monetary_value, np.shape(x))
        bad = (x > 0) & (m <= 0)
        if nonpositive == "raise" and np.any(bad):
            where = f"; positions {_positions(np.ravel(bad))} are not" if np.ndim(bad) else ""
            raise ValidationError(
                [
                    (
                        "monetary_value",
                        f"must be > 0 for customers with repeat purchases{where}: pass "
                        "nonpositive='population' (their expected spend is the population's) or 'zero'",
                    )
                ]
            )
        population = self.expected_spend(params=params)
        kappa_p, kappa_q, log_theta = self._phi_of(params).tolist()
        theta = math.exp(log_theta)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # p (gamma + x zbar) / (p x + q - 1), multiplied through by kappa_p kappa_q
            own = (theta * kappa_p + x * m * kappa_q) / (x * kappa_q + kappa_p - kappa_p * kappa_q)
            out = np.where(x > 0, own, population)
        return finite_result(
            np.where(bad, population if nonpositive == "population" else 0.0, out),
            "conditional_expected_spend",
        )

    def posterior_mean_coefficients(self) -> tuple[float, float, float, float, float]:
        """``(a, b, c, d, population)``: a repeat customer's expected spend is
        ``(a + b x m) / (c x + d)`` for ``x`` repeat purchases of mean ``m``
        (the formula of :meth:`conditional_expected_spend`, for an engine to
        evaluate), ``population`` the mean spend of everyone else."""
        kappa_p, kappa_q, log_theta = self._phi_of(None).tolist()
        theta = math.exp(log_theta)
        return (
            theta * kappa_p,
            kappa_q,
            kappa_q,
            kappa_p - kappa_p * kappa_q,
            self.expected_spend(),
        )

    def expected_spend(self, *, params: dict[str, float] | None = None) -> float:
        """The population mean spend per transaction, p gamma / (q - 1)."""
        _, kappa_q, log_theta = self._phi_of(params).tolist()
        if kappa_q >= 1:
            raise InsufficientData(f"q = {1 / kappa_q:.3g} <= 1: the mean spend is infinite")
        return float(math.exp(log_theta) / (1 - kappa_q))

    def simulate(
        self, frequency: Any, *, seed: Any = None, params: dict[str, float] | None = None
    ) -> dict[str, Array]:
        """Mean spend of each customer's ``frequency`` transactions (frequency >= 1) drawn from the model."""
        from crmkit.value._predict import as_counts

        kappa_p, kappa_q, log_theta = self._phi_of(params).tolist()
        theta = math.exp(log_theta)
        rng = rng_of(seed)
        x = as_counts(frequency, "frequency")
        if (x < 1).any():
            raise ValidationError([("frequency", "must be >= 1 to draw a mean spend")])
        # nu / p: each customer's purchase-value rate per unit of p (mean 1 / theta)
        rate = (
            np.full(x.shape, 1 / theta)
            if kappa_q == 0
            else rng.gamma(1 / kappa_q, kappa_q / theta, x.shape)
        )
        if kappa_p == 0:
            return {"frequency": x.astype(np.int64), "monetary_value": 1 / rate}
        total = rng.gamma(x / kappa_p, kappa_p / rate)
        return {"frequency": x.astype(np.int64), "monetary_value": total / x}


#: Discounting more than 100,000 periods ahead adds nothing (and a typo would allocate forever).
MAX_HORIZON = 100_000


def _as_spend(values: Any, shape: tuple[int, ...]) -> Array:
    """Mean spends: finite numbers (0 and negative ones are the caller's policy to judge)."""
    from crmkit._validation import as_numbers

    arr = as_numbers(values, "monetary_value")
    if not np.all(np.isfinite(arr)):
        raise ValidationError([("monetary_value", "must be finite numbers")])
    try:
        return np.broadcast_to(arr, np.broadcast_shapes(arr.shape, shape))
    except ValueError:
        raise ValidationError(
            [("monetary_value", f"must have the shape of frequency {shape}, got {arr.shape}")]
        ) from None


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: GammaGamma,
    summary: Any,
    *,
    horizon: int = 12,
    period: float = 365.25 / 12 / 7,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    nonpositive: NonPositive = "raise",
) -> Array:
    """Discounted expected value of each customer's purchases over ``horizon`` periods.

    ``summary`` holds frequency, recency, T and monetary_value (an
    :class:`~crmkit.value.RfmSummary` or a mapping); ``period`` is the length of
    one discounting period in the summary's time unit (default a month of
    weeks), ``discount_rate`` the rate per period. For each period k the
    expected purchases in ((k - 1) period, k period] after T, from the
    transaction model's conditional expectation, times the expected spend
    from the Gamma-Gamma model, times ``margin``, discounted by
    (1 + discount_rate)^k (Fader, Hardie & Lee 2005, "RFM and CLV").
    Vectorised over customers and periods. Customers with repeat purchases
    worth nothing in total are refused unless ``nonpositive`` says how to
    value them (see :meth:`GammaGamma.conditional_expected_spend`).
    """
    from crmkit._args import instance, number, whole
    from crmkit.value._fitting import Model
    from crmkit.value._predict import MAX_TIME, customers

    instance(transaction_model, Model, "transaction_model")
    instance(spend_model, GammaGamma, "spend_model")
    horizon = whole(horizon, "horizon", 1, MAX_HORIZON)
    period = number(period, "period", 0, MAX_TIME, open_low=True)
    margin = number(margin, "margin", 0, open_low=True)
    discount_rate = number(discount_rate, "discount_rate", 0, 1e6)
    x, tx, T = customers(summary, None, None)
    monetary = (
        summary.monetary_value if hasattr(summary, "monetary_value") else summary["monetary_value"]
    )
    spend = spend_model.conditional_expected_spend(
        x, np.where(x > 0, monetary, 0.0), nonpositive=nonpositive
    )
    grid = period * np.arange(horizon + 1, dtype=float)[:, None]
    cumulative = transaction_model.conditional_expected_purchases(grid, x, tx, T)
    per_period = np.diff(cumulative, axis=0)
    discount = (1 + discount_rate) ** -np.arange(1, horizon + 1, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        value = margin * spend * vecmat(discount, per_period)
    return finite_result(value, "customer_lifetime_value")
