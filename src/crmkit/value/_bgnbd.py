"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While active, a customer buys at a Poisson rate lambda ~ Gamma(r, alpha);
after each purchase they drop out with probability p ~ Beta(a, b). For a
customer with x repeat purchases, the last at t_x, observed for T:

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + t_x)^(r + x))

computed in log space (``logaddexp`` of the two terms), so large x and long
T neither overflow nor give NaN. The gradient is analytic (digamma).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit._numeric import dot
from crmkit.value._fitting import Array, Model, distinct_counts, rng_of, transactions

__all__ = ["BetaGeo"]


class BetaGeo(Model):
    """BG/NBD: ``BetaGeo().fit(frequency, recency, T)`` or ``BetaGeo(r=..., alpha=..., a=..., b=...)``.

    Parameters (``params_``): r and alpha of the gamma purchase rates (alpha
    in the time unit of the data), a and b of the beta dropout
    probabilities. On the CDNOW 39-week summary the fit gives r = 0.243,
    alpha = 4.414, a = 0.793, b = 2.426 and log-likelihood -9582.4, the
    paper's values (a test checks them).
    """

    param_names = ("r", "alpha", "a", "b")
    label = "BG/NBD"

    def fit(
        self, frequency: Any, recency: Any = None, T: Any = None, *, weights: Any = None
    ) -> BetaGeo:
        """Maximum likelihood on per-customer (or compressed, weighted) ``frequency, recency, T``."""
        x, tx, t, w = transactions(frequency, recency, T, weights, model=self.label)
        mean_rate = (dot(w, x) / dot(w, t)) or 1.0
        data, w = self._fit_data(x, tx, t, w)
        self._maximise(data, w, np.array([1.0, 1.0 / mean_rate, 1.0, 1.0]))
        return self

    @staticmethod
    def _fit_data(x: Array, tx: Array, t: Array, w: Array) -> tuple[tuple[Array, ...], Array]:
        """Rows with repeat purchases first (those without need one log and one division each)."""
        order = np.argsort(x == 0, kind="stable")
        x, tx, t, w = x[order], tx[order], t[order], w[order]
        npos = int(np.count_nonzero(x))
        ux, inv = distinct_counts(x[:npos])
        # Work arrays reused by every evaluation: no allocation (and no page faults) per call.
        work = np.empty((7, npos))
        work0 = np.empty((2, t.shape[0] - npos))
        return (x[:npos], tx[:npos], t[:npos], ux, inv.astype(np.intp), t[npos:], work, work0), w

    def _prepare(self, *columns: Array) -> tuple[Array, ...]:
        """The data with the distinct frequencies: terms in x alone are computed once per distinct x."""
        x, tx, T = columns
        ux, inv = np.unique(x, return_inverse=True)
        return (x, tx, T, ux, inv.astype(np.float64), (x > 0).astype(np.float64))

    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import betaln, gammaln

        r, alpha, a, b = theta
        x, tx, T, ux, inv, _ = data
        idx = inv.astype(np.intp)
        base = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[idx]
        beta_ab = betaln(a, b)
        a2 = (betaln(a, b + ux) - beta_ab)[idx] - (r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            c3 = np.where(ux > 0, betaln(a + 1, np.maximum(b + ux - 1, 1e-300)) - beta_ab, -np.inf)
        a3 = c3[idx] - (r + x) * np.log(alpha + tx)
        return base + np.logaddexp(a2, a3)

    has_gradient = True

    def _objective(
        self, theta: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array]:
        """Weighted log-likelihood and analytic gradient in one pass over the data of ``fit``.

        Customers without repeat purchases contribute ``r log(alpha / (alpha + T))``
        alone; for the others, terms in x alone are summed once per distinct x
        (with the summed weights of its rows), and per row remain two logs,
        two divisions and two exponentials.
        """
        from scipy.special import betaln, digamma, expit, gammaln

        r, alpha, a, b = theta
        x, tx, T, ux, idx, t0, work, work0 = data
        npos = x.shape[0]
        wp, w0 = weights[:npos], weights[npos:]
        wx = np.bincount(idx, weights=wp, minlength=ux.size)  # summed weight per distinct x
        total = float(weights.sum())
        log_alpha = np.log(alpha)
        # Customers without repeat purchases: r log(alpha / (alpha + T)).
        z1, z2 = work0
        np.add(t0, alpha, out=z1)
        np.reciprocal(z1, out=z2)
        np.log(z1, out=z1)
        sum_log0 = dot(w0, z1)
        value = -r * sum_log0
        g_r = -sum_log0
        g_alpha = -r * dot(w0, z2)
        # Customers with repeat purchases: log L = A1 + A2 + log(1 + exp(A3 - A2)).
        beta_ab = betaln(a, b)
        c2 = betaln(a, b + ux) - beta_ab
        c3 = betaln(a + 1, b + ux - 1) - beta_ab
        log_at, log_atx, diff, rx, d, a2, tmp = work
        np.add(T, alpha, out=log_at)
        np.log(log_at, out=log_at)
        np.add(tx, alpha, out=log_atx)
        np.log(log_atx, out=log_atx)
        np.subtract(log_atx, log_at, out=diff)
        np.add(x, r, out=rx)
        np.take(c3 - c2, idx.astype(np.intp, copy=False), out=d)
        np.multiply(rx, diff, out=tmp)
        np.subtract(d, tmp, out=d)  # A3 - A2
        np.take(c2, idx.astype(np.intp, copy=False), out=a2)
        np.multiply(rx, log_at, out=tmp)
        np.subtract(a2, tmp, out=a2)  # A2 without A1
        np.logaddexp(0.0, d, out=tmp)
        value += dot(wp, a2) + dot(wp, tmp)
        value += dot(wx, gammaln(r + ux) - gammaln(r)) + total * r * log_alpha
        expit(d, out=d)  # each row's share of the second term
        np.multiply(wp, d, out=d)  # weighted shares
        s3 = np.bincount(idx, weights=d, minlength=ux.size)
        g_r += dot(wx, digamma(r + ux) - digamma(r)) + total * log_alpha
        g_r -= dot(wp, log_at) + dot(d, diff)
        inv_t, inv_diff = a2, tmp
        np.add(T, alpha, out=inv_t)
        np.reciprocal(inv_t, out=inv_t)
        np.add(tx, alpha, out=inv_diff)
        np.reciprocal(inv_diff, out=inv_diff)
        np.subtract(inv_diff, inv_t, out=inv_diff)
        np.multiply(wp, rx, out=log_atx)
        np.multiply(d, rx, out=rx)
        g_alpha += total * r / alpha - dot(log_atx, inv_t) - dot(rx, inv_diff)
        d_ab, d_abx = digamma(a + b), digamma(a + b + ux)
        da2 = d_ab - d_abx
        da3 = digamma(a + 1) - digamma(a) + d_ab - d_abx
        db2 = digamma(b + ux) - digamma(b) + d_ab - d_abx
        db3 = digamma(b + ux - 1) - digamma(b) + d_ab - d_abx
        g_a = dot(wx, da2) + dot(s3, da3 - da2)
        g_b = dot(wx, db2) + dot(s3, db3 - db2)
        return value, np.array([g_r, g_alpha, g_a, g_b])

    # -- predictions --------------------------------------------------------------------------
    def expected_purchases(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """E[X(t)]: expected purchases in (0, t] of a customer just acquired (FHL 2005, eq. 9)."""
        from scipy.special import hyp2f1

        from crmkit.value._predict import as_times

        r, alpha, a, b = self._theta(params)
        tt = as_times(t, "t")
        z = tt / (alpha + tt)
        return (
            (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + tt)) ** r * hyp2f1(r, b, a + b - 1, z))
        )

    def probability_alive(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """P(active at T | x, t_x, T) (FHL 2008 note, eq. 1)."""
        from scipy.special import expit

        r, alpha, a, b = self._theta(params)
        x, tx, t = _customers(frequency, recency, T)
        with np.errstate(divide="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * np.log((alpha + t) / (alpha + tx))
            )
        return np.where(x > 0, expit(-log_odds), 1.0)

    def conditional_expected_purchases(
        self,
        t: Any,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (FHL 2005, eq. 10).

        The hypergeometric term is taken through Euler's transformation,
        ``(1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)``, which stays
        finite for customers with hundreds of purchases.
        """
        from scipy.special import hyp2f1

        from crmkit.value._predict import as_times

        r, alpha, a, b = self._theta(params)
        x, tx, T_ = _customers(frequency, recency, T)
        tt = as_times(t, "t")
        z = tt / (alpha + T_ + tt)
        with np.errstate(all="ignore"):
            bracket = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
            head = (a + b + x - 1) / (a - 1) * bracket
            out = head * self.probability_alive(x, tx, T_, params=params)
        return _finite(out, "conditional_expected_purchases")

    def probability_of_purchases(
        self, t: Any, n: Any, *, params: dict[str, float] | None = None
    ) -> Array:
        """P(X(t) = n) for a customer just acquired (FHL 2005, eq. 8)."""
        from scipy.special import betaln
        from scipy.stats import nbinom

        from crmkit.value._predict import as_counts, as_times

        r, alpha, a, b = self._theta(params)
        tt = as_times(t, "t")
        nn = as_counts(n, "n")
        p = alpha / (alpha + tt)
        first = np.exp(betaln(a, b + nn) - betaln(a, b)) * nbinom.pmf(nn, r, p)
        second = np.where(
            nn > 0,
            np.exp(betaln(a + 1, np.maximum(b + nn - 1, 1e-300)) - betaln(a, b))
            * nbinom.sf(nn - 1, r, p),
            0.0,
        )
        return first + second

    def simulate(
        self,
        T: Any,
        *,
        seed: Any = None,
        params: dict[str, float] | None = None,
    ) -> dict[str, Array]:
        """Draw one customer per entry of ``T`` from the model: ``frequency``, ``recency``, ``T``.

        Rates lambda ~ Gamma(r, alpha) and dropout probabilities p ~ Beta(a, b)
        per customer; the number of purchases before dropping out is
        geometric; purchases are a Poisson process, so the time of the x-th of
        N purchases in (0, T] is T times a Beta(x, N - x + 1) draw.
        """
        from crmkit.value._predict import as_times

        r, alpha, a, b = self._theta(params)
        rng = rng_of(seed)
        t = np.broadcast_to(as_times(T, "T"), np.shape(as_times(T, "T"))).astype(float)
        lam = rng.gamma(r, 1 / alpha, size=t.shape)
        p = rng.beta(a, b, size=t.shape)
        n = rng.poisson(lam * t)
        d = rng.geometric(p)  # purchases until (and including) the one after which they drop out
        x = np.minimum(n, d)
        tx = np.where(x > 0, t * rng.beta(np.maximum(x, 1), np.maximum(n - x + 1, 1)), 0.0)
        return {"frequency": x.astype(np.int64), "recency": tx, "T": t}


def _finite(values: Array, what: str) -> Array:
    """Refuse to hand out NaN or inf: parameters on the boundary can make a formula degenerate."""
    bad = ~np.isfinite(values)
    if np.any(bad):
        from crmkit.errors import InsufficientData

        raise InsufficientData(
            f"{what}: the parameters give no finite value for {int(np.count_nonzero(bad))} of "
            f"{np.size(values)} inputs (an estimate on the boundary of the parameter space?)"
        )
    return values


def _customers(frequency: Any, recency: Any, T: Any) -> tuple[Array, Array, Array]:
    from crmkit.value._predict import customers

    return customers(frequency, recency, T)
