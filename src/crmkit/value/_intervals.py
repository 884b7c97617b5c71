"""Confidence intervals on predictions: the delta method, parameter draws, the parametric bootstrap.

A prediction of a fitted model (a customer's expected purchases,
probability alive, expected spend, CLV, a segment's total) is a function
f(theta) of the estimated parameters. Its uncertainty comes from theirs:

* ``method="delta"``: Var f ~ J Sigma J' with J the derivatives of f in
  the parameters (central differences) and Sigma the estimates'
  covariance from the Hessian (Oehlert 1992, "A note on the delta
  method"). The interval is built on the log scale for positive
  predictions (``scale="auto"``), so it never reaches below 0.
* ``method="simulation"``: parameters drawn from their estimated sampling
  distribution, normal on the scale the models are fitted on (log for the
  positive parameters), and the percentiles of f over the draws (Krinsky &
  Robb 1986, "On approximating the statistical properties of elasticities").
* ``method="bootstrap"``: a parametric bootstrap (Efron & Tibshirani 1993,
  ch. 6): data sets drawn from the fitted models, the models refitted on
  each by ``refit`` and the percentiles of f over the refits. The most
  faithful and the slowest (one fit per draw).

Positive parameters are handled on the log scale, coefficients of
covariates (names with a dot) as they are. Several independently fitted
models (a transaction model and a spend model for CLV) combine with a
block-diagonal covariance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._numeric import matvec
from crmkit._text import describe
from crmkit.errors import ConvergenceError, CrmError, InsufficientData, ValidationError
from crmkit.value._fitting import Model

__all__ = ["PredictionInterval", "prediction_interval"]

Array = npt.NDArray[np.float64]
Method = Literal["delta", "simulation", "bootstrap"]
Scale = Literal["auto", "log", "logit", "identity"]

_STEP = 1e-5  # central-difference step on the fitted scale
_MAX_VALUES = 50_000_000  # draws x predictions kept in memory for the percentiles


@attrs.frozen(eq=False)
class PredictionInterval:
    """A prediction with its confidence interval (arrays of the prediction's shape).

    ``std_error`` is the delta method's, or the spread of the draws;
    ``failed`` counts bootstrap refits that did not converge (left out).
    """

    estimate: Array
    lower: Array
    upper: Array
    std_error: Array
    confidence: float
    method: str
    draws: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "std_error": self.std_error.tolist(),
            "confidence": self.confidence,
            "method": self.method,
            "draws": self.draws,
            "failed": self.failed,
        }

    def __str__(self) -> str:
        from crmkit._table import HEAD, more, table

        flat = [a.ravel() for a in (self.estimate, self.lower, self.upper, self.std_error)]
        n = flat[0].size
        rows = [tuple(float(a[i]) for a in flat) for i in range(min(n, HEAD))]
        how = self.method + (f", {self.draws} draws" if self.draws else "")
        return table(
            ("estimate", "lower", "upper", "std. error"),
            rows,
            formats=(".4g", ".4g", ".4g", ".3g"),
            title=f"{self.confidence:.0%} intervals ({how})",
            notes=more(n),
        )


def _parameters(models: tuple[Any, ...]) -> tuple[Array, Array, list[tuple[int, tuple[str, ...]]]]:
    """All models' parameters on the fitted scale, their covariance, and where each model's sit."""
    from scipy.linalg import block_diag

    values, covs, spans, at = [], [], [], 0
    for i, model in enumerate(models):
        if not isinstance(model, Model):
            raise ValidationError(
                [(f"models[{i}]", f"must be a fitted crmkit model, got {describe(model)}")]
            )
        model._fit_result("covariance_")
        if model.limit_ is not None:
            raise InsufficientData(
                f"models[{i}]: {model.label} was fitted on a boundary (a limit model); "
                "its predictions have no interval from the Hessian"
            )
        names, natural, cov = model._estimates()
        if cov is None:
            raise InsufficientData(
                f"models[{i}]: {model.label}'s Hessian is singular; no covariance for an interval"
            )
        log = np.array(["." not in name for name in names])
        values.append(np.where(log, np.log(np.where(log, natural, 1.0)), natural))
        scale = np.where(log, natural, 1.0)  # d natural / d fitted scale
        covs.append(cov / scale[:, None] / scale[None, :])
        spans.append((at, tuple(names)))
        at += len(names)
    return np.concatenate(values), block_diag(*covs), spans


def _at(models: tuple[Any, ...], u: Array, spans: list[tuple[int, tuple[str, ...]]]) -> list[Any]:
    """Copies of the models with the parameters ``u`` (on the fitted scale)."""
    out = []
    for model, (at, names) in zip(models, spans, strict=True):
        values = u[at : at + len(names)]
        with np.errstate(over="ignore"):  # a wild draw becomes inf; the draws' check reports it
            natural = [
                float(np.exp(v)) if "." not in name else float(v)
                for name, v in zip(names, values.tolist(), strict=True)
            ]
        moved = copy.copy(model)
        moved._params = dict(zip(names, natural, strict=True))
        moved._phi = None
        out.append(moved)
    return out


def _evaluate(predict: Callable[..., Any], models: list[Any]) -> Array:
    try:
        value = np.asarray(predict(*models), dtype=float)
    except CrmError:
        raise
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            [("predict", f"must return numbers from the models; it raised {type(exc).__name__}")]
        ) from None
    return value


def _interval(estimate: Array, se: Array, z: float, scale: str) -> tuple[Array, Array]:
    """Wald interval of a delta-method estimate on the chosen scale, back on the natural one."""
    from scipy.special import expit, logit

    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            half = z * se / estimate
            lower, upper = estimate * np.exp(-half), estimate * np.exp(half)
        elif scale == "logit":
            half = z * se / (estimate * (1 - estimate))
            lower, upper = expit(logit(estimate) - half), expit(logit(estimate) + half)
        else:
            lower, upper = estimate - z * se, estimate + z * se
    # A prediction the parameters do not move (P(alive) = 1 of a BG/NBD customer with x = 0).
    exact = (se == 0) | ~np.isfinite(lower) | ~np.isfinite(upper)
    return np.where(exact, estimate, lower), np.where(exact, estimate, upper)


def prediction_interval(
    predict: Callable[..., Any],
    *models: Any,
    method: Method = "delta",
    confidence: float = 0.95,
    scale: Scale = "auto",
    draws: int | None = None,
    refit: Callable[[np.random.Generator], Any] | None = None,
    seed: Any = None,
) -> PredictionInterval:
    """Confidence intervals of ``predict(*models)`` from the models' parameter uncertainty.

    ``predict`` takes the fitted models in the order given and returns a
    number or an array: one value per customer, or a segment's sum. For
    example, each customer's expected purchases in the next 52 weeks with
    95 % intervals:

    >>> from crmkit.datasets import load_cdnow_summary
    >>> from crmkit.value import BetaGeo, prediction_interval
    >>> d = load_cdnow_summary()
    >>> bg = BetaGeo().fit(d["frequency"], d["recency"], d["T"])
    >>> iv = prediction_interval(
    ...     lambda m: m.conditional_expected_purchases(52, d["frequency"], d["recency"], d["T"]), bg
    ... )
    >>> bool((iv.lower < iv.estimate).all() and (iv.estimate < iv.upper).all())
    True

    ``method``: ``"delta"`` (fast, the default), ``"simulation"`` (``draws``
    parameter draws, default 1000) or ``"bootstrap"`` (``draws`` refits,
    default 200, by ``refit(rng)``, which simulates a data set from the
    fitted models with the generator ``rng`` and returns the refitted
    models). ``scale`` is the delta method's: ``"log"`` for positive
    predictions, ``"logit"`` for probabilities, ``"identity"``; ``"auto"``
    takes the log scale when every estimate is positive. ``seed`` makes the
    draws repeatable.
    """
    from scipy.stats import norm

    from crmkit._args import choice, whole
    from crmkit._validation import check_confidence
    from crmkit.value._fitting import rng_of

    if not callable(predict):
        raise ValidationError(
            [("predict", f"must be a function of the models, got {describe(predict)}")]
        )
    if not models:
        raise ValidationError([("models", "give at least one fitted model")])
    method = choice(method, "method", ("delta", "simulation", "bootstrap"))  # type: ignore[assignment]
    scale = choice(scale, "scale", ("auto", "log", "logit", "identity"))  # type: ignore[assignment]
    confidence = check_confidence(confidence)
    z = float(norm.ppf(0.5 + confidence / 2))
    u, cov, spans = _parameters(models)
    estimate = _evaluate(predict, list(models))
    if not np.all(np.isfinite(estimate)):
        raise InsufficientData("predict returned values that are not finite numbers")
    if method == "delta":
        if draws is not None:
            raise ValidationError([("draws", "the delta method takes no draws")])
        slopes = []
        for j in range(u.size):
            step = _STEP * max(1.0, abs(float(u[j])))
            up, down = u.copy(), u.copy()
            up[j] += step
            down[j] -= step
            hi = _evaluate(predict, _at(models, up, spans))
            lo = _evaluate(predict, _at(models, down, spans))
            slopes.append((hi - lo) / (2 * step))
        variance = np.zeros(estimate.shape)
        for j in range(u.size):
            for k in range(u.size):
                if cov[j, k] != 0:
                    variance = variance + slopes[j] * slopes[k] * cov[j, k]
        se = np.sqrt(np.maximum(variance, 0.0))
        if scale == "auto":
            scale = "log" if np.all(estimate > 0) else "identity"
        if scale == "log" and not np.all(estimate > 0):
            raise ValidationError([("scale", "'log' needs positive predictions")])
        if scale == "logit" and not np.all((estimate >= 0) & (estimate <= 1)):
            raise ValidationError([("scale", "'logit' needs predictions between 0 and 1")])
        lower, upper = _interval(estimate, se, z, scale)
        return PredictionInterval(estimate, lower, upper, se, confidence, "delta")
    if scale != "auto":
        raise ValidationError([("scale", "is the delta method's; draws give percentiles")])
    default = 1000 if method == "simulation" else 200
    n = whole(default if draws is None else draws, "draws", 20, 100_000)
    if n * max(estimate.size, 1) > _MAX_VALUES:
        raise ValidationError(
            [
                (
                    "draws",
                    f"{n} draws of {estimate.size:,} predictions will not fit in memory: "
                    "use fewer draws, or predict a segment's sum",
                )
            ]
        )
    rng = rng_of(seed)
    values, failed = [], 0
    if method == "simulation":
        try:
            root = np.linalg.cholesky((cov + cov.T) / 2)
        except np.linalg.LinAlgError:
            raise InsufficientData("the parameters' covariance is not positive definite") from None
        for _ in range(n):
            drawn = u + matvec(root, rng.standard_normal(u.size))
            values.append(_evaluate(predict, _at(models, drawn, spans)))
    else:
        if not callable(refit):
            raise ValidationError(
                [("refit", "the bootstrap needs refit(rng): simulate from the models and refit")]
            )
        for _ in range(n):
            try:
                refitted = refit(rng)
            except (ConvergenceError, InsufficientData):
                failed += 1
                continue
            fitted = refitted if isinstance(refitted, tuple) else (refitted,)
            if len(fitted) != len(models):
                raise ValidationError(
                    [("refit", f"must return {len(models)} model(s), got {len(fitted)}")]
                )
            values.append(_evaluate(predict, list(fitted)))
        if failed > n // 10:
            raise ConvergenceError(f"{failed} of {n} bootstrap refits failed; no interval")
    stacked = np.stack(values)
    finite = np.all(np.isfinite(stacked.reshape(len(values), -1)), axis=1)
    if not finite.all():
        raise InsufficientData(
            f"predict gave values that are not finite numbers for {int((~finite).sum())} draws"
        )
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(stacked, [tail, 1 - tail], axis=0)
    return PredictionInterval(
        estimate, lower, upper, stacked.std(axis=0, ddof=1), confidence, method, len(values), failed
    )
