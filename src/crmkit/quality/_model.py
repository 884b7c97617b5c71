"""The Fellegi-Sunter model of record linkage, with m and u estimated without labels.

For a pair of records, each comparison k takes a level gamma_k (exact,
close, ..., different; missing when a value is absent). Fellegi & Sunter
(1969, "A theory for record linkage", JASA 64) weigh the evidence of each
level by

    m_k(l) = P(gamma_k = l | the records are the same person)
    u_k(l) = P(gamma_k = l | they are not),

and, taking the comparisons as independent given the match status, the
match weight of a pair is ``W = log2(lambda / (1 - lambda)) + sum_k
log2(m_k(gamma_k) / u_k(gamma_k))`` with lambda the share of matches among
the candidate pairs; the match probability is ``2^W / (1 + 2^W)``. A
missing value adds nothing.

* u is estimated from random pairs of records, almost all of which are
  different people (Splink's default), with one pseudo-observation spread
  over the levels so that no level has u = 0.
* m and lambda are estimated by expectation-maximisation over the
  candidate pairs (Winkler 1988, "Using the EM algorithm for weight
  computation in the Fellegi-Sunter model of record linkage"; Jaro 1989).
  The pairs are first reduced to their distinct level patterns with counts,
  so each EM step costs microseconds however many pairs there are.
* Term-frequency adjustment (Winkler 1989, "Frequency-based matching in
  Fellegi-Sunter model of record linkage"): agreement on a value held by a
  share f of the records adds ``log2(u_exact / f)`` to the weight, so
  agreeing on "Zwicker" counts more than agreeing on "Smith".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from crmkit.errors import InsufficientData, NotFittedError, ValidationError
from crmkit.quality._block import Candidates, union_of
from crmkit.quality._compare import MISSING, FieldComparison
from crmkit.quality._records import Records, as_records

if TYPE_CHECKING:
    from crmkit.quality._cluster import Clusters

__all__ = ["FellegiSunter", "PairExplanation", "ScoredPairs"]


@attrs.frozen(eq=False)
class ScoredPairs:
    """Pairs of records (positions ``left < right``) with their levels, weights and probabilities."""

    left: np.ndarray
    right: np.ndarray
    levels: np.ndarray  # (pairs, comparisons) int8
    weight: np.ndarray
    probability: np.ndarray

    def __len__(self) -> int:
        return int(self.left.size)


@attrs.frozen
class Term:
    """One comparison's share of a pair's match weight."""

    column: str
    left: Any
    right: Any
    level: str
    weight: float  # log2(m / u), with the term-frequency adjustment


@attrs.frozen
class PairExplanation:
    """Why a pair scored as it did: the prior, then each field's level and weight."""

    left: Any  # record ids
    right: Any
    prior: float
    terms: tuple[Term, ...]
    weight: float
    probability: float

    def __str__(self) -> str:
        lines = [
            f"records {self.left!r} and {self.right!r}: match weight {self.weight:+.2f}, "
            f"probability {self.probability:.4f}",
            f"  {'prior (two random records match)':<44}{self.prior:+8.2f}",
        ]
        for t in self.terms:
            shown = f"{t.column}: {t.level}"
            lines.append(f"  {shown:<44}{t.weight:+8.2f}")
        return "\n".join(lines)


