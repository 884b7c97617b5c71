"""The hostile-input harness (``tests/hostile.py``) over every public entry point (issue 17).

One test per entry point: every argument replaced in turn by every value of
the shared corpus, and no foreign exception, hang, overlong message or
silent NaN. A second test keeps the harness honest: every public callable
is exercised by a spec, or listed below with the reason it is not.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from enum import Enum
from typing import Any

import pytest

import crmkit
import hostile

SPECS = {spec.name: spec for spec in hostile.specs()}

#: Public callables the harness does not call, and why.
NOT_CALLED: dict[str, str] = {
    # types that are not doors
    "crmkit.errors": "exception and warning classes",
    "crmkit.testing": "hypothesis strategies and pytest suites for test code",
    "crmkit.plot": "draws results crmkit computed (the optional plot extra)",
    "crmkit.cli": "every command and option runs in tests/test_cli_hostile.py",
    "crmkit.entities.Entity": "the base class; every concrete entity has a spec",
    "crmkit.repository.Repository": "a Protocol",
    "crmkit.repository.UnitOfWork": "a Protocol",
    "crmkit.repository.AsyncRepository": "a Protocol",
    "crmkit.repository.AsyncUnitOfWork": "a Protocol",
    "crmkit.repository.AsyncInMemoryRepository": "the in-memory repository's async face (same checks)",
    "crmkit.repository.AsyncInMemoryUnitOfWork": "the in-memory unit of work's async face",
    "crmkit.repository.InMemoryStore": "takes no arguments",
    "crmkit.repository.Page": "a result",
    "crmkit.repository.FieldInfo": "a result of resolve_field",
    "crmkit.repository.Condition": "built by Query.where from F(...) comparisons",
    "crmkit.repository.Comparison": "built by F(...) comparisons, checked by Query.where",
    "crmkit.repository.And": "built by &, checked by Query.where",
    "crmkit.repository.Or": "built by |, checked by Query.where",
    "crmkit.repository.Not": "built by ~, checked by Query.where",
    "crmkit.lifecycle.Guard": "a callable type",
    "crmkit.lifecycle.Effect": "a callable type",
    "crmkit.adapters.sqlalchemy.ExactDecimal": "a column type SQLAlchemy calls",
    "crmkit.datasets.load_cdnow_summary": "takes no arguments",
    "crmkit.datasets.load_donations": "takes no arguments",
    "crmkit.entities.JsonObject": "a type alias",
    "crmkit.satisfaction.pls.Scheme": "a type alias",
    "crmkit.datasets.CustomerBase": "a result of demo_customer_base",
    "crmkit.datasets.KanoStudy": "a result of demo_kano_survey",
    "crmkit.datasets.ServqualStudy": "a result of demo_servqual_survey",
    "crmkit.lifecycle.Conversion": "a result of convert_lead",
    "crmkit.satisfaction.GapDriver": "a row of a GapModel result",
    "crmkit.satisfaction.KanoFeature": "a row of a KanoResult",
    "crmkit.datasets.SyntheticPeople": "a result of synthetic_people",
    "crmkit.quality.Candidates": "a result of candidate_pairs",
    "crmkit.quality.Change": "a row of a Standardised result",
    "crmkit.quality.Clusters": "a result of FellegiSunter.clusters",
    "crmkit.quality.FieldComparison": "the base class; Exact, Text and Date have specs",
    "crmkit.quality.Evaluation": "a result of evaluate",
    "crmkit.quality.LooseCluster": "a row of a Clusters result",
    "crmkit.quality.PairExplanation": "a result of FellegiSunter.explain",
    "crmkit.quality.ScoredPairs": "a result of FellegiSunter.score_pairs",
    "crmkit.quality.Standardised": "a result of standardise",
    "crmkit.quality.Term": "a row of a PairExplanation",
    "crmkit.quality.DuplicateReport": "a result of duplicate_report",
    "crmkit.quality.Profile": "a result of profile",
    "crmkit.quality.MergePlan": "a result of plan_merge",
    "crmkit.quality.FieldChoice": "a row of a MergePlan",
    "crmkit.quality.FieldProfile": "a row of a Profile",
}


def _public_callables() -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = ["crmkit"]
    names += [
        m.name
        for m in pkgutil.walk_packages(crmkit.__path__, "crmkit.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    for name in names:
        try:
            module = importlib.import_module(name)
        except crmkit.errors.MissingDependency:
            continue
        for attr in getattr(module, "__all__", []):
            value = getattr(module, attr)
            if not callable(value) or (isinstance(value, type) and issubclass(value, Enum)):
                continue  # constants, and enums (whose lookup is Python's)
            out.setdefault(f"{name}.{attr}", value)
    return out


def _results() -> set[Any]:
    """Classes that only come out of crmkit (results): they have ``to_dict`` and a ``__str__``."""
    out = set()
    for value in _public_callables().values():
        if isinstance(value, type) and "to_dict" in vars(value) and "__str__" in vars(value):
            out.add(value)
    return out


@pytest.mark.parametrize("name", list(SPECS))
def test_entry_point_holds(name: str) -> None:
    spec = SPECS[name]
    counts, findings = hostile.run(spec)
    assert not findings, "\n".join(findings[:20])
    assert sum(counts.values()) == len(hostile.CORPUS) * (len(spec.args) + len(spec.kwargs))


def test_every_public_callable_is_exercised_or_excused() -> None:
    covered: set[Any] = set()
    for spec in SPECS.values():
        covered |= spec.targets()
    results = _results()
    missing = [
        name
        for name, value in _public_callables().items()
        if value not in covered
        and value not in results
        and name not in NOT_CALLED
        and not any(name.startswith(prefix + ".") for prefix in NOT_CALLED)
        and not (inspect.isclass(value) and value.__module__.startswith("crmkit.errors"))
    ]
    assert not missing, f"no hostile-input spec for: {missing}"
