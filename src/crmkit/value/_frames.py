"""Customer value where the data live: the summary, its compression and the scores in the user's engine.

The three steps the field takes for 10^9 transactions (aggregate in the
engine, fit on one machine, score back in the engine), written once against
narwhals, so they run on pandas, Polars (eager or lazy), DuckDB relations and
PySpark DataFrames, lazily where the engine is lazy:

* :func:`summary_frame` is :func:`crmkit.value.rfm_summary` as a group-by in
  the engine (same counting, same calibration split, same units);
* :func:`compress_frame` brings back only the distinct ``(frequency,
  recency, T)`` patterns and their counts (10^8 customers are about 10^5
  patterns), which every model fits with ``weights`` to exactly the
  estimates of fitting every customer;
* :func:`score_frame` adds probability alive, expected purchases, expected
  spend and CLV to the summary, in the engine. What depends only on the
  pattern (everything the transaction model says) is computed by the
  models' own numpy functions on the distinct patterns and joined back; the
  Gamma-Gamma expected spend, which depends on each customer's own mean,
  is the model's closed-form posterior mean written as an engine expression
  with the fitted coefficients. No Python runs per customer or per batch.

No engine is imported here: narwhals is imported when a frame arrives, and
the frame's own library does the work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmkit._text import describe
from crmkit.errors import InsufficientData, MissingDependency, ValidationError

if TYPE_CHECKING:
    from crmkit.value._summary import CompressedSummary

__all__ = ["compress_frame", "is_frame", "score", "score_frame", "summary_frame"]

_ENGINES = {"pandas", "polars", "duckdb", "pyspark", "modin", "cudf", "dask", "sqlframe", "ibis"}


def _narwhals() -> Any:
    try:
        import narwhals.stable.v2 as nw
    except ImportError:
        raise MissingDependency(
            "data frames need narwhals: install the extra of your engine, "
            'pip install "crmkit[polars]", "crmkit[duckdb]", "crmkit[pandas]" or "crmkit[spark]"'
        ) from None
    return nw


def is_frame(obj: Any) -> bool:
    """Whether ``obj`` is a data frame of an engine narwhals knows (not a single column)."""
    if type(obj).__module__.split(".")[0] not in _ENGINES:
        return False
    nw = _narwhals()
    wrapped = nw.from_native(obj, pass_through=True)
    return isinstance(wrapped, (nw.DataFrame, nw.LazyFrame))


def _lazy(frame: Any) -> tuple[Any, bool]:
    """The frame as a narwhals LazyFrame, and whether the caller gave an eager frame."""
    nw = _narwhals()
    wrapped = nw.from_native(frame)
    if isinstance(wrapped, nw.DataFrame):
        return wrapped.lazy(), True
    return wrapped, False


def _back(lf: Any, eager: bool) -> Any:
    """A narwhals LazyFrame as the caller's kind of native frame."""
    return lf.collect().to_native() if eager else lf.to_native()


def _column(lf: Any, name: Any, what: str) -> str:
    schema = lf.collect_schema()
    if type(name) is not str or name not in schema:
        raise ValidationError(
            [(what, f"must name a column of the frame ({', '.join(schema)}), got {describe(name)}")]
        )
    return name


def _day_expr(nw: Any, name: str, dtype: Any, unit: str) -> Any:
    """Whole days since 1970-01-01 (UTC) of the start of the day (``unit="1d"``) or month ("1mo").

    From the calendar fields with integer arithmetic only (Howard Hinnant's
    ``days_from_civil``), which every engine evaluates alike: no duration
    types, no engine-specific epoch functions.
    """
    col = nw.col(name)
    if dtype == nw.Date:
        pass
    elif isinstance(dtype, nw.Datetime):
        # Calendar fields in UTC: a zone other than UTC is converted first. Spark keeps the
        # zone in the session (spark.sql.session.timeZone), which must then be UTC.
        if dtype.time_zone not in (None, "UTC", "Etc/UTC"):
            try:
                col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            except NotImplementedError:
                raise ValidationError(
                    [(name, f"holds {dtype.time_zone} times: set the session time zone to UTC")]
                ) from None
    else:
        raise ValidationError([(name, f"must be a date or datetime column, got {dtype}")])
    year = col.dt.year().cast(nw.Int64)
    month = col.dt.month().cast(nw.Int64)
    day = col.dt.day().cast(nw.Int64) if unit == "1d" else nw.lit(1)
    early = (month <= 2).cast(nw.Int64)  # January and February count with the year before
    y = year - early  # >= 0 from year 1 on
    era = _div(nw, y, 400)
    yoe = y - era * 400
    mp = month + 12 * early - 3  # March = 0 ... February = 11
    doy = _div(nw, 153 * mp + 2, 5) + day - 1
    doe = yoe * 365 + _div(nw, yoe, 4) - _div(nw, yoe, 100) + doy
    return era * 146_097 + doe - 719_468


