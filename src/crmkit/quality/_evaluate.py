"""Precision, recall and F1 of duplicate detection against known true clusters.

Pairwise: a pair of records is predicted a match when both are in one
predicted cluster, truly one when both are in one true cluster. Cluster
level: a predicted cluster is right when it holds exactly the records of a
true cluster (singletons included). Counted from the contingency table of
predicted against true labels, without listing pairs.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmkit.errors import ValidationError

__all__ = ["Evaluation", "evaluate"]


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@attrs.frozen
class Evaluation:
    """Pairwise and cluster precision, recall and F1, and the recall of blocking."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    cluster_precision: float
    cluster_recall: float
    cluster_f1: float
    true_pairs: int
    predicted_pairs: int
    blocking_recall: float | None

    def __str__(self) -> str:
        lines = [
            f"pairs: precision {self.pair_precision:.4f}, recall {self.pair_recall:.4f}, "
            f"F1 {self.pair_f1:.4f} ({self.predicted_pairs:,} predicted, {self.true_pairs:,} true)",
            f"clusters: precision {self.cluster_precision:.4f}, recall {self.cluster_recall:.4f}, "
            f"F1 {self.cluster_f1:.4f}",
        ]
        if self.blocking_recall is not None:
            lines.append(
                f"blocking recall: {self.blocking_recall:.4f} of the true pairs are candidates"
            )
        return "\n".join(lines)


def _labels(values: Any, name: str) -> np.ndarray:
    """Labels as codes 0..k-1 (any hashable labels: numbers, text)."""
    from crmkit._validation import as_array, factorize

    array = as_array(values, name)
    if array.size == 0:
        raise ValidationError([(name, "must hold one label per record, got none")])
    try:
        return factorize(array)[1]
    except (TypeError, ValueError):
        raise ValidationError([(name, "must hold labels of one kind (numbers or text)")]) from None


def evaluate(predicted: Any, truth: Any, *, candidates: Any = None) -> Evaluation:
    """How well ``predicted`` cluster labels recover the ``truth`` (one label per record each).

    ``candidates`` (a model's ``candidates_``) adds the share of true pairs
    the blocking rules proposed: pairs never proposed can never be found.

    >>> e = evaluate([0, 0, 1, 2], [5, 5, 6, 6])
    >>> e.pair_precision, e.pair_recall, e.cluster_precision, e.cluster_recall
    (1.0, 0.5, 0.3333333333333333, 0.5)
    """
    p = _labels(predicted, "predicted")
    t = _labels(truth, "truth")
    if p.size != t.size:
        raise ValidationError([("truth", f"has {t.size} labels for {p.size} predicted")])
    joint = p.astype(np.int64) * (t.max() + 1) + t
    both = _pairs(np.unique(joint, return_counts=True)[1])
    predicted_pairs = _pairs(np.bincount(p))
    true_pairs = _pairs(np.bincount(t))
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    # A predicted cluster is exact when it and its true cluster have the same size as their overlap.
    cells, cell_sizes = np.unique(joint, return_counts=True)
    cp, ct = cells // (t.max() + 1), cells % (t.max() + 1)
    exact = (cell_sizes == np.bincount(p)[cp]) & (cell_sizes == np.bincount(t)[ct])
    cluster_precision = int(np.sum(exact)) / int(p.max() + 1)
    cluster_recall = int(np.sum(exact)) / int(t.max() + 1)
    blocking = None
    if candidates is not None:
        from crmkit._args import instance
        from crmkit.quality._block import Candidates

        candidates = instance(candidates, Candidates, "candidates")
        left, right = candidates.left, candidates.right
        if left.size and int(max(left.max(), right.max())) >= t.size:
            raise ValidationError([("candidates", "pair records beyond the labels given")])
        found = int(np.sum(t[left] == t[right]))
        blocking = found / true_pairs if true_pairs else 1.0
    return Evaluation(
        precision, recall, _f1(precision, recall),
        cluster_precision, cluster_recall, _f1(cluster_precision, cluster_recall),
        true_pairs, predicted_pairs, blocking,
    )  # fmt: skip
