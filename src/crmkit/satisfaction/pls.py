"""Partial least squares path modeling (PLS-PM; Wold 1982, Lohmoller 1989), with consistent PLS.

A :class:`PathModel` is data: blocks of indicators per construct, the paths
between constructs and each block's mode (``"A"`` reflective, ``"B"``
formative). :meth:`PathModel.fit` runs Lohmoller's iterative algorithm the
way the R package plspm does (Sanchez 2013), so the numbers agree with it:

1. indicators are centred (and scaled to unit variance with ``scaled=True``);
   every block starts with unit outer weights, normalised so each latent
   score has unit (population) variance;
2. inner estimates ``Z = Y E`` with inner weights ``E`` by the *centroid*
   (signs of the correlations between adjacent constructs), *factorial*
   (the correlations) or *path* scheme (regression on the predecessors,
   correlation with the successors);
3. outer weights: mode A ``w = X' z / n`` (covariances), mode B the
   regression of ``z`` on the block's indicators; normalised again;
4. repeat until ``sum((|w_old| - |w_new|)^2) < tol``.

Path coefficients are least squares on the standardised latent scores.
``consistent=True`` applies PLSc (Dijkstra & Henseler 2015): each reflective
block's reliability rho_A corrects the construct correlations for
attenuation before the paths are estimated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.errors import ConvergenceError, DefinitionError, InsufficientData, ValidationError

__all__ = [
    "BootstrapResult",
    "PathModel",
    "PermutationTest",
    "PlsResult",
    "PredictResult",
    "permutation_test",
    "predict",
]

Array = npt.NDArray[np.float64]
Scheme = Literal["path", "centroid", "factorial"]


def _blocks(value: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    return {str(k): tuple(str(i) for i in v) for k, v in dict(value).items()}


def _pairs(value: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in value)


def _modes(value: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(value).items()}


@attrs.frozen(eq=False)
class PathModel:
    """Constructs measured by blocks of indicators, linked by directed paths.

    ``blocks`` maps each construct to its indicator names; ``paths`` are
    ``(from, to)`` pairs; ``modes`` maps constructs to ``"A"`` (reflective,
    the default) or ``"B"`` (formative). Checked when built: a
    :class:`DefinitionError` names empty blocks, indicators in two blocks,
    unknown constructs, self-loops, repeated paths and cycles.
    """

    blocks: Mapping[str, tuple[str, ...]] = attrs.field(converter=_blocks)
    paths: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs)
    modes: Mapping[str, str] = attrs.field(factory=dict, converter=_modes)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        if not self.blocks:
            problems.append("a path model needs at least one construct")
        seen: dict[str, str] = {}
        for c, items in self.blocks.items():
            if not items:
                problems.append(f"construct {c!r} has an empty block")
            for i in items:
                if i in seen:
                    problems.append(f"indicator {i!r} is in the blocks of {seen[i]!r} and {c!r}")
                seen[i] = c
        for a, b in self.paths:
            for end in (a, b):
                if end not in self.blocks:
                    problems.append(f"path {a!r} -> {b!r} names the unknown construct {end!r}")
            if a == b:
                problems.append(f"path {a!r} -> {b!r} points to itself")
        if len(set(self.paths)) != len(self.paths):
            problems.append("a path is given twice")
        for c, m in self.modes.items():
            if c not in self.blocks:
                problems.append(f"mode given for the unknown construct {c!r}")
            if m not in ("A", "B"):
                problems.append(f"mode of {c!r} must be 'A' or 'B', got {m!r}")
        if not problems:
            order = self._topological()
            if order is None:
                problems.append("the paths contain a cycle (PLS path models are recursive)")
        if problems:
            raise DefinitionError("; ".join(problems))

    def _topological(self) -> list[str] | None:
        preds = {c: {a for a, b in self.paths if b == c} for c in self.blocks}
        order: list[str] = []
        ready = [c for c in self.blocks if not preds[c]]
        while ready:
            c = ready.pop(0)
            order.append(c)
            for d in self.blocks:
                if c in preds[d]:
                    preds[d].discard(c)
                    if not preds[d] and d not in order and d not in ready:
                        ready.append(d)
        return order if len(order) == len(self.blocks) else None

    @property
    def constructs(self) -> tuple[str, ...]:
        return tuple(self.blocks)

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(i for items in self.blocks.values() for i in items)

    def predecessors(self, construct: str) -> tuple[str, ...]:
        return tuple(a for a, b in self.paths if b == construct)

    @property
    def endogenous(self) -> tuple[str, ...]:
        return tuple(c for c in self.blocks if self.predecessors(c))

    def adjacency(self) -> Array:
        """``D[i, j] = 1`` when construct i points to construct j."""
        idx = {c: k for k, c in enumerate(self.blocks)}
        d = np.zeros((len(idx), len(idx)))
        for a, b in self.paths:
            d[idx[a], idx[b]] = 1.0
        return d

    def to_mermaid(self) -> str:
        """A ``flowchart LR`` of the constructs and paths (indicators listed in each node)."""
        lines = ["flowchart LR"]
        for c, items in self.blocks.items():
            lines.append(f'    {_node(c)}(["{c}<br/><small>{", ".join(items)}</small>"])')
        for a, b in self.paths:
            lines.append(f"    {_node(a)} --> {_node(b)}")
        return "\n".join(lines)

    def fit(
        self,
        data: Any,
        *,
        scheme: Scheme = "path",
        scaled: bool = True,
        consistent: bool = False,
        tol: float = 1e-6,
        max_iter: int = 300,
        nan_policy: Literal["raise", "omit"] = "raise",
    ) -> PlsResult:
        """Estimate the model on ``data``.

        ``data`` maps indicator names to columns: a dict of arrays, a pandas
        or polars DataFrame, a numpy structured array, or a ``(matrix,
        names)`` pair. Missing answers are refused unless
        ``nan_policy="omit"``, which drops incomplete respondents (listwise).
        """
        if scheme not in ("path", "centroid", "factorial"):
            raise ValidationError(
                [("scheme", f"must be 'path', 'centroid' or 'factorial', got {scheme!r}")]
            )
        if not (isinstance(max_iter, int) and max_iter >= 1):
            raise ValidationError([("max_iter", f"must be an integer >= 1, got {max_iter!r}")])
        if nan_policy not in ("raise", "omit"):
            raise ValidationError(
                [("nan_policy", f"must be 'raise' or 'omit', got {nan_policy!r}")]
            )
        raw = _matrix(data, self.indicators, omit=nan_policy == "omit")
        return _estimate(self, raw, scheme, scaled, consistent, tol, max_iter)


def _node(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def _matrix(data: Any, names: Sequence[str], *, omit: bool = False) -> Array:
    """The indicator columns of ``data`` as an n x p float matrix, checked."""
    if isinstance(data, tuple) and len(data) == 2:
        matrix, labels = data
        m = np.asarray(matrix)
        labels = [str(v) for v in labels]
        if m.ndim != 2 or m.shape[1] != len(labels):
            raise ValidationError(
                [
                    (
                        "data",
                        f"a (matrix, names) pair needs one name per column; got shape {m.shape} and {len(labels)} names",
                    )
                ]
            )
        data = {lab: m[:, i] for i, lab in enumerate(labels)}
    elif isinstance(data, np.ndarray) and data.dtype.names:
        data = {name: data[name] for name in data.dtype.names}
    if hasattr(data, "columns") and hasattr(data, "__getitem__") and not isinstance(data, Mapping):
        available = [str(c) for c in data.columns]
        getter: Callable[[str], Any] = lambda n: data[n]  # noqa: E731
    elif isinstance(data, Mapping):
        available = [str(k) for k in data]
        getter = lambda n: data[n]  # noqa: E731
    else:
        raise ValidationError(
            [
                (
                    "data",
                    f"must map indicator names to columns (a dict or DataFrame), got {type(data).__name__}",
                )
            ]
        )
    missing = [n for n in names if n not in available]
    if missing:
        raise ValidationError([("data", f"has no column for the indicators {', '.join(missing)}")])
    cols = []
    for n in names:
        col = getter(n)
        if hasattr(col, "to_numpy"):
            col = col.to_numpy()
        try:
            arr = np.asarray(col, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError([(n, "must hold numbers")]) from None
        cols.append(arr)
    lengths = {c.shape[0] for c in cols}
    if len(lengths) != 1:
        raise ValidationError([("data", f"indicator columns differ in length: {sorted(lengths)}")])
    x = np.column_stack(cols)
    bad = ~np.isfinite(x)
    if omit and bad.any():
        x = x[~bad.any(axis=1)]
        bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            [(f"{names[c]}[{r}]", "is missing or not finite (drop incomplete respondents first)")]
        )
    if x.shape[0] < 3:
        raise InsufficientData(f"PLS needs at least 3 respondents, got {x.shape[0]}")
    const = np.flatnonzero(x.std(axis=0) == 0)
    if const.size:
        raise ValidationError([(names[int(const[0])], "is constant: it carries no information")])
    return x


@attrs.frozen(eq=False)
class _Layout:
    names: tuple[str, ...]
    constructs: tuple[str, ...]
    block_of: npt.NDArray[np.intp]  # indicator -> construct index
    blocks: tuple[npt.NDArray[np.intp], ...]
    modes: tuple[str, ...]
    adjacency: Array  # D[i, j] = 1: i -> j


def _layout(model: PathModel) -> _Layout:
    names = model.indicators
    constructs = model.constructs
    block_of = np.concatenate(
        [np.full(len(items), j, dtype=np.intp) for j, items in enumerate(model.blocks.values())]
    )
    blocks = tuple(np.flatnonzero(block_of == j) for j in range(len(constructs)))
    modes = tuple(model.modes.get(c, "A") for c in constructs)
    return _Layout(names, constructs, block_of, blocks, modes, model.adjacency())


def _inner_weights(corr: Array, lay: _Layout, scheme: str) -> Array:
    """Inner weights E from the correlations of the current construct scores."""
    d = lay.adjacency
    sym = d + d.T
    if scheme == "centroid":
        return np.sign(corr) * sym
    if scheme == "factorial":
        return corr * sym
    e = np.zeros_like(corr)
    for k in range(len(lay.constructs)):
        pred = np.flatnonzero(d[:, k])
        if pred.size:
            coef = np.linalg.solve(corr[np.ix_(pred, pred)], corr[pred, k])
            e[pred, k] = coef
        succ = np.flatnonzero(d[k, :])
        if succ.size:
            e[succ, k] = corr[k, succ]
    return e


def _outer_weights(
    cov: Array, lay: _Layout, scheme: str, tol: float, max_iter: int
) -> tuple[Array, int]:
    """Lohmoller's iterations on the indicators' covariance matrix; the p x J weights and the iterations.

    Everything the iterations need is a function of ``S = X'X / n``: with
    ``Y = X W`` standardised by ``D = diag(W'SW)``, the constructs'
    correlations are ``D^-1/2 W'SW D^-1/2`` and the mode A update
    ``X'Z / n = S W D^-1/2 E``; mode B solves ``S_bb w = (S W D^-1/2 E)_b``.
    So an iteration costs the same for 250 or 10 million respondents.
    """
    p = cov.shape[0]
    j = len(lay.constructs)
    w = np.zeros((p, j))
    w[np.arange(p), lay.block_of] = 1.0
    w /= np.sqrt(np.einsum("ij,ik,kj->j", w, cov, w))
    for it in range(1, max_iter + 1):
        sw = cov @ w
        var = np.einsum("ij,ij->j", w, sw)
        if np.any(var <= 0):
            raise ConvergenceError("a latent score became constant during the iterations")
        inv_sd = 1 / np.sqrt(var)
        corr = (w.T @ sw) * np.outer(inv_sd, inv_sd)
        target = sw * inv_sd @ _inner_weights(corr, lay, scheme)  # X'Z / n
        new = np.zeros_like(w)
        for k, idx in enumerate(lay.blocks):
            if lay.modes[k] == "A" or idx.size == 1:
                new[idx, k] = target[idx, k]
            else:
                new[idx, k] = np.linalg.solve(cov[np.ix_(idx, idx)], target[idx, k])
        # As plspm: the change is measured on the updated weights before they are normalised.
        change = float(((np.abs(w) - np.abs(new)) ** 2).sum())
        w = new
        if change < tol:
            var = np.einsum("ij,ik,kj->j", w, cov, w)
            if np.any(var <= 0):
                raise ConvergenceError("a latent score is constant")
            return w / np.sqrt(var), it
    raise ConvergenceError(
        f"PLS did not converge in {max_iter} iterations (last change {change:.3g} >= tol {tol:g})"
    )


def _rho_a(corr: Array, w: Array, sd: Array) -> float:
    """Dijkstra & Henseler's (2015) consistent reliability of a reflective block (1 for one indicator).

    On standardised indicators with the weights normalised so that the
    composite has unit variance (w' S w = 1, S the correlation matrix):
    rho_A = (w'w)^2 w'(S - diag S) w / w'(w w' - diag(w w')) w.
    ``sd`` converts the weights of the fitted (scaled or centred) indicators.
    """
    if w.size == 1:
        return 1.0
    w = w * sd
    w = w / np.sqrt(w @ corr @ w)
    ww = np.outer(w, w)
    num = w @ (corr - np.diag(np.diag(corr))) @ w
    den = w @ (ww - np.diag(np.diag(ww))) @ w
    return float((w @ w) ** 2 * num / den)


def _paths(corr: Array, lay: _Layout, n: int) -> tuple[Array, dict[str, float], dict[str, float]]:
    """Path coefficients (from x to) by least squares on the construct correlation matrix, R2, adjusted R2."""
    j = len(lay.constructs)
    beta = np.zeros((j, j))
    r2: dict[str, float] = {}
    adj: dict[str, float] = {}
    for k in range(j):
        pred = np.flatnonzero(lay.adjacency[:, k])
        if not pred.size:
            continue
        coef = np.linalg.solve(corr[np.ix_(pred, pred)], corr[pred, k])
        beta[pred, k] = coef
        r = float(coef @ corr[pred, k])
        r2[lay.constructs[k]] = r
        adj[lay.constructs[k]] = 1 - (1 - r) * (n - 1) / (n - pred.size - 1)
    return beta, r2, adj


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
    _raw: Array = attrs.field(repr=False)
    _options: dict[str, Any] = attrs.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        def pairs(d: Mapping[tuple[str, str], float]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "value": v} for (a, b), v in d.items()]

        return {
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
        lines = [
            f"PLS path model ({self.scheme} scheme{', PLSc' if self.consistent else ''}), "
            f"n = {self.n}, {self.iterations} iterations; GoF {self.gof:.3f}",
            "path                               coefficient",
        ]
        for (a, b), v in self.paths.items():
            lines.append(f"{a + ' -> ' + b:<34} {v:>+11.4f}")
        lines.append("construct        R2   alpha(std)  DG rho    AVE")
        for c in self.model.constructs:
            rel = self.reliability[c]
            r2 = f"{self.r2[c]:.4f}" if c in self.r2 else "     -"
            lines.append(
                f"{c[:14]:<14} {r2:>6} {rel['alpha_standardized']:>10.3f} {rel['dg_rho']:>7.3f} {rel['ave']:>6.3f}"
            )
        return "\n".join(lines)

    def bootstrap(
        self, n: int = 500, *, seed: Any = None, confidence: float = 0.95, progress: bool = False
    ) -> BootstrapResult:
        """Resample respondents ``n`` times and refit: standard errors, t-values, percentile intervals.

        Covers outer weights, loadings, paths and total effects. Resamples
        whose iterations do not converge are dropped and counted.
        """
        from crmkit._validation import check_confidence

        conf = check_confidence(confidence)
        if not (isinstance(n, int) and n >= 2):
            raise ValidationError([("n", f"must be an integer >= 2, got {n!r}")])
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        lay = _layout(self.model)
        rows = self._raw.shape[0]
        draws: list[Array] = []
        failed = 0
        keys = self._keys()
        for b in range(n):
            sample = self._raw[rng.integers(0, rows, rows)]
            if np.any(sample.std(axis=0) == 0):
                failed += 1
                continue
            try:
                fit = _estimate(self.model, sample, lay=lay, **self._options)
            except ConvergenceError:
                failed += 1
                continue
            draws.append(_flatten(fit, keys))
            if progress and (b + 1) % max(1, n // 20) == 0:
                print(f"\rbootstrap {b + 1}/{n}", end="", flush=True)
        if progress:
            print()
        if len(draws) < 2:
            raise InsufficientData("fewer than two bootstrap resamples could be fitted")
        est = _flatten(self, keys)
        mat = np.vstack(draws)
        se = mat.std(axis=0, ddof=1)
        lo, hi = np.quantile(mat, [(1 - conf) / 2, (1 + conf) / 2], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, est / se, np.nan)
        table = {
            key: {
                "estimate": float(est[i]),
                "mean": float(mat[:, i].mean()),
                "standard_error": float(se[i]),
                "t": float(t[i]),
                "lower": float(lo[i]),
                "upper": float(hi[i]),
            }
            for i, key in enumerate(keys)
        }
        return BootstrapResult(len(draws), failed, conf, table)

    def predict(self, *, folds: int = 10, repeats: int = 1, seed: Any = None) -> PredictResult:
        """PLSpredict (Shmueli et al. 2016); see :func:`predict`."""
        return predict(self, folds=folds, repeats=repeats, seed=seed)

    def _keys(self) -> list[tuple[str, ...]]:
        keys: list[tuple[str, ...]] = [("weight", i) for i in self.weights]
        keys += [("loading", i) for i in self.loadings]
        keys += [("path", a, b) for (a, b) in self.paths]
        keys += [("total", a, b) for (a, b) in self.total_effects]
        return keys


def _flatten(fit: PlsResult, keys: list[tuple[str, ...]]) -> Array:
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
    table: dict[tuple[str, ...], dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resamples": self.resamples,
            "failed": self.failed,
            "confidence": self.confidence,
            "table": [{"what": list(k), **v} for k, v in self.table.items()],
        }

    def __str__(self) -> str:
        lines = [
            f"bootstrap: {self.resamples} resamples ({self.failed} failed), {self.confidence:.0%} percentile intervals",
            "                                    estimate   std.err      t     interval",
        ]
        for key, row in self.table.items():
            if key[0] not in ("path",):
                continue
            label = f"{key[1]} -> {key[2]}"
            lines.append(
                f"{label:<34} {row['estimate']:>+10.4f} {row['standard_error']:>9.4f} {row['t']:>6.2f}   "
                f"{row['lower']:+.3f} to {row['upper']:+.3f}"
            )
        return "\n".join(lines)


def _estimate(
    model: PathModel,
    raw: Array,
    scheme: str = "path",
    scaled: bool = True,
    consistent: bool = False,
    tol: float = 1e-6,
    max_iter: int = 300,
    lay: _Layout | None = None,
) -> PlsResult:
    lay = lay or _layout(model)
    n = raw.shape[0]
    centred = raw - raw.mean(axis=0)
    raw_cov = (
        centred.T @ centred / (n - 1)
    )  # the one pass over the respondents (besides the scores)
    sd = np.sqrt(np.diag(raw_cov))
    raw_corr = raw_cov / np.outer(sd, sd)
    # The fitted indicators: standardised (sample sd) or centred; S = X'X / n.
    fit_sd = sd if scaled else np.ones_like(sd)
    cov = raw_cov / np.outer(fit_sd, fit_sd) * ((n - 1) / n)
    w, iterations = _outer_weights(cov, lay, scheme, tol, max_iter)
    y = (centred / fit_sd) @ w  # unit population variance, zero mean
    j = len(lay.constructs)
    sw = cov @ w
    corr_y = w.T @ sw
    # Correlations of every indicator with every construct (loadings and cross-loadings).
    cross = sw / np.sqrt(np.diag(cov))[:, None]
    own = cross[np.arange(raw.shape[1]), lay.block_of]
    rho_a = np.array(
        [
            _rho_a(raw_corr[np.ix_(idx, idx)], w[idx, k], sd[idx] / fit_sd[idx])
            for k, idx in enumerate(lay.blocks)
        ]
    )
    loadings = own.copy()
    corr_paths = corr_y
    if consistent:
        reflective = np.array([m == "A" for m in lay.modes])
        rel = np.where(reflective, rho_a, 1.0)
        if np.any(rel <= 0):
            raise ConvergenceError("PLSc: a block's reliability rho_A is not positive")
        scale = np.sqrt(np.outer(rel, rel))
        corr_paths = corr_y / scale
        np.fill_diagonal(corr_paths, 1.0)
        for k, idx in enumerate(lay.blocks):
            if reflective[k] and idx.size > 1:
                wk = w[idx, k] * sd[idx] / fit_sd[idx]
                wk = wk / np.sqrt(wk @ raw_corr[np.ix_(idx, idx)] @ wk)
                loadings[idx] = wk * np.sqrt(rho_a[k]) / (wk @ wk)
    beta, r2, adj = _paths(corr_paths, lay, n)
    total = np.linalg.inv(np.eye(j) - beta) - np.eye(j)
    names, constructs = lay.names, lay.constructs
    paths = {
        (constructs[a], constructs[b]): float(beta[a, b])
        for a, b in zip(*np.nonzero(lay.adjacency), strict=True)
    }
    reach = total != 0
    total_effects = {
        (constructs[a], constructs[b]): float(total[a, b])
        for a in range(j)
        for b in range(j)
        if reach[a, b]
    }
    indirect = {k: v - paths.get(k, 0.0) for k, v in total_effects.items()}
    reliability: dict[str, dict[str, float]] = {}
    communality: dict[str, float] = {}
    redundancy: dict[str, float] = {}
    gof_num, gof_den = 0.0, 0
    for k, idx in enumerate(lay.blocks):
        lam = loadings[idx]
        c = constructs[k]
        reliability[c] = {
            "alpha_raw": _alpha(raw_cov[np.ix_(idx, idx)]),
            "alpha_standardized": _alpha(raw_corr[np.ix_(idx, idx)]),
            "dg_rho": float(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())),
            "rho_a": float(rho_a[k]),
            "ave": float((lam**2).mean()),
        }
        communality[c] = float((lam**2).mean())
        if c in r2:
            redundancy[c] = communality[c] * r2[c]
        if idx.size > 1:
            gof_num += float((lam**2).sum())
            gof_den += idx.size
    mean_r2 = float(np.mean(list(r2.values()))) if r2 else 0.0
    gof = float(np.sqrt((gof_num / gof_den if gof_den else 0.0) * mean_r2))
    fl = {
        constructs[a]: {
            constructs[b]: float(np.sqrt(reliability[constructs[a]]["ave"]))
            if a == b
            else float(corr_paths[a, b])
            for b in range(j)
        }
        for a in range(j)
    }
    htmt = _htmt(raw_corr, lay)
    return PlsResult(
        model=model,
        scheme=scheme,
        scaled=scaled,
        consistent=consistent,
        iterations=iterations,
        n=n,
        weights={names[i]: float(w[i, lay.block_of[i]]) for i in range(len(names))},
        loadings={names[i]: float(loadings[i]) for i in range(len(names))},
        cross_loadings={
            names[i]: {constructs[k]: float(cross[i, k]) for k in range(j)}
            for i in range(len(names))
        },
        paths=paths,
        r2=r2,
        adj_r2=adj,
        scores=y,
        total_effects=total_effects,
        indirect_effects=indirect,
        reliability=reliability,
        communality=communality,
        redundancy=redundancy,
        gof=gof,
        construct_correlations=corr_paths,
        fornell_larcker=fl,
        htmt=htmt,
        raw=raw,
        options={
            "scheme": scheme,
            "scaled": scaled,
            "consistent": consistent,
            "tol": tol,
            "max_iter": max_iter,
        },
    )


def _alpha(s: Any) -> float:
    s = np.atleast_2d(s)
    k = s.shape[0]
    if k < 2:
        return 1.0
    return float(k / (k - 1) * (1 - np.trace(s) / s.sum()))


def _htmt(corr: Array, lay: _Layout) -> dict[tuple[str, str], float]:
    """Heterotrait-monotrait ratio (Henseler, Ringle & Sarstedt 2015) for blocks of two or more indicators."""
    r = np.abs(corr)
    out: dict[tuple[str, str], float] = {}
    blocks = lay.blocks
    mono = []
    for idx in blocks:
        if idx.size < 2:
            mono.append(np.nan)
            continue
        sub = r[np.ix_(idx, idx)]
        mono.append(float(sub[np.triu_indices(idx.size, 1)].mean()))
    for a in range(len(blocks)):
        for b in range(a + 1, len(blocks)):
            if np.isnan(mono[a]) or np.isnan(mono[b]):
                continue
            hetero = float(r[np.ix_(blocks[a], blocks[b])].mean())
            out[(lay.constructs[a], lay.constructs[b])] = hetero / np.sqrt(mono[a] * mono[b])
    return out


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
        lines = [
            f"PLSpredict, {self.folds}-fold x {self.repeats}",
            "indicator     PLS RMSE   LM RMSE   PLS MAE    LM MAE  Q2_predict",
        ]
        for i in self.indicators:
            lines.append(
                f"{i[:12]:<12} {self.rmse[i]:>9.3f} {self.lm_rmse[i]:>9.3f} {self.mae[i]:>9.3f} "
                f"{self.lm_mae[i]:>9.3f} {self.q2_predict[i]:>11.3f}"
            )
        return "\n".join(lines)


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
    model, raw = result.model, result._raw
    n = raw.shape[0]
    if not (isinstance(folds, int) and 2 <= folds <= n // 2):
        raise ValidationError([("folds", f"must be an integer from 2 to {n // 2}, got {folds!r}")])
    lay = _layout(model)
    exo = [k for k in range(len(lay.constructs)) if not lay.adjacency[:, k].any()]
    endo = [k for k in range(len(lay.constructs)) if lay.adjacency[:, k].any()]
    if not endo:
        raise ValidationError([("model", "has no endogenous construct to predict")])
    target = np.concatenate([lay.blocks[k] for k in endo])
    source = np.concatenate([lay.blocks[k] for k in exo])
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    err_pls = np.zeros((repeats, n, target.size))
    err_lm = np.zeros_like(err_pls)
    err_naive = np.zeros_like(err_pls)
    for rep in range(repeats):
        fold_of = rng.permutation(n) % folds
        for f in range(folds):
            test, train = fold_of == f, fold_of != f
            tr = raw[train]
            fit = _estimate(model, tr, lay=lay, **result._options)
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


@attrs.frozen
class PermutationTest:
    """Multigroup differences of the paths with permutation p-values (Chin & Dibbern 2010)."""

    groups: tuple[str, str]
    permutations: int
    table: dict[tuple[str, str], dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "permutations": self.permutations,
            "paths": [{"from": a, "to": b, **v} for (a, b), v in self.table.items()],
        }

    def __str__(self) -> str:
        g1, g2 = self.groups
        lines = [
            f"permutation test ({self.permutations} permutations): {g1} vs {g2}",
            f"path                             {g1[:9]:>9} {g2[:9]:>9}  difference  p-value",
        ]
        for (a, b), row in self.table.items():
            lines.append(
                f"{a + ' -> ' + b:<32} {row['group1']:>+9.3f} {row['group2']:>+9.3f} {row['difference']:>+11.3f} {row['p_value']:>8.3f}"
            )
        return "\n".join(lines)


def permutation_test(
    model: PathModel,
    data: Any,
    groups: Any,
    *,
    permutations: int = 500,
    seed: Any = None,
    **options: Any,
) -> PermutationTest:
    """Are the paths different in two groups? Refit on shuffled group labels (Chin & Dibbern 2010).

    The p-value of a path is the share of permutations whose absolute
    difference reaches the observed one (with the observed split counted,
    so it is never 0). ``options`` are passed to :meth:`PathModel.fit`.
    """
    from crmkit._validation import as_array, factorize

    raw = _matrix(data, model.indicators)
    g = as_array(groups, "groups")
    if g.shape[0] != raw.shape[0]:
        raise ValidationError([("groups", f"must have one label per respondent ({raw.shape[0]})")])
    labels, codes = factorize(g)
    if labels.shape[0] != 2:
        raise ValidationError([("groups", f"must have exactly two groups, got {labels.shape[0]}")])
    if not (isinstance(permutations, int) and permutations >= 1):
        raise ValidationError([("permutations", f"must be an integer >= 1, got {permutations!r}")])
    lay = _layout(model)
    opts = {
        "scheme": options.get("scheme", "path"),
        "scaled": options.get("scaled", True),
        "consistent": options.get("consistent", False),
        "tol": options.get("tol", 1e-6),
        "max_iter": options.get("max_iter", 300),
    }

    def diff(mask: npt.NDArray[np.bool_]) -> tuple[Array, Array, Array]:
        a = _estimate(model, raw[mask], lay=lay, **opts)
        b = _estimate(model, raw[~mask], lay=lay, **opts)
        pa = np.array(list(a.paths.values()))
        pb = np.array(list(b.paths.values()))
        return pa, pb, pa - pb

    first = codes == 0
    pa, pb, observed = diff(first)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    exceed = np.ones_like(observed)  # the observed split itself
    done = 1
    for _ in range(permutations):
        shuffled = rng.permutation(first)
        try:
            _, _, d = diff(shuffled)
        except (ConvergenceError, ValidationError, np.linalg.LinAlgError):
            continue
        exceed += np.abs(d) >= np.abs(observed) - 1e-12
        done += 1
    keys = list(_estimate(model, raw[first], lay=lay, **opts).paths)
    table = {
        k: {
            "group1": float(pa[i]),
            "group2": float(pb[i]),
            "difference": float(observed[i]),
            "p_value": float(exceed[i] / done),
        }
        for i, k in enumerate(keys)
    }
    return PermutationTest((str(labels[0]), str(labels[1])), done - 1, table)