def _div(nw: Any, expr: Any, k: int) -> Any:
    """``floor(expr / k)`` of a whole-number expression, as the engine's float division and floor.

    Exact: a multiple of k divides to an exact whole number, and any other
    quotient lies at least 1/k from a whole number, far beyond the rounding
    of a double while ``|expr| < 2**53``. (Narwhals' ``//`` emulates Python's
    floor division in SQL engines with nested CASE expressions, which made
    DuckDB's summary four times slower.)
    """
    return (expr / k).floor().cast(nw.Int64)


def summary_frame(
    frame: Any,
    customer: str,
    timestamp: str,
    amount: str | None,
    *,
    end_day: int,
    cut_day: int,
    calibrated: bool,
    unit_days: float,
    collapse: str,
    time_unit: str,
) -> Any:
    """The per-customer summary as a frame of ``frame``'s kind (see :func:`rfm_summary`).

    ``end_day`` is the last day counted (days since the epoch), ``cut_day``
    the start of the collapse period holding the calibration end (or the
    observation end), as the in-memory summary computes them.
    """
    nw = _narwhals()
    lf, eager = _lazy(frame)
    customer = _column(lf, customer, "customer_ids")
    timestamp = _column(lf, timestamp, "timestamps")
    schema = lf.collect_schema()
    if amount is not None:
        amount = _column(lf, amount, "amounts")
        if not schema[amount].is_numeric():
            raise ValidationError([("amounts", f"must be a numeric column, got {schema[amount]}")])
    dtype = schema[timestamp]
    value = nw.col(amount).cast(nw.Float64) if amount is not None else nw.lit(0.0)
    columns = [
        nw.col(customer).alias("customer_id"),
        _day_expr(nw, timestamp, dtype, "1d").alias("_day"),
        value.alias("_value"),
    ]
    if collapse == "M":
        columns.append(_day_expr(nw, timestamp, dtype, "1mo").alias("_period"))
    tx = lf.select(*columns).filter(nw.col("_day") <= end_day)
    # The period from the day number once it is a column (an expression would be computed twice).
    if collapse == "W":  # ISO weeks start on Monday; 1970-01-01 was a Thursday
        tx = tx.with_columns((7 * _div(nw, nw.col("_day") + 3, 7) - 3).alias("_period"))
    elif collapse != "M":
        tx = tx.with_columns(nw.col("_day").alias("_period"))
    bought = tx.group_by("customer_id", "_period").agg(nw.col("_value").sum())
    in_cal = nw.col("_period") <= cut_day
    # Conditional columns first, then plain sums and maxima: every engine groups those fast.
    flags = {
        "_in": in_cal.cast(nw.Int64),
        "_last": nw.when(in_cal).then(nw.col("_period")).otherwise(None),
        "_total": nw.when(in_cal).then(nw.col("_value")).otherwise(0.0),
        "_first_value": nw.when(nw.col("_period") == nw.col("_first"))
        .then(nw.col("_value"))
        .otherwise(0.0),
    }
    if calibrated:
        flags["holdout_frequency"] = (~in_cal).cast(nw.Int64)
        flags["_hold_total"] = nw.when(~in_cal).then(nw.col("_value")).otherwise(0.0)
    # Each customer's first period as a window over the customer: no join of the purchases.
    rows = bought.with_columns(
        nw.col("_period").min().over("customer_id").alias("_first")
    ).with_columns(**flags)
    aggregates = [
        nw.col("_first").min(),
        nw.col("_in").sum().alias("_n_cal"),
        nw.col("_last").max(),
        nw.col("_total").sum(),
        nw.col("_first_value").sum(),
    ]
    if calibrated:
        aggregates += [nw.col("holdout_frequency").sum(), nw.col("_hold_total").sum()]
    per = rows.group_by("customer_id").agg(*aggregates)
    if calibrated:
        per = per.filter(nw.col("_first") <= cut_day)
    frequency = nw.when(nw.col("_n_cal") > 1).then(nw.col("_n_cal") - 1).otherwise(0)
    columns = [
        nw.col("customer_id"),
        frequency.cast(nw.Int64).alias("frequency"),
        ((nw.col("_last") - nw.col("_first")).cast(nw.Float64) / unit_days).alias("recency"),
        ((cut_day - nw.col("_first")).cast(nw.Float64) / unit_days).alias("T"),
        nw.when(nw.col("_n_cal") > 1)
        .then((nw.col("_total") - nw.col("_first_value")) / (nw.col("_n_cal") - 1))
        .otherwise(0.0)
        .alias("monetary_value"),
    ]
    if calibrated:
        columns += [
            nw.col("holdout_frequency").cast(nw.Int64),
            nw.when(nw.col("holdout_frequency") > 0)
            .then(nw.col("_hold_total") / nw.col("holdout_frequency"))
            .otherwise(0.0)
            .alias("holdout_monetary_value"),
        ]
    result = per.select(*columns)
    if eager:  # an eager frame comes back in customer order, as the in-memory summary
        return result.sort("customer_id").collect().to_native()
    # A lazy engine keeps the order open (SQL promises none): a global sort of 10^8
    # customers is a full shuffle on a cluster, and no later step needs it.
    return result.to_native()


