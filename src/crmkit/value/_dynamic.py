"""Pareto/NBD with time-varying covariates (Bachmann, Meierer & Naef 2021, Marketing Science 40(4)).

Covariates that change by calendar period (a season, a campaign, a price
level, the weather) move a customer's purchase and dropout rates while
they hold. On a grid of periods of length ``L`` (period k covers
``[k L, (k + 1) L)`` on the covariates' clock), customer i's rates at
calendar time u are

    lambda_i exp(gamma' z_i(u))      and      mu_i exp(delta' w_i(u)),

with lambda_i ~ Gamma(r, alpha), mu_i ~ Gamma(s, beta) as in the
Pareto/NBD. With A(t) = int_0^t exp(gamma' z) and B(t) = int_0^t
exp(delta' w) over the customer's own time since the first purchase, and
x repeat purchases at t_1 .. t_x = t_x in an observed time T, integrating
out lambda and mu gives

    L = prod_j exp(gamma' z(t_j)) Gamma(r + x) / Gamma(r) alpha^r beta^s
        [ (alpha + A(T))^-(r+x) (beta + B(T))^-s
          + s int_{t_x}^{T} exp(delta' w(tau)) (alpha + A(tau))^-(r+x) (beta + B(tau))^-(s+1) dtau ],

the likelihood of Bachmann, Meierer & Naef (2021), which CLVTools
implements. With covariates constant over time it is the Pareto/NBD with
time-invariant covariates (Fader & Hardie 2007): A(t) = t exp(gamma' z),
so alpha_i = alpha exp(-gamma' z).

A and B are piecewise linear, so the integral is a sum over the periods
after t_x of integrals of powers of linear functions. Each is taken by
4-point Gauss-Legendre quadrature on pieces short enough that the
integrand changes by less than a factor e^0.5 over one (the number of
pieces follows the customer's posterior rates at the start values and is
fixed during the fit, so the objective stays smooth); the tests check it
against adaptive quadrature and against the closed form of the
time-invariant model. The gradient is analytic (sums over quadrature
nodes by period and customer), the standard errors come from its
differences. Everything is vectorised over the (customer, period) cells.

Conditional expectations given covariates for the coming periods use the
posterior of an alive customer, lambda ~ Gamma(r + x, alpha + A(T)) and
mu ~ Gamma(s, beta + B(T)): E[Y] = P(alive) (r + x) / (alpha + A(T))
int_T^{T+t} exp(gamma' z(u)) ((beta + B(T)) / (beta + B(u)))^s du, in
closed form period by period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crmkit._numeric import dot, matvec, vecmat
from crmkit._text import describe
from crmkit.errors import ValidationError
from crmkit.value._covariates import _Block, _CovariateModel
from crmkit.value._fitting import Array

__all__ = ["ParetoNBDDynamic"]


def _legendre_table() -> tuple[Array, Array]:
    """Gauss-Legendre nodes and weights on [0, 1] of orders 2, 3 and 4 (rows by order, zero-padded)."""
    xi, omega = np.zeros((5, 4)), np.zeros((5, 4))
    for order in (2, 3, 4):
        nodes, weights = np.polynomial.legendre.leggauss(order)
        xi[order, :order], omega[order, :order] = (1 + nodes) / 2, weights / 2
    return xi, omega


_XI, _OMEGA = _legendre_table()
#: The quadrature order by the change of the integrand's log over a piece (rate x width): the
#: error of an order-n rule on exp(-c v) is about c^(2n) (n!)^4 / ((2n + 1) ((2n)!)^3), below
#: 3e-8 relative for order 2 up to 0.1, order 3 up to 0.4 and order 4 up to 1 (pieces are cut
#: to 1 at most).
_ORDER_LIMITS = ((0.1, 2), (0.4, 3))
_PIECE = 1.0
_MAX_PIECES = 4096
_MAX_PERIODS = 1_000_000


def _grid(
    covariates: Mapping[str, Any] | None, n: int, name: str
) -> tuple[dict[str, Array], int | None]:
    """Covariates by period: each (customers, periods) or (periods,) numbers, as (n, K) arrays."""
    from crmkit._validation import as_numbers

    if covariates is None:
        return {}, None
    if not isinstance(covariates, Mapping):
        raise ValidationError(
            [(name, f"must map covariate names to values by period, got {describe(covariates)}")]
        )
    out: dict[str, Array] = {}
    periods = None
    for key, values in covariates.items():
        if type(key) is not str or not key.strip():
            raise ValidationError([(name, f"covariate names must be text, got {describe(key)}")])
        arr = as_numbers(values, f"{name}[{key}]")
        if arr.ndim == 1:
            arr = np.broadcast_to(arr, (n, arr.shape[0]))
        if arr.ndim != 2 or arr.shape[0] != n:
            raise ValidationError(
                [
                    (
                        f"{name}[{key}]",
                        f"must be (customers, periods) = ({n}, K) or (periods,), got shape {arr.shape}",
                    )
                ]
            )
        if not np.all(np.isfinite(arr)):
            raise ValidationError([(f"{name}[{key}]", "must be finite numbers")])
        if periods is not None and arr.shape[1] != periods:
            raise ValidationError(
                [
                    (
                        f"{name}[{key}]",
                        f"must cover {periods} periods like the others, got {arr.shape[1]}",
                    )
                ]
            )
        periods = arr.shape[1]
        out[key] = np.asarray(arr, dtype=float)
    return out, periods


class _Cells:
    """The (customer, period) cells of each customer's observed time, and quadrature nodes after t_x."""

    def __init__(
        self,
        x: Array,
        tx: Array,
        T: Array,
        birth: Array,
        length: float,
        horizon: Array | None = None,
    ) -> None:
        n = x.size
        end = birth + T if horizon is None else birth + T + horizon
        origin = (
            birth if horizon is None else birth + T
        )  # cells from here (the future for predictions)
        first = np.floor(origin / length).astype(np.int64)
        last = np.maximum(np.ceil(end / length).astype(np.int64) - 1, first)
        count = last - first + 1
        self.n = n
        self.customer = np.repeat(np.arange(n), count)
        self.starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        self.ends = self.starts + count - 1
        within = np.arange(self.customer.size) - self.starts[self.customer]
        self.period = first[self.customer] + within
        lo = np.maximum(self.period * length, origin[self.customer])
        hi = np.minimum((self.period + 1) * length, end[self.customer])
        self.u = lo - origin[self.customer]  # cell start in the customer's time from ``origin``
        self.d = np.maximum(hi - lo, 0.0)
        self.periods_needed = int(last.max(initial=0)) + 1

    def nodes(self, x: Array, tx: Array, rate: Any) -> None:
        """Quadrature nodes on the part of each cell after t_x.

        ``rate(tau)`` bounds each customer's |d log(integrand) / d tau| from
        tau on (per cell: a vector over cells given their start times).
        """
        cust = self.customer
        after = np.maximum(self.u, tx[cust])
        length = self.u + self.d - after
        cells = np.flatnonzero(length > 0)
        change = length[cells] * rate(after[cells], cust[cells])
        pieces = np.clip(np.ceil(change / _PIECE), 1, _MAX_PIECES).astype(np.int64)
        piece_cell = np.repeat(cells, pieces)
        piece_starts = np.concatenate([[0], np.cumsum(pieces)[:-1]])
        j = np.arange(piece_cell.size) - np.repeat(piece_starts, pieces)
        width = length[piece_cell] / pieces.repeat(pieces)
        per_piece = (change / pieces).repeat(pieces)
        order = np.full(piece_cell.size, 4, dtype=np.int64)
        for limit, k in _ORDER_LIMITS[::-1]:
            order[per_piece <= limit] = k
        offset = after[piece_cell] - self.u[piece_cell] + j * width  # from the cell's start
        node_piece = np.repeat(np.arange(piece_cell.size), order)
        first_node = np.concatenate([[0], np.cumsum(order)[:-1]])
        slot = np.arange(node_piece.size) - first_node[node_piece]
        node_order = order[node_piece]
        self.node_cell = piece_cell[node_piece]
        self.node_offset = offset[node_piece] + width[node_piece] * _XI[node_order, slot]
        self.log_weight = np.log(width[node_piece] * _OMEGA[node_order, slot])
        self.node_customer = cust[self.node_cell]
        self.node_x = x[self.node_customer]
        has = np.bincount(self.node_customer, minlength=self.n) > 0
        self.node_owners = np.flatnonzero(has)
        self.node_starts = np.searchsorted(self.node_customer, self.node_owners)

    def sums(self, values: Array) -> tuple[Array, Array]:
        """Per cell the sum of ``values`` over the customer's earlier cells; per customer the total."""
        running = np.cumsum(values)
        before = (
            running[self.starts] - values[self.starts]
        )  # everything before the customer's cells
        total = running[self.ends] - before
        running -= values
        running -= before[self.customer]
        return running, total

    def within_sum(self, values: Array) -> Array:
        """Per cell: the sum of ``values`` over the customer's earlier cells (exclusive prefix sums)."""
        return self.sums(values)[0]

    def later_sum(self, values: Array) -> Array:
        """Per cell: the sum of ``values`` over the customer's later cells."""
        within, total = self.sums(values)
        out: Array = total[self.customer] - within - values
        return out

    def per_customer(self, values: Array) -> Array:
        return self.sums(values)[1]


