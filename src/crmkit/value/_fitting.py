"""Maximum likelihood for the customer-base models: one optimiser, one Hessian, one summary.

Each model supplies its per-row log-likelihood (and, where the likelihood
allows, its analytic gradient) as vectorised numpy functions of the natural
parameters. They are maximised over the logs of the parameters (all are
positive) with scipy's L-BFGS-B; standard errors come from the Hessian of the
log-likelihood at the maximum.

The natural parameters cannot reach the boundary of the parameter space:
when customers do not differ in some respect, the likelihood keeps rising
as two shape parameters run off to infinity together. Each model therefore
also writes its likelihood on the *closed* parameter space (a mean and a
dispersion per mixing distribution, see :mod:`crmkit.value._mixing`), where
the boundary is a set of ordinary points. A fit runs in two stages:

1. the fast fit in the natural parameters;
2. when that fails, or ends close to the boundary, a bounded L-BFGS-B fit on
   the closed space from where stage 1 stopped. Its maximum is the same
   whatever the start: an interior point, or a point on the boundary, the
   *limit model*, reported with a :class:`BoundaryLimit` and a
   :class:`~crmkit.errors.BoundaryWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._numeric import dot, matvec
from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import (
    BoundaryWarning,
    ConvergenceError,
    InsufficientData,
    MissingDependency,
    NotFittedError,
    ValidationError,
)
from crmkit.value._summary import distinct_rows

Array = npt.NDArray[np.float64]
M = TypeVar("M", bound="Model")


@attrs.frozen
class BoundaryLimit:
    """The limit model a fit ended on: what diverges, what the model becomes, its parameters.

    ``diverging`` names the natural parameters that run off to 0 or infinity
    (they read ``inf`` or ``0.0`` in the model's ``params_``); ``params`` are
    the parameters the limit model still has (with standard errors in
    ``summary()``); ``description`` says it in words.
    """

    description: str
    diverging: tuple[str, ...]
    params: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "diverging": list(self.diverging),
            "params": dict(self.params),
        }

    def __str__(self) -> str:
        return self.description


@attrs.frozen
class FitSummary:
    """Estimates, standard errors and intervals of a fitted model, with its log-likelihood.

    Intervals are Wald intervals on the log scale, ``exp(log(theta) +- z *
    se / theta)``, which stay positive as the parameters are (probabilities
    use the logit scale and stay in 0-1). When the Hessian at the estimate
    is singular the standard errors and intervals are ``None`` and
    ``identified`` is False. A fit on the boundary lists the limit model's
    parameters and says which natural parameters diverge (``limit``).
    """

    model: str
    names: tuple[str, ...]
    estimates: tuple[float, ...]
    standard_errors: tuple[float, ...] | None
    lower: tuple[float, ...] | None
    upper: tuple[float, ...] | None
    confidence: float
    log_likelihood: float
    n: float
    iterations: int
    limit: BoundaryLimit | None = None

    @property
    def identified(self) -> bool:
        return self.standard_errors is not None

    @property
    def aic(self) -> float:
        return 2 * len(self.names) - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return len(self.names) * math.log(self.n) - 2 * self.log_likelihood

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "parameters": {
                name: {
                    "estimate": est,
                    "standard_error": se,
                    "interval": None if lo is None else [lo, hi],
                }
                for name, est, se, lo, hi in zip(
                    self.names,
                    self.estimates,
                    self.standard_errors or (None,) * len(self.names),
                    self.lower or (None,) * len(self.names),
                    self.upper or (None,) * len(self.names),
                    strict=True,
                )
            },
            "identified": self.identified,
            "limit": None if self.limit is None else self.limit.to_dict(),
            "confidence": self.confidence,
            "log_likelihood": self.log_likelihood,
            "aic": self.aic,
            "bic": self.bic,
            "n": self.n,
            "iterations": self.iterations,
        }

    def to_frame(self) -> Any:
        """The parameter table as a pandas DataFrame (needs pandas), one row per parameter."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency(
                "FitSummary.to_frame() needs pandas: pip install pandas"
            ) from None
        k = len(self.names)
        return pd.DataFrame(
            {
                "estimate": self.estimates,
                "standard_error": self.standard_errors or (None,) * k,
                "lower": self.lower or (None,) * k,
                "upper": self.upper or (None,) * k,
            },
            index=pd.Index(self.names, name="parameter"),
        )

    def format(self, decimals: int = 4) -> str:
        """The table as text with ``decimals`` digits after the point (``str()`` uses 4)."""
        return self._render(decimals)

    def __str__(self) -> str:
        return self._render(4)

    def _render(self, decimals: int) -> str:
        from crmkit._validation import check_decimals

        d = check_decimals(decimals)
        level = f"{self.confidence:.0%} interval"
        lines = [
            f"{self.model}: log-likelihood {self.log_likelihood:,.2f} on {self.n:,.0f} "
            f"customers (AIC {self.aic:,.1f})",
        ]
        if self.limit is not None:
            lines.append(
                f"limit model: {self.limit.description} ({', '.join(self.limit.diverging)} diverge)"
            )
        header = ("parameter", "estimate", "std. error", level)
        if self.standard_errors is None or self.lower is None or self.upper is None:
            rows: list[tuple[Any, ...]] = [
                (name, format(est, f".{max(d, 1)}g"), "n/a", "n/a")
                for name, est in zip(self.names, self.estimates, strict=True)
            ]
            notes = [
                "the Hessian is singular at the estimate: the data do not identify every parameter"
            ]
        else:
            rows = [
                (name, est, se, f"{lo:.{d}f} to {hi:.{d}f}")
                for name, est, se, lo, hi in zip(
                    self.names,
                    self.estimates,
                    self.standard_errors,
                    self.lower,
                    self.upper,
                    strict=True,
                )
            ]
            notes = []
        return "\n".join(
            [*lines, table(header, rows, formats=("", f".{d}f", f".{d}f", ""), notes=notes)]
        )


def check_params(names: tuple[str, ...], given: Mapping[str, Any], model: str) -> dict[str, float]:
    """Parameters given by name: all present, finite and > 0."""
    missing = [n for n in names if n not in given]
    extra = [k for k in given if k not in names]
    if missing or extra:
        raise ValidationError(
            [
                (
                    "params",
                    f"{model} takes {', '.join(names)}; "
                    + (
                        f"missing {', '.join(missing)}"
                        if missing
                        else f"unknown {', '.join(extra)}"
                    ),
                )
            ]
        )
    out = {}
    for n in names:
        try:
            v = float(given[n])
        except (TypeError, ValueError, OverflowError):
            raise ValidationError([(n, f"must be a number, got {shown(given[n])}")]) from None
        if not (math.isfinite(v) and v > 0):
            raise ValidationError([(n, f"must be a finite number > 0, got {shown(given[n])}")])
        out[n] = v
    return out


