"""From transaction logs to the per-customer summaries the value models are fitted on.

The recency-frequency summary of the "buy till you die" literature (Fader,
Hardie & Lee 2005): per customer, the number of *repeat* purchases
(``frequency``, x), the time of the last purchase measured from the first
(``recency``, t_x), the time from the first purchase to the end of the
observation (``T``) and the mean value of the repeat purchases
(``monetary_value``). Several purchases in one ``collapse`` period (a day by
default) count as one purchase whose value is their sum, as in the papers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit._table import HEAD, more, table
from crmkit._text import shown
from crmkit.errors import InsufficientData, ValidationError

__all__ = ["CompressedSummary", "RfmSummary", "compress", "rfm_summary", "rfm_summary_from_orders"]

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Length of each time unit in days.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}
_COLLAPSE = ("D", "W", "M")


@attrs.frozen(eq=False)
class RfmSummary:
    """One row per customer: ``frequency`` (repeat purchases), ``recency``, ``T``, ``monetary_value``.

    ``recency`` and ``T`` are in ``time_unit`` (days, weeks, months of
    365.25 / 12 days, or years). With a calibration end, ``holdout_frequency``
    and ``holdout_monetary_value`` count the purchases after it and
    ``holdout_duration`` is the length of the holdout period.
    ``monetary_value`` is 0 for customers without a repeat purchase.
    """

    customer_id: npt.NDArray[Any]
    frequency: IntArray
    recency: Array
    T: Array
    monetary_value: Array
    time_unit: str
    holdout_frequency: IntArray | None = None
    holdout_monetary_value: Array | None = None
    holdout_duration: float | None = None

    def __len__(self) -> int:
        return int(self.frequency.shape[0])

    @property
    def weights(self) -> None:
        """Every row is one customer (see :func:`compress` for weighted rows)."""
        return None

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The columns as a dict of arrays (``pandas.DataFrame(summary.columns())`` makes a frame)."""
        out: dict[str, npt.NDArray[Any]] = {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary_value": self.monetary_value,
        }
        if self.holdout_frequency is not None and self.holdout_monetary_value is not None:
            out["holdout_frequency"] = self.holdout_frequency
            out["holdout_monetary_value"] = self.holdout_monetary_value
        return out

    def to_dict(self) -> dict[str, Any]:
        cols = {
            k: (v.astype(str) if k == "customer_id" and v.dtype.kind == "O" else v).tolist()
            for k, v in self.columns().items()
        }
        return {"time_unit": self.time_unit, "holdout_duration": self.holdout_duration, **cols}

    def __str__(self) -> str:
        n = len(self)
        repeat = int((self.frequency > 0).sum())
        head = [
            (
                str(self.customer_id[i]),
                int(self.frequency[i]),
                float(self.recency[i]),
                float(self.T[i]),
                float(self.monetary_value[i]),
            )
            for i in range(min(n, HEAD))
        ]
        holdout = (
            ""
            if self.holdout_duration is None
            else f"; holdout of {self.holdout_duration:g} {self.time_unit}"
        )
        return table(
            ("customer", "frequency", "recency", "T", "monetary_value"),
            head,
            formats=("", ",", ".2f", ".2f", ",.2f"),
            title=f"RFM summary of {n:,} customers ({repeat:,} with repeat purchases; "
            f"time unit {self.time_unit}{holdout})",
            notes=more(n),
        )


