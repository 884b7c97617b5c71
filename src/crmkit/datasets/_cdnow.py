"""The CDNOW and donations data of the customer-base literature, shipped with crmkit (see data/README.md)."""

from __future__ import annotations

from importlib import resources
from typing import Any

__all__ = ["load_cdnow", "load_cdnow_summary", "load_donations"]

SOURCE_CDNOW = (
    "CDNOW 1/10th sample (2,357 customers, Jan 1997 - Jun 1998); Fader, Hardie & Lee (2005), "
    "Marketing Science 24(2); data via Bruce Hardie and the MIT-licensed lifetimes 0.11.3"
)
SOURCE_DONATIONS = (
    "donations (11,104 donors, 6 opportunities); Fader, Hardie & Shang (2010), "
    "Marketing Science 29(6); data via the MIT-licensed lifetimes 0.11.3"
)


def _path(name: str) -> Any:
    return resources.files("crmkit.datasets").joinpath("data").joinpath(name)


def load_cdnow() -> dict[str, Any]:
    """The CDNOW transactions: ``customer_id``, ``date`` (datetime64[D]), ``cds``, ``amount`` (dollars).

    6,919 purchases of 2,357 customers who first bought in the first quarter
    of 1997, to the end of June 1998. Source: ``SOURCE_CDNOW``.
    """
    import numpy as np

    with _path("CDNOW_sample.txt").open("r", encoding="ascii") as fh:
        raw = np.loadtxt(fh, dtype=np.int64, usecols=(1, 2, 3))
    with _path("CDNOW_sample.txt").open("r", encoding="ascii") as fh:
        amount = np.loadtxt(fh, dtype=float, usecols=(4,))
    ymd = raw[:, 1]
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in ymd.tolist()],
        dtype="datetime64[D]",
    )
    return {"customer_id": raw[:, 0], "date": dates, "cds": raw[:, 2], "amount": amount}


def load_cdnow_summary() -> dict[str, Any]:
    """The papers' 39-week calibration summary: ``customer_id``, ``frequency``, ``recency``, ``T`` (weeks), ``monetary_value``."""
    import numpy as np

    with _path("cdnow_customers_summary_with_transactions.csv").open("r", encoding="ascii") as fh:
        data = np.loadtxt(fh, delimiter=",", skiprows=1)
    return {
        "customer_id": data[:, 0].astype(np.int64),
        "frequency": data[:, 1].astype(np.int64),
        "recency": data[:, 2],
        "T": data[:, 3],
        "monetary_value": data[:, 4],
    }


def load_donations() -> dict[str, Any]:
    """The BG/BB donations data, compressed: ``frequency``, ``recency``, ``n_periods``, ``weights``."""
    import numpy as np

    with _path("donations.csv").open("r", encoding="ascii") as fh:
        data = np.loadtxt(fh, delimiter=",", skiprows=1)
    return {
        "frequency": data[:, 0].astype(np.int64),
        "recency": data[:, 1],
        "n_periods": data[:, 2],
        "weights": data[:, 3],
    }