def _cell_values(grid: dict[str, Array], cells: _Cells) -> Array:
    """Each cell's covariate row (cells x covariates)."""
    if not grid:
        return np.zeros((cells.customer.size, 0))
    return np.column_stack([g[cells.customer, cells.period] for g in grid.values()])


def _ratio_integral(q: Array, b: Array, d: Array, s: float) -> Array:
    """int_0^d (q / (q + b v))^s dv, exactly (s = 1 included)."""
    y = np.log1p(b * d / q)
    e = 1 - s
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(abs(e) * y < 1e-8, y * (1 + e * y / 2), np.expm1(e * y) / e)
    out: Array = q / b * term
    return out


class ParetoNBDDynamic(_CovariateModel):
    """Pareto/NBD with covariates that change by period (see the module docs).

    ``fit(frequency, recency, T, birth=..., purchase={...}, dropout={...},
    repeat_counts=..., period_length=1.0)``: ``birth`` is each customer's
    first purchase on the covariates' clock (period k covers ``[k L, (k + 1)
    L)`` with ``L = period_length``, in the summary's time unit); each
    covariate a ``(customers, periods)`` array, or ``(periods,)`` when every
    customer shares it (a season); ``repeat_counts`` the repeat purchases of
    each customer in each period, needed with purchase covariates (the
    covariates at each purchase enter the likelihood). Numeric covariates
    (dummy-code categories as 0/1 columns). Coefficients read as in
    :class:`ParetoNBDCovariates`: ``purchase.<name>`` multiplies the purchase
    rate by exp(coefficient) while the covariate is one unit higher.
    """

    label = "Pareto/NBD with time-varying covariates"
    base_names = ("r", "alpha", "s", "beta")

    def __init__(self) -> None:
        super().__init__()
        self.period_length_: float = 1.0

    @classmethod
    def from_params(cls, **params: Any) -> Any:
        """Given parameters and coefficients (``purchase={name: coef}``, ``dropout=...``) and ``period_length``."""
        from crmkit._args import number
        from crmkit.value._predict import MAX_TIME

        length = number(
            params.pop("period_length", 1.0), "period_length", 0, MAX_TIME, open_low=True
        )
        model = super().from_params(**params)
        model.period_length_ = length
        return model

    def _blocks(self) -> tuple[_Block, ...]:
        return (
            _Block("purchase", "purchase", (("alpha", -1),)),
            _Block("dropout", "dropout", (("beta", -1),)),
        )

    def _base_fit(self, data: tuple[Array, ...], w: Array) -> dict[str, float]:
        from crmkit.value._pareto import ParetoNBD

        return ParetoNBD().fit(*data[:3], weights=w).params_

    # -- data ------------------------------------------------------------------------------
    def _check_columns(self, z: Mapping[str, Array], w: Mapping[str, Array]) -> None:
        """Predictions take the covariates the model was fitted (or given) with."""
        for source, grid in (("purchase", z), ("dropout", w)):
            if tuple(grid) != self._columns[source]:
                expected = ", ".join(self._columns[source]) or "none"
                raise ValidationError(
                    [(source, f"must give the covariates of the fit: {expected}")]
                )

    def _data(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        birth: Any,
        purchase: Mapping[str, Any] | None,
        dropout: Mapping[str, Any] | None,
        repeat_counts: Any,
        fitted: bool,
    ) -> tuple[Array, Array, Array, Array, dict[str, Array], dict[str, Array], Array]:
        from crmkit._validation import as_numbers
        from crmkit.value._predict import customers

        x, tx, t = (a.astype(float).ravel() for a in customers(frequency, recency, T))
        n = x.size
        b = as_numbers(birth, "birth").astype(float).ravel()
        if b.shape != (n,) or not np.all(np.isfinite(b)) or np.any(b < 0):
            raise ValidationError(
                [("birth", f"must be one time >= 0 per customer ({n}), on the covariates' clock")]
            )
        z, kz = _grid(purchase, n, "purchase")
        w, kw = _grid(dropout, n, "dropout")
        if kz is not None and kw is not None and kz != kw:
            raise ValidationError([("dropout", f"must cover the {kz} periods of purchase")])
        if fitted:
            self._check_columns(z, w)
        periods = kz if kz is not None else kw
        span = float((b + t).max(initial=0.0)) / self.period_length_
        if span > _MAX_PERIODS:
            raise ValidationError(
                [
                    (
                        "period_length",
                        f"cuts the customers' time into more than {_MAX_PERIODS:,} periods",
                    )
                ]
            )
        need = int(np.ceil(span - 1e-9))
        if periods is not None and periods < need:
            raise ValidationError(
                [
                    (
                        "purchase" if kz is not None else "dropout",
                        f"must cover {need} periods (to the last customer's T), got {periods}",
                    )
                ]
            )
        if z and np.any(x > 0) and not fitted:
            if repeat_counts is None:
                raise ValidationError(
                    [("repeat_counts", "give each customer's repeat purchases per period")]
                )
            counts = as_numbers(repeat_counts, "repeat_counts").astype(float)
            if (
                counts.shape != (n, periods)
                or np.any(counts < 0)
                or np.any(counts != np.round(counts))
            ):
                raise ValidationError(
                    [("repeat_counts", f"must be whole numbers >= 0 of shape ({n}, {periods})")]
                )
            if not np.array_equal(counts.sum(axis=1), x):
                raise ValidationError(
                    [("repeat_counts", "must sum to frequency for each customer")]
                )
            at_purchases = np.column_stack([np.einsum("ik,ik->i", counts, g) for g in z.values()])
        else:
            at_purchases = np.zeros((n, len(z)))
        return x, tx, t, b, z, w, at_purchases

    def _state(
        self, x: Array, tx: Array, t: Array, b: Array, z: dict[str, Array], w: dict[str, Array],
        at_purchases: Array, params: Mapping[str, float],
    ) -> tuple[Any, ...]:  # fmt: skip
        cells = _Cells(x, tx, t, b, self.period_length_)
        # Pieces: the integrand's log falls at most at the posterior rates (r + x)/(alpha + tau) and
        # (s + 1)/(beta + tau) for tau >= t_x, times 2 for what covariates may add.
        r, alpha, s, beta = (params[k] for k in self.base_names)

        def rate(tau: Array, customer: Array) -> Array:
            out: Array = ((r + x[customer]) / (alpha + tau) + (s + 1) / (beta + tau)) * 2.0
            return out

        cells.nodes(x, tx, rate)
        return (x, tx, t, cells, _cell_values(z, cells), _cell_values(w, cells), at_purchases)

    # -- likelihood and gradient ------------------------------------------------------------
    def _evaluate(
        self, theta: Array, state: tuple[Any, ...], grad: bool, alive: bool = False
    ) -> tuple[Array, Array | None]:
        from scipy.special import digamma, gammaln

        _, wts, (x, _, _, cells, zc, wc, at_purchases), penalty = state
        nb = len(self.base_names)
        kz = zc.shape[1]
        _, log_alpha, log_s, log_beta = theta[:nb]
        r, alpha, s, beta = np.exp(theta[:nb])
        gamma, delta = theta[nb : nb + kz], theta[nb + kz :]
        a = np.exp(matvec(zc, gamma)) if kz else np.ones(cells.d.size)
        log_b = matvec(wc, delta) if wc.shape[1] else np.zeros(cells.d.size)
        bb = np.exp(log_b)
        ad, bd = a * cells.d, bb * cells.d
        a_before, a_T = cells.sums(ad)
        b_before, b_T = cells.sums(bd)
        m = r + x
        nc, no, cust = cells.node_cell, cells.node_offset, cells.node_customer
        # At each node: alpha + A(tau), beta + B(tau), and the log of the integrand times its weight.
        big_a = (alpha + a_before)[nc]
        big_a += a[nc] * no
        big_b = (beta + b_before)[nc]
        big_b += bb[nc] * no
        ln_a, ln_b = np.log(big_a), np.log(big_b)
        m_node = cells.node_x + r
        log_node = (log_s + log_b)[nc]
        log_node += cells.log_weight
        log_node -= m_node * ln_a
        log_node -= (s + 1) * ln_b
        log_alive = -m * np.log(alpha + a_T) - s * np.log(beta + b_T)
        top = log_alive.copy()
        if log_node.size:
            top[cells.node_owners] = np.maximum(
                top[cells.node_owners], np.maximum.reduceat(log_node, cells.node_starts)
            )
        log_node -= top[cust]
        w_node = np.exp(log_node, out=log_node)
        w_alive = np.exp(log_alive - top)
        total = w_alive + np.bincount(cust, weights=w_node, minlength=x.size)
        rows = (
            (matvec(at_purchases, gamma) if kz else np.zeros(x.size))
            + gammaln(m)
            - gammaln(r)
            + r * log_alpha
            + s * log_beta
            + top
            + np.log(total)
        )
        if alive:  # P(alive at T | data) and A(T), B(T) for predictions
            return w_alive / total, np.stack([a_T, b_T])
        if not grad:
            return rows, None
        # Posterior weights of "alive at T" and of each node (they sum to 1 per customer), times w_i.
        pa = wts * w_alive / total
        pn = w_node
        pn *= (wts / total)[cust]
        g_r = (
            dot(wts, digamma(m) - digamma(r) + log_alpha)
            - dot(pa, np.log(alpha + a_T))
            - dot(pn, ln_a)
        )
        q_a = pn * m_node
        q_a /= big_a  # -d log(node) / d(alpha + A)
        k_a = pa * m / (alpha + a_T)
        g_alpha = float(wts.sum()) * r / alpha - float(k_a.sum()) - float(q_a.sum())
        g_s = (
            float(wts.sum()) * log_beta
            + float(pn.sum()) / s
            - dot(pn, ln_b)
            - dot(pa, np.log(beta + b_T))
        )
        q_b = pn * (s + 1)
        q_b /= big_b
        k_b = pa * s / (beta + b_T)
        g_beta = float(wts.sum()) * s / beta - float(k_b.sum()) - float(q_b.sum())
        g = [g_r * r, g_alpha * alpha, g_s * s, g_beta * beta]
        c = cells.d.size
        if kz:
            q0 = np.bincount(nc, weights=q_a, minlength=c)
            q_a *= no
            q1 = np.bincount(nc, weights=q_a, minlength=c)
            pull = ad * (cells.later_sum(q0) + k_a[cells.customer]) + a * q1
            g.extend((vecmat(wts, at_purchases) - vecmat(pull, zc)).tolist())
        if wc.shape[1]:
            p0 = np.bincount(nc, weights=pn, minlength=c)
            q0 = np.bincount(nc, weights=q_b, minlength=c)
            q_b *= no
            q1 = np.bincount(nc, weights=q_b, minlength=c)
            pull = bd * (cells.later_sum(q0) + k_b[cells.customer]) + bb * q1
            g.extend((vecmat(p0, wc) - vecmat(pull, wc)).tolist())
        out = np.array(g, dtype=float)
        out[nb:] -= 2 * penalty * theta[nb:]
        return rows, out

    def _rows_at(self, theta: Array, state: tuple[Any, ...]) -> Array:
        return self._evaluate(theta, state, grad=False)[0]

    def _value_grad(self, theta: Array, state: tuple[Any, ...]) -> tuple[float, Array]:
        rows, g = self._evaluate(theta, state, grad=True)
        assert g is not None
        coef = theta[len(self.base_names) :]
        return float(dot(state[1], rows)) - state[3] * float(np.sum(coef * coef)), g

    # -- the public doors -------------------------------------------------------------------
    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        birth: Any,
        purchase: Mapping[str, Any] | None = None,
        dropout: Mapping[str, Any] | None = None,
        repeat_counts: Any = None,
        period_length: float = 1.0,
        weights: Any = None,
        penalty: float = 0.0,
    ) -> ParetoNBDDynamic:
        """Maximum likelihood from the Pareto/NBD without covariates (see the class docs)."""
        from crmkit._args import number
        from crmkit._validation import as_weights
        from crmkit.value._predict import MAX_TIME

        self.period_length_ = number(period_length, "period_length", 0, MAX_TIME, open_low=True)
        penalty = number(penalty, "penalty", 0, 1e12)
        x, tx, t, b, z, w, at = self._data(
            frequency, recency, T, birth, purchase, dropout, repeat_counts, fitted=False
        )
        self._columns["purchase"], self._columns["dropout"] = tuple(z), tuple(w)
        wts = np.ones(x.size) if weights is None else as_weights(weights, "weights", x.size)
        p0 = self._start_values((x, tx, t), wts)
        state = (None, wts, self._state(x, tx, t, b, z, w, at, p0), penalty)
        return self._optimise((x, tx, t), wts, state, p0)

    # -- predictions --------------------------------------------------------------------------
    def _theta(self, params: Mapping[str, Any] | None = None) -> Array:
        p = self.params_ if params is None else dict(params)
        return np.concatenate(
            [
                np.log([p[k] for k in self.base_names]),
                [p[f"purchase.{c}"] for c in self._columns["purchase"]],
                [p[f"dropout.{c}"] for c in self._columns["dropout"]],
            ]
        )

    def _posterior(
        self, frequency: Any, recency: Any, T: Any, birth: Any,
        purchase: Mapping[str, Any] | None, dropout: Mapping[str, Any] | None,
    ) -> tuple[Array, Array, Array, Array, Array, dict[str, Array], dict[str, Array]]:  # fmt: skip
        """P(alive at T), A(T), B(T) per customer, with the checked data."""
        x, tx, t, b, z, w, at = self._data(
            frequency, recency, T, birth, purchase, dropout, None, fitted=True
        )
        state = (None, np.ones(x.size), self._state(x, tx, t, b, z, w, at, self.params_), 0.0)
        alive, ab = self._evaluate(self._theta(), state, grad=False, alive=True)
        assert ab is not None
        return alive, ab[0], ab[1], x, t, z, w

    def log_likelihood(  # type: ignore[override]
        self, frequency: Any, recency: Any = None, T: Any = None, *, birth: Any,
        purchase: Mapping[str, Any] | None = None, dropout: Mapping[str, Any] | None = None,
        repeat_counts: Any = None,
    ) -> Array:  # fmt: skip
        """Each customer's log-likelihood at the model's parameters."""
        x, tx, t, b, z, w, at = self._data(
            frequency, recency, T, birth, purchase, dropout, repeat_counts, fitted=False
        )
        state = (None, np.ones(x.size), self._state(x, tx, t, b, z, w, at, self.params_), 0.0)
        return self._evaluate(self._theta(), state, grad=False)[0]

    def probability_alive(
        self, frequency: Any, recency: Any = None, T: Any = None, *, birth: Any,
        purchase: Mapping[str, Any] | None = None, dropout: Mapping[str, Any] | None = None,
    ) -> Array:  # fmt: skip
        """P(alive at T | x, t_x, T, the covariates' path)."""
        return self._posterior(frequency, recency, T, birth, purchase, dropout)[0]

    def _future(
        self, horizon: float, m: Array, scale_a: Array, scale_b: Array, origin: Array,
        z: dict[str, Array], w: dict[str, Array],
    ) -> Array:  # fmt: skip
        """m / scale_a * int_0^horizon a(u) (scale_b / (scale_b + B(u)))^s du from ``origin`` on."""
        p = self.params_
        n = m.size
        cells = _Cells(
            np.zeros(n), np.zeros(n), np.zeros(n), origin, self.period_length_, np.full(n, horizon)
        )
        periods = max((g.shape[1] for g in (*z.values(), *w.values())), default=None)
        if periods is not None and periods < cells.periods_needed:
            raise ValidationError(
                [
                    (
                        "purchase" if z else "dropout",
                        f"must cover {cells.periods_needed} periods (to T + t)",
                    )
                ]
            )
        theta = self._theta()
        kz = len(z)
        a = np.exp(matvec(_cell_values(z, cells), theta[4 : 4 + kz])) if z else 1.0
        bb = np.exp(matvec(_cell_values(w, cells), theta[4 + kz :])) if w else np.ones(cells.d.size)
        start = scale_b[cells.customer] + cells.within_sum(bb * cells.d)
        s = float(p["s"])
        ratio = (scale_b[cells.customer] / start) ** s
        part = a * ratio * _ratio_integral(start, bb, cells.d, s)
        out: Array = m / scale_a * cells.per_customer(part)
        return out

    def conditional_expected_purchases(
        self, t: float, frequency: Any, recency: Any = None, T: Any = None, *, birth: Any,
        purchase: Mapping[str, Any] | None = None, dropout: Mapping[str, Any] | None = None,
    ) -> Array:  # fmt: skip
        """E[Y(T, T + t) | data, covariates]; the covariates must cover the periods to birth + T + t."""
        from crmkit._args import number
        from crmkit.value._predict import MAX_TIME

        horizon = number(t, "t", 0, MAX_TIME)
        alive, a_T, b_T, x, T_, z, w = self._posterior(
            frequency, recency, T, birth, purchase, dropout
        )
        b = np.asarray(birth, dtype=float).ravel() + T_
        p = self.params_
        return alive * self._future(horizon, p["r"] + x, p["alpha"] + a_T, p["beta"] + b_T, b, z, w)

    def expected_purchases(
        self, t: float, *, birth: Any = 0.0, purchase: Mapping[str, Any] | None = None,
        dropout: Mapping[str, Any] | None = None, customers: int = 1,
    ) -> Array:  # fmt: skip
        """E[X(t)] of new customers whose first purchase is at ``birth`` (a prospect's value)."""
        from crmkit._args import number, whole
        from crmkit._validation import as_numbers
        from crmkit.value._predict import MAX_TIME

        n = whole(customers, "customers", 1, 10_000_000)
        horizon = number(t, "t", 0, MAX_TIME)
        b = np.broadcast_to(as_numbers(birth, "birth").astype(float), (n,)).copy()
        if not np.all(np.isfinite(b)) or np.any(b < 0):
            raise ValidationError([("birth", "must be times >= 0 on the covariates' clock")])
        z, _ = _grid(purchase, n, "purchase")
        w, _ = _grid(dropout, n, "dropout")
        self._check_columns(z, w)
        p = self.params_
        return self._future(
            horizon, np.full(n, p["r"]), np.full(n, p["alpha"]), np.full(n, p["beta"]), b, z, w
        )

    def simulate(
        self, T: Any, *, birth: Any, purchase: Mapping[str, Any] | None = None,
        dropout: Mapping[str, Any] | None = None, seed: Any = None,
    ) -> dict[str, Array]:  # fmt: skip
        """Customers drawn from the model along the covariates' path.

        Returns frequency, recency, T and ``repeat_counts`` (repeat purchases
        per period), what :meth:`fit` takes.
        """
        from crmkit._validation import as_numbers
        from crmkit.value._fitting import rng_of
        from crmkit.value._predict import as_times

        t = np.asarray(as_times(T, "T"), dtype=float).ravel()
        n = t.size
        b = np.broadcast_to(as_numbers(birth, "birth").astype(float), (n,)).copy()
        z, kz = _grid(purchase, n, "purchase")
        w, kw = _grid(dropout, n, "dropout")
        periods = kz or kw or int(np.ceil((b + t).max() / self.period_length_))
        cells = _Cells(np.zeros(n), np.zeros(n), t, b, self.period_length_)
        if cells.periods_needed > periods:
            raise ValidationError(
                [("T", f"reaches period {cells.periods_needed}; covariates cover {periods}")]
            )
        theta = self._theta()
        p = self.params_
        k = len(z)
        a = np.exp(matvec(_cell_values(z, cells), theta[4 : 4 + k])) if z else np.ones(cells.d.size)
        bb = np.exp(matvec(_cell_values(w, cells), theta[4 + k :])) if w else np.ones(cells.d.size)
        rng = rng_of(seed)
        lam = rng.gamma(p["r"], 1 / p["alpha"], n)
        mu = rng.gamma(p["s"], 1 / p["beta"], n)
        target = rng.exponential(1.0, n) / mu  # dies when B(tau) reaches this
        before = cells.within_sum(bb * cells.d)
        alive_time = np.clip((target[cells.customer] - before) / bb, 0.0, cells.d)
        counts = rng.poisson(lam[cells.customer] * a * alive_time)
        x = cells.per_customer(counts.astype(float))
        last = np.where(
            counts > 0,
            cells.u + alive_time * rng.random(counts.size) ** (1 / np.maximum(counts, 1)),
            0.0,
        )
        tx = np.zeros(n)
        np.maximum.at(tx, cells.customer, last)
        grid = np.zeros((n, periods))
        grid[cells.customer, cells.period] = counts
        return {"frequency": x.astype(np.int64), "recency": tx, "T": t, "repeat_counts": grid}