def compress_frame(summary: Any, *, spend: bool = False) -> CompressedSummary:
    """The distinct ``(frequency, recency, T)`` rows of a summary frame, counted in its engine.

    With ``spend=True``: the distinct ``(frequency, monetary_value)`` rows of
    the repeat customers instead, as ``frequency``, ``monetary_value`` and
    ``weights`` (the Gamma-Gamma likelihood has no smaller sufficient
    statistic: it depends on each customer's mean through ``log(gamma + x m)``).
    """
    from crmkit.value._summary import CompressedSummary

    nw = _narwhals()
    lf, _ = _lazy(summary)
    keys = ["frequency", "monetary_value"] if spend else ["frequency", "recency", "T"]
    for key in keys:
        _column(lf, key, "summary")
    if spend:
        lf = lf.filter(nw.col("frequency") > 0)
    patterns = lf.group_by(*keys).agg(nw.len().alias("weights")).sort(*keys).collect().to_native()
    table = nw.from_native(patterns, eager_only=True)
    columns = {k: table[k].to_numpy() for k in [*keys, "weights"]}
    if columns["weights"].size == 0:
        raise InsufficientData("nothing to compress: the summary is empty")
    weights = columns["weights"].astype(np.float64)
    frequency = columns["frequency"].astype(np.int64)
    if spend:
        zeros = np.zeros_like(weights)
        return CompressedSummary(
            frequency, zeros, zeros, weights, None, columns["monetary_value"].astype(np.float64)
        )
    return CompressedSummary(
        frequency,
        columns["recency"].astype(np.float64),
        columns["T"].astype(np.float64),
        weights,
    )


def _small_frame(nw: Any, like: Any, columns: dict[str, Any]) -> Any:
    """A small table of numpy columns as a LazyFrame of ``like``'s engine (to join with it)."""
    impl = like.implementation
    if impl.is_pandas() or impl.is_polars() or impl.is_modin() or impl.is_cudf():
        return nw.from_dict(columns, backend=impl).lazy()
    if impl.is_duckdb():
        # On the relation's own connection (a join across connections is refused): DuckDB's
        # replacement scan reads the Arrow table from this frame's local variable.
        import pyarrow as pa  # type: ignore[import-untyped]

        crmkit_patterns = pa.table(columns)  # noqa: F841 - read by name in the SQL below
        relation = nw.to_native(like).query("_crmkit_like", "SELECT * FROM crmkit_patterns")
        return nw.from_native(relation.set_alias("_crmkit_patterns"))
    table = nw.from_dict(columns, backend="pyarrow")  # lazy-only engines take Arrow
    if impl.is_pyspark() or impl.is_pyspark_connect():
        session = nw.to_native(like).sparkSession
        return table.lazy(backend=impl, session=session)
    return table.lazy(backend=impl)


