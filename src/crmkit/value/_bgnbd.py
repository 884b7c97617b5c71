"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While active, a customer buys at a Poisson rate lambda ~ Gamma(r, alpha);
after each purchase they drop out with probability p ~ Beta(a, b). For a
customer with x repeat purchases, the last at t_x, observed for T:

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + t_x)^(r + x))

computed in log space (``logaddexp`` of the two terms), so large x and long
T neither overflow nor give NaN. The gradient is analytic (digamma).

On the closed parameter space (:mod:`crmkit.value._mixing`) the purchase
rates are (mean lambda = r / alpha, kappa = 1 / r) and the dropout
probabilities (m = a / (a + b), rho = 1 / (a + b + 1)); the boundary holds
the limit models: every customer buying at one rate (kappa = 0, r and
alpha infinite), every customer dropping out with one probability (rho = 0,
a and b infinite), nobody dropping out (m = 0), the dropout probabilities
polarised (rho = 1, a and b zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from crmkit._numeric import dot
from crmkit.errors import ConvergenceError
from crmkit.value._fitting import (
    Array,
    BoundaryLimit,
    Coordinate,
    Model,
    distinct_counts,
    merge_duplicates,
    rng_of,
    transactions,
)
from crmkit.value._mixing import (
    BetaMix,
    beta_coords,
    beta_natural,
    gamma_coords,
    gamma_natural,
    gamma_poisson_grad,
    gamma_poisson_log,
    gamma_poisson_log_ratio,
    log1p_ratio_array,
)

#: Bounds of the closed space: m and rho stop this short of 0 and 1 (a model with a dropout
#: probability of 1e-10 is "nobody drops out" for any data), kappa at r = 1e-4.
_EDGE = 1e-10
_KAPPA_MAX = 1e4

__all__ = ["BetaGeo"]


class BetaGeo(Model):
    """BG/NBD: ``BetaGeo().fit(frequency, recency, T)`` or ``BetaGeo.from_params(r=..., alpha=..., a=..., b=...)``.

    Parameters (``params_``): r and alpha of the gamma purchase rates (alpha
    in the time unit of the data), a and b of the beta dropout
    probabilities. On the CDNOW 39-week summary the fit gives r = 0.243,
    alpha = 4.414, a = 0.793, b = 2.426 and log-likelihood -9582.4, the
    paper's values (a test checks them).

    When the data have their maximum on the boundary (customers who all buy
    at one rate, or all drop out with one probability), the fit returns the
    limit model: ``limit_`` says which and gives its parameters (``lambda``
    for a common purchase rate, ``p`` for a common dropout probability),
    ``params_`` holds ``inf`` (or 0) for the parameters that diverge, and a
    :class:`~crmkit.errors.BoundaryWarning` is issued. The result is the same
    whatever the optimiser's start.

    Fitted attributes (reading one before ``fit`` raises
    :class:`~crmkit.errors.NotFittedError`): ``params_`` (also set by
    ``from_params``), ``log_likelihood_``, ``limit_``,
    ``standard_errors_``, ``covariance_``, ``n_customers_``.
    """

    param_names = ("r", "alpha", "a", "b")
    label = "BG/NBD"
    probability_params = frozenset({"p", "share"})

    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        weights: Any = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> BetaGeo:
        """Maximum likelihood on per-customer (or compressed, weighted) ``frequency, recency, T``.

        ``initial_params`` (the model's parameters by name) sets the
        optimiser's start; the maximum found does not depend on it.
        """
        x, tx, t, w = transactions(frequency, recency, T, weights, model=self.label)
        mean_rate = (dot(w, x) / dot(w, t)) or 1.0

        def closed() -> tuple[tuple[Any, ...], Array]:
            mx, mtx, mt, mw = merge_duplicates(x, tx, t, w)
            return self._extended_data(mx, mtx, mt), mw

        data, sorted_w = self._fit_data(x, tx, t, w)
        start = self._start(initial_params, np.array([1.0, 1.0 / mean_rate, 1.0, 1.0]))
        self._maximise(data, sorted_w, start, closed)
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

    has_hessian = True

    def _hessian(self, theta: Array, data: tuple[Any, ...], weights: Array) -> Array:
        """Analytic Hessian of the weighted log-likelihood (the data of ``fit``).

        With log L = A1 + A2 + log(1 + e^D) for a customer with repeat
        purchases (D = A3 - A2, s = expit(D)), the Hessian is
        A1'' + A2'' + s D'' + s (1 - s) D' D'^T. The terms in a and b depend
        on x alone (trigamma once per distinct x, as ``zeta(2, .)``); per row
        remain the logs, divisions and shares of the gradient. Checked
        against central differences of the analytic gradient in the tests.
        """
        from scipy.special import betaln, expit, zeta

        r, alpha, a, b = theta
        x, tx, T, ux, idx, t0, _, _ = data
        npos = x.shape[0]
        wp, w0 = weights[:npos], weights[npos:]
        wx = np.bincount(idx, weights=wp, minlength=ux.size)
        total = float(weights.sum())
        i_t, i_tx, i_t0 = 1 / (alpha + T), 1 / (alpha + tx), 1 / (alpha + t0)
        diff = np.log(alpha + tx) - np.log(alpha + T)
        i_diff = i_tx - i_t
        rx = r + x
        s = expit((betaln(a + 1, b + ux - 1) - betaln(a, b + ux))[idx] - rx * diff)
        ws = wp * s
        wsp = ws * (1 - s)
        s_x = np.bincount(idx, weights=ws, minlength=ux.size)  # sum w s per x
        sp_x = np.bincount(idx, weights=wsp, minlength=ux.size)  # sum w s (1 - s) per x
        sp_diff = np.bincount(idx, weights=wsp * diff, minlength=ux.size)
        sp_rid = np.bincount(idx, weights=wsp * rx * i_diff, minlength=ux.size)
        # D's derivatives in a and b: digamma(a + 1) - digamma(a) = 1 / a and
        # digamma(b + x - 1) - digamma(b + x) = -1 / (b + x - 1); their own derivatives
        # -1 / a^2 and 1 / (b + x - 1)^2; none across a and b.
        d_a = 1 / a
        d_b = -1 / (b + ux - 1)
        c2_aa = zeta(2, a + b) - zeta(2, a + b + ux)  # A2's second derivative in a, and in a, b
        c2_bb = zeta(2, b + ux) - float(zeta(2, b)) + c2_aa
        sum_c2_aa = dot(wx, c2_aa)
        h = np.empty((4, 4))
        h[0, 0] = (
            dot(wx, zeta(2, r + ux)) - float(wx.sum()) * float(zeta(2, r)) + dot(wsp, diff * diff)
        )
        h[0, 1] = (
            total / alpha
            - dot(wp, i_t)
            - dot(w0, i_t0)
            - dot(ws, i_diff)
            + dot(wsp * rx, diff * i_diff)
        )
        h[1, 1] = (
            -total * r / alpha**2
            + dot(wp * rx, i_t * i_t)
            + r * dot(w0, i_t0 * i_t0)
            + dot(ws * rx, i_tx * i_tx - i_t * i_t)
            + dot(wsp * rx * rx, i_diff * i_diff)
        )
        h[0, 2] = -float(sp_diff.sum()) * d_a
        h[0, 3] = -dot(sp_diff, d_b)
        h[1, 2] = -float(sp_rid.sum()) * d_a
        h[1, 3] = -dot(sp_rid, d_b)
        h[2, 2] = sum_c2_aa + (float(sp_x.sum()) - float(s_x.sum())) * d_a * d_a
        h[2, 3] = sum_c2_aa + d_a * dot(sp_x, d_b)
        h[3, 3] = dot(wx, c2_bb) + dot(s_x + sp_x, d_b * d_b)
        lower = np.tril_indices(4, -1)
        h[lower] = h.T[lower]
        return h

    # -- the closed parameter space ------------------------------------------------------------
    def _extended_data(self, *columns: Array) -> tuple[Any, ...]:
        x, tx, t = columns
        return (
            np.asarray(x).astype(np.int64),
            np.asarray(tx, dtype=float),
            np.asarray(t, dtype=float),
        )

    def _coordinates(self, data: tuple[Any, ...], weights: Array) -> tuple[Coordinate, ...]:
        x, _, t = data
        rate = math.log((dot(weights, x) / dot(weights, t)) or 1.0)
        return (
            Coordinate("log_lambda", rate - 30, rate + 30),
            Coordinate("kappa", 0.0, _KAPPA_MAX, near_lower=1e-2, near_upper=1e3),
            Coordinate("m", _EDGE, 1 - _EDGE, near_lower=1e-4, near_upper=1 - 1e-4),
            Coordinate("rho", 0.0, 1 - _EDGE, near_lower=1e-2, near_upper=1 - 1e-3),
        )

    def _to_phi(self, theta: Array) -> Array:
        r, alpha, a, b = theta
        mean, kappa = gamma_coords(r, alpha)
        return np.array([math.log(mean), kappa, *beta_coords(a, b)])

    def _natural(self, phi: Array) -> dict[str, float]:
        log_mean, kappa, m, rho = phi.tolist()
        r, alpha = gamma_natural(math.exp(log_mean), kappa)
        if m == 0:
            a, b = 0.0, math.inf  # p = 0 for everyone
        elif m == 1:
            a, b = math.inf, 0.0  # p = 1 for everyone
        else:
            a, b = beta_natural(m, rho)  # inf at rho = 0, 0 at rho = 1
        return {"r": r, "alpha": alpha, "a": a, "b": b}

    def _settle(self, phi: Array, at_lower: set[str], at_upper: set[str]) -> set[str]:
        if "kappa" in at_upper:
            raise ConvergenceError(
                f"{self.label} fit ran to r -> 0, which no data with repeat purchases support; "
                "check the frequency, recency and T columns"
            )
        if "m" in at_lower:  # nobody drops out (p = 0 exactly): the spread of p is moot
            phi[2], phi[3] = 0.0, 0.0
            return {"rho"}
        if "m" in at_upper:  # everybody drops out at the first chance (p = 1)
            phi[2], phi[3] = 1.0, 0.0
            return {"rho"}
        if "rho" in at_upper:  # polarised: p is 0 or 1
            phi[3] = 1.0
        return set()

    def _report(self, phi: Array, fixed: frozenset[str]) -> dict[str, float]:
        log_mean, kappa, m, rho = phi.tolist()
        mean = math.exp(log_mean)
        out = (
            {"lambda": mean} if "kappa" in fixed else {"r": 1 / kappa, "alpha": 1 / (kappa * mean)}
        )
        if "m" in fixed:
            return out  # p = 0 or 1 for everyone: nothing left to estimate
        if "rho" not in fixed:
            s = (1 - rho) / rho
            out.update(a=m * s, b=(1 - m) * s)
        else:
            out["p" if rho == 0 else "share"] = m
        return out

    def _describe(self, phi: Array, fixed: frozenset[str]) -> BoundaryLimit | None:
        log_mean, _, m, rho = phi.tolist()
        parts, diverging = [], []
        if "kappa" in fixed:
            parts.append(
                f"every customer buys at the same rate while active (lambda = {math.exp(log_mean):.4g} "
                "per time unit)"
            )
            diverging += ["r", "alpha"]
        if "m" in fixed:
            parts.append(
                "no customer drops out (p = 0)"
                if m == 0
                else "every customer drops out after the first repeat purchase (p = 1)"
            )
            diverging += ["a", "b"]
        elif "rho" in fixed:
            if rho == 0:
                parts.append(
                    f"the dropout probability is the same for every customer (p = {m:.4g})"
                )
            else:
                parts.append(
                    f"the dropout probabilities polarise: a share {m:.4g} of customers drop out "
                    "at their first chance, the others never"
                )
            diverging += ["a", "b"]
        if not parts:
            return None
        return BoundaryLimit("; ".join(parts), tuple(diverging), self._report(phi, fixed))

    def _extended_rows(self, phi: Array, data: tuple[Any, ...]) -> Array:
        return self._extended_terms(phi, data)[0]

    def _extended_terms(
        self, phi: Array, data: tuple[Any, ...]
    ) -> tuple[Array, Array, Array, BetaMix, Array]:
        """Per row: log L, the alive term A and the dropped-out term D (log L = logaddexp(A, D))."""
        x, tx, t = data
        mean, kappa, m, rho = math.exp(phi[0]), phi[1], phi[2], phi[3]
        mix = BetaMix(m, rho, int(x.max(initial=0)) + 1)
        prev = np.maximum(x - 1, 0)
        alive = mix.log_ratio(0, x) + gamma_poisson_log(x, t, mean, kappa)
        with np.errstate(divide="ignore"):
            dead = np.where(
                x > 0, mix.log_ratio(1, prev) + gamma_poisson_log(x, tx, mean, kappa), -np.inf
            )
        return np.logaddexp(alive, dead), alive, dead, mix, prev

    def _extended_objective(
        self, phi: Array, data: tuple[Any, ...], weights: Array
    ) -> tuple[float, Array]:
        """The weighted log-likelihood on the closed space and its analytic gradient."""
        x, tx, t = data
        mean, kappa = math.exp(phi[0]), phi[1]
        ll, alive, dead, mix, prev = self._extended_terms(phi, data)
        with np.errstate(invalid="ignore", over="ignore"):
            w_alive = weights * np.exp(alive - ll)
            w_dead = weights * np.exp(dead - ll)
        w_alive, w_dead = np.nan_to_num(w_alive), np.nan_to_num(w_dead)
        gl_t, gk_t = gamma_poisson_grad(x, t, mean, kappa)
        gl_x, gk_x = gamma_poisson_grad(x, tx, mean, kappa)
        am, ar = mix.d_log_ratio(0, x)
        dm, dr = mix.d_log_ratio(1, prev)
        # On the boundary (m = 0, rho = 1) a derivative can be infinite where its weight is 0;
        # the NaN it makes is in a coordinate held on the bound, never used.
        with np.errstate(invalid="ignore"):
            grad = np.array(
                [
                    dot(w_alive, gl_t) + dot(w_dead, gl_x),
                    dot(w_alive, gk_t) + dot(w_dead, gk_x),
                    dot(w_alive, am) + dot(w_dead, dm),
                    dot(w_alive, ar) + dot(w_dead, dr),
                ]
            )
            return dot(weights, ll), grad

    # -- predictions --------------------------------------------------------------------------
    def _expected_while_alive(self, phi: Array, t: Array, x: Array, T: Array) -> Array:
        """E[purchases in the next t | alive, x repeat purchases in T] at a limit model.

        Given x and T the purchase rate has a gamma posterior (mean
        lambda (1 + x kappa) / (1 + kappa lambda T), kappa / (1 + x kappa))
        and p a Beta(a, b + x) one; an active customer with rate lambda and
        dropout probability p makes ``(1 - exp(-lambda p t)) / p`` purchases
        in t on average. With one p for everyone that is closed; with a
        common rate lambda it is ``sum_k E[(1 - p)^k | x] P(N > k)``,
        N ~ Poisson(lambda t) (the purchases an immortal customer would make;
        each survives the k before it with probability (1 - p)^k).
        """
        from scipy.special import pdtrc

        mean, kappa, m, rho = math.exp(phi[0]), phi[1], phi[2], phi[3]
        post_mean = mean * (1 + x * kappa) / (1 + kappa * mean * T)
        post_kappa = kappa / (1 + x * kappa)
        if m == 0:  # nobody drops out
            return post_mean * t
        if rho == 0:
            survive = np.exp(-log1p_ratio_array(post_kappa, post_mean * m * t))
            return (1 - survive) / m
        if rho == 1:  # polarised: after a repeat purchase only p = 0 customers remain
            stay = post_mean * t
            gone = 1 - np.exp(-log1p_ratio_array(post_kappa, post_mean * t))
            return np.where(x > 0, stay, m * gone + (1 - m) * stay)
        # kappa == 0 here (an interior point never reaches this function): Poisson(lambda t).
        c = mean * np.broadcast_to(t, np.broadcast(t, x).shape).astype(float)
        top = int(np.max(c, initial=0.0) + 12 * np.sqrt(np.max(c, initial=0.0)) + 40)
        xi = np.broadcast_to(x, c.shape).astype(np.int64)
        mix = BetaMix(m, rho, int(xi.max(initial=0)) + top + 2)
        base = mix.log_ratio(0, xi)
        total = np.zeros(c.shape)
        for k in range(top):  # a loop over purchase counts, vectorised over customers
            total += np.exp(mix.log_ratio(0, xi + k) - base) * pdtrc(k, c)
        return total

    def expected_purchases(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """E[X(t)]: expected purchases in (0, t] of a customer just acquired (FHL 2005, eq. 9)."""
        from scipy.special import hyp2f1

        from crmkit.value._predict import as_times

        tt = as_times(t, "t")
        if self._on_limit(params):
            zero = np.zeros_like(tt)
            return self._expected_while_alive(self._phi_of(None), tt, zero, zero)
        r, alpha, a, b = self._theta(params)
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
        """P(active at T | x, t_x, T) (FHL 2008 note, eq. 1), on the closed space (limits included).

        ``1 / (1 + B(a + 1, b + x - 1) / B(a, b + x) * ((alpha + T) / (alpha + t_x))^(r + x))``
        for x > 0, 1 for x = 0.
        """
        from scipy.special import expit

        phi = self._phi_of(params)
        x, tx, t = _customers(frequency, recency, T)
        xi = x.astype(np.int64)
        mean, kappa = math.exp(phi[0]), phi[1]
        top = int(xi.max(initial=0))
        mix = BetaMix(phi[2], phi[3], top + 1)
        counts = np.arange(top + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            # The beta terms depend on x alone: once per count, then one gather per customer.
            by_count = mix.log_ratio(1, np.maximum(counts - 1, 0)) - mix.log_ratio(0, counts)
            log_odds = by_count[xi] + gamma_poisson_log_ratio(xi, tx, t, mean, kappa)
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
        finite for customers with hundreds of purchases. A limit model uses
        the limit of the formula (see :meth:`_expected_while_alive`).
        """
        from scipy.special import hyp2f1

        from crmkit.value._predict import as_times, one_shape

        x, tx, T_ = _customers(frequency, recency, T)
        tt = as_times(t, "t")
        one_shape(t=tt, frequency=x)
        alive = self.probability_alive(x, tx, T_, params=params)
        if self._on_limit(params):
            return alive * self._expected_while_alive(self._phi_of(None), tt, x, T_)
        r, alpha, a, b = self._theta(params)
        z = tt / (alpha + T_ + tt)
        with np.errstate(all="ignore"):
            bracket = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
            head = (a + b + x - 1) / (a - 1) * bracket
            out = head * alive
        return _finite(out, "conditional_expected_purchases")

    def probability_of_purchases(
        self, t: Any, n: Any, *, params: dict[str, float] | None = None
    ) -> Array:
        """P(X(t) = n) for a customer just acquired (FHL 2005, eq. 8), limits included.

        ``B(a, b + n) / B(a, b) NB(n) + [n > 0] B(a + 1, b + n - 1) / B(a, b) P(N >= n)``,
        N the negative binomial count of an immortal customer (Poisson when
        every customer buys at one rate).
        """
        from scipy.special import betainc, gammaln, pdtr

        from crmkit.value._predict import as_counts, as_times, one_shape

        phi = self._phi_of(params)
        tt = as_times(t, "t")
        nn = as_counts(n, "n")
        one_shape(t=tt, n=nn)
        mean, kappa = math.exp(phi[0]), phi[1]
        ni = nn.astype(np.int64)
        mix = BetaMix(phi[2], phi[3], int(np.max(ni, initial=0)) + 1)
        # P(N = n) = t^n / n! E[lambda^n exp(-lambda t)]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t: Array = np.where(ni > 0, ni * np.log(tt), 0.0)
        log_pmf = gamma_poisson_log(ni, tt, mean, kappa) + log_t - gammaln(ni + 1.0)
        k = np.maximum(ni - 1, 0).astype(float)  # P(N <= n - 1); only read where n > 0
        if kappa == 0:
            below = pdtr(k, mean * tt)
        else:  # the negative binomial's distribution function, I_p(r, k + 1)
            below = betainc(1 / kappa, k + 1, 1 / (1 + kappa * mean * tt))
        with np.errstate(divide="ignore"):
            first = np.exp(mix.log_ratio(0, ni) + log_pmf)
            second = np.where(
                ni > 0, np.exp(mix.log_ratio(1, np.maximum(ni - 1, 0))) * (1 - below), 0.0
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
        per customer (a limit model draws its common rate or probability);
        the number of purchases before dropping out is geometric; purchases
        are a Poisson process, so the time of the x-th of N purchases in
        (0, T] is T times a Beta(x, N - x + 1) draw.
        """
        from crmkit.value._predict import as_times

        phi = self._phi_of(params)
        mean, kappa, m, rho = math.exp(phi[0]), phi[1], phi[2], phi[3]
        rng = rng_of(seed)
        t = np.broadcast_to(as_times(T, "T"), np.shape(as_times(T, "T"))).astype(float)
        lam = np.full(t.shape, mean) if kappa == 0 else rng.gamma(1 / kappa, kappa * mean, t.shape)
        if rho == 0:
            p = np.full(t.shape, m)
        elif rho == 1:
            p = (rng.random(t.shape) < m).astype(float)
        else:
            a, b = beta_natural(m, rho)
            p = rng.beta(a, b, size=t.shape)
        n = rng.poisson(lam * t)
        # purchases until (and including) the one after which they drop out
        d = np.where(p > 0, rng.geometric(np.maximum(p, 1e-300)), np.iinfo(np.int64).max)
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
