"""Customer value at scale: summary, compression, fits and scores in DuckDB, Polars and Spark.

Generates a seeded transaction log as Parquet (not committed), then runs the
whole path once per engine, each in its own process (so peak memory is the
engine's own): read the Parquet lazily, ``rfm_summary`` in the engine
(materialised once), ``compress`` (patterns to Python), fit BG/NBD and
Gamma-Gamma with weights, ``score`` every customer in the engine, write the
scores as Parquet. Prints the versions, the time of each step and the peak
resident memory.

``accelerator`` runs the recipe of the Databricks CLV accelerator side by
side, in its own venv (lifetimes needs numpy < 2): pandas reads the log,
lifetimes' ``summary_data_from_transaction_data`` summarises it, the
distinct (frequency, recency, T) patterns are fitted by ``BetaGeoFitter``
*without* their counts, Gamma-Gamma on the repeat customers, CLV scored in
pandas. The same worker also fits the patterns with their counts, so the
report shows how far the recipe's estimates are from the right ones.

    python benchmarks/scale.py --transactions 10_000_000 --customers 500_000 --engines duckdb polars spark accelerator
    python benchmarks/scale.py --transactions 100_000_000 --customers 5_000_000 --engines duckdb polars

crmkit runs in ``benchmarks/.venv-crmkit-scale``, made with the README's
install line plus the engines' extras (``pip install -e ".[test,duckdb,polars,spark]"``);
the script re-runs itself there.
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
from functools import partial
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np

CRMKIT = h.Env(
    "crmkit-scale",
    packages=("crmkit", "numpy", "scipy", "narwhals", "duckdb", "polars", "pyspark", "pyarrow"),
    crmkit=True,
    extras=("duckdb", "polars", "spark"),
)
ACCELERATOR = h.Env(
    "accelerator",
    requirements=("lifetimes==0.11.3", "numpy<2", "pandas<2.2", "scipy<1.13", "pyarrow<17"),
    packages=("lifetimes", "numpy", "scipy", "pandas", "pyarrow"),
)
START = np.datetime64("2025-01-01")
DAYS = 365


def generate(path: Path, transactions: int, customers: int, seed: int = 2026) -> None:
    """Seeded transactions of customers who arrive, buy and drop out.

    Each customer arrives on a uniform day of the year, buys at a
    gamma-distributed rate while active and drops out after an exponential
    lifetime whose mean varies across customers (the Pareto/NBD story); a
    transaction's customer is drawn in proportion to rate x active days, its
    day uniform in the customer's active days, its value lognormal around the
    customer's own typical spend.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.6, 1.0, customers)
    birth = rng.uniform(0, DAYS, customers)
    life = rng.exponential(rng.gamma(1.0, 200.0, customers))
    span = np.minimum(birth + life, DAYS) - birth
    p = rate * span / np.sum(rate * span)
    typical = rng.lognormal(3.0, 0.5, customers)
    chunk = 10_000_000
    writer = None
    done = 0
    while done < transactions:
        n = min(chunk, transactions - done)
        ids = rng.choice(customers, size=n, p=p)
        offset = np.floor(birth[ids] + rng.random(n) * span[ids]).astype(np.int64)
        day = START + offset.astype("timedelta64[D]")
        amount = np.maximum(np.round(typical[ids] * rng.lognormal(0.0, 0.5, n), 2), 0.01)
        table = pa.table(
            {
                "customer_id": ids.astype(np.int64),
                "date": day.astype("datetime64[us]"),
                "amount": amount,
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    assert writer is not None
    writer.close()


def _stopwatch(steps: dict[str, Any]) -> Any:
    """``lap(name)`` records the seconds since the previous lap (or since the stopwatch began)."""
    last = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        steps[name] = now - last[0]
        last[0] = now

    return lap


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _children_peak_mib() -> float:
    """The largest peak resident memory of this process's children (Spark's JVM), from /proc."""
    peak = 0.0
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if stat.read_text().rsplit(")", 1)[1].split()[1] != me:
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def run_engine(engine: str, parquet: Path, out: Path) -> dict[str, Any]:
    """The whole path in one engine; the seconds of each step."""
    from crmkit.value import BetaGeo, GammaGamma, compress, rfm_summary, score

    end = START + np.timedelta64(DAYS - 1, "D")
    steps: dict[str, Any] = {}
    lap = _stopwatch(steps)

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
            # Spark's default of 200 shuffle partitions is sized for clusters: on two local
            # cores each tiny task costs more than its work (a group-by of 5 x 10^5 rows took
            # 12 s instead of 0.7 s).
            .config("spark.sql.shuffle.partitions", "8")
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
    if spark is not None:
        jvm = _children_peak_mib()
        spark.stop()
    return {
        "steps": steps,
        "patterns": len(patterns),
        "spend patterns": len(spend),
        "peak MiB": _peak_mib(),
        "JVM peak MiB": jvm if spark is not None else None,
        "bgnbd": bg.params_,
        "gamma-gamma": gg.params_,
        "customers": float(patterns.weights.sum()),
    }


def run_accelerator(parquet: Path, out: Path) -> dict[str, Any]:
    """The accelerator's recipe in pandas and lifetimes (its own venv: no crmkit here)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    end = START + np.timedelta64(DAYS - 1, "D")
    steps: dict[str, Any] = {}
    lap = _stopwatch(steps)

    log = pd.read_parquet(parquet)
    summary = summary_data_from_transaction_data(
        log, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=str(end), freq="D",
    )  # fmt: skip
    del log
    lap("summary")
    patterns = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="count")
    lap("compress")
    # The recipe: the distinct patterns fitted as if each were one customer.
    bgf = BetaGeoFitter().fit(patterns["frequency"], patterns["recency"], patterns["T"])
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    lap("fit")
    clv = ggf.customer_lifetime_value(
        bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
        time=12, freq="D", discount_rate=0.01,
    )  # fmt: skip
    summary.assign(clv=clv).to_parquet(out)
    lap("score and write")
    peak = _peak_mib()
    # Not part of the recipe's time: the same patterns with their counts, the right fit.
    weighted = BetaGeoFitter().fit(
        patterns["frequency"], patterns["recency"], patterns["T"], weights=patterns["count"]
    )
    horizon = 365.0
    x, tx, T = summary["frequency"], summary["recency"], summary["T"]
    return {
        "steps": steps,
        "patterns": len(patterns),
        "spend patterns": len(repeat),
        "peak MiB": peak,
        "JVM peak MiB": None,
        "bgnbd": dict(bgf.params_),
        "bgnbd weighted": dict(weighted.params_),
        "gamma-gamma": dict(ggf.params_),
        "customers": float(len(summary)),
        "versions": _versions(ACCELERATOR.packages),
        "purchases next year": float(
            bgf.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, T).sum()
        ),
        "purchases next year, weighted": float(
            weighted.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, T).sum()
        ),
    }


def _report(engine: str, seconds: float, r: dict[str, Any]) -> str:
    timed = ", ".join(f"{k} {v:.1f} s" for k, v in r["steps"].items())
    memory = f"peak {r['peak MiB']:,.0f} MiB"
    if r["JVM peak MiB"] is not None:
        memory += f" (Python), {r['JVM peak MiB']:,.0f} MiB (JVM)"
    return (
        f"{engine}: {seconds:.1f} s end to end ({timed}); {r['patterns']:,} patterns, "
        f"{r['spend patterns']:,} spend rows; {memory}"
    )


def _compare(crmkit: dict[str, Any], recipe: dict[str, Any]) -> str:
    """How far the recipe's unweighted BG/NBD estimates are from the weighted (exact) ones."""
    names = ("r", "alpha", "a", "b")
    ours = crmkit["bgnbd"]
    lines = [
        "BG/NBD on the same log (crmkit: weighted patterns, equal to the fit on every customer):"
    ]
    for label, params in (
        ("crmkit, weighted", ours),
        ("lifetimes, weighted", recipe["bgnbd weighted"]),
        ("accelerator recipe", recipe["bgnbd"]),
    ):
        cells = ", ".join(f"{n} = {params[n]:.4g}" for n in names)
        off = ", ".join(f"{params[n] / ours[n] - 1:+.0%}" for n in names)
        lines.append(f"  {label:<20} {cells}  ({off} from crmkit)")
    wrong, right = recipe["purchases next year"], recipe["purchases next year, weighted"]
    lines.append(
        f"  expected purchases of all {recipe['customers']:,.0f} customers in the next 365 days: "
        f"{right:,.0f} weighted, {wrong:,.0f} by the recipe ({wrong / right - 1:+.0%})"
    )
    return "\n".join(lines)


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(md.PackageNotFoundError):
            out[name] = md.version(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument(
        "--engines", nargs="+", default=["duckdb", "polars"],
        choices=["duckdb", "polars", "spark", "accelerator"],
    )  # fmt: skip
    parser.add_argument("--data", help="directory for the Parquet files (default: a temporary one)")
    parser.add_argument(
        "--worker", nargs=3, metavar=("ENGINE", "PARQUET", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        engine, parquet, out = args.worker
        run = run_accelerator if engine == "accelerator" else partial(run_engine, engine)
        print(json.dumps(run(Path(parquet), Path(out))))
        return
    if not h._in_env(CRMKIT):
        python = h.ensure_env(CRMKIT)
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])
    folder = Path(args.data or tempfile.mkdtemp(prefix="crmkit-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / f"log-{args.transactions}-{args.customers}.parquet"
    print(f"[{CRMKIT.name}] {json.dumps(_versions(CRMKIT.packages))}")
    if not parquet.exists():
        t = time.perf_counter()
        generate(parquet, args.transactions, args.customers)
        print(
            f"generated {args.transactions:,} transactions of {args.customers:,} customers "
            f"in {time.perf_counter() - t:.1f} s"
        )
    results: dict[str, dict[str, Any]] = {}
    for engine in args.engines:
        env = ACCELERATOR if engine == "accelerator" else CRMKIT
        python = h.ensure_env(env)
        out = folder / f"scores-{engine}.parquet"
        t = time.perf_counter()
        done = subprocess.run(
            [str(python), __file__, "--worker", engine, str(parquet), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        total = time.perf_counter() - t
        if done.returncode != 0:
            print(f"{engine}: failed\n{done.stderr[-2000:]}")
            continue
        results[engine] = json.loads(done.stdout.strip().splitlines()[-1])
        if engine == "accelerator":
            print(f"[{ACCELERATOR.name}] {json.dumps(results[engine]['versions'])}")
        print(_report(engine, total, results[engine]), flush=True)
    ours = next((results[e] for e in ("duckdb", "polars", "spark") if e in results), None)
    if ours is not None and "accelerator" in results:
        print(_compare(ours, results["accelerator"]))


if __name__ == "__main__":
    main()
