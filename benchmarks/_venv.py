"""Run a benchmark inside its own virtual environment holding the peer libraries.

Peers (pydantic, msgspec, lifetimes ...) are never dependencies of crmkit:
each benchmark calls :func:`ensure_peers`, which re-runs the script in
``benchmarks/.venv`` (created on first use, with crmkit installed editable
and the peers from PyPI) unless they can already be imported.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def ensure_peers(*packages: str, modules: tuple[str, ...] = (), venv: str = "") -> None:
    """Re-exec the calling script in the benchmark venv unless ``packages`` import here.

    ``modules`` names what to import when it differs from the package names;
    ``venv`` picks a separate environment (``benchmarks/.venv-<venv>``) for
    peers whose pins clash with the others' (lifetimes needs numpy < 2).
    """
    modules = modules or tuple(p.split("==")[0].split(">=")[0].replace("-", "_") for p in packages)
    if all(importlib.util.find_spec(m) is not None for m in modules):
        return
    if os.environ.get("CRMKIT_BENCH_VENV") == "1":
        raise SystemExit(f"could not import {modules} even in the benchmark venv")
    where = VENV.with_name(f".venv-{venv}") if venv else VENV
    python = where / "bin" / "python"
    if not python.exists():
        print(f"creating {where} with crmkit and {', '.join(packages)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-e", str(HERE.parent), *packages], check=True
    )
    env = dict(os.environ, CRMKIT_BENCH_VENV="1")
    os.execve(str(python), [str(python), *sys.argv], env)