@attrs.frozen
class Coordinate:
    """One coordinate of a model's closed parameter space, with its bounds.

    A stage-1 estimate whose coordinate lies below ``near_lower`` (or above
    ``near_upper``) is close enough to the boundary for stage 2 to look there.
    """

    name: str
    lower: float
    upper: float
    near_lower: float = -math.inf
    near_upper: float = math.inf


_LOG_BOUND = 25.0  # natural parameters are searched in exp(-25) .. exp(25)


class _LeftBox(Exception):
    """Stage 1's unbounded optimiser stepped out of the search box."""


_PENALTY = 1e8


@attrs.frozen
class _Fitted:
    """A closed-space fit's maximum, for its standard errors (computed before ``fit`` returns)."""

    point: Array  # phi
    data: tuple[Any, ...]
    weights: Array
    free: tuple[int, ...] = ()  # the coordinates not held on a bound
    fixed: frozenset[str] = frozenset()
    hessian: Array | None = None  # the polish's Hessian in the free coordinates


class Model:
    """Shared machinery: ``fit`` state, ``params_``, standard errors, ``summary()``, the boundary."""

    param_names: ClassVar[tuple[str, ...]] = ()
    label: ClassVar[str] = ""
    #: Reported parameters that are probabilities (their intervals use the logit scale).
    probability_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._params: dict[str, float] | None = None
        self._given = False  # parameters from from_params(), not from a fit
        self._log_likelihood: float | None = None
        self._limit: BoundaryLimit | None = None
        self._phi: Array | None = None
        # The reported names, estimates and covariance, computed at the end of a fit.
        self._estimated: tuple[tuple[str, ...], Array, Array | None] | None = None
        self._n: float = 0.0
        self._iterations = 0

    @classmethod
    def from_params(cls: type[M], **params: float) -> M:
        """A model with given parameters (from a paper, or a fit stored elsewhere), for predictions.

        It is not fitted: ``params_`` holds the parameters, while the
        attributes only a fit gives (``log_likelihood_``,
        ``standard_errors_``, ``summary()`` ...) raise
        :class:`~crmkit.errors.NotFittedError`.
        """
        model = cls()
        model._params = check_params(cls.param_names, params, cls.label)
        model._given = True
        return model

    def _fit_result(self, name: str) -> None:
        """Raise :class:`NotFittedError` for ``name`` unless the model was fitted."""
        if self._params is None or self._given:
            given = " (a model from from_params() has params_ only)" if self._given else ""
            raise NotFittedError(
                f"{type(self).__name__}.{name} is set by fit(): call fit() first{given}"
            )

    @property
    def params_(self) -> dict[str, float]:
        """The parameters by name: fitted (``inf`` or 0 where a limit model's diverge), or given."""
        if self._params is None:
            raise NotFittedError(
                f"{type(self).__name__}.params_ is set by fit() or from_params(): call one first"
            )
        return dict(self._params)

    @property
    def log_likelihood_(self) -> float:
        """The maximised log-likelihood."""
        self._fit_result("log_likelihood_")
        assert self._log_likelihood is not None
        return self._log_likelihood

    @property
    def limit_(self) -> BoundaryLimit | None:
        """The limit model the fit ended on, or None for an interior maximum."""
        self._fit_result("limit_")
        return self._limit

    @property
    def n_customers_(self) -> float:
        """The customers the model was fitted on (the sum of the weights)."""
        self._fit_result("n_customers_")
        return self._n

    @property
    def covariance_(self) -> Array | None:
        """The reported parameters' covariance (rows and columns in ``standard_errors_`` order).

        None when the Hessian at the estimate is singular.
        """
        self._fit_result("covariance_")
        assert self._estimated is not None
        cov = self._estimated[2]
        return None if cov is None else cov.copy()

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._params is None:
            return f"{name}() (not fitted)"
        inner = ", ".join(f"{k}={v:.4g}" for k, v in self._params.items())
        if self._given:
            return f"{name}.from_params({inner})"
        limit = f"; limit model: {self._limit.description}" if self._limit is not None else ""
        return (
            f"{name}({inner}) (fitted on {self._n:,.0f} customers, "
            f"log-likelihood {self._log_likelihood:,.2f}{limit})"
        )

    # -- to be provided by each model: the natural parameters -------------------------------
    def _loglik(self, theta: Array, data: tuple[Array, ...]) -> Array:
        raise NotImplementedError

    def _gradient(self, theta: Array, data: tuple[Array, ...]) -> Array | None:
        """Per-row gradient (parameters x rows) in the natural parameters, or None."""
        return None

    has_gradient: ClassVar[bool] = False
    has_hessian: ClassVar[bool] = False
    #: Stage 1 by trust-region Newton steps on the analytic Hessian (few parameters, a cheap
    #: Hessian, a likelihood without stage-1 caps); otherwise L-BFGS-B, and the Hessian only
    #: polishes and gives the standard errors.
    newton_stage1: ClassVar[bool] = False
    #: Upper bounds on some log-parameters in stage 1 (by position): a shape beyond its cap is
    #: the boundary's business, where stage 2 finds the limit faster and exactly.
    stage1_caps: ClassVar[Mapping[int, float]] = {}

    def _hessian(self, theta: Array, data: tuple[Any, ...], weights: Array) -> Array | None:
        """The weighted log-likelihood's Hessian in the natural parameters (models with ``has_hessian``).

        None where the model has no analytic form at ``theta`` (the Pareto/NBD
        beyond its series' range): callers then difference the gradient.
        """
        raise NotImplementedError

    def _analytic_hessian(
        self, theta: Array, data: tuple[Any, ...], weights: Array
    ) -> Array | None:
        """The analytic Hessian where the model has one and it is finite at ``theta``, else None."""
        if not self.has_hessian:
            return None
        with np.errstate(all="ignore"):
            hess = self._hessian(theta, data, weights)
        return hess if hess is not None and bool(np.all(np.isfinite(hess))) else None

    # -- to be provided by each model: the closed parameter space ---------------------------
    def _coordinates(self, data: tuple[Any, ...], weights: Array) -> tuple[Coordinate, ...]:
        """The closed space's coordinates and bounds for these data (stage 2)."""
        raise NotImplementedError

    def _to_phi(self, theta: Array) -> Array:
        """Natural parameters (all finite, > 0) to the closed space."""
        raise NotImplementedError

    def _natural(self, phi: Array) -> dict[str, float]:
        """The closed space to natural parameters (``inf`` or 0 on the boundary)."""
        raise NotImplementedError

    def _extended_rows(self, phi: Array, data: tuple[Any, ...]) -> Array:
        """Each row's log-likelihood on the closed space (exact on the boundary too)."""
        raise NotImplementedError

    def _extended_objective(
        self, phi: Array, data: tuple[Any, ...], weights: Array
    ) -> tuple[float, Array | None]:
        """The weighted log-likelihood on the closed space and its gradient (None: differences)."""
        return dot(weights, self._extended_rows(phi, data)), None

    def _extended_data(self, *columns: Array) -> tuple[Any, ...]:
        """The data of :meth:`_extended_rows` from the columns ``fit`` takes."""
        return columns

    def _settle(self, phi: Array, at_lower: set[str], at_upper: set[str]) -> set[str]:
        """Write the exact limit into ``phi``; return the coordinates the limit makes moot.

        Called with the coordinates a closed-space fit left on their lower
        and upper bounds. A model sets, say, a rate that reached its floor to
        exactly 0, and pins a dispersion the likelihood no longer depends on.
        """
        return set()

    def _report(self, phi: Array, fixed: frozenset[str]) -> dict[str, float]:
        """The parameters a closed-space fit reports: the natural ones, or the limit model's."""
        return self._natural(phi)

    def _describe(self, phi: Array, fixed: frozenset[str]) -> BoundaryLimit | None:
        """The limit model at a boundary point (None inside the space)."""
        return None

    # -- stage 1: the natural parameters --------------------------------------------------
    def _newton(
        self, objective: Any, data: tuple[Any, ...], weights: Array, start: Array, total: float
    ) -> Any:
        """Trust-region Newton steps with the analytic Hessian; None when they fail (L-BFGS-B then runs)."""
        from scipy.optimize import minimize

        # The trust-region methods ask for the Hessian at a new point just before the value and gradient
        # there: the one evaluation serves both.
        last: dict[bytes, Any] = {}

        def value_and_grad(logp: Array) -> Any:
            key = logp.tobytes()
            if key not in last:
                last.clear()
                last[key] = objective(logp)
            return last[key]

        def hess(logp: Array) -> Array:
            theta = np.exp(logp)
            grad = np.asarray(value_and_grad(logp)[1]) * -total / theta  # back to the natural scale
            h = self._hessian(theta, data, weights)
            if h is None:
                raise np.linalg.LinAlgError("no analytic Hessian here")  # L-BFGS-B takes over
            # d2/dlog^2 = diag(theta) H diag(theta) + diag(grad * theta), for the negated mean.
            return -(theta[:, None] * h * theta[None, :] + np.diag(grad * theta)) / total

        # Dogleg first: where the Hessian is positive definite along the way (the usual case
        # from the default start) its steps cost a Cholesky factorisation, where
        # trust-exact's cost an iterative subproblem (half of a small fit's time). It refuses
        # an indefinite Hessian; trust-exact then starts again and handles it.
        res = None
        for method in ("dogleg", "trust-exact"):
            with np.errstate(all="ignore"):
                try:
                    res = minimize(
                        value_and_grad,
                        np.log(start),
                        jac=True,
                        hess=hess,
                        method=method,
                        options={"gtol": 1e-10, "maxiter": 200},
                    )
                except (np.linalg.LinAlgError, ValueError):
                    res = None
            if res is not None and self._newton_done(res):
                return res
        return None

    @staticmethod
    def _newton_done(res: Any) -> bool:
        """Whether a trust-region run ended at a maximum (marking it a success if so)."""
        if not (np.all(np.isfinite(res.x)) and np.all(np.abs(res.x) < _LOG_BOUND)):
            return False
        # At the optimum rounding can stop the trust region short of gtol ("a bad approximation
        # caused failure to predict improvement"): a vanishing gradient is success all the same.
        if not res.success:
            if not (np.all(np.isfinite(res.jac)) and float(np.max(np.abs(res.jac))) < 1e-7):
                return False
            res.success = True
        return True

    def _objective(
        self, theta: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array | None]:
        """The weighted log-likelihood and its gradient (None without an analytic one).

        Models override this to share work between the two or to sum terms
        that depend on few distinct values once per value.
        """
        value = dot(weights, self._loglik(theta, data))
        grad = self._gradient(theta, data) if self.has_gradient else None
        return value, (None if grad is None else matvec(grad, weights))

    def _theta(self, params: Mapping[str, Any] | None = None) -> Array:
        if params is not None:
            p = check_params(self.param_names, params, self.label)
        elif self._params is not None:
            p = self._params
        else:
            raise NotFittedError(
                f"{type(self).__name__} has no parameters: call fit() or from_params(), "
                "or pass params="
            )
        return np.array([p[n] for n in self.param_names])

    def _start(self, initial_params: Mapping[str, Any] | None, default: Array) -> Array:
        """The optimiser's start: ``initial_params`` (checked like given parameters) or ``default``."""
        if initial_params is None:
            return default
        if not isinstance(initial_params, Mapping):
            raise ValidationError(
                [("initial_params", f"must be a mapping of {', '.join(self.param_names)}")]
            )
        p = check_params(self.param_names, initial_params, self.label)
        return np.array([p[n] for n in self.param_names])

    def _phi_of(self, params: Mapping[str, Any] | None = None) -> Array:
        """The closed-space point of ``params``, else of the fitted model (its limit included)."""
        if params is None and self._phi is not None:
            return self._phi
        return self._to_phi(self._theta(params))

    def _on_limit(self, params: Mapping[str, Any] | None) -> bool:
        """Predictions on the closed space: a fit that ended there (a limit model, or a maximum
        found near the boundary, where the natural parameters are extreme and the natural
        formulas cancel catastrophically), not given parameters."""
        return params is None and self._phi is not None

    def _stage1(
        self,
        data: tuple[Any, ...],
        weights: Array,
        start: Array,
        curvature: Array | None = None,
    ) -> tuple[Array, float, int, bool]:
        """The fit in the natural parameters: (theta, log-likelihood, iterations, converged).

        Not converged: the optimiser failed, or ran to the edge of the search
        box; theta is then where it stopped (a start for stage 2). With
        ``curvature`` (the Hessian of the mean negative log-likelihood in the
        log-parameters, from a subsample) the optimiser is BFGS started with
        that curvature, which needs a few iterations from a good start where
        L-BFGS-B, learning the curvature anew, needs twenty.
        """
        from scipy.optimize import minimize

        total = float(weights.sum())
        k = start.size

        upper = np.array([self.stage1_caps.get(i, _LOG_BOUND) for i in range(k)])

        inside: list[Any] = []  # BFGS's last point inside the search box, and its value
        bounded_steps = True

        def objective(logp: Array) -> Any:
            if np.any(logp > upper) or np.any(logp < -_LOG_BOUND):
                # BFGS has no bounds: a step out of the search box means the maximum lies
                # towards the boundary, which is stage 2's business (and beyond a cap the
                # natural parameters are slow to evaluate). Trust-region Newton steps from a
                # poor start may overshoot: for them the box's outside is just a bad point.
                if not bounded_steps:
                    raise _LeftBox
                value = float(_PENALTY)
                return value if not self.has_gradient else (value, np.zeros(k))
            theta = np.exp(logp)
            ll, grad = self._objective(theta, data, weights)
            bad = not np.isfinite(ll) or (grad is not None and not np.all(np.isfinite(grad)))
            if bad:
                # Far from the data: a large finite value makes the line search step back.
                ll, grad = -_PENALTY * total, (None if grad is None else np.zeros(k))
            inside[:] = [logp.copy(), -ll / total]
            if grad is None:
                return -ll / total
            return -ll / total, -grad * theta / total

        start = np.minimum(start, np.exp(upper - 1))
        res = None
        if self.newton_stage1:
            res = self._newton(objective, data, weights, start, total)
        if res is None and curvature is not None:
            bounded_steps = False
            inverse = np.linalg.inv(curvature)
            try:
                with np.errstate(all="ignore"):
                    # gtol 1e-7: on a million rows the mean log-likelihood is known to ~1e-13,
                    # and line searches chasing smaller gradients burn dozens of evaluations.
                    res = minimize(
                        objective,
                        np.log(start),
                        jac=True,
                        method="BFGS",
                        options={
                            "gtol": 1e-7,
                            "maxiter": 200,
                            "hess_inv0": (inverse + inverse.T) / 2,
                        },
                    )
            except _LeftBox:
                logp, value = inside if inside else (np.log(start), _PENALTY)
                return np.exp(logp), -float(value) * total, 0, False
            if res.success or "precision loss" in str(res.message):
                # One Newton step with the subsample's curvature takes the rest of the way.
                step = np.linalg.solve(curvature, -np.asarray(res.jac))
                try:
                    value = objective(res.x + step)
                except _LeftBox:
                    value = (np.inf, None)
                if np.isfinite(value[0]) and value[0] <= res.fun:
                    res.x, res.fun, res.jac = res.x + step, value[0], value[1]
                res.success = True
            else:
                res = None  # L-BFGS-B from the same start
            bounded_steps = True
        if res is None:
            with np.errstate(all="ignore"):
                res = minimize(
                    objective,
                    np.log(start),
                    jac=self.has_gradient,
                    method="L-BFGS-B",
                    bounds=list(zip([-_LOG_BOUND] * k, upper, strict=True)),
                    options={"maxiter": 2000, **self._stage1_tolerances()},
                )
            if not self.has_gradient and np.all(np.isfinite(res.x)) and res.fun < _PENALTY / 2:
                # With differenced gradients L-BFGS-B stops ~1e-5 from the maximum along a flat
                # ridge (BG/BB on the donations data): one Newton step with a Hessian from
                # differences of the value (cheap: such models fit a few distinct rows) lands
                # on it. Taken only when it stays in the search box and improves the fit.
                with np.errstate(all="ignore"):
                    polished = self._newton_step(objective, res.x)
                if (
                    polished is not None
                    and polished[1] <= res.fun
                    and np.all(polished[0] > -_LOG_BOUND + 1)
                    and np.all(polished[0] < upper - 1)
                ):
                    res.x, res.fun = polished
        value = float(res.fun)
        # Line searches that end at an optimum reached to rounding ("ABNORMAL", "precision loss")
        # are fine; other failures are not.
        ok = res.success or (
            np.isfinite(value)
            and ("ABNORMAL" in str(res.message) or "precision loss" in str(res.message))
            and self._is_stationary(res.x, data, weights)
        )
        converged = bool(
            ok
            and np.all(np.isfinite(res.x))
            and not np.any(res.x < -_LOG_BOUND + 1)
            and not np.any(res.x > upper - 1)
            and value < _PENALTY / 2
        )
        theta = np.exp(res.x) if np.all(np.isfinite(res.x)) else start
        return theta, -value * total, int(res.nit), converged

    def _stage1_tolerances(self) -> dict[str, float]:
        """L-BFGS-B's stopping rule: loose enough for :meth:`_refine`'s Newton steps to finish.

        With an analytic gradient the Newton steps take the estimate from a
        projected gradient of 1e-7 (of the mean log-likelihood) to the maximum
        in one or two evaluations, where L-BFGS-B, its line searches fighting
        rounding near the maximum, spends ten to thirty. Without one (no
        Newton steps) it runs to the rounding of the mean.
        """
        if self.has_gradient:
            return {"ftol": 1e-12, "gtol": 1e-7}
        return {"ftol": 1e-15, "gtol": 1e-9}

    @staticmethod
    def _newton_step(objective: Callable[[Array], Any], logp: Array) -> tuple[Array, float] | None:
        """One Newton step from ``logp`` on ``objective`` (a value), by central differences."""

        def value(at: Array) -> float:
            out = objective(at)
            return float(out[0] if isinstance(out, tuple) else out)

        k, h = logp.size, 1e-4
        eye = np.eye(k) * h
        gradient = np.array([(value(logp + e) - value(logp - e)) / (2 * h) for e in eye])
        curvature = np.empty((k, k))
        for i in range(k):
            for j in range(i, k):
                curvature[i, j] = curvature[j, i] = (
                    value(logp + eye[i] + eye[j]) - value(logp + eye[i] - eye[j])
                    - value(logp - eye[i] + eye[j]) + value(logp - eye[i] - eye[j])
                ) / (4 * h * h)  # fmt: skip
        if not (np.all(np.isfinite(curvature)) and np.all(np.isfinite(gradient))):
            return None
        try:
            if np.any(np.linalg.eigvalsh(curvature) <= 0):
                return None
            moved = logp + np.linalg.solve(curvature, -gradient)
        except np.linalg.LinAlgError:
            return None
        moved_value = value(moved)
        if not (np.all(np.isfinite(moved)) and np.isfinite(moved_value)):
            return None
        return moved, moved_value

    def _curvature(self, logp: Array, data: tuple[Any, ...], weights: Array) -> Array | None:
        """The Hessian of the mean negative log-likelihood in the log-parameters (differences of the gradient)."""
        total = float(weights.sum())
        k = logp.size
        hess = np.empty((k, k))
        for i in range(k):
            step = np.zeros(k)
            step[i] = 1e-5
            up, down = np.exp(logp + step), np.exp(logp - step)
            g_up = self._objective(up, data, weights)[1]
            g_down = self._objective(down, data, weights)[1]
            if g_up is None or g_down is None:
                return None
            hess[i] = -(g_up * up - g_down * down) / (2e-5 * total)
        hess = (hess + hess.T) / 2
        if not np.all(np.isfinite(hess)) or np.any(np.linalg.eigvalsh(hess) <= 0):
            return None
        return hess

    def _is_stationary(self, logp: Array, data: tuple[Array, ...], weights: Array) -> bool:
        theta = np.exp(logp)
        with np.errstate(all="ignore"):
            g = self._total_gradient(theta, data, weights) * theta / weights.sum()
        return bool(np.all(np.isfinite(g)) and np.max(np.abs(g)) < 1e-5)

    def _total_gradient(self, theta: Array, data: tuple[Array, ...], weights: Array) -> Array:
        _, grad = self._objective(theta, data, weights)
        if grad is not None:
            return grad
        # Central differences of the log-likelihood.
        out = np.empty(theta.size)
        for i in range(theta.size):
            h = 1e-6 * theta[i]
            up, down = theta.copy(), theta.copy()
            up[i] += h
            down[i] -= h
            out[i] = (
                dot(weights, self._loglik(up, data)) - dot(weights, self._loglik(down, data))
            ) / (2 * h)
        return out

    # -- the two-stage fit --------------------------------------------------------------------
    def _maximise(
        self,
        data: tuple[Any, ...],
        weights: Array,
        start: Array,
        closed: Callable[[], tuple[tuple[Any, ...], Array]] | None = None,
        curvature: Array | None = None,
        boundary_start: Array | None = None,
    ) -> None:
        """Fit: stage 1 on ``data``; stage 2 on ``closed()`` (the closed space's data and weights).

        ``closed`` builds its data only when stage 2 runs: most fits never need it.
        ``curvature`` is passed to :meth:`_stage1`. ``boundary_start`` (a point
        of the closed space, say a subsample's limit model) skips stage 1.
        BLAS runs on one thread meanwhile (see :mod:`crmkit._threads`).
        """
        import scipy.optimize  # noqa: F401  (its BLAS must be loaded before the guard looks)

        from crmkit._threads import one_blas_thread

        with one_blas_thread():
            self._fit_stages(data, weights, start, closed, curvature, boundary_start)

    def _fit_stages(
        self,
        data: tuple[Any, ...],
        weights: Array,
        start: Array,
        closed: Callable[[], tuple[tuple[Any, ...], Array]] | None,
        curvature: Array | None,
        boundary_start: Array | None,
    ) -> None:
        if boundary_start is not None and closed is not None:
            cdata, cweights = closed()
            self._stage2(cdata, cweights, boundary_start, self._coordinates(cdata, cweights))
            return
        theta, ll, nit, converged = self._stage1(data, weights, start, curvature)
        total = float(weights.sum())
        if closed is None:
            if not converged:
                raise ConvergenceError(
                    f"{self.label} fit did not converge: the optimiser stopped without a maximum "
                    f"after {nit} iterations (try other data or a longer observation period)"
                )
            self._accept_stage1(theta, ll, nit, data, weights, total)
            return
        cdata, cweights = closed()
        coords = self._coordinates(cdata, cweights)
        phi = self._to_phi(theta)
        near = any(not (c.near_lower < v < c.near_upper) for c, v in zip(coords, phi, strict=True))
        if converged and not near:
            self._accept_stage1(theta, ll, nit, data, weights, total)
            return
        self._stage2(cdata, cweights, phi, coords)

    def _accept_stage1(
        self,
        theta: Array,
        ll: float,
        nit: int,
        data: tuple[Any, ...],
        weights: Array,
        total: float,
    ) -> None:
        theta, ll, hess = self._refine(theta, ll, data, weights)
        self._params = dict(zip(self.param_names, theta.tolist(), strict=True))
        self._given = False
        self._log_likelihood = ll
        self._limit = None
        self._phi = None
        self._n = total
        self._iterations = nit
        with np.errstate(all="ignore"):
            cov = self._covariance(theta, data, weights, hess)
        self._estimated = (self.param_names, theta, cov)

    def _refine(
        self, theta: Array, ll: float, data: tuple[Any, ...], weights: Array
    ) -> tuple[Array, float, Array | None]:
        """Newton steps from where the optimiser stopped, to the precision of the gradient.

        The optimisers stop when the mean log-likelihood stops changing, which
        along the flat ridges of these likelihoods (a and b of BG/NBD move
        together) leaves the estimates uncertain in the seventh digit, and
        the digits left depend on the route: the customers in another order,
        or compressed to patterns with weights, end elsewhere. A few Newton
        steps in the log-parameters (one Hessian, analytic or from central
        differences of the analytic gradient) reach the maximum itself, so
        every route gives the same estimates to about 1e-10. A step that
        lowers the likelihood is not taken.

        Returns the estimates, their log-likelihood and the Hessian in the
        natural parameters, which the standard errors reuse when the steps
        moved the estimates too little to change it beyond the precision of a
        standard error: the Hessian changes by about the relative move times
        its size, which must stay far below its smallest eigenvalue.
        Otherwise (or with no gradient) ``None``: computed again at the end.
        """
        if not self.has_gradient:
            return theta, ll, None

        def value_grad(logp: Array) -> tuple[float, Array]:
            t = np.exp(logp)
            value, grad = self._objective(t, data, weights)
            return float(value), np.asarray(grad, dtype=float) * t

        logp = np.log(theta)
        with np.errstate(all="ignore"):
            value, grad = value_grad(logp)
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                return theta, ll, None
            k = logp.size
            # The Hessian in the log-parameters: H_log = diag(theta) H diag(theta) + diag(g_log).
            natural = self._analytic_hessian(theta, data, weights)
            if natural is not None:
                hess = theta[:, None] * natural * theta[None, :] + np.diag(grad)
            else:
                # Central differences of the analytic gradient: the error is 1e-10 of the
                # curvature, which matters where the Hessian is near singular (the Pareto/NBD's
                # s and beta on a flat ridge: eigenvalues 1e-3 against 1e3).
                hess = np.empty((k, k))
                for i in range(k):
                    h = 1e-5
                    up, down = logp.copy(), logp.copy()
                    up[i] += h
                    down[i] -= h
                    hess[i] = (value_grad(up)[1] - value_grad(down)[1]) / (2 * h)
                hess = (hess + hess.T) / 2
                natural = (hess - np.diag(grad)) / (theta[:, None] * theta[None, :])
            start = logp
            for _ in range(6):
                try:
                    step = np.linalg.solve(hess, -grad)
                except np.linalg.LinAlgError:
                    break
                if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1e-2:
                    break  # not the neighbourhood of a maximum: keep the optimiser's point
                if np.max(np.abs(step)) < 1e-11:
                    break  # at the maximum to the precision of the gradient
                trial = logp + step
                trial_value, trial_grad = value_grad(trial)
                if not (np.isfinite(trial_value) and np.all(np.isfinite(trial_grad))):
                    break
                if trial_value < value - 1e-12 * abs(value):
                    break
                logp, value, grad = trial, trial_value, trial_grad
            moved = float(np.max(np.abs(logp - start)))
            # The Hessian moves with the estimate by about moved times its size: harmless
            # unless that could flip the sign of its smallest eigenvalue (a flat ridge).
            eig = np.abs(np.linalg.eigvalsh(hess)) if np.all(np.isfinite(hess)) else np.zeros(1)
            reuse = bool(np.all(np.isfinite(natural)) and eig.min() > 100 * moved * eig.max())
        return np.exp(logp), value, (natural if reuse else None)

    def _stage2(
        self,
        data: tuple[Any, ...],
        weights: Array,
        start: Array,
        coords: tuple[Coordinate, ...],
    ) -> None:
        """Bounded L-BFGS-B on the closed space; the maximum is interior or a limit model."""
        from scipy.optimize import minimize

        lower = np.array([c.lower for c in coords])
        upper = np.array([c.upper for c in coords])
        total = float(weights.sum())
        x0 = np.clip(np.nan_to_num(start, nan=0.0, posinf=np.inf, neginf=-np.inf), lower, upper)
        noise = max(1.0, math.sqrt(weights.size))

        def objective(phi: Array) -> tuple[float, Array]:
            value, grad = self._extended_value_grad(phi, data, weights, lower, upper)
            if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                return _PENALTY, np.zeros_like(phi)
            return -value / total, -grad / total

        with np.errstate(all="ignore"):
            res = minimize(
                objective,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(lower, upper, strict=True)),
                # A sum over n rows carries rounding of about sqrt(n) ulps: tolerances below
                # that make line searches chase noise (the Newton polish takes the last digits).
                options={"maxiter": 3000, "ftol": 1e-15 * noise, "gtol": 1e-10 * noise},
            )
        phi = np.asarray(res.x, dtype=float)
        value = -float(res.fun) * total
        if not np.isfinite(value) or float(res.fun) >= _PENALTY / 2:
            raise ConvergenceError(
                f"{self.label} fit did not converge on the closed parameter space: {res.message} "
                f"(after {res.nit} iterations); check the data for customers with impossible histories"
            )
        at_lower: set[str] = set()
        at_upper: set[str] = set()
        for i, c in enumerate(coords):
            if phi[i] <= c.lower:
                phi[i] = c.lower
                at_lower.add(c.name)
            elif phi[i] >= c.upper:
                phi[i] = c.upper
                at_upper.add(c.name)
        moot = self._settle(phi, at_lower, at_upper)
        frozen = frozenset(at_lower | at_upper | moot)
        free = tuple(i for i, c in enumerate(coords) if c.name not in frozen)
        phi, hessian = self._polish(phi, free, data, weights, lower, upper)
        if not res.success:
            # Line searches that stop at a stationary point (after the Newton steps) are a
            # maximum all the same; anything else is a failure.
            grad = objective(phi)[1][list(free)]
            if grad.size and float(np.max(np.abs(grad))) > 1e-6:
                raise ConvergenceError(
                    f"{self.label} fit did not converge: {res.message} (after {res.nit} "
                    f"iterations, gradient {float(np.max(np.abs(grad))):.2g}); "
                    "try a longer observation period"
                )
        value = self._extended_objective(phi, data, weights)[0]
        self._phi = phi
        self._params = self._natural(phi)
        self._given = False
        self._log_likelihood = value
        self._limit = self._describe(phi, frozen) if frozen else None
        self._n = total
        self._iterations = int(res.nit)
        with np.errstate(all="ignore"):
            self._estimated = self._extended_covariance(
                _Fitted(phi, data, weights, free, frozen, hessian)
            )
        if self._limit is not None:
            warnings.warn(
                f"{self.label}: the likelihood is highest on the boundary of the parameter space; "
                f"the fit is the limit model: {self._limit.description} "
                f"({', '.join(self._limit.diverging)} diverge; see limit_ and summary())",
                BoundaryWarning,
                stacklevel=5,
            )

    def _polish(
        self,
        phi: Array,
        free: tuple[int, ...],
        data: tuple[Any, ...],
        weights: Array,
        lower: Array,
        upper: Array,
    ) -> tuple[Array, Array | None]:
        """Newton steps on the free coordinates from where L-BFGS-B stopped; the point and the Hessian.

        L-BFGS-B stops when the log-likelihood no longer changes in the last
        digits, which along a flat ridge leaves the parameters uncertain in
        the sixth digit; the gradient still points the way. Newton steps with
        one Hessian (by differences of the gradient) take the maximum to the
        precision of the gradient, so every start ends at the same point.
        Each step must stay inside the bounds and not lower the likelihood.
        The Hessian (at the first point: the steps are tiny) also gives the
        standard errors.
        """
        if not free:
            return phi, None
        idx = list(free)

        def value_grad(p: Array) -> tuple[float, Array]:
            value, grad = self._extended_value_grad(p, data, weights, lower, upper)
            return value, grad[idx]

        value, grad = value_grad(phi)
        hess = np.empty((len(idx), len(idx)))
        for col, i in enumerate(idx):
            h = 1e-5 * max(1.0, abs(phi[i]))
            up, down = phi.copy(), phi.copy()
            up[i] = min(phi[i] + h, upper[i])
            down[i] = max(phi[i] - h, lower[i])
            hess[col] = (value_grad(up)[1] - value_grad(down)[1]) / (up[i] - down[i])
        hess = (hess + hess.T) / 2
        best = phi
        for _ in range(8):
            try:
                step = np.linalg.solve(hess, -grad)
            except np.linalg.LinAlgError:
                break
            trial = best.copy()
            trial[idx] += step
            if not np.all(np.isfinite(trial)) or np.any(trial < lower) or np.any(trial > upper):
                break
            trial_value, trial_grad = value_grad(trial)
            if not np.isfinite(trial_value) or trial_value < value - 1e-12 * abs(value):
                break
            best, value, grad = trial, trial_value, trial_grad
            if np.max(np.abs(step) / np.maximum(1.0, np.abs(best[idx]))) < 1e-10:
                break
        return best, hess

    def _extended_value_grad(
        self, phi: Array, data: tuple[Any, ...], weights: Array, lower: Array, upper: Array
    ) -> tuple[float, Array]:
        """Value and gradient on the closed space; differences where no analytic gradient exists.

        Central differences inside; at a bound, the one-sided three-point
        formula that steps into the space.
        """
        value, grad = self._extended_objective(phi, data, weights)
        if grad is not None:
            return value, grad
        out = np.empty(phi.size)

        def f(p: Array) -> float:
            return self._extended_objective(p, data, weights)[0]

        for i in range(phi.size):
            h = 1e-6 * max(1.0, abs(phi[i]))
            step = np.zeros(phi.size)
            step[i] = h
            if phi[i] - h < lower[i]:
                out[i] = (-3 * value + 4 * f(phi + step) - f(phi + 2 * step)) / (2 * h)
            elif phi[i] + h > upper[i]:
                out[i] = (3 * value - 4 * f(phi - step) + f(phi - 2 * step)) / (2 * h)
            else:
                out[i] = (f(phi + step) - f(phi - step)) / (2 * h)
        return value, out

    # -- standard errors ----------------------------------------------------------------------
    def _covariance(
        self,
        theta: Array,
        data: tuple[Array, ...],
        weights: Array,
        hessian: Array | None = None,
    ) -> Array | None:
        """Inverse of the observed information in the natural parameters (stage-1 fits).

        ``hessian``: the log-likelihood's Hessian near ``theta`` (from
        :meth:`_refine`), else computed here. With an analytic gradient:
        central differences of it (2k gradients). Without: second
        differences of the log-likelihood itself (1 + 2k + 2k(k - 1)
        evaluations, fewer than differencing a numerical gradient).
        """
        if hessian is not None:
            return _inverse_information(hessian)
        k = theta.size
        analytic = self._analytic_hessian(theta, data, weights)
        hess = np.empty((k, k))
        if analytic is not None:
            hess = analytic
        elif self.has_gradient:
            for i in range(k):
                h = 1e-4 * theta[i]
                up, down = theta.copy(), theta.copy()
                up[i] += h
                down[i] -= h
                hess[i] = (
                    self._total_gradient(up, data, weights)
                    - self._total_gradient(down, data, weights)
                ) / (2 * h)
        else:
            step = 1e-4 * theta

            def f(shift: Array) -> float:
                return self._objective(theta + shift, data, weights)[0]

            f0 = f(np.zeros(k))
            e = np.diag(step)
            for i in range(k):
                hess[i, i] = (f(e[i]) - 2 * f0 + f(-e[i])) / step[i] ** 2
                for j in range(i):
                    hess[i, j] = hess[j, i] = (
                        f(e[i] + e[j]) - f(e[i] - e[j]) - f(e[j] - e[i]) + f(-e[i] - e[j])
                    ) / (4 * step[i] * step[j])
        return _inverse_information(hess)

    def _extended_covariance(self, fitted: _Fitted) -> tuple[tuple[str, ...], Array, Array | None]:
        """Reported names, estimates and covariance of a stage-2 fit (delta method from the free coordinates)."""
        phi, free = fitted.point, fitted.free
        report = self._report(phi, fitted.fixed)
        names = tuple(report)
        estimates = np.array([report[n] for n in names])
        if not free:
            return names, estimates, None
        coords = self._coordinates(fitted.data, fitted.weights)
        lower = np.array([c.lower for c in coords])
        upper = np.array([c.upper for c in coords])

        def grad(p: Array) -> Array:
            return self._extended_value_grad(p, fitted.data, fitted.weights, lower, upper)[1]

        k = len(free)
        hess = np.empty((k, k)) if fitted.hessian is None else fitted.hessian
        jac = np.empty((len(names), k))
        for col, i in enumerate(free):
            h = 1e-5 * max(1.0, abs(phi[i]))
            up, down = phi.copy(), phi.copy()
            up[i] = min(phi[i] + h, upper[i])
            down[i] = max(phi[i] - h, lower[i])
            width = up[i] - down[i]
            if fitted.hessian is None:
                hess[col] = (grad(up) - grad(down))[list(free)] / width
            r_up, r_down = self._report(up, fitted.fixed), self._report(down, fitted.fixed)
            jac[:, col] = [(r_up[n] - r_down[n]) / width for n in names]
        cov_phi = _inverse_information(hess)
        if cov_phi is None:
            return names, estimates, None
        cov = np.einsum("ik,kl,jl->ij", jac, cov_phi, jac)  # the delta method, J C J'
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
            return names, estimates, None
        return names, estimates, cov

    def _estimates(self) -> tuple[tuple[str, ...], Array, Array | None]:
        """The reported parameters' names, estimates and covariance (computed by the fit)."""
        self._fit_result("standard_errors_")
        assert self._estimated is not None
        return self._estimated

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors from the Hessian, by reported parameter (the limit model's on a boundary).

        Raises :class:`~crmkit.errors.InsufficientData` when the Hessian at the
        estimate is singular (the data do not identify every parameter).
        """
        names, _, cov = self._estimates()
        if cov is None:
            raise InsufficientData(
                f"{self.label}: the Hessian at the estimate is singular; no standard errors"
            )
        se = np.sqrt(np.diag(cov))
        return dict(zip(names, se.tolist(), strict=True))

    def confidence_intervals(self, confidence: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals on the log scale (positive, like the parameters); logit scale for probabilities."""
        from scipy.stats import norm

        from crmkit._validation import check_confidence

        z = float(norm.ppf(0.5 + check_confidence(confidence) / 2))
        se = self.standard_errors_
        names, estimates, _ = self._estimates()
        out = {}
        for name, v in zip(names, estimates.tolist(), strict=True):
            if name in self.probability_params:
                half = z * se[name] / (v * (1 - v))
                logit = math.log(v / (1 - v))
                out[name] = (
                    1 / (1 + math.exp(-(logit - half))),
                    1 / (1 + math.exp(-(logit + half))),
                )
            else:
                half = z * se[name] / v
                out[name] = (v * math.exp(-half), v * math.exp(half))
        return out

    def summary(self, confidence: float = 0.95) -> FitSummary:
        """The fitted parameters with standard errors, intervals and the log-likelihood."""
        self._fit_result("summary()")
        from crmkit._validation import check_confidence

        check_confidence(confidence)
        names, estimates, cov = self._estimates()
        se_t = lo_t = hi_t = None
        if cov is not None:
            ci = self.confidence_intervals(confidence)
            se_t = tuple(self.standard_errors_.values())
            lo_t = tuple(ci[k][0] for k in names)
            hi_t = tuple(ci[k][1] for k in names)
        return FitSummary(
            model=self.label,
            names=names,
            estimates=tuple(estimates.tolist()),
            standard_errors=se_t,
            lower=lo_t,
            upper=hi_t,
            confidence=confidence,
            log_likelihood=self.log_likelihood_,
            n=self._n,
            iterations=self._iterations,
            limit=self._limit,
        )

    def print_summary(self, confidence: float = 0.95, *, decimals: int = 4) -> None:
        """Print :meth:`summary` with ``decimals`` digits (for notebooks and scripts)."""
        print(self.summary(confidence).format(decimals))  # noqa: T201 - asked for by the caller

    def _prepare(self, *columns: Array) -> tuple[Array, ...]:
        """The data in the form ``_loglik`` takes (some models precompute terms)."""
        return columns

    def log_likelihood(self, *columns: Any, params: Mapping[str, Any] | None = None) -> Array:
        """Each row's log-likelihood at ``params`` (default: the fitted ones, a limit model included).

        ``columns`` are the model's data columns in the order ``fit`` takes them.
        """
        arrays = tuple(np.atleast_1d(np.asarray(c, dtype=float)) for c in columns)
        with np.errstate(over="ignore", under="ignore"):
            if self._on_limit(params):
                return self._extended_rows(self._phi_of(None), self._extended_data(*arrays))
            theta = self._theta(params)
            return self._loglik(theta, self._prepare(*arrays))


def _inverse_information(hess: Array) -> Array | None:
    """``inv(-H)`` of a symmetrised Hessian, or None when it is singular or not a maximum."""
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None
    return np.asarray(cov, dtype=np.float64)


def rng_of(seed: Any) -> np.random.Generator:
    from crmkit._validation import as_rng

    return as_rng(seed)


Objective = Callable[[Array], Any]


def _column(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        if name not in source:
            raise ValidationError([(name, "is missing from the summary")])
        return source[name]
    if not hasattr(source, name):
        raise ValidationError([(name, f"is missing from the {type(source).__name__}")])
    return getattr(source, name)


def transactions(
    frequency: Any,
    recency: Any,
    T: Any,
    weights: Any,
    *,
    model: str,
    discrete: bool = False,
) -> tuple[Array, Array, Array, Array]:
    """Checked ``(x, t_x, T, weights)`` arrays; ``frequency`` may be a summary holding all four."""
    from crmkit._validation import _positions, as_finite, as_weights

    if recency is None and T is None and not isinstance(frequency, (list, tuple, np.ndarray)):
        source = frequency
        frequency = _column(source, "frequency")
        recency = _column(source, "recency")
        T = _column(source, "T")
        if weights is None:
            weights = (
                getattr(source, "weights", None)
                if not isinstance(source, Mapping)
                else source.get("weights")
            )
    if recency is None or T is None:
        raise ValidationError(
            [("recency", f"{model} needs frequency, recency and T (or a summary holding them)")]
        )
    x = as_finite(frequency, "frequency")
    n = x.shape[0]
    tx = as_finite(recency, "recency", n)
    t = as_finite(T, "T", n)
    w = as_weights(weights, "weights", n)
    problems: list[tuple[str, str]] = []
    for name, mask, expected in (
        ("frequency", (x < 0) | (x != np.round(x)), "must be whole numbers >= 0"),
        ("T", t < 0, "must be >= 0"),
        ("recency", (tx < 0) | (tx > t), "must be between 0 and T"),
        ("recency", (x == 0) & (tx != 0), "must be 0 where frequency is 0"),
        ("recency", (x > 0) & (tx == 0) & (not discrete), "must be > 0 where frequency > 0"),
    ):
        if mask.any():
            problems.append((name, f"{expected}; positions {_positions(mask)} are not"))
    if discrete:
        bad = (t != np.round(t)) | (tx != np.round(tx)) | (x > tx)
        if bad.any():
            problems.append(
                (
                    "recency",
                    f"must be whole periods with frequency <= recency <= T; positions {_positions(bad)} are not",
                )
            )
    if problems:
        raise ValidationError(problems)
    if n == 0:
        raise InsufficientData(f"{model}: no customers")
    if not (x[w > 0] > 0).any():
        raise InsufficientData(
            f"{model}: no customer made a repeat purchase; the purchase and dropout processes cannot be estimated"
        )
    return x, tx, t, w


def merge_duplicates(x: Array, tx: Array, t: Array, w: Array) -> tuple[Array, Array, Array, Array]:
    """Rows with equal ``(x, t_x, T)`` merged into one carrying the sum of their weights.

    The log-likelihood is a weighted sum over rows, so its value, gradient
    and Hessian are unchanged; the models whose rows are expensive (the
    Pareto/NBD's hypergeometric terms) then pay per distinct row. Customer
    bases have many: everyone without a repeat purchase who started on the
    same day shares a row (1,411 CDNOW customers fall into 84 rows). When
    fewer than a tenth of the ``T`` values repeat nothing is merged, since
    equal rows need equal ``T``, and that check costs one sort of ``T``.
    """
    n = x.shape[0]
    if n < 2:
        return x, tx, t, w
    sorted_t = np.sort(t)
    if np.count_nonzero(sorted_t[1:] == sorted_t[:-1]) < n // 10:
        return x, tx, t, w
    order, starts = distinct_rows(x, tx, t)
    first = order[starts]
    return x[first], tx[first], t[first], np.add.reduceat(w[order], starts)


def distinct_counts(x: Array) -> tuple[Array, npt.NDArray[np.intp]]:
    """The distinct values of whole-number ``x`` and each row's index into them, in linear time."""
    from crmkit._validation import factorize

    values, codes = factorize(x.astype(np.int64))
    return values.astype(np.float64), codes.astype(np.intp)
