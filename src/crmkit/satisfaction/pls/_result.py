"""What a fit gives: :class:`PlsResult` (every table a PLS-PM paper reports) and :class:`BootstrapResult`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._progress import Progress
from crmkit._table import table

if TYPE_CHECKING:
    from crmkit.satisfaction.pls._model import PathModel
    from crmkit.satisfaction.pls._predict import PredictResult

__all__ = ["BootstrapResult", "PlsResult", "flatten", "warning_text"]

Array = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class PlsResult:
    """Everything a PLS-PM paper reports; tables as dicts keyed by construct and indicator names.

    ``weights`` (outer weights of the standardised or centred indicators),
    ``loadings`` (correlations of indicators with their construct),
    ``cross_loadings`` (with every construct), ``paths`` (``{(from, to): coefficient}``),
    ``r2`` / ``adj_r2``, ``scores`` (n x constructs, standardised),
    ``total_effects`` and ``indirect_effects``, and the quality measures
    in ``reliability`` (Cronbach's alpha raw and standardised,
    Dillon-Goldstein's rho, rho_A, AVE, per block), ``communality``,
    ``redundancy``, ``gof``, ``fornell_larcker`` and ``htmt``.
    """

    model: PathModel
    scheme: str
    scaled: bool
    consistent: bool
    iterations: int
    n: int
    weights: dict[str, float]
    loadings: dict[str, float]
    cross_loadings: dict[str, dict[str, float]]
    paths: dict[tuple[str, str], float]
    r2: dict[str, float]
    adj_r2: dict[str, float]
    scores: Array
    total_effects: dict[tuple[str, str], float]
    indirect_effects: dict[tuple[str, str], float]
    reliability: dict[str, dict[str, float]]
    communality: dict[str, float]
    redundancy: dict[str, float]
    gof: float
    construct_correlations: Array
    fornell_larcker: dict[str, dict[str, float]]
    htmt: dict[tuple[str, str], float]
    #: Why the solution is inadmissible (a correlation, loading, path or R2 beyond 1, a
    #: reliability above 1); empty when it is admissible.
    problems: tuple[str, ...]
    #: The indicator matrix the model was fitted on (what the bootstrap resamples).
    data: Array = attrs.field(repr=False)
    #: The fit's options (scheme, scaled, consistent, tol, max_iter), for refits.
    options: dict[str, Any] = attrs.field(repr=False)

    @property
    def admissible(self) -> bool:
        """Whether every estimate is possible for standardised constructs (see ``problems``)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        def pairs(d: Mapping[tuple[str, str], float]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "value": v} for (a, b), v in d.items()]

        return {
            "admissible": self.admissible,
            "problems": list(self.problems),
            "scheme": self.scheme,
            "scaled": self.scaled,
            "consistent": self.consistent,
            "iterations": self.iterations,
            "n": self.n,
            "weights": self.weights,
            "loadings": self.loadings,
            "paths": pairs(self.paths),
            "r2": self.r2,
            "adj_r2": self.adj_r2,
            "total_effects": pairs(self.total_effects),
            "reliability": self.reliability,
            "communality": self.communality,
            "redundancy": self.redundancy,
            "gof": self.gof,
            "fornell_larcker": self.fornell_larcker,
            "htmt": pairs(self.htmt),
        }

    def __str__(self) -> str:
        paths = table(
            ("path", "coefficient"),
            ((f"{a} -> {b}", v) for (a, b), v in self.paths.items()),
            formats=("", "+.4f"),
            title=f"PLS path model ({self.scheme} scheme{', PLSc' if self.consistent else ''}), "
            f"n = {self.n}, {self.iterations} iterations; GoF {self.gof:.3f}",
        )
        blocks = table(
            ("construct", "R2", "alpha(std)", "DG rho", "AVE"),
            (
                (
                    c,
                    self.r2.get(c),
                    self.reliability[c]["alpha_standardized"],
                    self.reliability[c]["dg_rho"],
                    self.reliability[c]["ave"],
                )
                for c in self.model.constructs
            ),
            formats=("", ".4f", ".3f", ".3f", ".3f"),
        )
        if self.problems:
            return f"{warning_text(self.problems)}\n{paths}\n{blocks}"
        return f"{paths}\n{blocks}"

    def bootstrap(
        self,
        n: int = 500,
        *,
        seed: Any = None,
        confidence: float = 0.95,
        progress: Progress = None,
    ) -> BootstrapResult:
        """Resample respondents ``n`` times and refit; see :func:`crmkit.satisfaction.pls.bootstrap`."""
        from crmkit.satisfaction.pls._bootstrap import bootstrap

        return bootstrap(self, n, seed=seed, confidence=confidence, progress=progress)

    def predict(self, *, folds: int = 10, repeats: int = 1, seed: Any = None) -> PredictResult:
        """PLSpredict (Shmueli et al. 2016); see :func:`crmkit.satisfaction.pls.predict`."""
        from crmkit.satisfaction.pls._predict import predict

        return predict(self, folds=folds, repeats=repeats, seed=seed)

    def keys(self) -> list[tuple[str, ...]]:
        """The bootstrap table's keys: weights, loadings, paths and total effects."""
        keys: list[tuple[str, ...]] = [("weight", i) for i in self.weights]
        keys += [("loading", i) for i in self.loadings]
        keys += [("path", a, b) for (a, b) in self.paths]
        keys += [("total", a, b) for (a, b) in self.total_effects]
        return keys


def warning_text(problems: tuple[str, ...]) -> str:
    """One line naming the first problems of an inadmissible solution."""
    shown = "; ".join(problems[:3])
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    return f"INADMISSIBLE solution: {shown}{more}"


def flatten(fit: PlsResult, keys: list[tuple[str, ...]]) -> Array:
    out = np.empty(len(keys))
    for i, key in enumerate(keys):
        kind = key[0]
        if kind == "weight":
            out[i] = fit.weights[key[1]]
        elif kind == "loading":
            out[i] = fit.loadings[key[1]]
        elif kind == "path":
            out[i] = fit.paths[(key[1], key[2])]
        else:
            out[i] = fit.total_effects[(key[1], key[2])]
    return out


@attrs.frozen
class BootstrapResult:
    """Bootstrap table keyed by ``("weight", indicator)``, ``("loading", indicator)``, ``("path", from, to)``, ``("total", from, to)``."""

    resamples: int
    failed: int
    confidence: float
    table: dict[tuple[str, ...], dict[str, float | None]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resamples": self.resamples,
            "failed": self.failed,
            "confidence": self.confidence,
            "table": [{"what": list(k), **v} for k, v in self.table.items()],
        }

    def __str__(self) -> str:
        return table(
            ("path", "estimate", "std. err", "t", "interval"),
            (
                (
                    f"{key[1]} -> {key[2]}",
                    row["estimate"],
                    row["standard_error"],
                    row["t"],
                    f"{row['lower']:+.3f} to {row['upper']:+.3f}",
                )
                for key, row in self.table.items()
                if key[0] == "path"
            ),
            formats=("", "+.4f", ".4f", ".2f", ""),
            title=f"bootstrap: {self.resamples} resamples ({self.failed} failed), "
            f"{self.confidence:.0%} percentile intervals",
        )
