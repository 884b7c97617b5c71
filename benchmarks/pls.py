"""PLS path modeling benchmark: crmkit vs plspm 0.5.7 (the Python port of R plspm), in one process.

    python benchmarks/pls.py [--rows 100000] [--resamples 200]

plspm 0.5.7 runs with pandas 2.1-2.3, so it lives in ``benchmarks/.venv-plspm``
(created on first run, with crmkit installed editable). On the 250-row ECSI
example: one fit, and a bootstrap of ``--resamples`` resamples; then one fit
on ``--rows`` synthetic rows of the same model. Prints the times, the
ratios and the largest difference between the two libraries' path
coefficients.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_peers

ensure_peers("plspm==0.5.7", "pandas>=2.1,<2.4", modules=("plspm", "pandas"), venv="plspm")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plspm.config as c  # noqa: E402
from plspm.mode import Mode  # noqa: E402
from plspm.plspm import Plspm  # noqa: E402
from plspm.scheme import Scheme  # noqa: E402

from crmkit.satisfaction.acsi import ecsi_model  # noqa: E402

warnings.filterwarnings("ignore")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "ecsi_satisfaction.csv"
BLOCKS = {
    "image": ("imag", 5),
    "expectations": ("expe", 5),
    "quality": ("qual", 5),
    "value": ("val", 4),
    "satisfaction": ("sat", 4),
    "loyalty": ("loy", 4),
}


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def plspm_config(frame: pd.DataFrame) -> c.Config:
    structure = c.Structure()
    structure.add_path(["image"], ["expectations", "satisfaction", "loyalty"])
    structure.add_path(["expectations"], ["quality", "value", "satisfaction"])
    structure.add_path(["quality"], ["value", "satisfaction"])
    structure.add_path(["value"], ["satisfaction"])
    structure.add_path(["satisfaction"], ["loyalty"])
    config = c.Config(structure.path(), scaled=False)
    for lv, (prefix, _) in BLOCKS.items():
        config.add_lv_with_columns_named(lv, Mode.A, frame, prefix)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import plspm

    frame = pd.read_csv(DATA, index_col=0).drop(columns="gender").astype(float)
    model = ecsi_model(
        **{lv: [f"{p}{i}" for i in range(1, k + 1)] for lv, (p, k) in BLOCKS.items()}
    )
    config = plspm_config(frame)
    print(f"crmkit vs plspm {getattr(plspm, '__version__', '0.5.7')} (pandas {pd.__version__})")
    print(f"{'':<44} {'crmkit s':>10} {'plspm s':>10} {'ratio':>8}")

    def row(label: str, ours: float, theirs: float, note: str = "") -> None:
        print(
            f"{label:<44} {ours:>10.4f} {theirs:>10.3f} {theirs / ours:>7.1f}x  {note}", flush=True
        )

    t_ours, ours = best(lambda: model.fit(frame, scheme="path", scaled=False), args.repeat)
    t_theirs, theirs = best(lambda: Plspm(frame, config, Scheme.PATH), args.repeat)
    paths = theirs.path_coefficients()
    diff = max(abs(v - paths.loc[b, a]) for (a, b), v in ours.paths.items())
    row("fit, ECSI 250 rows (path scheme)", t_ours, t_theirs, f"max path difference {diff:.1e}")
    t_ours, _ = best(
        lambda: model.fit(frame, scheme="path", scaled=False).bootstrap(args.resamples, seed=1), 1
    )
    t_theirs, _ = best(
        lambda: Plspm(
            frame,
            config,
            Scheme.PATH,
            bootstrap=True,
            bootstrap_iterations=args.resamples,
            processes=2,
        ),
        1,
    )
    row(f"fit + bootstrap of {args.resamples}, ECSI 250 rows", t_ours, t_theirs)
    rng = np.random.default_rng(0)
    # Synthetic rows: resample the ECSI respondents and add noise to every answer.
    idx = rng.integers(0, len(frame), args.rows)
    big = frame.to_numpy()[idx] + rng.normal(0, 0.5, size=(args.rows, frame.shape[1]))
    big_frame = pd.DataFrame(big, columns=frame.columns)
    t_ours, big_fit = best(lambda: model.fit(big_frame, scheme="path", scaled=False), 3)
    t_theirs, big_theirs = best(lambda: Plspm(big_frame, plspm_config(big_frame), Scheme.PATH), 1)
    paths = big_theirs.path_coefficients()
    diff = max(abs(v - paths.loc[b, a]) for (a, b), v in big_fit.paths.items())
    row(f"fit, {args.rows:,} synthetic rows", t_ours, t_theirs, f"max path difference {diff:.1e}")


if __name__ == "__main__":
    main()
