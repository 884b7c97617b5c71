"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note).

While alive, a customer buys at a Poisson rate lambda ~ Gamma(r, alpha) and
dies at an exponential rate mu ~ Gamma(s, beta). With x repeat purchases, the
last at t_x, observed for T (Fader & Hardie, "A note on deriving the
Pareto/NBD model and related expressions", 2005, eq. 22):

    L = Gamma(r + x) alpha^r beta^s / Gamma(r)
        * [1 / ((alpha + T)^(r + x) (beta + T)^s) + s / (r + s + x) * A0]

    alpha >= beta:  A0 = F(s + 1; alpha - beta, alpha + t_x) - F(s + 1; alpha - beta, alpha + T)
    alpha <  beta:  A0 = F(r + x; beta - alpha, beta + t_x) - F(r + x; beta - alpha, beta + T)
    F(b; d, u) = 2F1(r + s + x, b; r + s + x + 1; d / u) / u^(r + s + x)

Naive code overflows: the Gauss hypergeometric function of a large first
parameter. Here Euler's transformation ``2F1(a, b; c; z) = (1 - z)^(c - a - b)
2F1(c - a, c - b; c; z)`` turns it into ``2F1(1, .; r + s + x + 1; z)``, which
lies between 1 and 1 / (1 - z), and everything else stays in logs; the
difference of the two F terms is taken as ``log(F1) + log1p(-F2 / F1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit._numeric import dot
from crmkit.value._fitting import (
    Array,
    Model,
    distinct_counts,
    merge_duplicates,
    rng_of,
    transactions,
)

__all__ = ["ParetoNBD"]


def _log_f(a: Array, b_other: Array, c: Array, d: Any, u: Array) -> Array:
    """log of 2F1(a, b; c; d / u) / u^a with c = a + 1, through Euler's transformation.

    ``b_other`` is c - b, the second parameter after the transformation.
    """
    from scipy.special import hyp2f1

    z = d / u
    # 2F1(a, b; a + 1; z) = (1 - z)^(1 - b) 2F1(1, a + 1 - b; a + 1; z)
    b = c - b_other
    return (1 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, b_other, c, z)) - a * np.log(u)


#: Below this z the series of 2F1(1, b; c; z) converges fast enough (z^k, with (b + k) < (c + k))
#: to give the value and its derivatives in b, c and z directly; above it scipy's hyp2f1 and
#: finite differences take over for those rows.
_SERIES_MAX_Z = 0.5


def _series(b: Array, c: Array, z: Array) -> tuple[Array, Array, Array, Array]:
    """2F1(1, b; c; z) and its derivatives in b, c and z by its power series (0 <= z <= 0.5, b < c).

    Terms t_k = (b)_k / (c)_k z^k; the derivatives carry sum_{j<k} 1/(b + j) and
    -sum_{j<k} 1/(c + j) along (forward-mode differentiation of the series).
    scipy gives the function but not its derivatives in the parameters.
    """
    t = np.ones_like(z)
    h = np.ones_like(z)
    hb = np.zeros_like(z)
    hc = np.zeros_like(z)
    kz = np.zeros_like(z)  # sum of k t_k, so dH/dz = kz / z
    db = np.zeros_like(z)
    dc = np.zeros_like(z)
    bk, ck = b.astype(np.float64), c.astype(np.float64)  # b + k and c + k (copies)
    tmp = np.empty_like(z)
    # In-place updates: this loop is most of a Pareto/NBD fit's time.
    for k in range(2000):
        np.divide(1.0, bk, out=tmp)
        db += tmp
        np.divide(1.0, ck, out=tmp)
        dc += tmp
        np.divide(bk, ck, out=tmp)
        tmp *= z
        t *= tmp
        h += t
        np.multiply(t, db, out=tmp)
        hb += tmp
        np.multiply(t, dc, out=tmp)
        hc -= tmp
        np.multiply(t, k + 1, out=tmp)
        kz += tmp
        bk += 1.0
        ck += 1.0
        if k % 2 and not np.any(t > 1e-17 * h):
            break
    with np.errstate(invalid="ignore", divide="ignore"):
        hz = np.where(z > 0, kz / np.where(z > 0, z, 1.0), b / c)
    return h, hb, hc, hz


class ParetoNBD(Model):
    """Pareto/NBD: ``ParetoNBD().fit(frequency, recency, T)`` or ``ParetoNBD(r=..., alpha=..., s=..., beta=...)``.

    On the CDNOW 39-week summary: r = 0.553, alpha = 10.578, s = 0.606,
    beta = 11.669, log-likelihood -9595.0 (Fader, Hardie & Lee 2005); beta
    is loosely determined (standard error about 6).
    """

    param_names = ("r", "alpha", "s", "beta")
    label = "Pareto/NBD"

    def fit(
        self, frequency: Any, recency: Any = None, T: Any = None, *, weights: Any = None
    ) -> ParetoNBD:
        """Maximum likelihood on per-customer (or compressed, weighted) ``frequency, recency, T``."""
        x, tx, t, w = merge_duplicates(
            *transactions(frequency, recency, T, weights, model=self.label)
        )
        mean_rate = (dot(w, x) / dot(w, t)) or 1.0
        mean_t = dot(w, t) / float(w.sum())
        at_zero = tx == 0
        ux, inv = distinct_counts(x[at_zero])
        data = (x, tx, t, at_zero, ux, inv.astype(np.intp))
        self._maximise(data, w, np.array([1.0, 1.0 / mean_rate, 1.0, mean_t]))
        return self

    has_gradient = True

    def _log_f_grad(self, theta: Array, x: Array, t: Array) -> tuple[Array, Array]:
        """log F(x, t) and its gradient in (r, alpha, s, beta), rows x 4."""
        r, alpha, s, beta = theta
        a = r + s + x
        c = a + 1
        if alpha >= beta:
            bo, b, d, u = r + x, np.full_like(x, s + 1), alpha - beta, alpha + t
        else:
            bo, b, d, u = np.full_like(x, s + 1), r + x, beta - alpha, beta + t
        z = d / u
        value = np.empty_like(z)
        grad = np.empty((x.shape[0], 4))
        easy = z <= _SERIES_MAX_Z
        if np.any(easy):
            ze, be, boe, ce, ae, ue = z[easy], b[easy], bo[easy], c[easy], a[easy], u[easy]
            h, hb, hc, hz = _series(boe, ce, ze)
            log1mz = np.log1p(-ze)
            value[easy] = (1 - be) * log1mz + np.log(h) - ae * np.log(ue)
            g_a = -np.log(ue) + hc / h  # a and c = a + 1 move together
            g_bo = hb / h
            g_b = -log1mz
            g_z = (be - 1) / (1 - ze) + hz / h
            g_u = -ae / ue
            te = t[easy]
            if alpha >= beta:
                g_r = g_a + g_bo
                g_s = g_a + g_b
                dz_da, dz_db = (beta + te) / (alpha + te) ** 2, -1 / (alpha + te)
                g_al = g_z * dz_da + g_u
                g_be = g_z * dz_db
            else:
                g_r = g_a + g_b
                g_s = g_a + g_bo
                dz_db, dz_da = (alpha + te) / (beta + te) ** 2, -1 / (beta + te)
                g_al = g_z * dz_da
                g_be = g_z * dz_db + g_u
            grad[easy] = np.column_stack([g_r, g_al, g_s, g_be])
        hard = ~easy
        if np.any(hard):
            xh, th = x[hard], t[hard]

            def log_f_at(p: Array) -> Array:
                rr, al, ss, bb = p
                aa = rr + ss + xh
                if al >= bb:
                    return _log_f(aa, rr + xh, aa + 1, al - bb, al + th)
                return _log_f(aa, np.full_like(xh, ss + 1), aa + 1, bb - al, bb + th)

            v0 = log_f_at(theta)
            value[hard] = v0
            for i in range(4):
                step = 1e-7 * theta[i]
                up = theta.copy()
                up[i] += step
                grad[hard, i] = (log_f_at(up) - v0) / step
        return value, grad

    def _objective(
        self, theta: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array]:
        """Weighted log-likelihood and its gradient (the hypergeometric terms differentiated by series)."""
        from scipy.special import digamma, gammaln

        r, alpha, s, beta = theta
        x, tx, T = data[:3]
        at_zero, ux, inv = data[3:6]
        # One pass over F at T (every row), at t_x (rows with t_x > 0) and at 0 (per distinct x).
        rest = np.logical_not(at_zero)
        n, m = x.shape[0], int(np.count_nonzero(rest))
        f_all, g_all = self._log_f_grad(
            theta,
            np.concatenate((x, x[rest], ux)),
            np.concatenate((T, tx[rest], np.zeros_like(ux))),
        )
        f_T, g_T = f_all[:n], g_all[:n]
        f_tx = np.empty_like(f_T)
        g_tx = np.empty_like(g_T)
        f_tx[rest], g_tx[rest] = f_all[n : n + m], g_all[n : n + m]
        f_tx[at_zero], g_tx[at_zero] = f_all[n + m :][inv], g_all[n + m :][inv]
        rx = r + x
        log_at, log_bt = np.log(alpha + T), np.log(beta + T)
        alive = -rx * log_at - s * log_bt
        seen_end = tx >= T  # seen alive at the end: the died term is zero
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            q = np.exp(f_T - f_tx)
            log_a0 = f_tx + np.log1p(-q)
            died = np.log(s) - np.log(r + s + x) + log_a0
            died = np.where(seen_end, -np.inf, died)
            lse = np.logaddexp(alive, died)
            w_died = np.exp(died - lse)
            d_log_a0 = (g_tx - q[:, None] * g_T) / (1 - q)[:, None]
        d_log_a0[seen_end] = 0.0
        w_alive = 1 - w_died
        head = gammaln(rx) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        value = dot(weights, head + lse)
        g = np.empty(4)
        wa, wd = weights * w_alive, weights * w_died
        inv_rsx = 1 / (r + s + x)
        g[0] = dot(weights, digamma(rx) - digamma(r) + np.log(alpha))
        g[0] += -dot(wa, log_at) + dot(wd, -inv_rsx + d_log_a0[:, 0])
        g[1] = (
            float(weights.sum() * r / alpha) + dot(wa, -rx / (alpha + T)) + dot(wd, d_log_a0[:, 1])
        )
        g[2] = float(weights.sum() * np.log(beta)) + -dot(wa, log_bt)
        g[2] += dot(wd, 1 / s - inv_rsx + d_log_a0[:, 2])
        g[3] = float(weights.sum() * s / beta) + dot(wa, -s / (beta + T)) + dot(wd, d_log_a0[:, 3])
        return value, g

    def _log_a0_terms(
        self, theta: Array, x: Array, tx: Array, T: Array, groups: Any = None
    ) -> tuple[Array, Array]:
        """log F at t_x and at T (the two terms whose difference is A0).

        ``groups`` (from ``fit``) marks the rows with t_x = 0, where F(t_x)
        depends on x alone: it is computed once per distinct x there (for
        most customer bases, once for the many without repeat purchases).
        """
        r, alpha, s, beta = theta

        def parts(xv: Array) -> tuple[Array, Array, Array]:
            a = r + s + xv
            other = r + xv if alpha >= beta else np.full_like(xv, s + 1)
            return a, other, a + 1

        # alpha >= beta: b = s + 1, c - b = r + x; alpha < beta: b = r + x, c - b = s + 1.
        d, shift = (alpha - beta, alpha) if alpha >= beta else (beta - alpha, beta)
        a, other, c = parts(x)
        f_T = _log_f(a, other, c, d, shift + T)
        if groups is None:
            return _log_f(a, other, c, d, shift + tx), f_T
        at_zero, ux, inv = groups
        f_tx = np.empty_like(f_T)
        rest = ~at_zero
        f_tx[rest] = _log_f(a[rest], other[rest], c[rest], d, shift + tx[rest])
        ua, uo, uc = parts(ux)
        f_tx[at_zero] = _log_f(ua, uo, uc, d, np.full_like(ux, shift))[inv]
        return f_tx, f_T

    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import gammaln

        r, alpha, s, beta = theta
        x, tx, T = data[:3]
        groups = data[3:] if len(data) > 3 else None
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        f_tx, f_T = self._log_a0_terms(theta, x, tx, T, groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a0 = f_tx + np.log1p(-np.exp(f_T - f_tx))
        died = np.log(s) - np.log(r + s + x) + log_a0
        died = np.where(tx < T, died, -np.inf)  # t_x = T: the customer was seen alive at the end
        return head + np.logaddexp(alive, died)

    # -- predictions --------------------------------------------------------------------------
    def probability_alive(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """P(alive at T | x, t_x, T) = 1 / (1 + s / (r + s + x) (alpha + T)^(r + x) (beta + T)^s A0)."""
        from scipy.special import expit

        from crmkit.value._predict import customers

        theta = self._theta(params)
        r, alpha, s, beta = theta
        x, tx, T_ = customers(frequency, recency, T)
        f_tx, f_T = self._log_a0_terms(theta, x, tx, T_)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a0 = f_tx + np.log1p(-np.exp(f_T - f_tx))
            log_odds = (
                np.log(s)
                - np.log(r + s + x)
                + (r + x) * np.log(alpha + T_)
                + s * np.log(beta + T_)
                + log_a0
            )
        return np.where(tx < T_, expit(-log_odds), 1.0)

    def expected_purchases(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """E[X(t)] = r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s - 1)] (the s = 1 limit too)."""
        from crmkit.value._predict import as_times

        r, alpha, s, beta = self._theta(params)
        tt = as_times(t, "t")
        return r / alpha * _lifetime_integral(s, beta, 0.0, tt)

    def conditional_expected_purchases(
        self,
        t: Any,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """E[Y(t) | x, t_x, T] = (r + x) / (alpha + T) * (beta + T) / (s - 1) [1 - ((beta + T) / (beta + T + t))^(s - 1)] P(alive)."""
        from crmkit.value._predict import as_times, customers

        r, alpha, s, beta = self._theta(params)
        x, tx, T_ = customers(frequency, recency, T)
        tt = as_times(t, "t")
        rate = (r + x) / (alpha + T_)
        return (
            rate
            * _lifetime_integral(s + 0.0, beta, T_, tt)
            * self.probability_alive(x, tx, T_, params=params)
        )

    def simulate(
        self, T: Any, *, seed: Any = None, params: dict[str, float] | None = None
    ) -> dict[str, Array]:
        """Draw one customer per entry of ``T``: rates lambda ~ Gamma(r, alpha), lifetimes ~ Exp(mu), mu ~ Gamma(s, beta)."""
        from crmkit.value._predict import as_times

        r, alpha, s, beta = self._theta(params)
        rng = rng_of(seed)
        t = np.asarray(as_times(T, "T"), dtype=float)
        lam = rng.gamma(r, 1 / alpha, size=t.shape)
        mu = rng.gamma(s, 1 / beta, size=t.shape)
        active = np.minimum(rng.exponential(1 / mu), t)
        n = rng.poisson(lam * active)
        tx = np.where(n > 0, active * rng.random(t.shape) ** (1 / np.maximum(n, 1)), 0.0)
        return {"frequency": n.astype(np.int64), "recency": tx, "T": t}


def _lifetime_integral(s: float, beta: float, start: Any, t: Array) -> Array:
    """Expected time alive in (start, start + t] per unit of the time-alive-weighted rate.

    (beta + start) / (s - 1) [1 - ((beta + start) / (beta + start + t))^(s - 1)], and its
    s -> 1 limit (beta + start) log((beta + start + t) / (beta + start)).
    """
    b = beta + np.asarray(start, dtype=float)
    ratio = b / (b + t)
    if abs(s - 1) < 1e-9:
        return b * -np.log(ratio)
    return b / (s - 1) * -np.expm1((s - 1) * np.log(ratio))
