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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmkit.errors import InsufficientData, ValidationError
from crmkit.value._fitting import Array, Model, rng_of, transactions

__all__ = ["BetaGeoBetaBinom", "ShiftedBetaGeo"]


class ShiftedBetaGeo(Model):
    """sBG: ``ShiftedBetaGeo().fit([1000, 631, 468, ...])`` on a cohort's customers alive at periods 0, 1, ...

    Reproduces Fader & Hardie (2007): 'regular' 1000, 631, 468, 382, 326,
    289, 262, 241 give alpha = 0.704, beta = 1.182; 'high end' 1000, 869,
    743, 653, 593, 551, 517, 491 give alpha = 0.668, beta = 3.806.
    """

    param_names = ("alpha", "beta")
    label = "shifted-beta-geometric"

    def fit(self, survivors: Any) -> ShiftedBetaGeo:
        """Maximum likelihood on the numbers alive at the start (period 0) and after each period."""
        from crmkit._validation import _positions, as_finite

        alive = as_finite(survivors, "survivors")
        if alive.shape[0] < 2:
            raise InsufficientData("survivors needs the cohort size and at least one later count")
        lost = alive[:-1] - alive[1:]
        problems = []
        if (alive != np.round(alive)).any() or (alive < 0).any():
            problems.append(("survivors", "must be whole numbers >= 0"))
        if (lost < 0).any():
            problems.append(
                (
                    "survivors",
                    f"must not grow; positions {_positions(np.concatenate(([False], lost < 0)))} do",
                )
            )
        if problems:
            raise ValidationError(problems)
        if lost.sum() == 0 or (alive[-1] == 0 and (lost > 0).sum() < 2):
            raise InsufficientData(
                "the counts carry too little information: nobody (or everybody at once) churned"
            )
        n = alive.shape[0] - 1
        periods = np.concatenate((np.arange(1, n + 1, dtype=float), [float(n)]))
        survived = np.concatenate((np.zeros(n), [1.0]))
        counts = np.concatenate((lost, [alive[-1]]))
        keep = counts > 0
        self._maximise((periods[keep], survived[keep]), counts[keep], np.array([1.0, 1.0]))
        return self

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
        """S(t) = B(alpha, beta + t) / B(alpha, beta): the share still customers after t periods."""
        from scipy.special import betaln

        from crmkit.value._predict import as_times

        a, b = self._theta(params)
        tt = as_times(t, "t")
        return np.exp(betaln(a, b + tt) - betaln(a, b))

    def retention(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """r(t) = (beta + t - 1) / (alpha + beta + t - 1): the renewal rate in period t >= 1 (it rises with t)."""
        from crmkit.value._predict import as_times

        a, b = self._theta(params)
        tt = as_times(t, "t")
        if (tt < 1).any():
            raise ValidationError([("t", "must be >= 1 (the first renewal is at t = 1)")])
        return (b + tt - 1) / (a + b + tt - 1)

    def churn_probability(self, t: Any, *, params: dict[str, float] | None = None) -> Array:
        """P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta): the share lost in period t >= 1."""
        from scipy.special import betaln

        from crmkit.value._predict import as_counts

        a, b = self._theta(params)
        tt = as_counts(t, "t")
        if (tt < 1).any():
            raise ValidationError([("t", "must be >= 1")])
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
        Multiply by the margin per period for the residual value.
        """
        from scipy.special import hyp2f1

        from crmkit.value._predict import as_counts

        a, b = self._theta(params)
        if not (isinstance(discount_rate, (int, float)) and discount_rate > 0):
            raise ValidationError(
                [("discount_rate", f"must be a number > 0, got {discount_rate!r}")]
            )
        n = as_counts(renewals, "renewals") + 1
        return (
            (b + n - 1) / (a + b + n - 1) * hyp2f1(1.0, b + n, a + b + n, 1 / (1 + discount_rate))
        )

    def simulate(
        self, size: int, periods: int, *, seed: Any = None, params: dict[str, float] | None = None
    ) -> Array:
        """Customers alive at periods 0..``periods`` of a cohort of ``size`` drawn from the model."""
        a, b = self._theta(params)
        rng = rng_of(seed)
        theta = rng.beta(a, b, size=size)
        lifetime = rng.geometric(theta)  # the period in which each customer churns
        return np.array([(lifetime > t).sum() for t in range(periods + 1)], dtype=float)


class BetaGeoBetaBinom(Model):
    """BG/BB: ``BetaGeoBetaBinom().fit(frequency, recency, n_periods, weights=...)``.

    ``frequency`` is the number of transactions in the n opportunities,
    ``recency`` the opportunity of the last one (0 if none). On the donations
    data of Fader, Hardie & Shang (2010): alpha = 1.204, beta = 0.750,
    gamma = 0.657, delta = 2.783, log-likelihood -33,225.6.
    """

    param_names = ("alpha", "beta", "gamma", "delta")
    label = "BG/BB"

    def fit(
        self, frequency: Any, recency: Any = None, n_periods: Any = None, *, weights: Any = None
    ) -> BetaGeoBetaBinom:
        """Maximum likelihood on (x, t_x, n) rows, usually compressed with a weight each."""
        if isinstance(frequency, dict) and "periods" in frequency and "T" not in frequency:
            frequency = {**frequency, "T": frequency["periods"]}
        x, tx, n, w = transactions(
            frequency, recency, n_periods, weights, model=self.label, discrete=True
        )
        self._maximise((x, tx, n), w, np.array([1.0, 1.0, 1.0, 1.0]))
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

    def probability_alive(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """P(alive at n + 1 | x, t_x, n) (Fader, Hardie & Shang 2010, eq. 11)."""
        from scipy.special import betaln

        a, b, g, d = self._theta(params)
        x, tx, n = (np.asarray(v, dtype=float) for v in (frequency, recency, n_periods))
        ll = self._loglik(
            self._theta(params), (np.atleast_1d(x), np.atleast_1d(tx), np.atleast_1d(n))
        )
        top = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + 1) - betaln(g, d)
        return np.exp(top - ll)

    def expected_purchases(self, n: Any, *, params: dict[str, float] | None = None) -> Array:
        """E[X(n)]: expected transactions in the first n opportunities (FHS 2010, eq. 7)."""
        from scipy.special import gammaln

        from crmkit.value._predict import as_counts

        a, b, g, d = self._theta(params)
        nn = as_counts(n, "n")
        ratio = np.exp(gammaln(g + d) + gammaln(1 + d + nn) - gammaln(g + d + nn) - gammaln(1 + d))
        return a / (a + b) * d / (g - 1) * (1 - ratio)

    def conditional_expected_purchases(
        self,
        future: Any,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        *,
        params: dict[str, float] | None = None,
    ) -> Array:
        """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next ``future`` opportunities (FHS 2010, eq. 13)."""
        from scipy.special import betaln, gammaln

        from crmkit.value._predict import as_counts

        theta = self._theta(params)
        a, b, g, d = theta
        m = as_counts(future, "future")
        x, tx, n = (
            np.atleast_1d(np.asarray(v, dtype=float)) for v in (frequency, recency, n_periods)
        )
        ll = self._loglik(theta, (x, tx, n))
        log_head = betaln(a + x + 1, b + n - x) - betaln(a, b) - ll
        tail = np.exp(gammaln(1 + d + n) - gammaln(g + d + n)) - np.exp(
            gammaln(1 + d + n + m) - gammaln(g + d + n + m)
        )
        scale = d / (g - 1) * np.exp(gammaln(g + d) - gammaln(1 + d))
        return np.exp(log_head) * scale * tail

    def simulate(
        self,
        n_customers: int,
        n_periods: int,
        *,
        seed: Any = None,
        params: dict[str, float] | None = None,
    ) -> dict[str, Array]:
        """Customers' (frequency, recency, n) over ``n_periods`` opportunities drawn from the model."""
        a, b, g, d = self._theta(params)
        rng = rng_of(seed)
        p = rng.beta(a, b, size=n_customers)
        theta = rng.beta(g, d, size=n_customers)
        alive = np.ones(n_customers, dtype=bool)
        x = np.zeros(n_customers, dtype=np.int64)
        tx = np.zeros(n_customers)
        for t in range(1, n_periods + 1):  # a loop over the few periods; customers are vectorised
            alive &= rng.random(n_customers) >= theta
            buy = alive & (rng.random(n_customers) < p)
            x += buy
            tx = np.where(buy, float(t), tx)
        return {"frequency": x, "recency": tx, "n_periods": np.full(n_customers, float(n_periods))}
