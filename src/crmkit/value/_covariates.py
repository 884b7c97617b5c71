"""Pareto/NBD with time-invariant covariates (Fader & Hardie 2007 note; CLVTools' parametrisation).

Each customer i has covariates z_i for the purchase process and w_i for the
dropout process; the gamma mixing distributions keep their shapes r and s
and move their scales:

    alpha_i = alpha0 exp(-gamma_purchase' z_i)      lambda_i ~ Gamma(r, alpha_i)
    beta_i  = beta0  exp(-gamma_dropout' w_i)       mu_i     ~ Gamma(s, beta_i)

so a coefficient is a log multiplicative effect on the mean purchase rate
r / alpha_i (or the mean dropout rate s / beta_i): a purchase coefficient of
0.3 means customers with that covariate one unit higher buy exp(0.3) = 1.35
times as often. Given its own alpha_i and beta_i, a customer's likelihood,
probability alive and conditional expectations are the Pareto/NBD's
(Fader & Hardie 2005 note, eq. 22; Fader & Hardie 2007, "Incorporating
time-invariant covariates into the Pareto/NBD and BG/NBD models"); with no
covariates, or all coefficients 0, the model is the Pareto/NBD. This is the
parametrisation of CLVTools (Meierer, Bachmann, Jung, Naef, Oblander,
Schilter 2023, "CLVTools: a flexible toolbox for customer lifetime value
modeling and prediction"), whose coefficients therefore read the same.

Estimation is by maximum likelihood over ``log r, log alpha0, log s, log
beta0`` and the coefficients, with an optional L2 penalty on the
coefficients (as CLVTools' ``reg.lambdas``). The gradient needs the
derivatives of each customer's log-likelihood in log alpha_i and log
beta_i only, whatever the number of covariates: central differences of the
vectorised row likelihood give those (eight evaluations), the chain rule
the rest. Standard errors come from differences of that gradient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from crmkit._numeric import dot, matvec, vecmat
from crmkit._text import describe
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError
from crmkit.value._fitting import Array, Model

__all__ = ["ParetoNBDCovariates", "design_matrix"]

_H = 1e-5  # step of the central differences in log alpha_i, log beta_i, log r, log s


def design_matrix(
    covariates: Mapping[str, Any] | None,
    n: int,
    name: str,
    reference: Mapping[str, Any] | None = None,
    levels: Mapping[str, tuple[Any, ...]] | None = None,
) -> tuple[Array, tuple[str, ...], dict[str, tuple[Any, ...]]]:
    """Covariates as a matrix (rows = customers), their column names, and the levels of categories.

    Numeric columns are used as they are; text (or other non-numeric)
    columns are dummy-coded, one column per level but the reference level
    (``reference[column]``, default the first level in sorted order), named
    ``column[level]``. ``levels`` (from a fit) fixes the categories, so a
    prediction codes them as the fit did.

    >>> z, names, _ = design_matrix({"age": [30, 40, 50], "channel": ["web", "shop", "web"]}, 3, "x")
    >>> names, z.tolist()
    (('age', 'channel[web]'), [[30.0, 1.0], [40.0, 0.0], [50.0, 1.0]])
    """
    from crmkit._args import text, whole

    n = whole(n, "n", 0, 1_000_000_000)
    name = text(name, "name")
    if covariates is None:
        return np.zeros((n, 0)), (), {}
    if not isinstance(covariates, Mapping):
        raise ValidationError(
            [
                (
                    name,
                    f"must map covariate names to one value per customer, got {describe(covariates)}",
                )
            ]
        )
    if reference is not None and not isinstance(reference, Mapping):
        raise ValidationError(
            [
                (
                    "reference",
                    f"must map covariate names to their reference level, got {describe(reference)}",
                )
            ]
        )
    reference = dict(reference or {})
    known = dict(levels or {})
    columns: list[Array] = []
    names: list[str] = []
    found: dict[str, tuple[Any, ...]] = {}
    for key, values in covariates.items():
        if type(key) is not str or not key.strip():
            raise ValidationError([(name, f"covariate names must be text, got {describe(key)}")])
        array = np.asarray(
            values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=object
        )
        if array.shape != (n,):
            raise ValidationError(
                [
                    (
                        f"{name}[{key}]",
                        f"must hold one value per customer ({n}), got shape {array.shape}",
                    )
                ]
            )
        numeric = all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in array.tolist()
        )
        if numeric and key not in known:
            column = array.astype(float)
            if not np.all(np.isfinite(column)):
                raise ValidationError([(f"{name}[{key}]", "must be finite numbers")])
            columns.append(column)
            names.append(key)
            continue
        try:
            labels = np.array([str(v) for v in array.tolist()], dtype=object)
        except (TypeError, ValueError, RecursionError):
            raise ValidationError(
                [(f"{name}[{key}]", "must hold numbers or category labels")]
            ) from None
        options = known.get(key) or tuple(sorted(set(labels.tolist())))
        unknown = set(labels.tolist()) - set(options)
        if unknown:
            raise ValidationError(
                [(f"{name}[{key}]", f"has {len(unknown)} level(s) the fit did not see")]
            )
        base = str(reference.get(key, options[0]))
        if base not in options:
            raise ValidationError([(f"reference[{key}]", f"must be one of the levels of {key}")])
        found[key] = options
        for level in options:
            if level != base:
                columns.append((labels == level).astype(float))
                names.append(f"{key}[{level}]")
    z = np.column_stack(columns) if columns else np.zeros((n, 0))
    return z, tuple(names), found


def _rows(r: float, alpha: Array, s: float, beta: Array, x: Array, tx: Array, T: Array) -> Array:
    """Each customer's Pareto/NBD log-likelihood with its own alpha_i and beta_i (vectorised)."""
    from scipy.special import gammaln

    from crmkit.value._pareto import _log_f

    a = r + s + x
    ge = alpha >= beta
    other = np.where(ge, r + x, s + 1.0)
    d = np.abs(alpha - beta)
    shift = np.where(ge, alpha, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_tx = _log_f(a, other, a + 1, d, shift + tx)
        f_T = _log_f(a, other, a + 1, d, shift + T)
        log_a0 = f_tx + np.log1p(-np.exp(f_T - f_tx))
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = np.where(tx < T, np.log(s) - np.log(a) + log_a0, -np.inf)
        out: Array = head + np.logaddexp(alive, died)
    return out


class ParetoNBDCovariates(Model):
    """Pareto/NBD with covariates on the purchase and the dropout process (see the module docs).

    ``fit(frequency, recency, T, purchase={...}, dropout={...})`` with each
    covariate set a mapping of names to one value per customer (numbers,
    or category labels dummy-coded against ``reference``). Fitted
    attributes: ``params_`` (r, alpha, s, beta, then ``purchase.<name>`` and
    ``dropout.<name>`` coefficients), ``log_likelihood_``,
    ``standard_errors_``, ``covariance_``, ``n_customers_``; ``summary()``.
    """

    label = "Pareto/NBD with covariates"
    base_names = ("r", "alpha", "s", "beta")

    def __init__(self) -> None:
        super().__init__()
        self._purchase: tuple[str, ...] = ()
        self._dropout: tuple[str, ...] = ()
        self._levels: tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]] = ({}, {})
        self._reference: tuple[dict[str, Any], dict[str, Any]] = ({}, {})

    @classmethod
    def from_params(  # type: ignore[override]
        cls,
        *,
        r: float,
        alpha: float,
        s: float,
        beta: float,
        purchase: Mapping[str, float] | None = None,
        dropout: Mapping[str, float] | None = None,
    ) -> ParetoNBDCovariates:
        """A model with given parameters and coefficients of numeric covariates (for simulation)."""
        from crmkit._args import number
        from crmkit.value._fitting import check_params

        base = check_params(
            ("r", "alpha", "s", "beta"), {"r": r, "alpha": alpha, "s": s, "beta": beta}, cls.label
        )
        model = cls()
        params = dict(base)
        for prefix, given in (("purchase", purchase), ("dropout", dropout)):
            if given is None:
                continue
            if not isinstance(given, Mapping):
                raise ValidationError(
                    [(prefix, f"must map covariate names to coefficients, got {describe(given)}")]
                )
            for key, value in given.items():
                if type(key) is not str or not key.strip():
                    raise ValidationError(
                        [(prefix, f"covariate names must be text, got {describe(key)}")]
                    )
                params[f"{prefix}.{key}"] = number(value, f"{prefix}[{key}]", -50, 50)
        model._purchase = tuple(k for k in (purchase or {}))
        model._dropout = tuple(k for k in (dropout or {}))
        model._params = params
        model._given = True
        return model

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        *,
        purchase: Mapping[str, Any] | None = None,
        dropout: Mapping[str, Any] | None = None,
        reference: Mapping[str, Any] | None = None,
        weights: Any = None,
        penalty: float = 0.0,
    ) -> ParetoNBDCovariates:
        """Maximum likelihood; ``penalty`` adds ``-penalty * sum(coefficients^2)`` (an L2 penalty)."""
        from scipy.optimize import minimize

        from crmkit._args import number
        from crmkit._threads import one_blas_thread
        from crmkit._validation import as_weights
        from crmkit.value._pareto import ParetoNBD
        from crmkit.value._predict import customers

        x, tx, t = (a.astype(float) for a in customers(frequency, recency, T))
        x, tx, t = x.ravel(), tx.ravel(), t.ravel()
        n = x.size
        w = np.ones(n) if weights is None else as_weights(weights, "weights", n)
        penalty = number(penalty, "penalty", 0, 1e12)
        zp, self._purchase, lp = design_matrix(purchase, n, "purchase", reference)
        zd, self._dropout, ld = design_matrix(dropout, n, "dropout", reference)
        self._levels = (lp, ld)
        self._reference = (dict(reference or {}), dict(reference or {}))  # checked above
        if w.sum() < 2 + zp.shape[1] + zd.shape[1]:
            raise InsufficientData(f"{self.label} needs more customers than parameters")
        # Start at the Pareto/NBD without covariates (crmkit's robust fit), coefficients 0.
        base = ParetoNBD().fit(x, tx, t, weights=w)
        p0 = base.params_
        if not all(math.isfinite(v) and v > 0 for v in p0.values()):
            raise ConvergenceError(
                f"{self.label}: the model without covariates is a limit model ({base.limit_}); "
                "covariates cannot be estimated around it"
            )
        start = np.concatenate(
            [
                np.log([p0["r"], p0["alpha"], p0["s"], p0["beta"]]),
                np.zeros(zp.shape[1] + zd.shape[1]),
            ]
        )
        total = float(w.sum())
        data = (x, tx, t, w, zp, zd, penalty)

        def objective(theta: Array) -> tuple[float, Array]:
            value, grad = self._value_grad(theta, data)
            if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                return 1e300, np.zeros_like(theta)
            return -value / total, -grad / total

        with one_blas_thread(), np.errstate(all="ignore"):
            res = minimize(objective, start, jac=True, method="L-BFGS-B",
                           options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})  # fmt: skip
            theta = np.asarray(res.x, dtype=float)
            value = -float(res.fun) * total
            if not np.isfinite(value) or value < -1e299:
                raise ConvergenceError(f"{self.label} fit did not converge: {res.message}")
            hessian = self._hessian_fd(theta, data)
        names = (*self.base_names, *(f"purchase.{c}" for c in self._purchase),
                 *(f"dropout.{c}" for c in self._dropout))  # fmt: skip
        natural = np.concatenate([np.exp(theta[:4]), theta[4:]])
        self._params = dict(zip(names, natural.tolist(), strict=True))
        self._given = False
        self._log_likelihood = float(dot(w, self._row_values(theta, data)))
        self._n = total
        self._iterations = int(res.nit)
        cov = None
        try:
            cov_theta = np.linalg.inv(-(hessian + hessian.T) / 2)
            jac = np.concatenate([natural[:4], np.ones(natural.size - 4)])
            cov = cov_theta * jac[:, None] * jac[None, :]
            if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
                cov = None
        except np.linalg.LinAlgError:
            cov = None
        self._estimated = (names, natural, cov)
        return self

    @staticmethod
    def _scales(theta: Array, zp: Array, zd: Array) -> tuple[Array, Array]:
        """log alpha_i and log beta_i."""
        kp, kd = zp.shape[1], zd.shape[1]
        log_alpha = (
            theta[1] - matvec(zp, theta[4 : 4 + kp]) if kp else np.full(zp.shape[0], theta[1])
        )
        log_beta = (
            theta[3] - matvec(zd, theta[4 + kp : 4 + kp + kd])
            if kd
            else np.full(zd.shape[0], theta[3])
        )
        return log_alpha, log_beta

    def _row_values(self, theta: Array, data: tuple[Any, ...]) -> Array:
        x, tx, t, _, zp, zd, _ = data
        log_alpha, log_beta = self._scales(theta, zp, zd)
        return _rows(
            math.exp(theta[0]), np.exp(log_alpha), math.exp(theta[2]), np.exp(log_beta), x, tx, t
        )

    def _value_grad(self, theta: Array, data: tuple[Any, ...]) -> tuple[float, Array]:
        x, tx, t, w, zp, zd, penalty = data
        kp = zp.shape[1]
        log_alpha, log_beta = self._scales(theta, zp, zd)
        r, s = math.exp(theta[0]), math.exp(theta[2])
        alpha, beta = np.exp(log_alpha), np.exp(log_beta)
        rows = _rows(r, alpha, s, beta, x, tx, t)
        up, down = math.exp(_H), math.exp(-_H)

        def diff(f_up: Array, f_down: Array) -> Array:
            return (f_up - f_down) / (2 * _H)

        d_r = diff(
            _rows(r * up, alpha, s, beta, x, tx, t), _rows(r * down, alpha, s, beta, x, tx, t)
        )
        d_a = diff(
            _rows(r, alpha * up, s, beta, x, tx, t), _rows(r, alpha * down, s, beta, x, tx, t)
        )
        d_s = diff(
            _rows(r, alpha, s * up, beta, x, tx, t), _rows(r, alpha, s * down, beta, x, tx, t)
        )
        d_b = diff(
            _rows(r, alpha, s, beta * up, x, tx, t), _rows(r, alpha, s, beta * down, x, tx, t)
        )
        wa, wb = w * d_a, w * d_b
        coef = theta[4:]
        grad = np.concatenate(
            [
                [dot(w, d_r), float(wa.sum()), dot(w, d_s), float(wb.sum())],
                -vecmat(wa, zp) if kp else np.zeros(0),
                -vecmat(wb, zd) if zd.shape[1] else np.zeros(0),
            ]
        )
        grad[4:] -= 2 * penalty * coef
        return float(dot(w, rows)) - penalty * float(np.sum(coef * coef)), grad

    def _hessian_fd(self, theta: Array, data: tuple[Any, ...]) -> Array:
        k = theta.size
        hess = np.empty((k, k))
        for i in range(k):
            h = 1e-4
            up, down = theta.copy(), theta.copy()
            up[i] += h
            down[i] -= h
            hess[i] = (self._value_grad(up, data)[1] - self._value_grad(down, data)[1]) / (2 * h)
        return hess

    def confidence_intervals(self, confidence: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals: on the log scale for r, alpha, s, beta, plain for the coefficients."""
        from scipy.stats import norm

        from crmkit._validation import check_confidence

        z = float(norm.ppf(0.5 + check_confidence(confidence) / 2))
        se = self.standard_errors_
        out = {}
        for name, v in self.params_.items():
            if name in self.base_names:
                half = z * se[name] / v
                out[name] = (v * math.exp(-half), v * math.exp(half))
            else:
                out[name] = (v - z * se[name], v + z * se[name])
        return out

    # -- predictions -----------------------------------------------------------------------
    def _customer_scales(
        self, n: int, purchase: Mapping[str, Any] | None, dropout: Mapping[str, Any] | None
    ) -> tuple[float, Array, float, Array]:
        """r, alpha_i, s, beta_i for ``n`` customers with these covariates (coded as in the fit)."""
        p = self.params_
        zp, names_p, _ = design_matrix(purchase, n, "purchase", self._reference[0], self._levels[0])
        zd, names_d, _ = design_matrix(dropout, n, "dropout", self._reference[1], self._levels[1])
        if names_p != self._purchase or names_d != self._dropout:
            raise ValidationError(
                [
                    (
                        "purchase",
                        f"must give the covariates of the fit: {', '.join(self._purchase + self._dropout) or 'none'}",
                    )
                ]
            )
        gp = np.array([p[f"purchase.{c}"] for c in self._purchase])
        gd = np.array([p[f"dropout.{c}"] for c in self._dropout])
        alpha = p["alpha"] * np.exp(-matvec(zp, gp)) if gp.size else np.full(n, p["alpha"])
        beta = p["beta"] * np.exp(-matvec(zd, gd)) if gd.size else np.full(n, p["beta"])
        return p["r"], alpha, p["s"], beta

    def log_likelihood(self, frequency: Any, recency: Any = None, T: Any = None, *,  # type: ignore[override]
                       purchase: Mapping[str, Any] | None = None,
                       dropout: Mapping[str, Any] | None = None) -> Array:  # fmt: skip
        """Each customer's log-likelihood at the fitted parameters."""
        from crmkit.value._predict import customers

        x, tx, t = (a.astype(float).ravel() for a in customers(frequency, recency, T))
        r, alpha, s, beta = self._customer_scales(x.size, purchase, dropout)
        return _rows(r, alpha, s, beta, x, tx, t)

    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None, *,
                          purchase: Mapping[str, Any] | None = None,
                          dropout: Mapping[str, Any] | None = None) -> Array:  # fmt: skip
        """P(alive at T | x, t_x, T, covariates), the Pareto/NBD's with each customer's scales."""
        from scipy.special import expit

        from crmkit.value._pareto import _log_f
        from crmkit.value._predict import customers

        x, tx, t = (a.astype(float).ravel() for a in customers(frequency, recency, T))
        r, alpha, s, beta = self._customer_scales(x.size, purchase, dropout)
        a = r + s + x
        ge = alpha >= beta
        other = np.where(ge, r + x, s + 1.0)
        d = np.abs(alpha - beta)
        shift = np.where(ge, alpha, beta)
        with np.errstate(divide="ignore", invalid="ignore"):
            f_tx = _log_f(a, other, a + 1, d, shift + tx)
            f_T = _log_f(a, other, a + 1, d, shift + t)
            log_a0 = f_tx + np.log1p(-np.exp(f_T - f_tx))
            log_odds = (
                math.log(s)
                - np.log(a)
                + (r + x) * np.log(alpha + t)
                + s * np.log(beta + t)
                + log_a0
            )
        return np.where(tx < t, expit(-log_odds), 1.0)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any = None,
                                       T: Any = None, *,
                                       purchase: Mapping[str, Any] | None = None,
                                       dropout: Mapping[str, Any] | None = None) -> Array:  # fmt: skip
        """E[Y(t) | x, t_x, T, covariates] = (r + x)/(alpha_i + T) * time alive in t * P(alive)."""
        from crmkit.value._pareto import _time_alive
        from crmkit.value._predict import as_times, customers

        x, tx, T_ = (a.astype(float).ravel() for a in customers(frequency, recency, T))
        horizon = as_times(t, "t")
        r, alpha, s, beta = self._customer_scales(x.size, purchase, dropout)
        rate = (r + x) / (alpha + T_)
        post_mu = s / (beta + T_)  # the alive customer's death rate: Gamma(s, beta + T)
        alive = self.probability_alive(x, tx, T_, purchase=purchase, dropout=dropout)
        return rate * _time_alive(post_mu, 1 / s, horizon) * alive

    def expected_purchases(self, t: Any, *, purchase: Mapping[str, Any] | None = None,
                           dropout: Mapping[str, Any] | None = None, customers: int = 1) -> Array:  # fmt: skip
        """E[X(t)] of new customers with known covariates (a prospect): r/alpha_i * time alive in t."""
        from crmkit._args import whole
        from crmkit.value._pareto import _time_alive
        from crmkit.value._predict import as_times

        n = whole(customers, "customers", 1, 10_000_000)
        horizon = as_times(t, "t")
        r, alpha, s, beta = self._customer_scales(n, purchase, dropout)
        return r / alpha * _time_alive(s / beta, 1 / s, horizon)

    def simulate(self, T: Any, *, purchase: Mapping[str, Any] | None = None,
                 dropout: Mapping[str, Any] | None = None, seed: Any = None) -> dict[str, Array]:  # fmt: skip
        """Draw one customer per entry of ``T`` with these covariates (lambda_i ~ Gamma(r, alpha_i) ...)."""
        from crmkit.value._fitting import rng_of
        from crmkit.value._predict import as_times

        t = np.asarray(as_times(T, "T"), dtype=float).ravel()
        r, alpha, s, beta = self._customer_scales(t.size, purchase, dropout)
        rng = rng_of(seed)
        lam = rng.gamma(r, 1 / alpha)
        mu = rng.gamma(s, 1 / beta)
        active = np.minimum(rng.exponential(1 / mu), t)
        n = rng.poisson(lam * active)
        tx = np.where(n > 0, active * rng.random(t.size) ** (1 / np.maximum(n, 1)), 0.0)
        return {"frequency": n.astype(np.int64), "recency": tx, "T": t}
