"""SERVQUAL (Parasuraman, Zeithaml & Berry 1988, 1991) and SERVPERF (Cronin & Taylor 1992)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._text import shown
from crmkit.errors import DefinitionError, InsufficientData, ValidationError
from crmkit.satisfaction._scores import cronbach_alpha

__all__ = ["STANDARD_SERVQUAL", "ServqualInstrument", "ServqualResult", "servqual"]


@attrs.frozen
class ServqualInstrument:
    """Which questionnaire items (0-based columns) measure which dimension.

    Validated when built: every item from 0 to ``n_items - 1`` belongs to
    exactly one dimension, dimensions are named and not empty.
    """

    dimensions: tuple[tuple[str, tuple[int, ...]], ...]

    def __attrs_post_init__(self) -> None:
        from crmkit._args import items as list_of
        from crmkit._args import text, whole

        dims = []
        for i, dim in enumerate(list_of(self.dimensions, "dimensions")):
            parts = list_of(dim, f"dimensions[{i}]")
            if len(parts) != 2:
                raise ValidationError([(f"dimensions[{i}]", "must be a (name, item columns) pair")])
            name = text(parts[0], f"dimensions[{i}]")
            cols = tuple(
                whole(c, f"dimensions[{i}][{j}]", 0, 10_000)
                for j, c in enumerate(list_of(parts[1], f"dimensions[{i}]"))
            )
            dims.append((name, cols))
        object.__setattr__(self, "dimensions", tuple(dims))
        names = [d for d, _ in self.dimensions]
        if not names or len(set(names)) != len(names):
            raise DefinitionError(f"dimension names must be given once each, got {names}")
        items = [i for _, idx in self.dimensions for i in idx]
        for name, idx in self.dimensions:
            if not idx:
                raise DefinitionError(f"dimension {shown(name)} has no item")
        if sorted(items) != list(range(len(items))):
            raise DefinitionError(
                f"items must be the columns 0..{len(items) - 1}, each in one dimension; got {sorted(items)}"
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[int]]) -> ServqualInstrument:
        """From ``{"tangibles": [0, 1, 2, 3], ...}`` (0-based item columns)."""
        return cls(tuple((str(k), tuple(int(i) for i in v)) for k, v in mapping.items()))

    @property
    def n_items(self) -> int:
        return sum(len(idx) for _, idx in self.dimensions)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d for d, _ in self.dimensions)

    def membership(self) -> npt.NDArray[np.float64]:
        """items x dimensions matrix of 1 / (items in the dimension): respondent averages by a product."""
        m = np.zeros((self.n_items, len(self.dimensions)))
        for j, (_, idx) in enumerate(self.dimensions):
            m[list(idx), j] = 1.0 / len(idx)
        return m


#: The 22-item instrument of Parasuraman, Zeithaml & Berry (1988, 1991): items 1-4
#: tangibles, 5-9 reliability, 10-13 responsiveness, 14-17 assurance, 18-22 empathy.
STANDARD_SERVQUAL = ServqualInstrument.from_mapping(
    {
        "tangibles": range(4),
        "reliability": range(4, 9),
        "responsiveness": range(9, 13),
        "assurance": range(13, 17),
        "empathy": range(17, 22),
    }
)


@attrs.frozen(eq=False)
class ServqualResult:
    """Gap (P - E) statistics per item and dimension, the SERVQUAL scores and the reliabilities."""

    dimensions: tuple[str, ...]
    n: int
    item_mean: npt.NDArray[np.float64]
    item_sd: npt.NDArray[np.float64]
    dimension_mean: npt.NDArray[np.float64]
    dimension_sd: npt.NDArray[np.float64]
    dimension_lower: npt.NDArray[np.float64]
    dimension_upper: npt.NDArray[np.float64]
    score: float
    weighted_score: float | None
    alpha: dict[str, dict[str, float]]
    worst_dimension: str
    measure: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "dimensions": list(self.dimensions),
            "n": self.n,
            "item_mean": self.item_mean.tolist(),
            "item_sd": self.item_sd.tolist(),
            "dimension_mean": self.dimension_mean.tolist(),
            "dimension_sd": self.dimension_sd.tolist(),
            "dimension_interval": [
                list(p)
                for p in zip(
                    self.dimension_lower.tolist(), self.dimension_upper.tolist(), strict=True
                )
            ],
            "score": self.score,
            "weighted_score": self.weighted_score,
            "alpha": self.alpha,
            "worst_dimension": self.worst_dimension,
        }

    def __str__(self) -> str:
        label = "gap P - E" if self.measure == "SERVQUAL" else "perception"
        lines = [
            f"{self.measure}, n = {self.n:,}",
            f"dimension          {label:>10}    95% interval",
        ]
        for i, d in enumerate(self.dimensions):
            lines.append(
                f"{d:<18} {self.dimension_mean[i]:>+10.2f}   {self.dimension_lower[i]:+.2f} to {self.dimension_upper[i]:+.2f}"
            )
        lines.append(
            f"score {self.score:+.2f}"
            + ("" if self.weighted_score is None else f", weighted {self.weighted_score:+.2f}")
        )
        if self.measure == "SERVQUAL":
            lines.append(f"largest negative gap: {self.worst_dimension}")
        return "\n".join(lines)


def _matrix(values: Any, name: str, scale: Any) -> npt.NDArray[np.float64]:
    from crmkit._args import pair
    from crmkit._validation import as_numbers

    x = as_numbers(values, name)
    scale = pair(scale, "scale")
    if x.ndim != 2:
        raise ValidationError(
            [(name, f"must be a 2-D array (respondents x items), got shape {x.shape}")]
        )
    bad = ~np.isfinite(x) | (x < scale[0]) | (x > scale[1])
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValidationError(
            [(f"{name}[{r}, {c}]", f"must be an answer {scale[0]:g}-{scale[1]:g}, got {x[r, c]:g}")]
        )
    return x


def servqual(
    expectations: Any,
    perceptions: Any,
    *,
    instrument: ServqualInstrument = STANDARD_SERVQUAL,
    importance: Any = None,
    scale: tuple[int, int] = (1, 7),
    confidence: float = 0.95,
) -> ServqualResult:
    """SERVQUAL gap scores P - E per item and dimension (Parasuraman, Zeithaml & Berry 1988).

    ``expectations`` and ``perceptions`` are respondents x items arrays on
    ``scale``; pass ``expectations=None`` for SERVPERF (Cronin & Taylor 1992:
    perceptions only). A respondent's dimension score is the mean of its
    items; the SERVQUAL score is the mean of the five dimension scores; with
    ``importance`` (respondents x dimensions, points summing to 100 per
    respondent) the weighted score weights each respondent's dimension scores
    by their points. Cronbach's alpha is reported per dimension for E, P and
    the gaps (dimensions of at least two items).
    """
    from scipy.stats import t as student_t

    from crmkit._validation import check_confidence

    conf = check_confidence(confidence)
    if not isinstance(instrument, ServqualInstrument):
        raise ValidationError(
            [("instrument", f"must be a ServqualInstrument, got {type(instrument).__name__}")]
        )
    p = _matrix(perceptions, "perceptions", scale)
    measure = "SERVPERF" if expectations is None else "SERVQUAL"
    e = None if expectations is None else _matrix(expectations, "expectations", scale)
    if e is not None and e.shape != p.shape:
        raise ValidationError(
            [("perceptions", f"must have the shape of expectations {e.shape}, got {p.shape}")]
        )
    n, k = p.shape
    if k != instrument.n_items:
        raise ValidationError(
            [("perceptions", f"has {k} items, the instrument {instrument.n_items}")]
        )
    if n < 2:
        raise InsufficientData(f"SERVQUAL needs at least two respondents, got {n}")
    g = p if e is None else p - e
    dim = g @ instrument.membership()  # respondents x dimensions
    t = float(student_t.ppf(0.5 + conf / 2, n - 1))
    dmean, dsd = dim.mean(axis=0), dim.std(axis=0, ddof=1)
    half = t * dsd / np.sqrt(n)
    weighted = None
    if importance is not None:
        from crmkit._validation import as_numbers

        w = as_numbers(importance, "importance")
        if w.shape != dim.shape:
            raise ValidationError(
                [("importance", f"must be respondents x dimensions {dim.shape}, got {w.shape}")]
            )
        off = ~np.isclose(w.sum(axis=1), 100) | (w < 0).any(axis=1) | ~np.isfinite(w).all(axis=1)
        if off.any():
            raise ValidationError(
                [
                    (
                        f"importance[{int(np.flatnonzero(off)[0])}]",
                        "points must be >= 0 and add up to 100",
                    )
                ]
            )
        weighted = float((dim * w / 100).sum(axis=1).mean())
    alpha: dict[str, dict[str, float]] = {}
    for name, idx in instrument.dimensions:
        if len(idx) < 2:
            continue
        cols = list(idx)
        entry: dict[str, float] = {}
        for label, data in (("E", e), ("P", p), ("gap", None if e is None else g)):
            if data is None:
                continue
            try:
                entry[label] = cronbach_alpha(data[:, cols]).alpha
            except (InsufficientData, ValidationError):
                continue  # a constant item: alpha is undefined there
        alpha[name] = entry
    return ServqualResult(
        dimensions=instrument.names,
        n=n,
        item_mean=g.mean(axis=0),
        item_sd=g.std(axis=0, ddof=1),
        dimension_mean=dmean,
        dimension_sd=dsd,
        dimension_lower=dmean - half,
        dimension_upper=dmean + half,
        score=float(dmean.mean()),
        weighted_score=weighted,
        alpha=alpha,
        worst_dimension=instrument.names[int(np.argmin(dmean))],
        measure=measure,
    )
