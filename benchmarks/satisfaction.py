"""Satisfaction benchmark: crmkit as users install it vs the same computation written in pandas.

    python benchmarks/satisfaction.py [--answers 10000000] [--groups 10000] [--respondents 1000000]

crmkit runs in ``benchmarks/.venv-crmkit`` (the README's install line),
pandas in ``benchmarks/.venv-pandas``, in a second process on the same
answers; runs alternate, best of N (see ``_harness.py``). Times ``nps``
over all answers, ``nps_by`` over the groups (adjusted Wald intervals
included) and ``servqual``'s dimension means, and checks that both give
the same numbers. crmkit also validates every answer and computes
intervals and reliabilities; the pandas versions do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w

PANDAS = h.Env("pandas", requirements=("pandas",), packages=("pandas", "numpy"))
ENVS = [h.crmkit_env(), PANDAS]
Z = 1.959963984540054
#: STANDARD_SERVQUAL's dimensions (tangibles 4, reliability 5, responsiveness 4, assurance 4, empathy 5)
DIMENSIONS = [0] * 4 + [1] * 5 + [2] * 4 + [3] * 4 + [4] * 5


# -- pandas' side -----------------------------------------------------------------------------


def pandas_nps(d: dict[str, Any]) -> Any:
    import pandas as pd

    scores = pd.Series(d["score"])
    return {"nps": float(100 * ((scores >= 9).mean() - (scores <= 6).mean()))}


def pandas_nps_by(d: dict[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"score": d["score"], "group": d["group"]})
    cat = pd.cut(frame["score"], [-1, 6, 8, 10], labels=["d", "o", "p"])
    counts = pd.crosstab(frame["group"], cat)
    det, pas, pro = counts["d"], counts["o"], counts["p"]
    n = det + pas + pro
    da, oa, pa = det + 0.75, pas + 1.5, pro + 0.75
    na = da + oa + pa
    ea = (pa - da) / na
    se_a = np.sqrt((pa / na + da / na - ea**2) / na)
    lower = 100 * np.maximum(ea - Z * se_a, -1)
    return {
        "score": (100 * (pro - det) / n).round(10).tolist()[:50],
        "lower": lower.round(10).tolist()[:50],
    }


def pandas_servqual(d: dict[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    gaps = pd.DataFrame(d["perceptions"], dtype=float) - pd.DataFrame(
        d["expectations"], dtype=float
    )
    # An array, not a list: pandas reads a list of small ints as column labels.
    by_dimension = gaps.T.groupby(np.asarray(DIMENSIONS), sort=False).mean().T  # respondent x dim
    return {"means": by_dimension.mean().round(10).tolist()}


# -- crmkit's side ----------------------------------------------------------------------------


def crmkit_nps(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import nps

    return {"nps": nps(d["score"]).score}


def crmkit_nps_by(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import nps_by

    g = nps_by(d["score"], d["group"])
    return {"score": g.score.round(10).tolist()[:50], "lower": g.lower.round(10).tolist()[:50]}


def crmkit_servqual(d: dict[str, Any]) -> Any:
    from crmkit.satisfaction import servqual

    r = servqual(d["expectations"], d["perceptions"])
    return {"means": r.dimension_mean.round(10).tolist()}


FUNCTIONS = {
    n: f for n, f in globals().items() if n.startswith(("pandas_", "crmkit_")) and callable(f)
}


def _same(results: dict[str, Any]) -> str:
    ours, theirs = results["crmkit"], results["pandas"]
    for k, v in ours.items():
        a, b = (
            (v if isinstance(v, list) else [v]),
            theirs[k] if isinstance(theirs[k], list) else [theirs[k]],
        )
        if any(abs(x - y) > 1e-9 for x, y in zip(a, b, strict=True)):
            return f"DIFFERENT {k}"
    return "same figures"


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    datasets = {
        "answers": lambda: w.answers(args.answers, args.groups),
        "servqual": lambda: w.servqual_answers(args.respondents),
    }

    def runs(what: str) -> dict[str, tuple[str, str]]:
        return {"crmkit": ("crmkit", f"crmkit_{what}"), "pandas": ("pandas", f"pandas_{what}")}

    cases = [
        h.Case(
            f"nps, {args.answers:,} answers", "answers", runs("nps"), repeat=args.repeat, note=_same
        ),
        h.Case(
            f"nps_by, {args.groups:,} groups",
            "answers",
            runs("nps_by"),
            repeat=args.repeat,
            note=_same,
        ),
        h.Case(
            f"servqual, {args.respondents:,} x 22",
            "servqual",
            runs("servqual"),
            repeat=max(2, args.repeat // 2),
            note=_same,
        ),
    ]
    return datasets, cases


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=10_000_000)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    h.main(ENVS, FUNCTIONS, plan, title="crmkit vs pandas", parser=parser)
