"""Exact exports per public module (httpx's ``test_exported_members`` is the model).

``__all__`` lists exactly the public names a module offers: every listed
name exists, and every public class, function or constant *defined in
crmkit* that the module holds is listed. No two public modules offer two
different objects under one name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any, TypeVar

import pytest

import crmkit

OPTIONAL = {"crmkit.plot": "matplotlib", "crmkit.adapters.sqlalchemy": "sqlalchemy"}


def _public_modules() -> list[str]:
    names = ["crmkit"]
    for info in pkgutil.walk_packages(crmkit.__path__, "crmkit."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _public_modules()


def _load(name: str) -> Any:
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    return importlib.import_module(name)


def _offered(module: Any, value: Any) -> bool:
    """Defined by the module itself, or (for a package) by one of its private submodules."""
    if inspect.ismodule(value) or isinstance(value, TypeVar):
        return False
    home = getattr(value, "__module__", None)
    if not isinstance(home, str):
        return False  # a constant: its module cannot be told; __all__ lists the deliberate ones
    name = module.__name__
    if home == name:
        return True
    is_package = hasattr(module, "__path__")
    return is_package and home.startswith(name + "._")


def test_the_public_modules_are_the_expected_ones() -> None:
    for expected in (
        "crmkit.cli",
        "crmkit.adapters.sqlalchemy",
        "crmkit.satisfaction.pls",
        "crmkit.value",
        "crmkit.lifecycle",
        "crmkit.entities",
    ):
        assert expected in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = _load(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names it does not have: {missing}"
    unlisted = [
        n
        for n, value in vars(module).items()
        if not n.startswith("_") and n not in exported and _offered(module, value)
    ]
    assert not unlisted, f"{name} offers public names missing from __all__: {unlisted}"


def test_no_two_modules_offer_different_objects_under_one_name() -> None:
    seen: dict[str, tuple[str, Any]] = {}
    clashes = []
    for name in MODULES:
        module = _load(name) if name not in OPTIONAL else None
        if module is None:
            continue
        for n in module.__all__:
            value = getattr(module, n)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if n in seen and seen[n][1] is not value:
                clashes.append(f"{n}: {seen[n][0]} and {name}")
            seen.setdefault(n, (name, value))
    assert not clashes, clashes


RESULTS = {
    "crmkit.satisfaction": (
        "NpsResult",
        "NpsComparison",
        "NpsGroups",
        "RatingSummary",
        "Reliability",
        "Disconfirmation",
        "ServqualResult",
        "GapModel",
        "GapDrivers",
        "KanoResult",
        "IpaResult",
        "PenaltyReward",
    ),
    "crmkit.satisfaction.acsi": ("IndexResult", "DriverPriority"),
    "crmkit.satisfaction.pls": ("PlsResult", "BootstrapResult", "PredictResult", "PermutationTest"),
    "crmkit.value": (
        "FitSummary",
        "HoldoutReport",
        "TrackingReport",
        "IdicResult",
        "IdicSummary",
        "RfmScores",
        "Concentration",
        "RfmSummary",
        "CompressedSummary",
        "ValueReport",
    ),
    "crmkit.lifecycle": ("StageReplay",),
    "crmkit.lifecycle.analytics": (
        "Funnel",
        "StageTimes",
        "TransitionMatrix",
        "CohortConversion",
        "PipelineMetrics",
        "PipelineForecast",
    ),
    "crmkit.report": ("CustomerBaseReport",),
}


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, ns in RESULTS.items() for n in ns])
def test_every_result_class_prints_and_converts(module: str, name: str) -> None:
    """Results print as text (their own ``__str__``, not an attrs dump) and convert to plain data."""
    cls = getattr(importlib.import_module(module), name)
    assert name in importlib.import_module(module).__all__
    assert "__str__" in vars(cls), f"{module}.{name} has no __str__ of its own"
    assert "to_dict" in vars(cls), f"{module}.{name} has no to_dict"
