"""Lohmoller's iterative PLS algorithm and consistent PLS: from an indicator matrix to a :class:`PlsResult`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.errors import ConvergenceError, ValidationError
from crmkit.satisfaction.pls._quality import alpha, htmt, rho_a
from crmkit.satisfaction.pls._result import PlsResult

if TYPE_CHECKING:
    from crmkit.satisfaction.pls._model import PathModel

__all__ = ["Layout", "estimate", "layout"]

Array = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class Layout:
    names: tuple[str, ...]
    constructs: tuple[str, ...]
    block_of: npt.NDArray[np.intp]  # indicator -> construct index
    blocks: tuple[npt.NDArray[np.intp], ...]
    modes: tuple[str, ...]
    adjacency: Array  # D[i, j] = 1: i -> j


def layout(model: PathModel) -> Layout:
    names = model.indicators
    constructs = model.constructs
    block_of = np.concatenate(
        [np.full(len(items), j, dtype=np.intp) for j, items in enumerate(model.blocks.values())]
    )
    blocks = tuple(np.flatnonzero(block_of == j) for j in range(len(constructs)))
    modes = tuple(model.modes.get(c, "A") for c in constructs)
    return Layout(names, constructs, block_of, blocks, modes, model.adjacency())


def _inner_weights(corr: Array, lay: Layout, scheme: str) -> Array:
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
    cov: Array, lay: Layout, scheme: str, tol: float, max_iter: int
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


def _paths(corr: Array, lay: Layout, n: int) -> tuple[Array, dict[str, float], dict[str, float]]:
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


def inadmissible(
    corr: Array, beta: Array, r2: Mapping[str, float], loadings: Array, rho_as: Array, lay: Layout
) -> tuple[str, ...]:
    """What makes a solution impossible for standardised constructs (Dijkstra & Henseler 2015).

    A correlation between constructs, a loading or a standardised path
    beyond 1 in size, an R2 outside [0, 1], a reliability above 1, or a
    construct correlation matrix that is not positive definite. Empty when
    the solution is admissible.
    """
    eps = 1e-9
    names, constructs = lay.names, lay.constructs
    out = [
        f"correlation of {constructs[a]} and {constructs[b]} is {corr[a, b]:+.4f}"
        for a, b in zip(*np.triu_indices(len(constructs), 1), strict=True)
        if abs(corr[a, b]) > 1 + eps
    ]
    if np.linalg.eigvalsh(corr).min() < -eps:
        out.append("the construct correlation matrix is not positive definite")
    out += [f"R2 of {c} is {v:.4f}" for c, v in r2.items() if not -eps <= v <= 1 + eps]
    out += [
        f"path {constructs[a]} -> {constructs[b]} is {beta[a, b]:+.4f}"
        for a, b in zip(*np.nonzero(lay.adjacency), strict=True)
        if abs(beta[a, b]) > 1 + eps
    ]
    out += [
        f"loading of {names[i]} is {v:+.4f}" for i, v in enumerate(loadings) if abs(v) > 1 + eps
    ]
    out += [
        f"reliability rho_A of {constructs[k]} is {v:.4f}"
        for k, v in enumerate(rho_as)
        if lay.modes[k] == "A" and lay.blocks[k].size > 1 and v > 1 + eps
    ]
    return tuple(out)


def _check_formative_blocks(corr: Array, lay: Layout) -> None:
    """A mode B block regresses its construct on its indicators: they must not be collinear.

    The eigenvector of a block's smallest eigenvalue names the indicators
    that combine to (almost) nothing.
    """
    for k, idx in enumerate(lay.blocks):
        if lay.modes[k] != "B" or idx.size < 2:
            continue
        values, vectors = np.linalg.eigh(corr[np.ix_(idx, idx)])
        if values[0] > 1e-10 * max(1.0, float(values[-1])):
            continue
        involved = np.flatnonzero(np.abs(vectors[:, 0]) > 1e-6)
        names = ", ".join(lay.names[idx[i]] for i in involved)
        raise ValidationError(
            [
                (
                    f"blocks.{lay.constructs[k]}",
                    f"a formative (mode B) block needs independent indicators; {names} are collinear",
                )
            ]
        )


def estimate(
    model: PathModel,
    raw: Array,
    scheme: str = "path",
    scaled: bool = True,
    consistent: bool = False,
    tol: float = 1e-6,
    max_iter: int = 300,
    lay: Layout | None = None,
) -> PlsResult:
    lay = lay or layout(model)
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
    _check_formative_blocks(raw_corr, lay)
    w, iterations = _outer_weights(cov, lay, scheme, tol, max_iter)
    y = (centred / fit_sd) @ w  # unit population variance, zero mean
    j = len(lay.constructs)
    sw = cov @ w
    corr_y = w.T @ sw
    # Correlations of every indicator with every construct (loadings and cross-loadings).
    cross = sw / np.sqrt(np.diag(cov))[:, None]
    own = cross[np.arange(raw.shape[1]), lay.block_of]
    rho_as = np.array(
        [
            rho_a(raw_corr[np.ix_(idx, idx)], w[idx, k], sd[idx] / fit_sd[idx])
            for k, idx in enumerate(lay.blocks)
        ]
    )
    loadings = own.copy()
    corr_paths = corr_y
    if consistent:
        reflective = np.array([m == "A" for m in lay.modes])
        rel = np.where(reflective, rho_as, 1.0)
        if np.any(rel <= 0):
            raise ConvergenceError("PLSc: a block's reliability rho_A is not positive")
        scale = np.sqrt(np.outer(rel, rel))
        corr_paths = corr_y / scale
        np.fill_diagonal(corr_paths, 1.0)
        for k, idx in enumerate(lay.blocks):
            if reflective[k] and idx.size > 1:
                wk = w[idx, k] * sd[idx] / fit_sd[idx]
                wk = wk / np.sqrt(wk @ raw_corr[np.ix_(idx, idx)] @ wk)
                loadings[idx] = wk * np.sqrt(rho_as[k]) / (wk @ wk)
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
            "alpha_raw": alpha(raw_cov[np.ix_(idx, idx)]),
            "alpha_standardized": alpha(raw_corr[np.ix_(idx, idx)]),
            "dg_rho": float(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())),
            "rho_a": float(rho_as[k]),
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
    htmt_ratios = htmt(raw_corr, lay)
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
        htmt=htmt_ratios,
        problems=inadmissible(corr_paths, beta, r2, loadings, rho_as, lay),
        data=raw,
        options={
            "scheme": scheme,
            "scaled": scaled,
            "consistent": consistent,
            "tol": tol,
            "max_iter": max_iter,
        },
    )
