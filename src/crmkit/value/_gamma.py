"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note) and CLV.

A customer's transaction values are Gamma(p, nu) with mean p / nu; across
customers nu ~ Gamma(q, gamma). The mean zbar of a customer's x repeat
transactions then has the likelihood

    L = Gamma(p x + q) / (Gamma(p x) Gamma(q)) * gamma^q zbar^(p x - 1) x^(p x) / (gamma + x zbar)^(p x + q)

and the expected value of a customer's next transaction given (x, zbar) is
``p (gamma + x zbar) / (p x + q - 1)``, a weighted mean of the population
mean ``p gamma / (q - 1)`` and the customer's own mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit._numeric import dot, vecmat
from crmkit.errors import InsufficientData, ValidationError
from crmkit.value._fitting import Array, Model, distinct_counts, rng_of

__all__ = ["GammaGamma", "customer_lifetime_value"]


def _spend(frequency: Any, monetary_value: Any, weights: Any) -> tuple[Array, Array, Array]:
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
    bad = (x > 0) & (m <= 0)
    if bad.any():
        raise ValidationError(
            [
                (
                    "monetary_value",
                    f"must be > 0 for customers with repeat purchases; positions {_positions(bad)} are not",
                )
            ]
        )
    keep = x > 0
    return x[keep], m[keep], w[keep]


class GammaGamma(Model):
    """Spend per transaction: ``GammaGamma().fit(frequency, monetary_value)`` (customers with repeats).

    Rows with frequency 0 are left out (they have no repeat transaction to
    average). On CDNOW's 946 repeat customers: p = 6.25, q = 3.74,
    gamma = 15.44 (Fader, Hardie & Lee 2005).
    """

    param_names = ("p", "q", "gamma")
    label = "Gamma-Gamma"

    def fit(self, frequency: Any, monetary_value: Any = None, *, weights: Any = None) -> GammaGamma:
        """Maximum likelihood on the repeat customers' frequency and mean repeat spend."""
        x, m, w = _spend(frequency, monetary_value, weights)
        if w.sum() < 2 or float(m.min()) == float(m.max()):
            raise InsufficientData(
                f"{self.label} needs at least two repeat customers with different spend, got {int(w.sum())}"
            )
        start = np.array([1.0, 2.0, float(np.average(m, weights=w))])
        if x.shape[0] > 50_000:
            # Start the Newton steps on all rows from the estimate of an evenly spaced subsample:
            # a few cheap iterations there save most of the expensive ones.
            step = x.shape[0] // 20_000
            sub = GammaGamma()
            sub._maximise(self._data(x[::step], m[::step], w[::step]), w[::step], start)
            if sub.params_ is not None:
                start = np.array(list(sub.params_.values()))
        self._maximise(self._data(x, m, w), w, start)
        return self

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

    def _hessian(self, theta: Array, data: tuple[Any, ...], weights: Array) -> Array:
        """Analytic Hessian: trigamma terms once per distinct x, two divisions per row."""
        from scipy.special import polygamma

        p, q, g = theta
        _, _, ux, idx, wx, _, xm, _ = data
        pux = p * ux
        t_pq, t_px, t_q = polygamma(1, pux + q), polygamma(1, pux), polygamma(1, q)
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

    def conditional_expected_spend(
        self, frequency: Any, monetary_value: Any, *, params: dict[str, float] | None = None
    ) -> Array:
        """E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1); the population mean where x = 0."""
        from crmkit.value._predict import as_counts, as_times

        p, q, g = self._theta(params)
        if q <= 1:
            raise InsufficientData(f"q = {q:.3g} <= 1: the mean spend is infinite")
        x = as_counts(frequency, "frequency")
        m = as_times(monetary_value, "monetary_value")
        return p * (g + x * m) / (p * x + q - 1)

    def expected_spend(self, *, params: dict[str, float] | None = None) -> float:
        """The population mean spend per transaction, p gamma / (q - 1)."""
        p, q, g = self._theta(params)
        if q <= 1:
            raise InsufficientData(f"q = {q:.3g} <= 1: the mean spend is infinite")
        return float(p * g / (q - 1))

    def simulate(
        self, frequency: Any, *, seed: Any = None, params: dict[str, float] | None = None
    ) -> dict[str, Array]:
        """Mean spend of each customer's ``frequency`` transactions (frequency >= 1) drawn from the model."""
        from crmkit.value._predict import as_counts

        p, q, g = self._theta(params)
        rng = rng_of(seed)
        x = as_counts(frequency, "frequency")
        if (x < 1).any():
            raise ValidationError([("frequency", "must be >= 1 to draw a mean spend")])
        nu = rng.gamma(q, 1 / g, size=x.shape)
        total = rng.gamma(p * x, 1 / nu)
        return {"frequency": x.astype(np.int64), "monetary_value": total / x}


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: GammaGamma,
    summary: Any,
    *,
    horizon: int = 12,
    period: float = 365.25 / 12 / 7,
    discount_rate: float = 0.01,
    margin: float = 1.0,
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
    Vectorised over customers and periods.
    """
    from crmkit.value._predict import customers

    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise ValidationError(
            [("horizon", f"must be a whole number of periods >= 1, got {horizon!r}")]
        )
    for name, value in (("period", period), ("margin", margin)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValidationError([(name, f"must be a number > 0, got {value!r}")])
    if not (
        isinstance(discount_rate, (int, float))
        and np.isfinite(discount_rate)
        and discount_rate >= 0
    ):
        raise ValidationError([("discount_rate", f"must be a number >= 0, got {discount_rate!r}")])
    x, tx, T = customers(summary, None, None)
    monetary = (
        summary.monetary_value if hasattr(summary, "monetary_value") else summary["monetary_value"]
    )
    spend = spend_model.conditional_expected_spend(x, np.where(x > 0, monetary, 0.0))
    grid = period * np.arange(horizon + 1, dtype=float)[:, None]
    cumulative = transaction_model.conditional_expected_purchases(grid, x, tx, T)
    per_period = np.diff(cumulative, axis=0)
    discount = (1 + discount_rate) ** -np.arange(1, horizon + 1, dtype=float)
    return margin * spend * vecmat(discount, per_period)
