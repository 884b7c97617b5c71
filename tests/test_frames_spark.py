"""The engine-side summary, compression and scores on a local Spark session (``local[2]``).

Runs where PySpark and a Java runtime are installed (``.ci/run`` installs the
``spark`` extra; the machine image has Java 17); elsewhere it skips and says why.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from crmkit.datasets import load_cdnow
from crmkit.value import BetaGeo, GammaGamma, compress, customer_lifetime_value, rfm_summary, score
from engine_data import CALENDAR_END, calendar_log

pytest.importorskip("narwhals")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - depends on the machine
    pytest.skip("no Java runtime: Spark cannot start", allow_module_level=True)

pytestmark = [
    # PySpark warns about its own support of pandas 3 and of Python's fork in threads.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

END = np.datetime64("1998-06-30")
CAL = np.datetime64("1997-09-30")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crmkit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_summary_fit_and_scores_equal_the_in_memory_ones(spark: Any) -> None:
    tx = load_cdnow()
    log = pd.DataFrame(
        {
            "customer_id": tx["customer_id"],
            "date": tx["date"].astype("datetime64[us]"),
            "amount": tx["amount"],
        }
    )
    frame = spark.createDataFrame(log)
    ref = rfm_summary(
        tx["customer_id"], tx["date"], tx["amount"], observation_end=END, calibration_end=CAL
    )
    summary = rfm_summary(frame, observation_end=END, calibration_end=CAL)
    assert type(summary).__name__ == "DataFrame" and type(summary).__module__.startswith("pyspark")
    got = summary.toPandas().sort_values("customer_id")
    np.testing.assert_array_equal(got["customer_id"].to_numpy(), ref.customer_id)
    np.testing.assert_array_equal(got["frequency"].to_numpy(), ref.frequency)
    np.testing.assert_array_equal(got["holdout_frequency"].to_numpy(), ref.holdout_frequency)
    for name in ("recency", "T", "monetary_value", "holdout_monetary_value"):
        np.testing.assert_allclose(
            got[name].to_numpy(), getattr(ref, name), rtol=1e-13, atol=1e-12, err_msg=name
        )
    patterns = compress(summary)
    full = BetaGeo().fit(ref)
    weighted = BetaGeo().fit(
        patterns.frequency, patterns.recency, patterns.T, weights=patterns.weights
    )
    for name, value in full.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-9), name
    spend = compress(summary, spend=True)
    gg = GammaGamma().fit(
        spend.frequency, spend.monetary_value, weights=spend.weights, nonpositive="exclude"
    )
    scored = (
        score(summary, weighted, gg, horizon=12, nonpositive="population")
        .toPandas()
        .sort_values("customer_id")
    )
    expected = customer_lifetime_value(weighted, gg, ref, horizon=12, nonpositive="population")
    np.testing.assert_allclose(scored["clv"].to_numpy(), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("collapse", ["D", "W", "M"])
def test_spark_calendar_arithmetic_across_centuries(spark: Any, collapse: str) -> None:
    ids, days = calendar_log()
    ref = rfm_summary(ids, days, observation_end=CALENDAR_END, time_unit="D", collapse=collapse)
    frame = spark.createDataFrame(
        pd.DataFrame({"customer": ids, "when": days.astype("datetime64[us]")})
    )
    out = rfm_summary(
        frame,
        observation_end=CALENDAR_END,
        time_unit="D",
        collapse=collapse,
        columns=("customer", "when"),
    )
    got = out.toPandas().sort_values("customer_id")
    for name in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(got[name].to_numpy(), getattr(ref, name), err_msg=name)
