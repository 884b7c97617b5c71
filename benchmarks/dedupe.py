"""Duplicate detection at scale: synthetic people, standardised, blocked, compared, EM, clustered.

Times each step on the README's install (``benchmarks/.venv-crmkit``):
generating the records, ``standardise``, the fit's own steps (blocking, u
from random pairs, m by EM, comparing the candidates, scoring) and the
clusters; prints the candidate pairs, peak resident memory and precision,
recall and F1 against the known duplicates.

    python benchmarks/dedupe.py --records 1_000_000 --profile hard

The side-by-side runs against Splink and recordlinkage (on these data and
on FEBRL3/FEBRL4) are issue 19's next part.
"""

from __future__ import annotations

import argparse
import resource
import time

import _harness as h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--profile", choices=["easy", "hard"], default="hard")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    h.single(("rapidfuzz", "phonenumbers"))

    from crmkit.datasets import synthetic_people
    from crmkit.quality import contact_model, evaluate, standardise_contacts

    steps: dict[str, float] = {}
    t = time.perf_counter()
    people = synthetic_people(args.records, profile=args.profile, seed=args.seed)
    steps["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    clean = standardise_contacts(people.columns, default_region="GB").records
    steps["standardise"] = time.perf_counter() - t
    model = contact_model(clean.columns).fit(clean)
    steps.update(model.timings_)
    t = time.perf_counter()
    clusters = model.clusters(args.threshold)
    steps["cluster"] = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = evaluate(clusters.labels, people.entity, candidates=model.candidates_)
    work = sum(v for k, v in steps.items() if k != "generate")
    print(
        f"{args.records:,} records ({args.profile}, {people.n_entities:,} people): "
        f"{work:.1f} s to deduplicate (generating them took {steps['generate']:.1f} s); "
        f"{len(model.candidates_):,} candidate pairs; peak {peak:,.0f} MiB"
    )
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items() if k != "generate"))
    print(model.candidates_.report())
    print(result)


if __name__ == "__main__":
    main()
