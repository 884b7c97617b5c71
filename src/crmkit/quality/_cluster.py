"""Clusters: records joined by matching pairs, and a guard against chains.

Pairs at or above the threshold are the edges of a graph whose connected
components are the clusters (scipy's ``connected_components``). Linking is
transitive there: if A matches B and B matches C, A and C end in one cluster
though they may be different people (two John Smiths joined through a
third record that resembles both). So every pair inside each cluster is
scored too, and clusters whose members do not all match each other are
reported as *loose*, for a person to look at before merging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmkit.quality._block import _pairs_within

if TYPE_CHECKING:
    from crmkit.quality._model import FellegiSunter

__all__ = ["Clusters", "LooseCluster", "cluster"]

#: Clusters larger than this are reported loose without scoring all their pairs.
MAX_CHECKED = 200


@attrs.frozen
class LooseCluster:
    """A cluster whose members do not all match each other at the threshold."""

    label: int
    size: int
    weak_pairs: int  # member pairs below the threshold (-1: too large to check)
    weakest: float  # the lowest probability of a member pair (nan when not checked)


@attrs.frozen(eq=False)
class Clusters:
    """A cluster label per record (``labels``; records alone have clusters of one)."""

    labels: np.ndarray
    ids: np.ndarray
    threshold: float
    loose: tuple[LooseCluster, ...]

    def __len__(self) -> int:
        return int(self.labels.max(initial=-1) + 1)

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels)

    def members(self, label: int) -> list[object]:
        """The ids of the records in cluster ``label``."""
        return list(self.ids[self.labels == label].tolist())

    def duplicates(self) -> list[list[object]]:
        """The clusters of more than one record, as lists of record ids, largest first."""
        sizes = self.sizes
        order = np.argsort(self.labels, kind="stable")
        groups = np.split(self.ids[order], np.cumsum(sizes)[:-1])
        multi = [g.tolist() for g, s in zip(groups, sizes, strict=True) if s > 1]
        return sorted(multi, key=len, reverse=True)


def cluster(model: FellegiSunter, threshold: float) -> Clusters:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    scores = model.scores_
    records = model._records
    assert records is not None
    n = len(records)
    keep = scores.probability >= threshold
    graph = coo_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (scores.left[keep], scores.right[keep])),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    # Number clusters by their first record, so labels do not depend on scipy's order.
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(labels[np.sort(first)])] = np.arange(first.size)
    labels = rank[labels]
    sizes = np.bincount(labels)
    checked = np.where(sizes <= MAX_CHECKED, sizes, 0)[labels] > 2
    loose = [
        LooseCluster(int(c), int(sizes[c]), -1, float("nan"))
        for c in np.flatnonzero(sizes > MAX_CHECKED)
    ]
    positions = np.flatnonzero(checked)
    if positions.size:
        codes = labels[positions]
        left, right, _ = _pairs_within(codes, np.argsort(codes, kind="stable"), MAX_CHECKED)
        pairs = model.score_pairs(positions[left], positions[right])
        weak = pairs.probability < threshold
        owner = labels[pairs.left]
        counts = np.bincount(owner[weak], minlength=sizes.size)
        lowest = np.full(sizes.size, np.inf)
        np.minimum.at(lowest, owner, pairs.probability)
        loose += [
            LooseCluster(int(c), int(sizes[c]), int(counts[c]), float(lowest[c]))
            for c in np.flatnonzero(counts)
        ]
    loose.sort(key=lambda c: c.label)
    return Clusters(labels, records.ids, threshold, tuple(loose))
