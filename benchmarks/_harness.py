"""The benchmark harness: crmkit as users install it, each peer in its own environment and process.

The rules every benchmark under ``benchmarks/`` follows:

* crmkit is timed in ``benchmarks/.venv-crmkit``, made with the README's own
  install line (``pip install -e ".[test]"``: current releases of numpy and
  scipy with the OpenBLAS their wheels bring, default environment variables,
  BLAS threads as they come). Nothing else is installed there but
  ``threadpoolctl``, which only reports the thread pools and changes nothing.
* A peer runs in its own environment (``benchmarks/.venv-<name>``, with the
  peer's own pins: lifetimes needs numpy < 2) and its own process; crmkit is
  not installed there.
* Both processes read the same data, written once by the parent as ``.npz``
  or JSON (so numpy 1 and numpy 2 read the same arrays), and load it before
  the clock starts.
* Runs alternate between the processes (crmkit, peer, peer, crmkit, ...),
  so a noisy neighbour slows both; each side reports its best of N. A
  quarter of a second separates two runs, so that neither process's idle
  BLAS threads (which spin for a while before they sleep) take the cores
  of the other.
* The report prints both environments (Python, packages, BLAS libraries and
  their thread counts, the thread variables) and the ratios.

A benchmark script describes its environments and cases and calls
:func:`main`; run as ``python benchmarks/<name>.py`` with any Python 3.10+:
the script re-runs itself in the crmkit environment (creating it on first
use) and starts one worker process per environment (``--worker <env>``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def readme_install(extras: Sequence[str] = ()) -> str:
    """The README's install line, minus the venv creation (what every user of crmkit runs),
    with the extras of the engines a benchmark drives."""
    return f"{ROOT}[{','.join(('test', *extras))}]"


#: Seconds between two runs. OpenBLAS keeps its idle threads spinning for a while after the
#: last call before they sleep: without a pause the threads of the process that ran last take
#: the cores of the one that runs next, which slows millisecond fits by half.
PAUSE = 0.25

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Env:
    """One environment: a venv with ``requirements`` (crmkit's is the README install) and extra variables."""

    name: str
    requirements: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()  # distributions whose versions the report prints
    variables: Mapping[str, str] = field(default_factory=dict)
    crmkit: bool = False  # installed with the README's line (editable crmkit, [test] extra)
    venv: str = ""  # the venv folder's suffix when two envs share one venv (default: name)
    extras: tuple[str, ...] = ()  # crmkit's extras added to the README's line ([test,duckdb])

    @property
    def path(self) -> Path:
        return HERE / f".venv-{self.venv or self.name}"


def crmkit_env(name: str = "crmkit", variables: Mapping[str, str] | None = None) -> Env:
    return Env(
        name,
        packages=("crmkit", "numpy", "scipy", "attrs", "cattrs"),
        variables=dict(variables or {}),
        crmkit=True,
        venv="crmkit",
    )


@dataclass(frozen=True)
class Case:
    """A workload: ``runs`` maps a column label to ``(env name, function name)``.

    The first label is the baseline the ratios divide by (crmkit). Functions
    live in the benchmark script and take the loaded data and ``args``;
    ``note`` turns the results the functions returned into a remark
    (parameter agreement, say).
    """

    name: str
    data: str
    runs: Mapping[str, tuple[str, str]]
    args: Mapping[str, Any] = field(default_factory=dict)
    repeat: int = 5
    note: Callable[[Mapping[str, Any]], str] | None = None
    timeout: float | None = None  # seconds a run may take before its worker is stopped


# -- environments ----------------------------------------------------------------------------


def _python(env: Env) -> Path:
    return env.path / "bin" / "python"


def ensure_env(env: Env) -> Path:
    """Create (or refresh when its requirements changed) the venv of ``env``; return its python."""
    requirements = [readme_install(env.extras)] if env.crmkit else list(env.requirements)
    requirements.append("threadpoolctl")
    stamp = env.path / "crmkit-bench-requirements.txt"
    wanted = "\n".join(requirements)
    if env.crmkit:  # crmkit's own dependencies may change (a new extra in [test]): reinstall then
        import hashlib

        digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
        wanted += f"\n# pyproject.toml {digest}"
    python = _python(env)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"[harness] preparing {env.path.name}: {' '.join(requirements)}", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env.path)], check=True)
    install = ["-e", requirements[0], *requirements[1:]] if env.crmkit else requirements
    for args in (["--upgrade", "pip"], install):
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"could not install {' '.join(args)} in {env.path}")
    stamp.write_text(wanted)
    return python