@attrs.frozen(eq=False)
class CompressedSummary:
    """The distinct ``(frequency, recency, T)`` rows of a summary with the number of customers on each.

    Every model's ``fit`` accepts it: the likelihood of the compressed rows
    with their weights equals the likelihood of all customers.
    """

    frequency: IntArray
    recency: Array
    T: Array
    weights: Array
    inverse: IntArray | None = None
    #: With ``compress(..., spend=True)``: each row's mean spend (recency and T are then zero).
    monetary_value: Array | None = None
    #: With ``compress(..., covariates=...)``: each row's covariate values, by name.
    covariates: dict[str, npt.NDArray[Any]] | None = None

    def __len__(self) -> int:
        return int(self.frequency.shape[0])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "frequency": self.frequency.tolist(),
            "recency": self.recency.tolist(),
            "T": self.T.tolist(),
            "weights": self.weights.tolist(),
        }
        if self.monetary_value is not None:
            out["monetary_value"] = self.monetary_value.tolist()
        if self.covariates is not None:
            out["covariates"] = {k: v.tolist() for k, v in self.covariates.items()}
        return out

    def __str__(self) -> str:
        n = len(self)
        extra = "".join(f", {k}" for k in self.covariates or {})
        head = [
            (
                int(self.frequency[i]),
                float(self.recency[i]),
                float(self.T[i]),
                float(self.weights[i]),
            )
            for i in range(min(n, HEAD))
        ]
        return table(
            ("frequency", "recency", "T", "customers"),
            head,
            formats=(",", ".2f", ".2f", ",.0f"),
            title=f"{n:,} distinct (frequency, recency, T{extra}) rows for {self.weights.sum():,.0f} customers",
            notes=more(n),
        )

    def expand(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per-row results (e.g. predictions on the compressed rows) back to one per customer."""
        if self.inverse is None:
            raise ValidationError([("inverse", "this summary does not know its customers' rows")])
        return values[self.inverse]


def _days(values: Any, name: str) -> npt.NDArray[np.float64]:
    """Timestamps (datetime64, datetimes, dates, pandas/polars columns) as float days since the epoch."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ValidationError([(name, "must be a one-dimensional array of dates")]) from None
    if arr.ndim != 1:
        raise ValidationError([(name, f"must be one-dimensional, got shape {arr.shape}")])
    if arr.dtype.kind == "O":
        bad = [i for i, v in enumerate(arr[:100_000]) if not isinstance(v, (datetime, date))]
        if bad:
            raise ValidationError(
                [(f"{name}[{bad[0]}]", f"must be a date or datetime, got {shown(arr[bad[0]])}")]
            )
        try:
            arr = np.array(
                [
                    v.astimezone(timezone.utc).replace(tzinfo=None)
                    if isinstance(v, datetime) and v.tzinfo is not None
                    else v
                    for v in arr
                ],
                dtype="datetime64[us]",
            )
        except OverflowError:  # year 1 east of UTC
            raise ValidationError([(name, "holds a datetime before year 1 in UTC")]) from None
    if arr.dtype.kind == "U":
        try:
            arr = arr.astype("datetime64[us]")
        except ValueError as exc:
            raise ValidationError([(name, f"must hold ISO dates or datetimes: {exc}")]) from None
    if arr.dtype.kind != "M":
        raise ValidationError(
            [(name, f"must hold dates or datetimes, got values of type {arr.dtype}")]
        )
    nat = np.isnat(arr)
    if nat.any():
        raise ValidationError(
            [(f"{name}[{int(np.flatnonzero(nat)[0])}]", "is missing (NaT): drop it first")]
        )
    us = arr.astype("datetime64[us]").astype(np.int64)
    return us / 86_400e6


def _instant(value: Any, name: str) -> float:
    if value is None:
        raise ValidationError([(name, "is required")])
    try:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        if not isinstance(value, (datetime, date, str, np.datetime64)):
            raise TypeError(type(value).__name__)
        return float(_days(np.array([value], dtype="datetime64[us]"), name)[0])
    except (TypeError, ValueError, OverflowError):
        raise ValidationError([(name, f"must be a date or datetime, got {shown(value)}")]) from None


def _period(days: npt.NDArray[np.float64], collapse: str) -> npt.NDArray[np.float64]:
    """The start (in days since the epoch) of the collapse period holding each instant."""
    day = np.floor(days)
    if collapse == "D":
        return day
    if collapse == "W":  # ISO weeks start on Monday; 1970-01-01 was a Thursday
        return day - (day + 3) % 7
    months = (day.astype("timedelta64[D]") + np.datetime64("1970-01-01")).astype("datetime64[M]")
    return (months.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.float64)


def _unit(time_unit: str) -> float:
    if type(time_unit) is not str or time_unit not in TIME_UNITS:
        raise ValidationError(
            [("time_unit", f"must be one of {', '.join(TIME_UNITS)}, got {shown(time_unit)}")]
        )
    return TIME_UNITS[time_unit]


def purchases(
    customer_ids: Any, timestamps: Any, amounts: Any, end: float, collapse: str
) -> tuple[npt.NDArray[Any], IntArray, Array, Array]:
    """The distinct purchases: one per customer and collapse period up to the day of ``end``.

    Returns the sorted customer labels and, per purchase sorted by customer
    then time, the customer's code, the period start (days since the epoch)
    and the summed amount. One sort of the transactions.
    """
    from crmkit._validation import as_array, as_finite, factorize

    ids = as_array(customer_ids, "customer_ids")
    n = ids.shape[0]
    if n == 0:
        raise InsufficientData("no transactions to summarize")
    missing = np.array([v is None for v in ids]) if ids.dtype.kind == "O" else None
    if missing is not None and missing.any():
        raise ValidationError(
            [(f"customer_ids[{int(np.flatnonzero(missing)[0])}]", "is missing (None)")]
        )
    days = _days(timestamps, "timestamps")
    if days.shape[0] != n:
        raise ValidationError(
            [("timestamps", f"must have one value per transaction ({n}), got {days.shape[0]}")]
        )
    value = np.zeros(n) if amounts is None else as_finite(amounts, "amounts", n)
    keep = np.floor(days) <= np.floor(end)  # the whole day of observation_end counts
    if not keep.all():
        ids, days, value = ids[keep], days[keep], value[keep]
    if ids.shape[0] == 0:
        raise InsufficientData("no transaction on or before observation_end")
    labels, code = factorize(ids)
    period = _period(days, collapse).astype(np.int64)  # whole days since the epoch
    # One sort by (customer, period) on a single integer key: distinct purchases are runs.
    low = int(period.min())
    span = int(period.max()) - low + 1
    key = code * span + (period - low)
    order = np.argsort(key)
    key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    first = key[starts]
    p_code, p_time = np.divmod(first, span)
    return labels, p_code, (p_time + low).astype(np.float64), np.add.reduceat(value[order], starts)


def rfm_summary(
    customer_ids: Any,
    timestamps: Any = None,
    amounts: Any = None,
    *,
    observation_end: Any,
    time_unit: str = "W",
    calibration_end: Any = None,
    collapse: str = "D",
    columns: Sequence[str] = ("customer_id", "date", "amount"),
) -> Any:
    """Per-customer frequency, recency, T and monetary value from a transaction log.

    ``customer_ids``, ``timestamps`` and ``amounts`` are columns of equal
    length (lists, numpy arrays, pandas or polars columns); transactions after
    the day of ``observation_end`` are ignored (timezone-aware datetimes are
    taken in UTC). Purchases in one ``collapse`` period
    ("D" calendar day, "W" ISO week, "M" calendar month) count as one whose
    value is their sum. ``recency`` and ``T`` are measured in ``time_unit``
    between the starts of the collapse periods (with ``collapse="D"``,
    between calendar days). With ``calibration_end`` the summary covers the
    customers who bought by then, up to then, and the holdout columns count
    their purchases after it. Vectorised: one sort of the transactions.

    **Data frames.** Pass a pandas, Polars (eager or lazy), DuckDB or
    PySpark frame as ``customer_ids`` and the names of its customer,
    timestamp (date or datetime) and amount columns as ``columns`` (default
    ``("customer_id", "date", "amount")``; two names for no amounts): the
    summary is computed by that engine (lazily where it is lazy) and
    returned as a frame of the same kind, with the columns ``customer_id``,
    ``frequency``, ``recency``, ``T``, ``monetary_value`` (and
    ``holdout_frequency``, ``holdout_monetary_value``): an eager frame sorted
    by customer, a lazy one in no promised order (as SQL; a global sort of
    10^8 customers is a full shuffle no later step needs). It equals the
    in-memory summary row for row. Needs narwhals
    (the ``pandas``, ``polars``, ``duckdb`` or ``spark`` extra).

    >>> from datetime import date
    >>> s = rfm_summary(["a", "a", "a", "b"],
    ...                 [date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 8), date(2026, 1, 5)],
    ...                 [10.0, 20.0, 5.0, 7.0], observation_end=date(2026, 1, 29))
    >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()
    ([1, 0], [1.0, 0.0], [4.0, 3.4285714285714284], [25.0, 0.0])
    """
    unit = _unit(time_unit)
    if type(collapse) is not str or collapse not in _COLLAPSE:
        raise ValidationError(
            [("collapse", f"must be one of {', '.join(_COLLAPSE)}, got {shown(collapse)}")]
        )
    end = _instant(observation_end, "observation_end")
    cal = None if calibration_end is None else _instant(calibration_end, "calibration_end")
    if cal is not None and cal >= end:
        raise ValidationError([("calibration_end", "must be before observation_end")])
    from crmkit.value._frames import is_frame, summary_frame

    if is_frame(customer_ids):
        if timestamps is not None or amounts is not None:
            raise ValidationError(
                [
                    (
                        "timestamps",
                        "with a data frame, name its columns with columns=(customer, date, amount)",
                    )
                ]
            )
        from crmkit._args import texts

        names = texts(columns, "columns")
        if len(names) not in (2, 3):
            raise ValidationError(
                [
                    (
                        "columns",
                        f"must name the customer, date and (optional) amount columns, got {len(names)}",
                    )
                ]
            )
        return summary_frame(
            customer_ids,
            names[0],
            names[1],
            names[2] if len(names) > 2 else None,
            end_day=int(np.floor(end)),
            cut_day=int(_period(np.array([end if cal is None else cal]), collapse)[0]),
            calibrated=cal is not None,
            unit_days=unit,
            collapse=collapse,
            time_unit=time_unit,
        )
    if timestamps is None:
        raise ValidationError([("timestamps", "is required (one per transaction)")])
    labels, p_code, p_time, p_value = purchases(customer_ids, timestamps, amounts, end, collapse)
    k = labels.shape[0]
    first_row = np.flatnonzero(np.concatenate(([True], p_code[1:] != p_code[:-1])))
    first = p_time[first_row]
    cut = _period(np.array([end if cal is None else cal]), collapse)[0]
    in_cal = p_time <= cut
    if cal is not None:
        customers = first <= cut
        if not customers.any():
            raise InsufficientData("no customer bought on or before calibration_end")
    n_cal = np.bincount(p_code[in_cal], minlength=k)
    last_cal = np.full(k, -np.inf)
    np.maximum.at(last_cal, p_code[in_cal], p_time[in_cal])
    total_cal = np.bincount(p_code[in_cal], weights=p_value[in_cal], minlength=k)
    frequency = (n_cal - 1).clip(min=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(
            frequency > 0, (total_cal - p_value[first_row]) / np.maximum(frequency, 1), 0.0
        )
    recency = np.where(n_cal > 0, last_cal - first, 0.0) / unit
    T = (cut - first) / unit
    hold_f = hold_m = None
    duration = None
    if cal is not None:
        out = ~in_cal
        hold_f_all = np.bincount(p_code[out], minlength=k)
        hold_total = np.bincount(p_code[out], weights=p_value[out], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            hold_m_all = np.where(hold_f_all > 0, hold_total / np.maximum(hold_f_all, 1), 0.0)
        sel = np.flatnonzero(customers)
        labels, frequency, recency, T, monetary = (
            labels[sel],
            frequency[sel],
            recency[sel],
            T[sel],
            monetary[sel],
        )
        hold_f, hold_m = hold_f_all[sel].astype(np.int64), hold_m_all[sel]
        duration = float((_period(np.array([end]), collapse)[0] - cut) / unit)
    return RfmSummary(
        customer_id=labels,
        frequency=frequency.astype(np.int64),
        recency=recency,
        T=T,
        monetary_value=monetary,
        time_unit=time_unit,
        holdout_frequency=hold_f,
        holdout_monetary_value=hold_m,
        holdout_duration=duration,
    )


def rfm_summary_from_orders(
    orders: Iterable[Any],
    *,
    observation_end: Any,
    time_unit: str = "W",
    calibration_end: Any = None,
    collapse: str = "D",
    exclude_status: Iterable[str] = ("cancelled", "canceled", "refunded"),
    currency: str | None = None,
) -> RfmSummary:
    """:func:`rfm_summary` of :class:`~crmkit.entities.Order` entities (the buyer, ``ordered_at``, ``total``).

    Orders whose ``status`` is in ``exclude_status`` are skipped. Amounts are
    only added within one currency: pass ``currency`` when the orders use
    several (the others are skipped), else a mixed list is refused.
    """
    from crmkit._args import items, texts
    from crmkit.entities import Order

    skip = set(texts(exclude_status, "exclude_status"))
    if currency is not None and type(currency) is not str:
        raise ValidationError(
            [("currency", f"must be a currency code or None, got {shown(currency)}")]
        )
    rows = [o for o in items(orders, "orders", of=Order) if o.status not in skip]
    if currency is not None:
        rows = [o for o in rows if o.currency == currency]
    currencies = {o.currency for o in rows}
    if len(currencies) > 1:
        raise ValidationError(
            [("orders", f"mix currencies {sorted(currencies)}: pass currency= to pick one")]
        )
    if not rows:
        raise InsufficientData("no orders to summarize")
    ids = np.array([str(o.customer_id) for o in rows])
    at = [o.ordered_at for o in rows]
    amounts = np.array([float(o.total.amount) for o in rows])
    return rfm_summary(
        ids,
        at,
        amounts,
        observation_end=observation_end,
        time_unit=time_unit,
        calibration_end=calibration_end,
        collapse=collapse,
    )


def compress(
    summary: RfmSummary | Mapping[str, Any],
    *,
    spend: bool = False,
    covariates: Mapping[str, Any] | None = None,
) -> CompressedSummary:
    """The distinct ``(frequency, recency, T)`` rows with a weight each (their number of customers).

    With ``covariates`` (a mapping of names to one value per customer) a
    row is a distinct ``(frequency, recency, T, covariates...)`` pattern and
    ``CompressedSummary.covariates`` holds each row's values, for the
    models with covariates (``fit(..., purchase={k: c.covariates[k]},
    weights=c.weights)``). In-memory summaries only.

    ``summary.expand(predictions)`` maps per-row results back to customers.
    A data frame (pandas, Polars, DuckDB, Spark) is compressed by its own
    engine; only the patterns come back. With ``spend=True``: the distinct
    ``(frequency, monetary_value)`` rows of the repeat customers, what :class:`GammaGamma` fits with
    ``weights`` to the estimates of fitting every repeat customer.
    """
    from crmkit._validation import as_finite
    from crmkit.value._frames import compress_frame, is_frame

    if is_frame(summary) and covariates is None:
        return compress_frame(summary, spend=spend)
    if is_frame(summary):
        raise ValidationError(
            [("covariates", "compress a data frame with covariates after to_numpy() (in memory)")]
        )
    if spend:
        return _compress_spend(summary, covariates)
    if not isinstance(summary, (RfmSummary, Mapping)):
        raise ValidationError(
            [("summary", f"must be an RfmSummary or a mapping of columns, got {shown(summary)}")]
        )
    get = summary.get if isinstance(summary, Mapping) else lambda k: getattr(summary, k)
    x = as_finite(get("frequency"), "frequency")
    n = x.shape[0]
    tx = as_finite(get("recency"), "recency", n)
    T = as_finite(get("T"), "T", n)
    if n == 0:
        raise InsufficientData("nothing to compress")
    codes, uniques = _covariate_codes(covariates, n)
    order, starts = distinct_rows(x, tx, T, *codes)
    group = np.zeros(n, dtype=np.int64)
    group[starts[1:]] = 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(group)
    counts = np.diff(np.append(starts, n)).astype(float)
    first = order[starts]
    patterns = {key: values[c[first]] for c, (key, values) in zip(codes, uniques, strict=True)}
    return CompressedSummary(
        x[first].astype(np.int64), tx[first], T[first], counts, inverse,
        covariates=patterns if covariates is not None else None,
    )  # fmt: skip


def _compress_spend(summary: Any, covariates: Mapping[str, Any] | None) -> CompressedSummary:
    from crmkit._validation import as_finite

    get = summary.get if isinstance(summary, Mapping) else lambda k: getattr(summary, k)
    x = as_finite(get("frequency"), "frequency")
    m = as_finite(get("monetary_value"), "monetary_value", x.shape[0])
    codes, uniques = _covariate_codes(covariates, x.shape[0])
    repeat = np.flatnonzero(x > 0)
    if not repeat.size:
        raise InsufficientData("no repeat customer: nothing for a spend model")
    order, starts = distinct_rows(x[repeat], m[repeat], *(c[repeat] for c in codes))
    first = repeat[order[starts]]
    counts = np.diff(np.append(starts, repeat.size)).astype(float)
    zeros = np.zeros(len(counts))
    patterns = {key: values[c[first]] for c, (key, values) in zip(codes, uniques, strict=True)}
    return CompressedSummary(
        x[first].astype(np.int64), zeros, zeros, counts, None, m[first],
        covariates=patterns if covariates is not None else None,
    )  # fmt: skip


def distinct_rows(
    *columns: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The rows sorted by their columns (``order``, first column first) and where each distinct row starts.

    Shared by :func:`compress` and the models' own merging of equal rows.
    """
    order = np.lexsort(columns[::-1])
    new = np.zeros(order.size, dtype=bool)
    new[:1] = True
    for column in columns:
        ordered = column[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(new)


def _covariate_codes(
    covariates: Mapping[str, Any] | None, n: int
) -> tuple[list[npt.NDArray[np.intp]], list[tuple[str, npt.NDArray[Any]]]]:
    """Each covariate column as integer codes (for grouping) and its distinct values."""
    from crmkit.value._covariates import as_columns

    covariates = as_columns(covariates)
    if covariates is None:
        return [], []
    if not isinstance(covariates, Mapping):
        raise ValidationError(
            [
                (
                    "covariates",
                    f"must map covariate names to one value per customer, got {shown(covariates)}",
                )
            ]
        )
    codes, uniques = [], []
    for key, values in covariates.items():
        if type(key) is not str:
            raise ValidationError(
                [("covariates", f"covariate names must be text, got {shown(key)}")]
            )
        column = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
        if column.shape != (n,):
            raise ValidationError(
                [
                    (
                        f"covariates[{key}]",
                        f"must hold one value per customer ({n}), got shape {column.shape}",
                    )
                ]
            )
        try:
            distinct, inverse = np.unique(column, return_inverse=True)
        except TypeError:
            raise ValidationError(
                [(f"covariates[{key}]", "must hold numbers or category labels of one kind")]
            ) from None
        if distinct.dtype.kind == "f" and not np.all(np.isfinite(distinct)):
            raise ValidationError([(f"covariates[{key}]", "must be finite numbers")])
        codes.append(inverse.ravel())
        uniques.append((key, distinct))
    return codes, uniques
