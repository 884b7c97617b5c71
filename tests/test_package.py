"""Packaging promises: light imports, public names, py.typed, the console script."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import crmkit

HEAVY = ("numpy", "scipy", "phonenumbers", "cattrs", "hypothesis")


@pytest.mark.parametrize(
    "module",
    [
        "crmkit",
        "crmkit.entities",
        "crmkit.entities.privacy",
        "crmkit.repository",
        "crmkit.lifecycle",
    ],
)
def test_import_stays_light(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"{module} imported {out.stdout.strip()}"


def _import_times_us(module: str) -> tuple[int, int]:
    """``import module``'s total time and the part spent in crmkit's own modules (microseconds).

    As users import it: from byte-code caches (pip writes them at install; an environment with
    PYTHONDONTWRITEBYTECODE would time the compiler instead).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    total, own = None, 0
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) != 3 or not parts[0].isdigit():
            continue
        if parts[2].startswith("crmkit"):
            own += int(parts[0])
        if parts[2] == module:
            total = int(parts[1])
    assert total is not None, f"no import time line for {module}"
    return total, own


@pytest.mark.parametrize("module", ["crmkit", "crmkit.entities"])
def test_import_time_under_100_ms(module: str) -> None:
    # Best of seven runs after one that fills the caches: the figure is about the code, not a
    # busy machine. crmkit's own modules get 60 ms of the 100 (the rest is attrs and the
    # standard library, whose import time varies most with the machine's load); the whole
    # import stays under 100 ms on a quiet machine and under 150 ms on any.
    _import_times_us(module)
    runs = [_import_times_us(module) for _ in range(7)]
    total, own = min(r[0] for r in runs), min(r[1] for r in runs)
    assert own < 60_000, f"crmkit's own modules took {own / 1000:.1f} ms to import {module}"
    assert total < 150_000, f"import {module} took {total / 1000:.1f} ms"


def test_py_typed_ships() -> None:
    assert (Path(crmkit.__file__).parent / "py.typed").exists()


def test_version_is_pep440() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+|\.dev\d+)?", crmkit.__version__)


def _public_modules() -> list[str]:
    names = ["crmkit"]
    for info in pkgutil.walk_packages(crmkit.__path__, "crmkit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", _public_modules())
def test_all_lists_existing_names_once(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    if exported is None:
        pytest.skip(f"{module} has no __all__")
    for name in exported:
        assert hasattr(mod, name), f"{module}.__all__ names missing {name}"
    assert len(set(exported)) == len(exported), f"{module}.__all__ repeats a name"
    # (ruff's RUF022 keeps every __all__ sorted)


def test_entities_front_door_exports_every_public_class() -> None:
    import crmkit.entities as e

    public = {
        name
        for name, value in vars(e).items()
        if isinstance(value, type)
        and not name.startswith("_")
        and value.__module__.startswith("crmkit.")
    }
    assert public <= set(e.__all__)


def test_console_script_and_module_agree() -> None:
    a = subprocess.run(
        [sys.executable, "-m", "crmkit", "--version"], capture_output=True, text=True, check=True
    )
    assert a.stdout.strip() == f"crmkit {crmkit.__version__}"


def test_entities_type_check_with_the_conveniences_users_write(tmp_path: Path) -> None:
    mypy = pytest.importorskip("mypy.api")
    code = tmp_path / "user_code.py"
    code.write_text(
        "from crmkit.entities import Contact, Email\n"
        "c = Contact(first_name='Ada', email='ada@example.com', phone='+442079460958', tags={'vip'})\n"
        "e: Email | None = c.email\n"
        "bad = Contact(first_name=3)\n"
    )
    out, _, status = mypy.run(["--strict", "--no-incremental", str(code)])
    assert status == 1, out
    assert out.count("error:") == 1 and "first_name" in out, out