def _in_env(env: Env) -> bool:
    return Path(sys.prefix).resolve() == env.path.resolve()


# -- the worker side ---------------------------------------------------------------------------


def _environment_report(packages: Sequence[str]) -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    pools: list[str] = []
    try:
        import numpy  # noqa: F401  (loads the BLAS library the report inspects)

        with contextlib.suppress(ImportError):  # scipy brings its own OpenBLAS
            import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lib = Path(pool["filepath"]).name
            pools.append(
                f"{pool.get('internal_api')} {pool.get('version')} ({lib}): {pool['num_threads']} threads"
            )
    except ImportError:
        pools.append("numpy or threadpoolctl not installed")
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "blas": pools,
        "variables": {v: os.environ.get(v, "unset") for v in THREAD_VARIABLES},
        "cpus": os.cpu_count(),
    }


def _load(path: str) -> Any:
    if path.endswith(".npz"):
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _serve(functions: Mapping[str, Callable[..., Any]], packages: Sequence[str]) -> None:
    """Answer the parent's requests on stdin/stdout, one JSON line each, until stdin closes."""
    out = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints must not break the protocol
    # The benchmark scripts' directory leads sys.path (python runs the script): a peer that
    # probes for an optional module of the same name as a script (pytensor and `coverage`)
    # must not find the script. The workloads are imported by now.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    cache: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["do"] == "report":
            answer: dict[str, Any] = _environment_report(packages)
        else:
            path = request["data"]
            if path not in cache:
                cache.clear()
                cache[path] = _load(path)
            fn = functions[request["fn"]]
            gc.collect()
            start = time.perf_counter()
            try:
                result = fn(cache[path], **request["args"])
            except Exception as exc:  # a peer that fails on the data is a result, not a crash
                message = " ".join(str(exc).split())  # one line, however the peer wrote it
                answer = {"seconds": None, "error": f"{type(exc).__name__}: {message}"[:160]}
            else:
                seconds = time.perf_counter() - start
                if isinstance(result, dict) and "_seconds" in result:
                    seconds = result.pop("_seconds")  # the function timed only part of its work
                answer = {"seconds": seconds, "result": result}
        out.write(json.dumps(answer, default=float) + "\n")
        out.flush()


# -- the parent side ---------------------------------------------------------------------------