def score_frame(
    summary: Any,
    transaction_model: Any,
    spend_model: Any = None,
    *,
    horizon: int,
    period: float,
    discount_rate: float,
    margin: float,
    nonpositive: str,
) -> Any:
    """The summary frame with ``p_alive``, ``expected_purchases`` and, with a spend model,
    ``expected_spend`` and ``clv`` (see :func:`crmkit.value.score`)."""
    from crmkit._numeric import vecmat

    nw = _narwhals()
    lf, eager = _lazy(summary)
    patterns = compress_frame(summary)
    x, tx, T = patterns.frequency, patterns.recency, patterns.T
    grid = period * np.arange(horizon + 1, dtype=float)[:, None]
    cumulative = transaction_model.conditional_expected_purchases(grid, x, tx, T)
    discount = (1 + discount_rate) ** -np.arange(1, horizon + 1, dtype=float)
    table = {
        "frequency": x,
        "recency": tx,
        "T": T,
        "p_alive": transaction_model.probability_alive(x, tx, T),
        "expected_purchases": cumulative[-1],
        "_discounted": vecmat(discount, np.diff(cumulative, axis=0)),
    }
    scored = lf.join(_small_frame(nw, lf, table), on=["frequency", "recency", "T"], how="left")
    if spend_model is None:
        return _back(scored.drop("_discounted"), eager)
    a, b, c, d, population = spend_model.posterior_mean_coefficients()
    repeat = nw.col("frequency") > 0
    bad = repeat & (nw.col("monetary_value") <= 0)
    if nonpositive == "raise":
        count = int(scored.filter(bad).select(nw.len()).collect().item())
        if count:
            raise ValidationError(
                [
                    (
                        "monetary_value",
                        f"must be > 0 for customers with repeat purchases; {count} are not: pass "
                        "nonpositive='population' (their expected spend is the population's) or 'zero'",
                    )
                ]
            )
    fallback = population if nonpositive == "population" else 0.0
    own = (a + b * nw.col("frequency") * nw.col("monetary_value")) / (c * nw.col("frequency") + d)
    spend = nw.when(bad).then(fallback).otherwise(nw.when(repeat).then(own).otherwise(population))
    result = scored.with_columns(spend.alias("expected_spend")).with_columns(
        (margin * nw.col("expected_spend") * nw.col("_discounted")).alias("clv")
    )
    return _back(result.drop("_discounted"), eager)


def score(
    summary: Any,
    transaction_model: Any,
    spend_model: Any = None,
    *,
    horizon: int = 12,
    period: float | None = None,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    nonpositive: str = "raise",
) -> Any:
    """Score every customer of a summary frame in its own engine.

    Adds ``p_alive`` (the transaction model's probability alive),
    ``expected_purchases`` (over ``horizon`` periods of ``period`` time
    units, default a month of weeks) and, with a fitted
    :class:`~crmkit.value.GammaGamma` ``spend_model``, ``expected_spend`` and
    ``clv`` (as :func:`customer_lifetime_value`: per-period expected
    purchases times the expected spend times ``margin``, discounted at
    ``discount_rate`` per period). ``summary`` is a frame from
    :func:`rfm_summary` (or any frame with its columns); the result is a
    frame of the same kind, lazy if it was lazy. Equal to the in-memory
    predictions to 1e-9 (a test checks it on CDNOW).
    """
    from crmkit._args import choice, instance, number, whole
    from crmkit.value._fitting import Model
    from crmkit.value._gamma import MAX_HORIZON, GammaGamma
    from crmkit.value._predict import MAX_TIME
    from crmkit.value._report import WEEKS_PER_MONTH

    if not is_frame(summary):
        raise ValidationError(
            [
                (
                    "summary",
                    f"must be a data frame (pandas, Polars, DuckDB, Spark), got {describe(summary)}",
                )
            ]
        )
    instance(transaction_model, Model, "transaction_model")
    if spend_model is not None:
        instance(spend_model, GammaGamma, "spend_model")
    return score_frame(
        summary,
        transaction_model,
        spend_model,
        horizon=whole(horizon, "horizon", 1, MAX_HORIZON),
        period=WEEKS_PER_MONTH
        if period is None
        else number(period, "period", 0, MAX_TIME, open_low=True),
        discount_rate=number(discount_rate, "discount_rate", 0, 1e6),
        margin=number(margin, "margin", 0, open_low=True),
        nonpositive=choice(nonpositive, "nonpositive", ("raise", "population", "zero")),
    )
