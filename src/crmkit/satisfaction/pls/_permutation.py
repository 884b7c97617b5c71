"""Multigroup analysis: path differences between two groups with permutation p-values."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._table import table
from crmkit._text import shown
from crmkit.errors import ConvergenceError, ValidationError
from crmkit.satisfaction.pls._algorithm import estimate, layout
from crmkit.satisfaction.pls._data import indicator_matrix
from crmkit.satisfaction.pls._model import PathModel

__all__ = ["PermutationTest", "permutation_test"]

Array = npt.NDArray[np.float64]


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
        return table(
            ("path", g1, g2, "difference", "p-value"),
            (
                (f"{a} -> {b}", row["group1"], row["group2"], row["difference"], row["p_value"])
                for (a, b), row in self.table.items()
            ),
            formats=("", "+.3f", "+.3f", "+.3f", ".3f"),
            title=f"permutation test ({self.permutations} permutations): {g1} vs {g2}",
        )


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
    from crmkit._args import instance, whole
    from crmkit._validation import as_array, as_rng, factorize
    from crmkit.satisfaction.pls._bootstrap import MAX_RESAMPLES

    instance(model, PathModel, "model")
    permutations = whole(permutations, "permutations", 1, MAX_RESAMPLES)
    raw = indicator_matrix(data, model.indicators)
    g = as_array(groups, "groups")
    if g.shape[0] != raw.shape[0]:
        raise ValidationError([("groups", f"must have one label per respondent ({raw.shape[0]})")])
    labels, codes = factorize(g)
    if labels.shape[0] != 2:
        raise ValidationError([("groups", f"must have exactly two groups, got {labels.shape[0]}")])
    if not (isinstance(permutations, int) and permutations >= 1):
        raise ValidationError(
            [("permutations", f"must be an integer >= 1, got {shown(permutations)}")]
        )
    lay = layout(model)
    opts = {
        "scheme": options.get("scheme", "path"),
        "scaled": options.get("scaled", True),
        "consistent": options.get("consistent", False),
        "tol": options.get("tol", 1e-6),
        "max_iter": options.get("max_iter", 300),
    }

    def diff(mask: npt.NDArray[np.bool_]) -> tuple[Array, Array, Array]:
        a = estimate(model, raw[mask], lay=lay, **opts)
        b = estimate(model, raw[~mask], lay=lay, **opts)
        pa = np.array(list(a.paths.values()))
        pb = np.array(list(b.paths.values()))
        return pa, pb, pa - pb

    first = codes == 0
    pa, pb, observed = diff(first)
    rng = as_rng(seed)
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
    keys = list(estimate(model, raw[first], lay=lay, **opts).paths)
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
