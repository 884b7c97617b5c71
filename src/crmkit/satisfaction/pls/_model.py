"""The path model: constructs, their blocks of indicators, the paths between them."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._args import items as list_of
from crmkit._args import text, texts
from crmkit._text import describe, shown
from crmkit.errors import DefinitionError, InadmissibleSolution, ValidationError
from crmkit.satisfaction.pls._data import indicator_matrix

if TYPE_CHECKING:
    from crmkit.satisfaction.pls._result import PlsResult

__all__ = ["PathModel", "Scheme"]

Array = npt.NDArray[np.float64]
Scheme = Literal["path", "centroid", "factorial"]


def _mapping(value: Any, name: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError([(name, f"must be a mapping, got {describe(value)}")])
    return value


def _blocks(value: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    out = {}
    for k, v in _mapping(value, "blocks").items():
        name = text(k, "blocks")
        out[name] = texts(v, f"blocks[{shown(name)}]")
    return out


def _pairs(value: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    out = []
    for i, pair in enumerate(list_of(value, "paths")):
        ends = texts(pair, f"paths[{i}]")
        if len(ends) != 2:
            raise ValidationError(
                [(f"paths[{i}]", f"must be a (from, to) pair, got {len(ends)} names")]
            )
        out.append((ends[0], ends[1]))
    return tuple(out)


def _modes(value: Mapping[str, str]) -> dict[str, str]:
    return {
        text(k, "modes"): text(v, f"modes[{shown(k)}]") for k, v in _mapping(value, "modes").items()
    }


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
                problems.append(f"construct {shown(c)} has an empty block")
            for i in items:
                if i in seen:
                    problems.append(
                        f"indicator {shown(i)} is in the blocks of {shown(seen[i])} and {shown(c)}"
                    )
                seen[i] = c
        for a, b in self.paths:
            for end in (a, b):
                if end not in self.blocks:
                    problems.append(
                        f"path {shown(a)} -> {shown(b)} names the unknown construct {shown(end)}"
                    )
            if a == b:
                problems.append(f"path {shown(a)} -> {shown(b)} points to itself")
        if len(set(self.paths)) != len(self.paths):
            problems.append("a path is given twice")
        for c, m in self.modes.items():
            if c not in self.blocks:
                problems.append(f"mode given for the unknown construct {shown(c)}")
            if m not in ("A", "B"):
                problems.append(f"mode of {shown(c)} must be 'A' or 'B', got {shown(m)}")
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
        if scheme not in ("path", "centroid", "factorial") if type(scheme) is str else True:
            raise ValidationError(
                [("scheme", f"must be 'path', 'centroid' or 'factorial', got {shown(scheme)}")]
            )
        if not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 < tol < 1):
            raise ValidationError([("tol", f"must be a number between 0 and 1, got {shown(tol)}")])
        if not (isinstance(max_iter, int) and max_iter >= 1):
            raise ValidationError([("max_iter", f"must be an integer >= 1, got {shown(max_iter)}")])
        if nan_policy not in ("raise", "omit"):
            raise ValidationError(
                [("nan_policy", f"must be 'raise' or 'omit', got {shown(nan_policy)}")]
            )
        from crmkit.satisfaction.pls._algorithm import estimate

        raw = indicator_matrix(data, self.indicators, omit=nan_policy == "omit")
        result = estimate(self, raw, scheme, scaled, consistent, tol, max_iter)
        if result.problems:
            from crmkit.satisfaction.pls._result import warning_text

            warnings.warn(warning_text(result.problems), InadmissibleSolution, stacklevel=2)
        return result


def _node(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
