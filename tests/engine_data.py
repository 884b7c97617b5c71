"""Logs shared by the engine tests (tests/test_frames.py, tests/test_frames_spark.py)."""

from __future__ import annotations

import numpy as np

CALENDAR_END = np.datetime64("2400-12-31", "D")


def calendar_log() -> tuple[np.ndarray, np.ndarray]:
    """Customer ids and days, two per customer, from 1600 to 2400.

    Random days plus the edges of calendar arithmetic: leap and non-leap
    centuries, the ends of February and the days around 1970-01-01
    (negative day numbers before it).
    """
    rng = np.random.default_rng(11)
    edges = np.array(
        ["1600-02-29", "1700-02-28", "1700-03-01", "1900-02-28", "1900-03-01", "1969-12-28",
         "1969-12-31", "1970-01-01", "1970-01-05", "2000-02-29", "2100-03-01", "2399-12-31"],
        dtype="datetime64[D]",
    )  # fmt: skip
    lo = np.datetime64("1600-01-01", "D")
    days = lo + rng.integers(0, (CALENDAR_END - lo).astype(np.int64) + 1, 2 * 1500)
    days = np.concatenate([days, edges, edges[::-1] + 1])
    return np.repeat(np.arange(days.size // 2), 2), days