class Worker:
    def __init__(self, env: Env, script: Path) -> None:
        self.env = env
        variables = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        variables.update(env.variables)
        self.proc = subprocess.Popen(
            [str(ensure_env(env)), str(script), "--worker", env.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=variables,
        )

    def ask(self, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        import select

        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        if timeout is not None and not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()
            self.proc.wait()
            return {"seconds": None, "error": f"stopped after {timeout:.0f} s", "stopped": True}
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.env.name} worker died (see its messages above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _save(data: Any, folder: Path, name: str) -> str:
    if isinstance(data, Mapping) and all(hasattr(v, "dtype") for v in data.values()):
        import numpy as np

        path = folder / f"{name}.npz"
        np.savez(path, **data)
    else:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(data))
    return str(path)


def _print_environments(reports: Mapping[str, dict[str, Any]], out: TextIO) -> None:
    for name, r in reports.items():
        packages = ", ".join(f"{k} {v}" for k, v in r["packages"].items())
        variables = ", ".join(f"{k}={v}" for k, v in r["variables"].items())
        print(f"[{name}] {r['python']}; {packages}", file=out)
        print(f"    {r['cpus']} CPUs; {variables}", file=out)
        for pool in r["blas"]:
            print(f"    BLAS {pool}", file=out)


def _format_seconds(s: float) -> str:
    return f"{s:.4f}" if s < 10 else f"{s:.1f}"


def run(
    script: Path,
    envs: Sequence[Env],
    datasets: Mapping[str, Callable[[], Any]],
    cases: Sequence[Case],
    *,
    title: str,
    out: TextIO = sys.stdout,
    json_path: str | None = None,
) -> list[dict[str, Any]]:
    """Time every case, alternating between the environments' workers; print and return the rows."""
    used = {env for case in cases for env, _ in case.runs.values()}
    workers = {e.name: Worker(e, script) for e in envs if e.name in used}
    rows: list[dict[str, Any]] = []
    try:
        reports = {name: w.ask({"do": "report"}) for name, w in workers.items()}
        print(title, file=out)
        _print_environments(reports, out)
        labels = list(dict.fromkeys(label for c in cases for label in c.runs))
        base = labels[0]
        header = f"{'case':<52}" + "".join(f"{label[:16]:>17}" for label in labels)
        print(f"\nbest of N seconds (ratio = seconds / {base}'s)\n{header}", file=out)
        with tempfile.TemporaryDirectory(prefix="crmkit-bench-") as tmp:
            saved: dict[str, str] = {}
            for case in cases:
                if case.data not in saved:
                    saved[case.data] = _save(datasets[case.data](), Path(tmp), case.data)
                best: dict[str, float] = {}
                results: dict[str, Any] = {}
                errors: dict[str, str] = {}
                order = list(case.runs)
                for rep in range(case.repeat):
                    for label in order if rep % 2 == 0 else reversed(order):
                        if label in errors:
                            continue
                        env_name, fn = case.runs[label]
                        time.sleep(PAUSE)
                        answer = workers[env_name].ask(
                            {
                                "do": "run",
                                "fn": fn,
                                "data": saved[case.data],
                                "args": dict(case.args),
                            },
                            case.timeout,
                        )
                        if "error" in answer:
                            errors[label] = answer["error"]
                            if answer.get("stopped"):  # a fresh worker for the cases to come
                                workers[env_name] = Worker(workers[env_name].env, script)
                            continue
                        best[label] = min(best.get(label, float("inf")), answer["seconds"])
                        results[label] = answer["result"]
                cells = []
                for label in labels:
                    if label in errors:
                        cells.append(f"{'failed':>17}")
                    elif label not in best:
                        cells.append(f"{'-':>17}")
                    elif label == base or base not in best:
                        cells.append(f"{_format_seconds(best[label]):>17}")
                    else:
                        ratio = best[label] / best[base]
                        cells.append(f"{_format_seconds(best[label]) + f' {ratio:5.1f}x':>17}")
                note = case.note(results) if case.note and len(results) == len(order) else ""
                note = "; ".join([note] * bool(note) + [f"{k}: {v}" for k, v in errors.items()])
                print(
                    f"{case.name[:52]:<52}" + "".join(cells) + (f"  {note}" if note else ""),
                    file=out,
                    flush=True,
                )
                rows.append(
                    {
                        "case": case.name,
                        "repeat": case.repeat,
                        "seconds": best,
                        "errors": errors,
                        "note": note,
                    }
                )
    finally:
        for w in workers.values():
            w.close()
    if json_path:
        Path(json_path).write_text(
            json.dumps({"title": title, "environments": reports, "rows": rows}, indent=2)
        )
    return rows


def main(
    envs: Sequence[Env],
    functions: Mapping[str, Callable[..., Any]],
    plan: Callable[[argparse.Namespace], tuple[Mapping[str, Callable[[], Any]], Sequence[Case]]],
    *,
    title: str,
    parser: argparse.ArgumentParser,
) -> None:
    """The entry point of a benchmark script: worker mode, or the parent in the crmkit env."""
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--only", metavar="TEXT", help="run only the cases whose name contains TEXT"
    )
    args = parser.parse_args()
    script = Path(sys.argv[0]).resolve()
    if args.worker:
        env = next(e for e in envs if e.name == args.worker)
        _serve(functions, env.packages)
        return
    home = next(e for e in envs if e.crmkit)
    if not _in_env(home):
        python = ensure_env(home)
        os.execv(str(python), [str(python), str(script), *sys.argv[1:]])
    datasets, cases = plan(args)
    if args.only:
        cases = [case for case in cases if args.only.lower() in case.name.lower()]
        if not cases:
            sys.exit(f"no case name contains {args.only!r}")
    run(script, envs, datasets, cases, title=title, json_path=args.json)


def single(packages: Sequence[str] = ()) -> None:
    """For a benchmark of crmkit alone: re-run in the crmkit environment and print it."""
    home = crmkit_env()
    if not _in_env(home):
        python = ensure_env(home)
        os.execv(str(python), [str(python), *sys.argv])
    _print_environments({home.name: _environment_report([*home.packages, *packages])}, sys.stdout)
