"""Every numeric workload with the BLAS threads as they come and with one thread.

    python benchmarks/threads.py [--customers 100000] [--repeat 5]

crmkit must be at least as fast with the default thread settings as with one
thread, without asking users to set an environment variable (issue 15).
Two workers run in the same environment (the README's install): one with
the thread variables unset, one with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS
and MKL_NUM_THREADS set to 1; runs alternate, best of N. The ratio column is
one thread's time over the default's: below 1 means the default is slower.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w

ONE = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ENVS = [h.crmkit_env("default"), h.crmkit_env("one-thread", ONE)]

# (case, data set, workload function, repeat)
PLAN = [
    ("BG/NBD fit, CDNOW master daily (23,570)", "cdnow_master", "bgnbd_fit", 5),
    ("Pareto/NBD fit, CDNOW master daily", "cdnow_master", "pareto_fit", 3),
    ("Gamma-Gamma fit, CDNOW master repeaters", "cdnow_master", "gamma_fit", 5),
    ("BG/NBD fit, simulated", "simulated", "bgnbd_fit", 3),
    ("BG/NBD fit + standard errors, simulated", "simulated", "bgnbd_fit_se", 3),
    ("BG/NBD predictions, simulated", "simulated", "bgnbd_predict", 5),
    ("Pareto/NBD predictions, simulated", "simulated", "pareto_predict", 3),
    ("Gamma-Gamma fit, simulated", "simulated", "gamma_fit", 5),
    ("CLV (BG/NBD + Gamma-Gamma, 12 months), simulated", "simulated", "clv", 3),
    ("BG/BB fit, donations", "donations", "bgbb_fit", 5),
    ("sBG fit, Fader & Hardie 2007", "donations", "sbg_fit", 5),
    ("rfm_summary, 1,000,000 transactions", "transactions", "rfm_summary", 3),
    ("rfm_scores + concentration, simulated", "simulated", "segments", 5),
    ("idic_scores, simulated", "idic", "idic", 5),
    ("nps + nps_by, 1,000,000 answers", "answers", "nps", 5),
    ("csat + cronbach_alpha (10 items), 100,000", "ratings", "scores", 5),
    ("servqual, 100,000 x 22", "servqual", "servqual", 3),
    ("kano, 100,000 x 10", "kano", "kano", 5),
    ("importance_performance + penalty_reward", "ratings", "ipa", 5),
    ("funnel + matrix + time in stage, 1,000,000", "transition_log", "lifecycle", 3),
    ("forecast_pipeline, 20,000 deals", "pipeline", "forecast", 3),
    ("PLS fit, ECSI model, 100,000 rows", "pls_rows", "pls_fit", 3),
    ("PLS fit + 200 bootstrap resamples, ECSI 250", "ecsi", "pls_bootstrap", 3),
]


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    datasets = w.datasets(customers=args.customers)
    cases = [
        h.Case(
            name,
            data,
            {"default": ("default", fn), "one thread": ("one-thread", fn)},
            repeat=min(repeat, args.repeat),
        )
        for name, data, fn, repeat in PLAN
    ]
    return datasets, cases


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    h.main(
        ENVS,
        w.FUNCTIONS,
        plan,
        title="crmkit with the default BLAS threads and with one thread",
        parser=parser,
    )
