"""PLS path modeling benchmark: crmkit as users install it vs plspm 0.5.7 (the Python port of R plspm).

    python benchmarks/pls.py [--rows 100000] [--resamples 200] [--repeat 5] [--json figures.json]

plspm 0.5.7 runs with pandas 2.1-2.3, so it lives in
``benchmarks/.venv-plspm``, in a second process on the same data; crmkit in
``benchmarks/.venv-crmkit`` (the README's install line); runs alternate,
best of N (see ``_harness.py``). On the 250-row ECSI example: one fit, and a
bootstrap of ``--resamples`` resamples (plspm with its 2 processes); then
one fit on ``--rows`` synthetic rows of the same model. Prints the times,
the ratios and the largest difference between the two libraries' path
coefficients.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w

PLSPM = h.Env(
    "plspm",
    requirements=("plspm==0.5.7", "pandas>=2.1,<2.4"),
    packages=("plspm", "numpy", "scipy", "pandas"),
)
ENVS = [h.crmkit_env(), PLSPM]


# -- plspm's side -----------------------------------------------------------------------------


def _plspm(d: dict[str, Any], **options: Any) -> Any:
    import warnings

    import pandas as pd
    import plspm.config as c
    from plspm.mode import Mode
    from plspm.plspm import Plspm
    from plspm.scheme import Scheme

    warnings.filterwarnings("ignore")
    frame = pd.DataFrame({k: d[k] for k in w.ECSI_COLUMNS})
    structure = c.Structure()
    structure.add_path(["image"], ["expectations", "satisfaction", "loyalty"])
    structure.add_path(["expectations"], ["quality", "value", "satisfaction"])
    structure.add_path(["quality"], ["value", "satisfaction"])
    structure.add_path(["value"], ["satisfaction"])
    structure.add_path(["satisfaction"], ["loyalty"])
    config = c.Config(structure.path(), scaled=False)
    for lv, (prefix, _) in w.ECSI_BLOCKS.items():
        config.add_lv_with_columns_named(lv, Mode.A, frame, prefix)
    result = Plspm(frame, config, Scheme.PATH, **options)
    paths = result.path_coefficients()
    return {
        f"{a}->{b}": float(paths.loc[b, a])
        for a in paths.columns
        for b in paths.index
        if paths.loc[b, a] != 0
    }


def plspm_fit(d: dict[str, Any]) -> Any:
    return _plspm(d)


def plspm_bootstrap(d: dict[str, Any], resamples: int = 200) -> Any:
    _plspm(d, bootstrap=True, bootstrap_iterations=resamples, processes=2)
    return {"resamples": resamples}


FUNCTIONS = {
    "crmkit_fit": w.pls_fit,
    "crmkit_bootstrap": w.pls_bootstrap,
    "plspm_fit": plspm_fit,
    "plspm_bootstrap": plspm_bootstrap,
}


def _paths_agree(results: dict[str, Any]) -> str:
    ours, theirs = results["crmkit"], results["plspm"]
    diff = max(abs(v - theirs[k]) for k, v in ours.items())
    return f"largest path difference {diff:.1e}"


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    datasets = {"ecsi": w.ecsi, "rows": lambda: w.pls_rows(args.rows)}

    def runs(what: str) -> dict[str, tuple[str, str]]:
        return {"crmkit": ("crmkit", f"crmkit_{what}"), "plspm": ("plspm", f"plspm_{what}")}

    cases = [
        h.Case(
            "fit, ECSI 250 rows (path scheme)",
            "ecsi",
            runs("fit"),
            repeat=args.repeat,
            note=_paths_agree,
        ),
        h.Case(
            f"fit + {args.resamples} bootstrap resamples, ECSI 250",
            "ecsi",
            runs("bootstrap"),
            args={"resamples": args.resamples},
            repeat=max(2, args.repeat // 2),
        ),
        h.Case(
            f"fit, {args.rows:,} synthetic rows",
            "rows",
            runs("fit"),
            repeat=max(2, args.repeat // 2),
            note=_paths_agree,
        ),
    ]
    return datasets, cases


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    h.main(ENVS, FUNCTIONS, plan, title="crmkit vs plspm 0.5.7", parser=parser)
