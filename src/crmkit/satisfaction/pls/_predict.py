"""PLSpredict (Shmueli et al. 2016): out-of-sample predictions by k-fold cross-validation."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._table import table
from crmkit._text import shown
from crmkit._validation import as_rng
from crmkit.errors import ValidationError
from crmkit.satisfaction.pls._algorithm import estimate, layout
from crmkit.satisfaction.pls._result import PlsResult

__all__ = ["PredictResult", "predict"]

Array = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class PredictResult:
    """PLSpredict (Shmueli et al. 2016): out-of-sample errors per indicator of the endogenous constructs.

    ``rmse`` / ``mae`` of the PLS predictions and of the linear benchmark
    (``lm_*``: each indicator regressed on all exogenous indicators), and
    ``q2_predict`` = 1 - SSE(PLS) / SSE(training mean).
    """

    folds: int
    repeats: int
    indicators: tuple[str, ...]
    rmse: dict[str, float]
    mae: dict[str, float]
    lm_rmse: dict[str, float]
    lm_mae: dict[str, float]
    q2_predict: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "repeats": self.repeats,
            "indicators": {
                i: {
                    "rmse": self.rmse[i],
                    "mae": self.mae[i],
                    "lm_rmse": self.lm_rmse[i],
                    "lm_mae": self.lm_mae[i],
                    "q2_predict": self.q2_predict[i],
                }
                for i in self.indicators
            },
        }

    def __str__(self) -> str:
        return table(
            ("indicator", "PLS RMSE", "LM RMSE", "PLS MAE", "LM MAE", "Q2_predict"),
            (
                (i, self.rmse[i], self.lm_rmse[i], self.mae[i], self.lm_mae[i], self.q2_predict[i])
                for i in self.indicators
            ),
            formats=("", ".3f", ".3f", ".3f", ".3f", ".3f"),
            title=f"PLSpredict, {self.folds}-fold x {self.repeats}",
        )


def predict(
    result: PlsResult, *, folds: int = 10, repeats: int = 1, seed: Any = None
) -> PredictResult:
    """PLSpredict by k-fold cross-validation of the fitted model's specification.

    For each fold the model is refitted on the other folds; the held-out
    respondents' exogenous construct scores come from the training weights
    (and the training means and scales), endogenous constructs from the
    reduced form (total effects of the exogenous constructs), and each
    endogenous indicator from its loading, back on its own scale.
    """
    from crmkit._args import instance, whole

    instance(result, PlsResult, "result")
    model, raw = result.model, result.data
    n = raw.shape[0]
    repeats = whole(repeats, "repeats", 1, 1000)
    if not (isinstance(folds, int) and not isinstance(folds, bool) and 2 <= folds <= n // 2):
        raise ValidationError(
            [("folds", f"must be an integer from 2 to {n // 2}, got {shown(folds)}")]
        )
    lay = layout(model)
    exo = [k for k in range(len(lay.constructs)) if not lay.adjacency[:, k].any()]
    endo = [k for k in range(len(lay.constructs)) if lay.adjacency[:, k].any()]
    if not endo:
        raise ValidationError([("model", "has no endogenous construct to predict")])
    target = np.concatenate([lay.blocks[k] for k in endo])
    source = np.concatenate([lay.blocks[k] for k in exo])
    rng = as_rng(seed)
    err_pls = np.zeros((repeats, n, target.size))
    err_lm = np.zeros_like(err_pls)
    err_naive = np.zeros_like(err_pls)
    for rep in range(repeats):
        fold_of = rng.permutation(n) % folds
        for f in range(folds):
            test, train = fold_of == f, fold_of != f
            tr = raw[train]
            fit = estimate(model, tr, lay=lay, **result.options)
            mean = tr.mean(axis=0)
            sd = tr.std(axis=0, ddof=1)
            xt = (raw[test] - mean) / (sd if fit.scaled else 1.0)
            w = np.array([fit.weights[name] for name in lay.names])
            # Exogenous scores of the held-out rows with the training weights (and the training centring).
            xtr = (tr - mean) / (sd if fit.scaled else 1.0)
            y_train = np.zeros((tr.shape[0], len(lay.constructs)))
            y_test = np.zeros((xt.shape[0], len(lay.constructs)))
            for k, idx in enumerate(lay.blocks):
                y_train[:, k] = xtr[:, idx] @ w[idx]
                y_test[:, k] = xt[:, idx] @ w[idx]
            total = np.zeros((len(lay.constructs), len(lay.constructs)))
            for (a, b), v in fit.total_effects.items():
                total[lay.constructs.index(a), lay.constructs.index(b)] = v
            y_hat = y_test[:, exo] @ total[np.ix_(exo, endo)]
            lam = np.array([fit.loadings[lay.names[i]] for i in target])
            owner = np.array([endo.index(int(lay.block_of[i])) for i in target])
            # Standardised indicator = loading x construct; back to the indicator's own scale.
            x_hat = y_hat[:, owner] * lam * tr[:, target].std(axis=0) + mean[target]
            err_pls[rep, test] = raw[test][:, target] - x_hat
            design = np.column_stack([np.ones(tr.shape[0]), tr[:, source]])
            coef = np.linalg.lstsq(design, tr[:, target], rcond=None)[0]
            lm_hat = np.column_stack([np.ones(test.sum()), raw[test][:, source]]) @ coef
            err_lm[rep, test] = raw[test][:, target] - lm_hat
            err_naive[rep, test] = raw[test][:, target] - mean[target]
    names = tuple(lay.names[i] for i in target)

    def per(values: Array) -> dict[str, float]:
        return dict(zip(names, values.tolist(), strict=True))

    sse = (err_pls**2).sum(axis=(0, 1))
    return PredictResult(
        folds=folds,
        repeats=repeats,
        indicators=names,
        rmse=per(np.sqrt((err_pls**2).mean(axis=(0, 1)))),
        mae=per(np.abs(err_pls).mean(axis=(0, 1))),
        lm_rmse=per(np.sqrt((err_lm**2).mean(axis=(0, 1)))),
        lm_mae=per(np.abs(err_lm).mean(axis=(0, 1))),
        q2_predict=per(1 - sse / (err_naive**2).sum(axis=(0, 1))),
    )
