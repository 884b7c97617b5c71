"""Customer value at scale: summary, compression, fits and scores in DuckDB, Polars and Spark.

Generates a seeded transaction log as Parquet (not committed), then runs the
whole path once per engine, each in its own process (so peak memory is the
engine's own): read the Parquet lazily, ``rfm_summary`` in the engine
(materialised once), ``compress`` (patterns to Python), fit BG/NBD and
Gamma-Gamma with weights, ``score`` every customer in the engine, write the
scores as Parquet. Prints the versions, the time of each step and the peak
resident memory.

    python benchmarks/scale.py --transactions 10_000_000 --customers 500_000
    python benchmarks/scale.py --transactions 100_000_000 --customers 5_000_000 --engines duckdb polars
    python benchmarks/scale.py --transactions 10_000_000 --customers 500_000 --engines spark

Run it in an environment with crmkit and the extras of the engines
(``pip install -e ".[duckdb,polars,spark]"``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

START = np.datetime64("2025-01-01")
DAYS = 365


def generate(path: Path, transactions: int, customers: int, seed: int = 2026) -> None:
    """Seeded transactions: customers with gamma-distributed rates, uniform days, lognormal spend."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.6, 1.0, customers)
    p = rate / rate.sum()
    chunk = 10_000_000
    writer = None
    done = 0
    while done < transactions:
        n = min(chunk, transactions - done)
        ids = rng.choice(customers, size=n, p=p).astype(np.int64)
        day = START + rng.integers(0, DAYS, n).astype("timedelta64[D]")
        amount = np.round(rng.lognormal(3.0, 0.6, n), 2)
        table = pa.table(
            {"customer_id": ids, "date": day.astype("datetime64[us]"), "amount": amount}
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    assert writer is not None
    writer.close()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_engine(engine: str, parquet: Path, out: Path) -> dict[str, float]:
    """The whole path in one engine; the seconds of each step."""
    from crmkit.value import BetaGeo, GammaGamma, compress, rfm_summary, score

    end = START + np.timedelta64(DAYS - 1, "D")
    steps: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = now - t
        t = now

    spark = None
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET memory_limit = '3GB'")  # DuckDB spills to disk beyond it
        log = con.read_parquet(str(parquet))
        rfm_summary(log, observation_end=end, time_unit="D").to_table("summary")
        summary = con.table("summary")
    elif engine == "polars":
        # Polars' streaming engine spills to disk beyond this budget (read when Polars loads)
        os.environ.setdefault("POLARS_OOC_MEMORY_BUDGET_MB", "3000")
        import polars as pl

        log = pl.scan_parquet(parquet)
        summary = (
            rfm_summary(log, observation_end=end, time_unit="D").collect(engine="streaming").lazy()
        )
    else:
        from pyspark.sql import SparkSession

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "6g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        lap("start Spark")
        log = spark.read.parquet(str(parquet))
        summary = rfm_summary(log, observation_end=end, time_unit="D").cache()
        summary.count()
    lap("summary")
    patterns = compress(summary)
    spend = compress(summary, spend=True)
    lap("compress")
    bg = BetaGeo().fit(patterns.frequency, patterns.recency, patterns.T, weights=patterns.weights)
    gg = GammaGamma().fit(spend.frequency, spend.monetary_value, weights=spend.weights)
    lap("fit")
    scored = score(summary, bg, gg, horizon=12, period=30.4)
    if engine == "duckdb":
        scored.write_parquet(str(out))
    elif engine == "polars":
        scored.sink_parquet(out)
    else:
        scored.write.mode("overwrite").parquet(str(out))
    lap("score and write")
    steps["patterns"] = float(len(patterns))
    steps["spend patterns"] = float(len(spend))
    steps["peak MiB"] = _peak_mib()
    if spark is not None:
        spark.stop()
    return steps


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("crmkit", "numpy", "scipy", "narwhals", "duckdb", "polars", "pyspark", "pyarrow"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "polars"])
    parser.add_argument("--data", help="directory for the Parquet files (default: a temporary one)")
    parser.add_argument(
        "--worker", nargs=3, metavar=("ENGINE", "PARQUET", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        engine, parquet, out = args.worker
        print(json.dumps(run_engine(engine, Path(parquet), Path(out))))
        return
    folder = Path(args.data or tempfile.mkdtemp(prefix="crmkit-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / f"tx-{args.transactions}-{args.customers}.parquet"
    print(json.dumps(_versions()))
    if not parquet.exists():
        t = time.perf_counter()
        generate(parquet, args.transactions, args.customers)
        print(
            f"generated {args.transactions:,} transactions of {args.customers:,} customers in {time.perf_counter() - t:.1f} s"
        )
    for engine in args.engines:
        out = folder / f"scores-{engine}.parquet"
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--worker", engine, str(parquet), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        total = time.perf_counter() - t
        if done.returncode != 0:
            print(f"{engine}: failed\n{done.stderr[-2000:]}")
            continue
        steps = json.loads(done.stdout.strip().splitlines()[-1])
        timed = ", ".join(
            f"{k} {v:.1f} s"
            for k, v in steps.items()
            if k not in ("patterns", "spend patterns", "peak MiB")
        )
        print(
            f"{engine}: {total:.1f} s end to end ({timed}); {int(steps['patterns']):,} patterns, "
            f"{int(steps['spend patterns']):,} spend patterns; peak {steps['peak MiB']:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
