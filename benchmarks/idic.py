"""Segmentation and IDIC speed on a million customers (no peer library offers IDIC scoring).

    python benchmarks/idic.py [--customers 1000000]

Times ``idic_scores``, ``rfm_scores`` and ``concentration`` on simulated
arrays and prints the figures (the issue's target: IDIC on 1,000,000
customers in under 2 s). It runs in ``benchmarks/.venv-crmkit`` (the
README's install line) and prints that environment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

_harness.single()

import numpy as np  # noqa: E402

from crmkit.value import concentration, idic_scores, rfm_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    n = parser.parse_args().customers
    rng = np.random.default_rng(0)
    arrays = {
        "completeness": rng.random(n),
        "reachable": rng.random(n) < 0.9,
        "consent": rng.random(n) < 0.7,
        "duplicate": rng.random(n) < 0.05,
        "value": rng.gamma(1.0, 100.0, n),
        "segment": rng.integers(0, 10, n),
        "days_since_interaction": rng.exponential(100.0, n),
        "interactions": rng.poisson(5, n),
        "inbound_share": rng.random(n),
        "channels": rng.integers(0, 4, n),
        "satisfaction": rng.random(n),
        "personalized_share": rng.random(n),
    }
    summary = {
        "frequency": rng.poisson(2, n),
        "recency": rng.uniform(0, 30, n),
        "T": np.full(n, 40.0),
        "monetary_value": rng.gamma(2.0, 20.0, n),
    }
    for label, fn in (
        ("idic_scores", lambda: idic_scores(**arrays)),
        ("rfm_scores", lambda: rfm_scores(summary)),
        ("concentration", lambda: concentration(arrays["value"])),
    ):
        fn()
        t0 = time.perf_counter()
        fn()
        print(f"{label:<14} {n:,} customers: {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
