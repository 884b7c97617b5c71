"""Discrete-time models: shifted-beta-geometric (contractual) and BG/BB (non-contractual).

* sBG (Fader & Hardie 2007, "How to project customer retention", Journal of
  Interactive Marketing 21(1)): each customer renews each period with a
  constant probability 1 - theta, theta ~ Beta(alpha, beta) across
  customers. P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta),
  S(t) = B(alpha, beta + t) / B(alpha, beta), retention
  r(t) = (beta + t - 1) / (alpha + beta + t - 1).
* BG/BB (Fader, Hardie & Shang 2010, "Customer-base analysis in a
  discrete-time noncontractual setting", Marketing Science 29(6)): at each
  of n opportunities an alive customer transacts with probability
  p ~ Beta(alpha, beta) and, between opportunities, dies with probability
  theta ~ Beta(gamma, delta).

Every term of both likelihoods is a ratio ``B(a + i, b + j) / B(a, b)`` with
whole i and j, which :class:`~crmkit.value._mixing.BetaMix` evaluates on the
closed parameter space (mean m = a / (a + b), rho = 1 / (a + b + 1)), the
boundary included: rho = 0 is a probability shared by every customer, rho =
1 the polarised limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from crmkit.errors import InsufficientData, ValidationError
from crmkit.value._fitting import Array, BoundaryLimit, Coordinate, Model, rng_of, transactions
from crmkit.value._mixing import BetaMix, beta_coords, beta_natural

_EDGE = 1e-10


def _beta_coordinates(prefix: str = "") -> tuple[Coordinate, Coordinate]:
    return (
        Coordinate(f"{prefix}m", _EDGE, 1 - _EDGE, near_lower=1e-4, near_upper=1 - 1e-4),
        Coordinate(f"{prefix}rho", 0.0, 1 - _EDGE, near_lower=1e-2, near_upper=1 - 1e-3),
    )


def _settle_beta(phi: Array, i: int, name: str, at_lower: set[str], at_upper: set[str]) -> set[str]:
    """Exact limits of the beta at ``phi[i], phi[i + 1]`` (m, rho): a certain 0 or 1, or polarised."""
    if f"{name}m" in at_lower | at_upper:
        phi[i], phi[i + 1] = (0.0 if f"{name}m" in at_lower else 1.0), 0.0
        return {f"{name}rho"}
    if f"{name}rho" in at_upper:
        phi[i + 1] = 1.0
    return set()


def _beta_natural(m: float, rho: float) -> tuple[float, float]:
    if m in (0.0, 1.0):
        return (0.0, math.inf) if m == 0 else (math.inf, 0.0)
    return beta_natural(m, rho)


__all__ = ["BetaGeoBetaBinom", "ShiftedBetaGeo"]


class ShiftedBetaGeo(Model):
    """sBG: ``ShiftedBetaGeo().fit([1000, 631, 468, ...])`` on a cohort's customers alive at periods 0, 1, ...

    Reproduces Fader & Hardie (2007): 'regular' 1000, 631, 468, 382, 326,
    289, 262, 241 give alpha = 0.704, beta = 1.182; 'high end' 1000, 869,
    743, 653, 593, 551, 517, 491 give alpha = 0.668, beta = 3.806.

    Fitted attributes (reading one before ``fit`` raises
    :class:`~crmkit.errors.NotFittedError`): ``params_`` (also set by
    ``from_params``), ``log_likelihood_``, ``limit_``,
    ``standard_errors_``, ``covariance_``, ``n_customers_``.
    """

    param_names = ("alpha", "beta")
    label = "shifted-beta-geometric"
    probability_params = frozenset({"theta", "share"})

    def fit(
        self,
        survivors: Any,
        *,
        weights: Any = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> ShiftedBetaGeo:
        """Maximum likelihood on the numbers alive at the start (period 0) and after each period.

        ``survivors`` is one cohort's counts, or several cohorts' (a list of
        count sequences, of any lengths, or a 2-D array with a cohort per
        row): the cohorts share the parameters and their log-likelihoods
        add up, each multiplied by its entry of ``weights`` (default 1). When
        every customer churns with one probability the fit is the limit
        model (``limit_``, a :class:`~crmkit.errors.BoundaryWarning`).
        ``initial_params`` (alpha, beta) sets the optimiser's start.
        """
        from crmkit._validation import as_weights

        cohorts = _cohorts(survivors)
        w = as_weights(weights, "weights", len(cohorts))
        horizon = max(c.shape[0] for c in cohorts) - 1
        # Churned in period t (t = 1..horizon) and still alive after t periods, summed over
        # the cohorts with their weights: rows (t, survived) with a count each.
        lost = np.zeros(horizon + 1)
        alive_at_end = np.zeros(horizon + 1)
        for weight, alive in zip(w, cohorts, strict=True):  # a loop over cohorts, not customers
            n = alive.shape[0] - 1
            lost[1 : n + 1] += weight * (alive[:-1] - alive[1:])
            alive_at_end[n] += weight * alive[-1]
        if lost.sum() == 0 or (alive_at_end.sum() == 0 and (lost > 0).sum() < 2):
            raise InsufficientData(
                "the counts carry too little information: nobody (or everybody at once) churned"
            )
        t = np.arange(horizon + 1, dtype=float)
        periods = np.concatenate((t[1:], t))
        survived = np.concatenate((np.zeros(horizon), np.ones(horizon + 1)))
        counts = np.concatenate((lost[1:], alive_at_end))
        keep = counts > 0
        data = (periods[keep], survived[keep])

        def closed() -> tuple[tuple[Any, ...], Array]:
            return (periods[keep].astype(np.int64), survived[keep] > 0), counts[keep]

        self._maximise(
            data, counts[keep], self._start(initial_params, np.array([1.0, 1.0])), closed
        )
        return self

    # -- the closed parameter space ------------------------------------------------------------
    def _coordinates(self, data: tuple[Any, ...], weights: Array) -> tuple[Coordinate, ...]:
        return _beta_coordinates()

    def _to_phi(self, theta: Array) -> Array:
        return np.array(beta_coords(*theta))

    def _natural(self, phi: Array) -> dict[str, float]:
        return dict(zip(self.param_names, _beta_natural(*phi.tolist()), strict=True))

    def _settle(self, phi: Array, at_lower: set[str], at_upper: set[str]) -> set[str]:
        return _settle_beta(phi, 0, "", at_lower, at_upper)

    def _report(self, phi: Array, fixed: frozenset[str]) -> dict[str, float]:
        m, rho = phi.tolist()
        if "m" in fixed:
            return {}
        if "rho" in fixed:
            return {"theta" if rho == 0 else "share": m}
        return self._natural(phi)

    def _describe(self, phi: Array, fixed: frozenset[str]) -> BoundaryLimit | None:
        m, rho = phi.tolist()
        if "m" in fixed:
            text = "every customer churns in the first period" if m == 1 else "no customer churns"
        elif rho == 0:
            text = f"every customer churns with the same probability each period (theta = {m:.4g})"
        elif rho == 1:
            text = f"a share {m:.4g} of the cohort churns in the first period, the others never"
        else:
            return None
        return BoundaryLimit(text, ("alpha", "beta"), self._report(phi, fixed))

    def _extended_rows(self, phi: Array, data: tuple[Any, ...]) -> Array:
        t, survived = data
        mix = BetaMix(phi[0], phi[1], int(t.max(initial=0)) + 1)
        with np.errstate(divide="ignore"):
            return np.where(survived, mix.log_ratio(0, t), mix.log_ratio(1, np.maximum(t - 1, 0)))

    def _limit_churn(self) -> tuple[float, bool]:
        """(m, polarised) of the fitted limit model: theta = m for everyone, or 0 / 1 by share."""
        m, rho = self._phi_of(None).tolist()
        return m, rho == 1

    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import betaln

        a, b = theta
        t, survived = data
        churn = betaln(a + 1, b + t - 1) - betaln(a, b)
        alive = betaln(a, b + t) - betaln(a, b)
        return np.where(survived > 0, alive, churn)

    has_gradient = True

    def _gradient(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import digamma

        a, b = theta
        t, survived = data
        d_ab = digamma(a + b)
        g_a = np.where(
            survived > 0,
            digamma(a) - digamma(a + b + t) - digamma(a) + d_ab,
            digamma(a + 1) - digamma(a + b + t) - digamma(a) + d_ab,
        )
        g_b = np.where(
            survived > 0,
            digamma(b + t) - digamma(a + b + t) - digamma(b) + d_ab,
            digamma(b + t - 1) - digamma(a + b + t) - digamma(b) + d_ab,
        )
        return np.vstack([g_a, g_b])

    def survival(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): the share still customers after t periods.

        The limit models: ``(1 - theta)^t`` with one churn probability; ``1 - share`` after the
        first period when the cohort polarises.
        """
        from scipy.special import betaln

        from crmkit.value._predict import as_times

        tt = as_times(t, "t")
        if self._on_limit(params):
            m, polar = self._limit_churn()
            return np.where(tt > 0, 1 - m, 1.0) if polar else (1 - m) ** tt
        a, b = self._theta(params)
        return np.exp(betaln(a, b + tt) - betaln(a, b))

    def retention(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """r(t) = (beta + t - 1) / (alpha + beta + t - 1): the renewal rate in period t >= 1 (it rises with t)."""
        from crmkit.value._predict import as_times

        tt = as_times(t, "t")
        if (tt < 1).any():
            raise ValidationError([("t", "must be >= 1 (the first renewal is at t = 1)")])
        if self._on_limit(params):
            m, polar = self._limit_churn()
            return np.where(tt < 2, 1 - m, 1.0) if polar else np.full(tt.shape, 1 - m)
        a, b = self._theta(params)
        return (b + tt - 1) / (a + b + tt - 1)

    def churn_probability(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta): the share lost in period t >= 1."""
        from scipy.special import betaln

        from crmkit.value._predict import as_counts

        tt = as_counts(t, "t")
        if (tt < 1).any():
            raise ValidationError([("t", "must be >= 1")])
        if self._on_limit(params):
            m, polar = self._limit_churn()
            return np.where(tt < 2, m, 0.0) if polar else m * (1 - m) ** (tt - 1)
        a, b = self._theta(params)
        return np.exp(betaln(a + 1, b + tt - 1) - betaln(a, b))

    def derl(
        self, discount_rate: float, renewals: Any = 0, *, params: dict[str, float] | None = None
    ) -> Array:
        """Discounted expected residual lifetime (Fader & Hardie 2010, Marketing Science 29(1), eq. 6).

        For a customer who has made ``renewals`` renewals (n - 1 in the
        paper) and is about to decide on the next:
        ``DERL = B(alpha, beta + n) / B(alpha, beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``,
        the expected number of payments still to come, the next one
        undiscounted, each later one discounted by (1 + d) per period.
        Multiply by the margin per period for the residual value. With one
        churn probability theta it is ``(1 - theta)(1 + d) / (d + theta)``
        whatever the renewals (a geometric sum).
        """
        from scipy.special import hyp2f1

        from crmkit._args import number
        from crmkit.value._predict import as_counts

        discount_rate = number(discount_rate, "discount_rate", 0, 1e6, open_low=True)
        n = as_counts(renewals, "renewals") + 1
        d = float(discount_rate)
        if self._on_limit(params):
            m, polar = self._limit_churn()
            if polar:  # the survivors of the first period never churn
                return np.where(n > 1, (1 + d) / d, (1 - m) * (1 + d) / d)
            return np.full(n.shape, (1 - m) * (1 + d) / (d + m))
        a, b = self._theta(params)
        return (b + n - 1) / (a + b + n - 1) * hyp2f1(1.0, b + n, a + b + n, 1 / (1 + d))

    def simulate(
        self, size: int, periods: int, *, seed: Any = None, params: dict[str, float] | None = None
    ) -> dict[str, Array]:
        """A cohort of ``size`` drawn from the model: ``{"survivors": alive at periods 0..periods}``.

        The columns ``fit`` takes, as every model's ``simulate`` returns.
        """
        m, rho = self._phi_of(params).tolist()
        rng = rng_of(seed)
        if rho == 0:
            theta = np.full(size, m)
        elif rho == 1:
            theta = (rng.random(size) < m).astype(float)
        else:
            theta = rng.beta(*beta_natural(m, rho), size=size)
        # the period in which each customer churns (never, where theta = 0)
        lifetime = np.where(
            theta > 0, rng.geometric(np.maximum(theta, 1e-300)), np.iinfo(np.int64).max
        )
        # alive at period t: lifetime > t; count by lifetime, then sum the counts above each t
        churned = np.bincount(np.minimum(lifetime, periods + 1), minlength=periods + 2)
        alive = size - np.cumsum(churned)[: periods + 1]
        return {"survivors": alive.astype(float)}


class BetaGeoBetaBinom(Model):
    """BG/BB: ``BetaGeoBetaBinom().fit(frequency, recency, n_periods, weights=...)``.

    ``frequency`` is the number of transactions in the n opportunities,
    ``recency`` the opportunity of the last one (0 if none). On the donations
    data of Fader, Hardie & Shang (2010): alpha = 1.204, beta = 0.750,
    gamma = 0.657, delta = 2.783, log-likelihood -33,225.6.

    When the likelihood is highest on the boundary (one transaction
    probability p, or one dropout probability theta, for everyone) the fit
    returns the limit model (``limit_``, a
    :class:`~crmkit.errors.BoundaryWarning`).

    Fitted attributes (reading one before ``fit`` raises
    :class:`~crmkit.errors.NotFittedError`): ``params_`` (also set by
    ``from_params``), ``log_likelihood_``, ``limit_``,
    ``standard_errors_``, ``covariance_``, ``n_customers_``.
    """

    param_names = ("alpha", "beta", "gamma", "delta")
    label = "BG/BB"
    probability_params = frozenset({"p", "theta", "p_share", "theta_share"})

    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        n_periods: Any = None,
        *,
        weights: Any = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> BetaGeoBetaBinom:
        """Maximum likelihood on (x, t_x, n) rows, usually compressed with a weight each.

        ``initial_params`` (the model's parameters by name) sets the
        optimiser's start; the maximum found does not depend on it.
        """
        if isinstance(frequency, dict) and "periods" in frequency and "T" not in frequency:
            frequency = {**frequency, "T": frequency["periods"]}
        x, tx, n, w = transactions(
            frequency, recency, n_periods, weights, model=self.label, discrete=True
        )

        def closed() -> tuple[tuple[Any, ...], Array]:
            return self._extended_data(x, tx, n), w

        start = self._start(initial_params, np.array([1.0, 1.0, 1.0, 1.0]))
        self._maximise((x, tx, n), w, start, closed)
        return self

    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        from scipy.special import betaln, logsumexp

        a, b, g, d = theta
        x, tx, n = data
        b_ab, b_gd = betaln(a, b), betaln(g, d)
        alive = betaln(a + x, b + n - x) - b_ab + betaln(g, d + n) - b_gd
        i = np.arange(int(n.max()) if n.size else 0, dtype=float)[:, None]
        valid = i <= (n - tx - 1)
        died = np.where(
            valid,
            betaln(a + x, b + tx - x + i) - b_ab + betaln(g + 1, d + tx + i) - b_gd,
            -np.inf,
        )
        return logsumexp(np.vstack([alive[None, :], died]), axis=0)

    # -- the closed parameter space ------------------------------------------------------------
    def _extended_data(self, *columns: Array) -> tuple[Any, ...]:
        return tuple(np.asarray(c).astype(np.int64) for c in columns)

    def _coordinates(self, data: tuple[Any, ...], weights: Array) -> tuple[Coordinate, ...]:
        return (*_beta_coordinates("p_"), *_beta_coordinates("theta_"))

    def _to_phi(self, theta: Array) -> Array:
        a, b, g, d = theta
        return np.array([*beta_coords(a, b), *beta_coords(g, d)])

    def _natural(self, phi: Array) -> dict[str, float]:
        m_p, rho_p, m_t, rho_t = phi.tolist()
        values = (*_beta_natural(m_p, rho_p), *_beta_natural(m_t, rho_t))
        return dict(zip(self.param_names, values, strict=True))

    def _settle(self, phi: Array, at_lower: set[str], at_upper: set[str]) -> set[str]:
        return _settle_beta(phi, 0, "p_", at_lower, at_upper) | _settle_beta(
            phi, 2, "theta_", at_lower, at_upper
        )

    def _report(self, phi: Array, fixed: frozenset[str]) -> dict[str, float]:
        natural = self._natural(phi)
        out: dict[str, float] = {}
        for prefix, names, i in (("p", ("alpha", "beta"), 0), ("theta", ("gamma", "delta"), 2)):
            m, rho = float(phi[i]), float(phi[i + 1])
            if f"{prefix}_m" in fixed:
                continue
            if f"{prefix}_rho" in fixed:
                out[prefix if rho == 0 else f"{prefix}_share"] = m
            else:
                out.update({k: natural[k] for k in names})
        return out

    def _describe(self, phi: Array, fixed: frozenset[str]) -> BoundaryLimit | None:
        m_p, rho_p, m_t, rho_t = phi.tolist()
        parts, diverging = [], []
        if "p_m" in fixed:
            parts.append(f"every alive customer {'always' if m_p == 1 else 'never'} transacts")
            diverging += ["alpha", "beta"]
        elif "p_rho" in fixed:
            parts.append(
                f"every customer transacts with the same probability (p = {m_p:.4g})"
                if rho_p == 0
                else f"a share {m_p:.4g} of customers always transact, the others never"
            )
            diverging += ["alpha", "beta"]
        if "theta_m" in fixed:
            parts.append(
                "no customer drops out" if m_t == 0 else "every customer drops out at once"
            )
            diverging += ["gamma", "delta"]
        elif "theta_rho" in fixed:
            parts.append(
                f"every customer drops out with the same probability (theta = {m_t:.4g})"
                if rho_t == 0
                else f"a share {m_t:.4g} of customers drop out at once, the others never"
            )
            diverging += ["gamma", "delta"]
        if not parts:
            return None
        return BoundaryLimit("; ".join(parts), tuple(diverging), self._report(phi, fixed))

    def _mixes(self, phi: Array, size: int) -> tuple[BetaMix, BetaMix]:
        m_p, rho_p, m_t, rho_t = phi.tolist()
        return BetaMix(m_p, rho_p, size), BetaMix(m_t, rho_t, size)

    def _extended_rows(self, phi: Array, data: tuple[Any, ...]) -> Array:
        """``log [B_p(x, n - x) B_th(0, n) + sum_i B_p(x, t_x - x + i) B_th(1, t_x + i)]``, i < n - t_x.

        ``B_p(i, j)`` is ``B(alpha + i, beta + j) / B(alpha, beta)``, ``B_th`` the same for
        (gamma, delta) (FHS 2010, eq. 5).
        """
        from scipy.special import logsumexp

        x, tx, n = data
        top = int(n.max(initial=0))
        purchase, dropout = self._mixes(phi, top + 2)
        with np.errstate(divide="ignore"):
            alive = purchase.log_ratio(x, n - x) + dropout.log_ratio(0, n)
            i = np.arange(max(top, 1))[:, None]
            valid = i <= n - tx - 1
            ii = np.where(valid, i, 0)  # indices inside the tables where the term is absent
            died = np.where(
                valid,
                purchase.log_ratio(x, np.maximum(tx - x + ii, 0)) + dropout.log_ratio(1, tx + ii),
                -np.inf,
            )
        return logsumexp(np.vstack([alive[None, :], died]), axis=0)

    # -- predictions --------------------------------------------------------------------------
    def _rows(self, frequency: Any, recency: Any, n_periods: Any) -> tuple[Any, Any, Any]:
        from crmkit.value._predict import as_counts

        x, tx, n = (
            np.atleast_1d(as_counts(v, name)).astype(np.int64)
            for v, name in (
                (frequency, "frequency"),
                (recency, "recency"),
                (n_periods, "n_periods"),
            )
        )
        try:
            x, tx, n = np.broadcast_arrays(x, tx, n)
        except ValueError:
            raise ValidationError(
                [("recency", "frequency, recency and n_periods must have one shape")]
            ) from None
        if np.any((x > tx) | (tx > n)):
            raise ValidationError(
                [("recency", "must be whole periods with frequency <= recency <= n_periods")]
            )
        return x, tx, n

    def probability_alive(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """P(alive at n + 1 | x, t_x, n) = B_p(x, n - x) B_th(0, n + 1) / L (Fader, Hardie & Shang 2010, eq. 11)."""
        phi = self._phi_of(params)
        x, tx, n = self._rows(frequency, recency, n_periods)
        purchase, dropout = self._mixes(phi, int(n.max(initial=0)) + 3)
        ll = self._extended_rows(phi, (x, tx, n))
        with np.errstate(divide="ignore", invalid="ignore"):
            top = purchase.log_ratio(x, n - x) + dropout.log_ratio(0, n + 1)
        return np.exp(np.minimum(top - ll, 0.0))

    def expected_purchases(self, n: Any, *, params: dict[str, float] | None = None) -> Array:
        """E[X(n)] = E[p] sum_{t=1}^{n} E[(1 - theta)^t]: expected transactions in the first n opportunities (FHS 2010, eq. 7)."""
        from crmkit.value._predict import as_counts

        phi = self._phi_of(params)
        nn = as_counts(n, "n").astype(np.int64)
        _, dropout = self._mixes(phi, int(np.max(nn, initial=0)) + 2)
        alive = np.exp(dropout.log_ratio(0, np.arange(1, int(np.max(nn, initial=0)) + 1)))
        cumulative = np.concatenate(([0.0], np.cumsum(alive)))
        return float(phi[0]) * cumulative[nn]

    def conditional_expected_purchases(
        self,
        future: Any,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next ``future`` opportunities (FHS 2010, eq. 13).

        ``B_p(x + 1, n - x) / L * sum_{t=n+1}^{n+n*} B_th(0, t)``.
        """
        from crmkit.value._predict import as_counts

        phi = self._phi_of(params)
        m = as_counts(future, "future").astype(np.int64)
        x, tx, n = self._rows(frequency, recency, n_periods)
        top = int(np.max(n, initial=0) + np.max(m, initial=0)) + 3
        purchase, dropout = self._mixes(phi, top)
        ll = self._extended_rows(phi, (x, tx, n))
        alive = np.exp(dropout.log_ratio(0, np.arange(0, top - 1)))
        cumulative = np.concatenate(([0.0], np.cumsum(alive)))  # cumulative[k] = sum_{t<k}
        with np.errstate(divide="ignore", invalid="ignore"):
            head = np.exp(purchase.log_ratio(x + 1, n - x) - ll)
        return head * (cumulative[n + m + 1] - cumulative[n + 1])

    def simulate(
        self,
        n_customers: int,
        n_periods: int,
        *,
        seed: Any = None,
        params: dict[str, float] | None = None,
    ) -> dict[str, Array]:
        """Customers' (frequency, recency, n) over ``n_periods`` opportunities drawn from the model."""
        m_p, rho_p, m_t, rho_t = self._phi_of(params).tolist()
        rng = rng_of(seed)

        def draw(m: float, rho: float) -> Array:
            if rho == 0:
                return np.full(n_customers, m)
            if rho == 1:
                return (rng.random(n_customers) < m).astype(float)
            return rng.beta(*beta_natural(m, rho), size=n_customers)

        p, theta = draw(m_p, rho_p), draw(m_t, rho_t)
        alive = np.ones(n_customers, dtype=bool)
        x = np.zeros(n_customers, dtype=np.int64)
        tx = np.zeros(n_customers)
        for t in range(1, n_periods + 1):  # a loop over the few periods; customers are vectorised
            alive &= rng.random(n_customers) >= theta
            buy = alive & (rng.random(n_customers) < p)
            x += buy
            tx = np.where(buy, float(t), tx)
        return {"frequency": x, "recency": tx, "n_periods": np.full(n_customers, float(n_periods))}


def _cohorts(survivors: Any) -> list[Array]:
    """One or more cohorts' survivor counts, checked: whole numbers >= 0 that never grow."""
    from crmkit._validation import _positions, as_finite

    if isinstance(survivors, np.ndarray) and survivors.ndim == 2:
        rows: list[Any] = list(survivors)
    elif isinstance(survivors, (list, tuple)) and any(
        isinstance(c, (list, tuple, np.ndarray)) for c in survivors
    ):
        rows = list(survivors)
    else:
        rows = [survivors]
    if not rows:
        raise InsufficientData("survivors holds no cohort")
    out = []
    for i, row in enumerate(rows):
        name = "survivors" if len(rows) == 1 else f"survivors[{i}]"
        alive = as_finite(row, name)
        if alive.shape[0] < 2:
            raise InsufficientData(f"{name} needs the cohort size and at least one later count")
        problems = []
        if (alive != np.round(alive)).any() or (alive < 0).any():
            problems.append((name, "must be whole numbers >= 0"))
        grows = np.concatenate(([False], alive[1:] > alive[:-1]))
        if grows.any():
            problems.append((name, f"must not grow; positions {_positions(grows)} do"))
        if problems:
            raise ValidationError(problems)
        out.append(alive)
    return out
