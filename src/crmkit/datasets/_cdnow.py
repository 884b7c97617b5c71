"""The CDNOW and donations data of the customer-base literature, shipped with crmkit (see data/README.md)."""

from __future__ import annotations

from importlib import resources
from typing import Any

__all__ = ["load_cdnow", "load_cdnow_summary", "load_donations"]

SOURCE_CDNOW = (
    "CDNOW cohort (23,570 customers; the 1/10th sample 2,357; Jan 1997 - Jun 1998); Fader, Hardie & Lee (2005), "
    "Marketing Science 24(2); data via Bruce Hardie and the MIT-licensed lifetimes 0.11.3"
)
SOURCE_DONATIONS = (
    "donations (11,104 donors, 6 opportunities); Fader, Hardie & Shang (2010), "
    "Marketing Science 29(6); data via the MIT-licensed lifetimes 0.11.3"
)


def _path(name: str) -> Any:
    return resources.files("crmkit.datasets").joinpath("data").joinpath(name)


def load_cdnow(*, full: bool = False) -> dict[str, Any]:
    """The CDNOW transactions: ``customer_id``, ``date`` (datetime64[D]), ``cds``, ``amount`` (dollars).

    By default the 1/10th sample of the papers: 6,919 purchases of 2,357
    customers who first bought in the first quarter of 1997, to the end of
    June 1998. ``full=True`` gives the whole cohort: 69,659 purchases of
    23,570 customers (some worth $0, as in any real log). Source:
    ``SOURCE_CDNOW``.

    >>> tx = load_cdnow(full=True)
    >>> len(tx["amount"]), len(set(tx["customer_id"].tolist())), str(tx["date"][0])
    (69659, 23570, '1997-01-01')
    """
    given: Any = full  # the annotation is a promise, not a check
    if type(given) is not bool:
        from crmkit._text import describe
        from crmkit.errors import ValidationError

        raise ValidationError([("full", f"must be True or False, got {describe(full)}")])
    import gzip

    import numpy as np

    if full:
        with _path("CDNOW_master.txt.gz").open("rb") as raw_fh, gzip.open(raw_fh, "rt") as fh:
            rows = np.loadtxt(fh, skiprows=1)
        ids, ymd, cds, amount = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    else:
        with _path("CDNOW_sample.txt").open("r", encoding="ascii") as fh:
            rows = np.loadtxt(fh, usecols=(1, 2, 3, 4))
        ids, ymd, cds, amount = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    return {
        "customer_id": ids.astype(np.int64),
        "date": _dates(ymd.astype(np.int64)),
        "cds": cds.astype(np.int64),
        "amount": amount,
    }


def _dates(ymd: Any) -> Any:
    """YYYYMMDD integers as datetime64[D], without formatting each one as text."""

    months = (ymd // 10000 - 1970) * 12 + ymd // 100 % 100 - 1
    return months.astype("datetime64[M]").astype("datetime64[D]") + (ymd % 100 - 1)


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
