"""Satisfaction benchmark: crmkit vs a straightforward pandas implementation, in one process.

    python benchmarks/satisfaction.py [--answers 10000000] [--groups 10000]

Times ``nps`` over all answers and ``nps_by`` over the groups (adjusted Wald
intervals included) against the same computation written in pandas, checks
that both give the same numbers, and prints the figures. pandas is installed
in ``benchmarks/.venv`` on first run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_peers

ensure_peers("pandas")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crmkit.satisfaction import STANDARD_SERVQUAL, nps, nps_by, servqual  # noqa: E402

Z = 1.959963984540054


def pandas_nps(scores: pd.Series) -> float:
    promoters = (scores >= 9).mean()
    detractors = (scores <= 6).mean()
    return float(100 * (promoters - detractors))


def pandas_nps_by(frame: pd.DataFrame) -> pd.DataFrame:
    cat = pd.cut(frame["score"], [-1, 6, 8, 10], labels=["d", "o", "p"])
    counts = pd.crosstab(frame["group"], cat)
    d, o, p = counts["d"], counts["o"], counts["p"]
    n = d + o + p
    est = (p - d) / n
    da, oa, pa = d + 0.75, o + 1.5, p + 0.75
    na = da + oa + pa
    ea = (pa - da) / na
    se_a = np.sqrt((pa / na + da / na - ea**2) / na)
    return pd.DataFrame(
        {
            "score": 100 * est,
            "lower": 100 * np.maximum(ea - Z * se_a, -1),
            "upper": 100 * np.minimum(ea + Z * se_a, 1),
        }
    )


def pandas_servqual(e: pd.DataFrame, p: pd.DataFrame, labels: list[str]) -> pd.Series:
    gaps = p - e
    by_dimension = gaps.T.groupby(labels, sort=False).mean().T  # respondent x dimension
    return by_dimension.mean()


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--answers", type=int, default=10_000_000)
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--respondents", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(2003)
    scores = rng.integers(0, 11, args.answers)
    groups = rng.integers(0, args.groups, args.answers)
    series = pd.Series(scores)
    frame = pd.DataFrame({"score": scores, "group": groups})

    t_ours, ours = best(args.repeat, lambda: nps(scores))
    t_pd, theirs = best(args.repeat, lambda: pandas_nps(series))
    assert abs(ours.score - theirs) < 1e-9
    tb_ours, by_ours = best(args.repeat, lambda: nps_by(scores, groups))
    tb_pd, by_pd = best(args.repeat, lambda: pandas_nps_by(frame))
    assert np.allclose(by_ours.score, by_pd["score"].to_numpy())
    assert np.allclose(by_ours.lower, by_pd["lower"].to_numpy())

    e = rng.integers(1, 8, (args.respondents, 22)).astype(np.int8)
    p = rng.integers(1, 8, (args.respondents, 22)).astype(np.int8)
    labels = [name for name, idx in STANDARD_SERVQUAL.dimensions for _ in idx]
    ts_ours, sq = best(1, lambda: servqual(e, p))
    ts_pd, sq_pd = best(
        1,
        lambda: pandas_servqual(pd.DataFrame(e, dtype=float), pd.DataFrame(p, dtype=float), labels),
    )
    assert np.allclose(sq.dimension_mean, sq_pd.to_numpy())
    print(
        f"{args.answers:,} answers, {args.groups:,} groups; numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(
        f"  nps     crmkit {t_ours:7.3f} s   pandas {t_pd:7.3f} s   ratio {t_pd / t_ours:5.2f}x"
        f"   (target < 0.1 s: {'met' if t_ours < 0.1 else 'NOT met'})"
    )
    print(
        f"  nps_by  crmkit {tb_ours:7.3f} s   pandas {tb_pd:7.3f} s   ratio {tb_pd / tb_ours:5.2f}x"
        f"   (target < 1 s: {'met' if tb_ours < 1 else 'NOT met'})"
    )
    print(
        f"  servqual {args.respondents:,} x 22: crmkit {ts_ours:6.2f} s   pandas (dimension means only) "
        f"{ts_pd:6.2f} s   (target < 3 s: {'met' if ts_ours < 3 else 'NOT met'})"
    )
    print(
        "  (crmkit also validates every answer and computes intervals and reliabilities; pandas does not)"
    )


if __name__ == "__main__":
    main()