class _Clock:
    """Seconds between laps, for ``timings_``."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._now()
        self.laps[name] = now - self._last
        self._last = now


def _plain(value: Any) -> Any:
    """A numpy integer as a Python one (positions often come out of numpy arrays)."""
    return int(value) if isinstance(value, np.integer) else value


def _positions(values: Any, name: str, n: int) -> np.ndarray:
    """Record positions: whole numbers in ``0 .. n - 1``, one-dimensional."""
    from crmkit._validation import as_numbers

    array = as_numbers(values, name, ndim=1)
    if not np.all((array >= 0) & (array < n) & (array == np.floor(array))):
        raise ValidationError([(name, f"must hold record positions, whole numbers 0 to {n - 1}")])
    return array.astype(np.int64)


def _log_table(patterns: np.ndarray, tables: Sequence[np.ndarray]) -> np.ndarray:
    """Per pattern: the sum over comparisons of log(table[level]) (0 for a missing level)."""
    out = np.zeros(patterns.shape[0])
    for k, table in enumerate(tables):
        seen = patterns[:, k] != MISSING
        out[seen] += np.log(table)[patterns[seen, k]]
    return out


def _pattern_codes(levels: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """A mixed-radix code of each row of levels (missing counts as one more level)."""
    code = np.zeros(levels.shape[0], dtype=np.int64)
    for k, size in enumerate(sizes):
        code = code * (size + 1) + (levels[:, k].astype(np.int64) + 1)
    return code


class FellegiSunter:
    """Find duplicate records: blocking, comparisons, u from random pairs, m by EM.

    >>> from crmkit.datasets import synthetic_people
    >>> from crmkit.quality import Block, Exact, FellegiSunter, Text, evaluate, standardise
    >>> people = synthetic_people(2000, profile="easy", seed=1)
    >>> clean = standardise(people.columns, names=["first_name", "last_name"],
    ...                     emails=["email"], phones=["phone"], default_region="GB").records
    >>> model = FellegiSunter(
    ...     [Text("first_name"), Text("last_name"), Exact("email"), Exact("phone"),
    ...      Text("street"), Exact("postcode")],
    ...     blocking=[Block("email"), Block("phone"), Block("last_name", prefix=3)],
    ... ).fit(clean, seed=0)
    >>> clusters = model.clusters(threshold=0.9)
    >>> round(evaluate(clusters.labels, people.entity).pair_f1, 2) >= 0.95
    True
    """

    def __init__(
        self,
        comparisons: Sequence[FieldComparison],
        *,
        blocking: Sequence[Any],
        u_pairs: int = 1_000_000,
        max_iterations: int = 500,
    ) -> None:
        from crmkit._args import items, whole
        from crmkit.quality._block import Block, SortedNeighbourhood

        self.comparisons: tuple[FieldComparison, ...] = tuple(
            items(comparisons, "comparisons", FieldComparison)
        )
        self.blocking: tuple[Any, ...] = tuple(
            items(blocking, "blocking", (Block, SortedNeighbourhood))
        )
        if not self.comparisons:
            raise ValidationError([("comparisons", "must hold at least one comparison")])
        if not self.blocking:
            raise ValidationError([("blocking", "must hold at least one rule")])
        self.u_pairs = whole(u_pairs, "u_pairs", 1000, 100_000_000)
        self.max_iterations = whole(max_iterations, "max_iterations", 1, 100_000)
        self._records: Records | None = None
        self._fitted: dict[str, Any] | None = None

    def __repr__(self) -> str:
        columns = ", ".join(c.column for c in self.comparisons)
        rules = "; ".join(r.name for r in self.blocking)
        state = "fitted" if self._fitted is not None else "not fitted"
        return f"FellegiSunter(comparing {columns}; blocking {rules}; {state})"

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, records: Any, *, seed: int | np.random.Generator | None = 0) -> FellegiSunter:
        """Block, compare, estimate u on random pairs and m by EM, and score every candidate pair."""
        from crmkit._validation import as_rng

        records = as_records(records)
        if len(records) < 2:
            raise InsufficientData(
                f"duplicate detection needs at least two records, got {len(records)}"
            )
        for c in self.comparisons:
            records[c.column]
            if getattr(c, "swap", None):
                records[c.swap]  # type: ignore[attr-defined]
        rng = as_rng(seed)
        clock = _Clock()
        by_rule = [rule.pairs(records) for rule in self.blocking]  # for candidates and for EM
        candidates = union_of(len(records), self.blocking, by_rule)
        if len(candidates) == 0:
            raise InsufficientData(
                "the blocking rules paired no records: add rules or check the columns"
            )
        clock.lap("block")
        u = self._estimate_u(records, rng)
        clock.lap("u from random pairs")
        m, sessions = self._estimate_m(records, u, rng, by_rule)
        clock.lap("m by EM")
        levels = self._levels(records, candidates.left, candidates.right)
        clock.lap("compare candidates")
        n = len(records)
        prior = self._estimate_prior(levels, m, u, n * (n - 1) / 2)
        self._records = records
        self._fitted = {
            "candidates": candidates,
            "u": u,
            "m": m,
            "prior": prior,
            "sessions": sessions,
            "frequencies": self._frequencies(records),
        }
        self._fitted["scores"] = self._score(candidates.left, candidates.right, levels)
        clock.lap("score")
        self._fitted["timings"] = clock.laps
        return self

    def _levels(self, records: Records, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.empty((left.size, len(self.comparisons)), dtype=np.int8)
        for k, c in enumerate(self.comparisons):
            out[:, k] = c.levels(records, left, right)
        return out

    def _estimate_u(self, records: Records, rng: np.random.Generator) -> list[np.ndarray]:
        """u from random pairs (all pairs when there are fewer than ``u_pairs``)."""
        n = len(records)
        if n * (n - 1) // 2 <= self.u_pairs:
            i, j = np.triu_indices(n, k=1)
        else:
            i = rng.integers(0, n, self.u_pairs)
            j = rng.integers(0, n - 1, self.u_pairs)
            j = j + (j >= i)  # a different record, uniformly
        levels = self._levels(records, i, j)
        u = []
        for k, c in enumerate(self.comparisons):
            size = len(c.labels)
            counts = np.bincount(levels[:, k][levels[:, k] != MISSING], minlength=size)
            u.append((counts + 1 / size) / (counts.sum() + 1))
        return u

    def _estimate_m(
        self,
        records: Records,
        u: list[np.ndarray],
        rng: np.random.Generator,
        by_rule: Sequence[tuple[np.ndarray, np.ndarray, int]],
    ) -> tuple[list[np.ndarray], tuple[tuple[str, int, int], ...]]:
        """m by EM, one session per blocking rule, as Splink trains.

        In the pairs of one rule the rule's own columns agree by
        construction, so they carry no information about who matches and
        would pull EM towards "shares a surname" instead of "same person";
        each session leaves them out and estimates the m of the other
        comparisons. Each comparison's m is the mean over the sessions that
        estimated it.
        """
        estimates: list[list[np.ndarray]] = [[] for _ in self.comparisons]
        sessions = []
        for rule, (left, right, _) in zip(self.blocking, by_rule, strict=True):
            if left.size > self.u_pairs:  # a sample is as good and bounds the work
                pick = rng.choice(left.size, self.u_pairs, replace=False)
                left, right = left[pick], right[pick]
            used = set(getattr(rule, "columns", ())) | {getattr(rule, "column", None)}
            free = [k for k, c in enumerate(self.comparisons) if c.column not in used]
            if left.size == 0 or not free:
                continue
            levels = self._levels(records, left, right)[:, free]
            m, _, iterations = self._em(
                levels, [u[k] for k in free], [self.comparisons[k] for k in free]
            )
            for k, mk in zip(free, m, strict=True):
                estimates[k].append(mk)
            sessions.append((rule.name, int(left.size), iterations))
        missing = [c.column for c, e in zip(self.comparisons, estimates, strict=True) if not e]
        if missing:
            raise InsufficientData(
                f"no blocking rule leaves {', '.join(missing)} free to estimate its m: add a rule "
                "that does not block on it (every rule's own columns agree in its pairs)"
            )
        return [np.mean(e, axis=0) for e in estimates], tuple(sessions)

    def _em(
        self, levels: np.ndarray, u: list[np.ndarray], comparisons: Sequence[FieldComparison]
    ) -> tuple[list[np.ndarray], float, int]:
        """EM for m and the share of matches on the distinct level patterns of some pairs."""
        sizes = [len(c.labels) for c in comparisons]
        _, first, counts = np.unique(
            _pattern_codes(levels, sizes), return_index=True, return_counts=True
        )
        patterns = levels[first]  # (distinct patterns, comparisons)
        counts = counts.astype(float)
        log_u = _log_table(patterns, u)
        # Start: agreement far likelier for matches than for others.
        m = [
            np.geomspace(1.0, 1e-2, size) / np.sum(np.geomspace(1.0, 1e-2, size)) for size in sizes
        ]
        share = 0.1
        iterations = 0
        while iterations < self.max_iterations:
            iterations += 1
            odds = np.log(share) - np.log1p(-share) + _log_table(patterns, m) - log_u
            w = counts / (1.0 + np.exp(-odds))  # expected matches per pattern
            new_m = []
            for k, size in enumerate(sizes):
                seen = patterns[:, k] != MISSING
                mass = np.bincount(patterns[seen, k], weights=w[seen], minlength=size)
                # One pseudo-observation spread over the levels (as for u): a level no
                # match showed in these data is rare for matches, not impossible.
                new_m.append((mass + 1 / size) / (mass.sum() + 1))
            new_share = float(np.clip(w.sum() / counts.sum(), 1e-9, 1 - 1e-9))
            change = max(
                abs(new_share - share),
                max(float(np.max(np.abs(a - b))) for a, b in zip(new_m, m, strict=True)),
            )
            m, share = new_m, new_share
            if change < 1e-9:
                break
        return m, share, iterations

    @staticmethod
    def _estimate_prior(
        levels: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], total: float
    ) -> float:
        """P(two random records match): the expected matches among the candidates over all pairs.

        u comes from random pairs, so the prior odds that turn the Bayes
        factor ``prod m / u`` into a probability are those of a random pair;
        pairs the blocking never proposed count as non-matches. A fixed
        point: the expected matches depend on the prior.
        """
        _, first, counts = np.unique(
            _pattern_codes(levels, [t.size for t in m]), return_index=True, return_counts=True
        )
        patterns = levels[first]
        factor = _log_table(patterns, m) - _log_table(patterns, u)
        prior = 1.0 / total
        for _ in range(200):
            odds = np.log(prior) - np.log1p(-prior) + factor
            expected = float(np.sum(counts / (1.0 + np.exp(-odds))))
            new = min(max(expected, 1.0) / total, 0.5)
            if abs(new - prior) <= 1e-12 * prior:
                break
            prior = new
        return prior

    def _frequencies(self, records: Records) -> dict[int, np.ndarray]:
        """Per term-frequency comparison: the share of the records holding each value (by code)."""
        out = {}
        for k, c in enumerate(self.comparisons):
            if c.term_frequencies:
                codes, values = records.codes(c.column)
                counts = np.bincount(codes[codes >= 0], minlength=values.size)
                out[k] = counts / max(int(counts.sum()), 1)
        return out

    def _weights(self, left: np.ndarray, right: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Per pair and comparison: log2(m / u) of its level, term frequencies applied (0 if missing)."""
        f = self._fit_state()
        out = np.zeros(levels.shape, dtype=float)
        for k, c in enumerate(self.comparisons):
            table = np.log2(f["m"][k] / f["u"][k])
            seen = levels[:, k] != MISSING
            out[seen, k] = table[levels[seen, k]]
            if k in f["frequencies"]:
                exact = np.flatnonzero(levels[:, k] == 0)
                codes, _ = self._records.codes(c.column)  # type: ignore[union-attr]
                share = f["frequencies"][k][codes[left[exact]]]
                out[exact, k] += np.log2(f["u"][k][0] / share)
        return out

    def _score(self, left: np.ndarray, right: np.ndarray, levels: np.ndarray) -> ScoredPairs:
        f = self._fit_state()
        prior = float(np.log2(f["prior"] / (1 - f["prior"])))
        weight = prior + self._weights(left, right, levels).sum(axis=1)
        probability = 1.0 / (1.0 + np.exp2(-weight))
        return ScoredPairs(left, right, levels, weight, probability)

    # -- fitted state ----------------------------------------------------------------------
    def _fit_state(self) -> dict[str, Any]:
        if self._fitted is None:
            raise NotFittedError("FellegiSunter is not fitted: call fit(records) first")
        return self._fitted

    @property
    def candidates_(self) -> Candidates:
        """The candidate pairs and what each blocking rule contributed."""
        return self._fit_state()["candidates"]  # type: ignore[no-any-return]

    @property
    def scores_(self) -> ScoredPairs:
        """Every candidate pair with its levels, match weight and probability."""
        return self._fit_state()["scores"]  # type: ignore[no-any-return]

    @property
    def m_(self) -> dict[str, dict[str, float]]:
        """P(level | match) per comparison and level."""
        return self._table("m")

    @property
    def u_(self) -> dict[str, dict[str, float]]:
        """P(level | not a match) per comparison and level (from random pairs)."""
        return self._table("u")

    @property
    def prior_(self) -> float:
        """P(two random records are the same person), the prior of every pair's match weight."""
        return float(self._fit_state()["prior"])

    @property
    def timings_(self) -> dict[str, float]:
        """Seconds of each step of the fit: block, u, m by EM, compare, score."""
        return dict(self._fit_state()["timings"])

    @property
    def sessions_(self) -> tuple[tuple[str, int, int], ...]:
        """The EM sessions: ``(blocking rule, pairs, iterations)`` each."""
        return self._fit_state()["sessions"]  # type: ignore[no-any-return]

    def _table(self, name: str) -> dict[str, dict[str, float]]:
        f = self._fit_state()
        return {
            c.column: dict(zip(c.labels, f[name][k].tolist(), strict=True))
            for k, c in enumerate(self.comparisons)
        }

    # -- using the fit ---------------------------------------------------------------------
    def score_pairs(self, left: Any, right: Any) -> ScoredPairs:
        """Levels, weights and probabilities of any pairs of record positions of the fitted records."""
        self._fit_state()
        records = self._records
        assert records is not None
        left = _positions(left, "left", len(records))
        right = _positions(right, "right", len(records))
        if left.shape != right.shape:
            raise ValidationError([("right", f"must hold {left.size} positions, as left does")])
        return self._score(left, right, self._levels(records, left, right))

    def explain(self, left: int, right: int) -> PairExplanation:
        """The weight of each comparison for the pair of records at positions ``left``, ``right``."""
        from crmkit._args import whole

        f = self._fit_state()
        records = self._records
        assert records is not None
        left = whole(_plain(left), "left", 0, len(records) - 1)
        right = whole(_plain(right), "right", 0, len(records) - 1)
        scored = self.score_pairs([left], [right])
        weights = self._weights(scored.left, scored.right, scored.levels)[0]
        terms = []
        for k, c in enumerate(self.comparisons):
            level = int(scored.levels[0, k])
            terms.append(
                Term(
                    c.column,
                    records[c.column][left],
                    records[c.column][right],
                    "missing" if level == MISSING else c.labels[level],
                    float(weights[k]),
                )
            )
        return PairExplanation(
            records.ids[[left]].tolist()[0],  # a Python value, not a numpy scalar
            records.ids[[right]].tolist()[0],
            float(np.log2(f["prior"] / (1 - f["prior"]))),
            tuple(terms),
            float(scored.weight[0]),
            float(scored.probability[0]),
        )

    def clusters(self, threshold: float = 0.9) -> Clusters:
        """Records joined by pairs at or above ``threshold`` probability (see :class:`Clusters`)."""
        from crmkit._args import number
        from crmkit.quality._cluster import cluster

        threshold = number(threshold, "threshold", 0, 1)
        return cluster(self, threshold)
