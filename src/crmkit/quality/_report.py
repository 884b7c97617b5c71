"""A ready model for contact data, and the report of the duplicates it finds (``crmkit dedupe``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from crmkit.errors import ValidationError
from crmkit.quality._block import Block, SortedNeighbourhood
from crmkit.quality._compare import Date, Exact, FieldComparison, Text
from crmkit.quality._model import FellegiSunter, PairExplanation
from crmkit.quality._records import CONTACT_COLUMNS, Records

__all__ = ["DuplicateReport", "contact_model", "duplicate_report"]


def contact_model(columns: Iterable[str], **options: Any) -> FellegiSunter:
    """A Fellegi-Sunter model for whichever contact columns are present.

    Names by Jaro-Winkler, the first name with a level for first and last
    names swapped, the last name with term frequencies, e-mail, phone and postcode exactly,
    street and city by Jaro-Winkler, the date of birth with a level for day
    and month swapped. Blocking: the same e-mail, the same phone, the same
    first and last name, either name with the date of birth, the same
    postcode, and a sorted neighbourhood of streets, each where its columns
    are present. (The first three letters of the last name alone made 11.5
    million pairs of 100,000 records; the same names 0.25 million, at a
    higher blocking recall with the other rules: the e-mail, phone, birth
    date and address rules find the pairs whose names differ.) ``options``
    go to :class:`FellegiSunter`.

    >>> contact_model(["first_name", "last_name", "email"])
    FellegiSunter(comparing first_name, last_name, email; blocking email; first_name & last_name; not fitted)
    """
    from crmkit._args import texts

    if isinstance(columns, Records):
        columns = list(columns.columns)
    elif isinstance(columns, Mapping):
        columns = list(columns)
    have = set(texts(columns, "columns"))
    present = [c for c in CONTACT_COLUMNS if c in have]
    if len(present) < 2:
        raise ValidationError(
            [("columns", f"must include at least two of {', '.join(CONTACT_COLUMNS)}")]
        )
    both_names = {"first_name", "last_name"} <= have
    comparisons: list[FieldComparison] = []
    for column in present:
        if column == "first_name":
            # The swap level on one of the two names only: when first and last are
            # exchanged, both comparisons would see it and count the one fact twice.
            comparisons.append(Text(column, swap="last_name" if both_names else None))
        elif column == "last_name":
            comparisons.append(Text(column, term_frequencies=True))
        elif column in ("street", "city"):
            comparisons.append(Text(column))
        elif column == "date_of_birth":
            comparisons.append(Date(column))
        else:
            comparisons.append(Exact(column))
    rules: list[Any] = [Block(c) for c in ("email", "phone") if c in have]
    if both_names:
        rules.append(Block("first_name", "last_name"))
    elif "last_name" in have:
        rules.append(Block("last_name", prefix=3))
    for name in ("first_name", "last_name"):
        if {name, "date_of_birth"} <= have:
            rules.append(Block(name, "date_of_birth"))
    if "postcode" in have:
        rules.append(Block("postcode"))
    if "street" in have:
        rules.append(SortedNeighbourhood("street", window=3))
    if not rules:
        rules.append(Block(present[0], prefix=3))
    return FellegiSunter(comparisons, blocking=rules, **options)


@attrs.frozen
class DuplicateReport:
    """The duplicate clusters a fitted model finds, each with the explanation of its links.

    ``plans`` holds, for each cluster shown, the record to keep (the most
    complete) and the ``(column, record id)`` of each value it lacks that
    another member has: a preview, for records that are not yet contacts, of
    what :func:`~crmkit.quality.plan_merge` does with contacts.
    """

    records: int
    candidate_pairs: int
    by_rule: tuple[tuple[str, int, int], ...]
    threshold: float
    clusters: tuple[tuple[Any, ...], ...]  # record ids, largest clusters first
    links: tuple[tuple[PairExplanation, ...], ...]  # per cluster: its strongest links
    loose: tuple[int, ...]  # positions in ``clusters`` of clusters whose members do not all match
    shown: int
    plans: tuple[tuple[Any, tuple[tuple[str, Any], ...]], ...] = ()  # per cluster shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "candidate_pairs": self.candidate_pairs,
            "blocking": [{"rule": r, "pairs": n, "skipped_blocks": s} for r, n, s in self.by_rule],
            "threshold": self.threshold,
            "duplicate_clusters": len(self.clusters),
            "records_in_duplicates": sum(len(c) for c in self.clusters),
            "clusters": [
                {
                    "records": [str(i) for i in ids],
                    "all_members_match": k not in self.loose,
                    "keep": None if k >= len(self.plans) else str(self.plans[k][0]),
                    "fill": None
                    if k >= len(self.plans)
                    else {c: str(i) for c, i in self.plans[k][1]},
                    "links": [
                        {
                            "left": str(e.left),
                            "right": str(e.right),
                            "probability": e.probability,
                            "weight": e.weight,
                            "fields": [
                                {"column": t.column, "level": t.level, "weight": t.weight}
                                for t in e.terms
                            ],
                        }
                        for e in links
                    ],
                }
                for k, (ids, links) in enumerate(zip(self.clusters, self.links, strict=True))
                if k < self.shown
            ],
        }

    def __str__(self) -> str:
        lines = [
            f"{self.records:,} records, {self.candidate_pairs:,} candidate pairs; "
            f"{len(self.clusters):,} clusters of duplicates at probability >= {self.threshold:g} "
            f"({sum(len(c) for c in self.clusters):,} records)",
        ]
        for rule, pairs, skipped in self.by_rule:
            extra = f" ({skipped:,} oversized blocks skipped)" if skipped else ""
            lines.append(f"  blocking {rule}: {pairs:,} pairs{extra}")
        if self.loose:
            lines.append(
                f"{len(self.loose):,} clusters hold records that do not all match each other "
                "(marked *): review them before merging"
            )
        for k, (ids, links) in enumerate(zip(self.clusters, self.links, strict=True)):
            if k >= self.shown:
                lines.append(f"... and {len(self.clusters) - self.shown:,} more clusters")
                break
            mark = " *" if k in self.loose else ""
            lines.append("")
            lines.append(f"cluster {k + 1}{mark}: records {', '.join(str(i) for i in ids)}")
            if k < len(self.plans):
                keep, fill = self.plans[k]
                taken = "; ".join(f"{c} from {i}" for c, i in fill)
                lines.append(f"  merge plan: keep {keep}" + (f", taking {taken}" if taken else ""))
            lines.extend("  " + line for e in links for line in str(e).splitlines())
        return "\n".join(lines)


def _fill_plan(records: Records, members: np.ndarray) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    """Keep the member with the most values; fill each of its gaps from the first member with one."""
    present = np.column_stack([records[c][members] != None for c in records.columns])  # noqa: E711
    keep = int(members[int(np.argmax(present.sum(axis=1)))])
    fill = []
    for j, column in enumerate(records.columns):
        if records[column][keep] is None and present[:, j].any():
            fill.append(
                (column, records.ids[[int(members[int(np.argmax(present[:, j]))])]].tolist()[0])
            )
    return records.ids[[keep]].tolist()[0], tuple(fill)


def duplicate_report(
    model: FellegiSunter, threshold: float = 0.9, *, top: int = 20
) -> DuplicateReport:
    """The clusters of a fitted model at ``threshold``, the first ``top`` with their links explained.

    Each cluster's links are its members' strongest pairs that join it (a
    spanning tree of the matching pairs), so a cluster of n records shows
    n - 1 explanations.
    """
    from crmkit._args import instance, whole

    instance(model, FellegiSunter, "model")
    top = whole(top, "top", 0, 1_000_000)
    clusters = model.clusters(threshold)
    scores = model.scores_
    records = model._records
    assert records is not None
    sizes = clusters.sizes
    multi = np.flatnonzero(sizes > 1)
    multi = multi[np.argsort(-sizes[multi], kind="stable")]
    loose_labels = {c.label for c in clusters.loose}
    strong = np.flatnonzero(scores.probability >= threshold)
    strong = strong[np.argsort(-scores.probability[strong], kind="stable")]
    owner = clusters.labels[scores.left[strong]]
    # Members and strong pairs grouped by cluster once (sorted), not searched per cluster.
    by_label = np.argsort(clusters.labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    by_owner = np.argsort(owner, kind="stable")  # stable: strongest first within a cluster
    first = np.searchsorted(owner[by_owner], multi, side="left")
    last = np.searchsorted(owner[by_owner], multi, side="right")
    ids: list[tuple[Any, ...]] = []
    links: list[tuple[PairExplanation, ...]] = []
    plans: list[tuple[Any, tuple[tuple[str, Any], ...]]] = []
    loose: list[int] = []
    for k, label in enumerate(multi.tolist()):
        members = by_label[starts[label] : starts[label] + sizes[label]]
        ids.append(tuple(records.ids[members].tolist()))
        if label in loose_labels:
            loose.append(k)
        if k >= top:
            links.append(())
            continue
        # Kruskal on the strongest pairs: each link joins two parts not yet joined.
        part = {int(m): int(m) for m in members}

        def root(x: int, part: dict[int, int] = part) -> int:
            while part[x] != x:
                part[x] = part[part[x]]
                x = part[x]
            return x

        chosen = []
        for i in strong[by_owner[first[k] : last[k]]].tolist():
            a, b = root(int(scores.left[i])), root(int(scores.right[i]))
            if a != b:
                part[a] = b
                chosen.append(model.explain(int(scores.left[i]), int(scores.right[i])))
        links.append(tuple(chosen))
        plans.append(_fill_plan(records, members))
    return DuplicateReport(
        len(records),
        len(scores),
        model.candidates_.by_rule,
        clusters.threshold,
        tuple(ids),
        tuple(links),
        tuple(loose),
        top,
        tuple(plans),
    )
