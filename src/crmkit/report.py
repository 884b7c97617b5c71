"""One report on a customer base: lifecycle, satisfaction, value and IDIC together.

``customer_base_report(source, as_of=...)`` takes a unit of work (any
adapter's) or an object with entity collections (``contacts``, ``orders``,
``interactions``, ``survey_responses``, ``consents``, like
:class:`crmkit.datasets.CustomerBase`) and returns a
:class:`CustomerBaseReport` with ``to_dict()``, a readable ``str()`` and
``to_html()``: a self-contained page, with the plots embedded when the
``plot`` extra is installed.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import attrs

from crmkit._table import table
from crmkit._text import describe
from crmkit.errors import ConvergenceError, InsufficientData, ValidationError

__all__ = ["CustomerBaseReport", "customer_base_report", "load_all"]

_KINDS = ("accounts", "contacts", "orders", "interactions", "survey_responses", "consents")


def load_all(uow: Any, entity_type: type) -> list[Any]:
    """Every entity of ``entity_type`` in a unit of work, page by page (1,000 at a time)."""
    from crmkit.repository import Query

    if not callable(getattr(uow, "repository", None)):
        raise ValidationError([("uow", f"must be a unit of work, got {describe(uow)}")])
    if not isinstance(entity_type, type):
        raise ValidationError(
            [("entity_type", f"must be an entity class, got {describe(entity_type)}")]
        )
    repo = uow.repository(entity_type)
    out: list[Any] = []
    cursor = None
    while True:
        page = repo.query(Query(entity_type).limit(1000).after(cursor))
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def _collections(source: Any) -> dict[str, list[Any]]:
    from crmkit.entities import Account, Consent, Contact, Interaction, Order, SurveyResponse

    if hasattr(source, "repository"):
        types = {
            "accounts": Account,
            "contacts": Contact,
            "orders": Order,
            "interactions": Interaction,
            "survey_responses": SurveyResponse,
            "consents": Consent,
        }
        return {k: load_all(source, t) for k, t in types.items()}
    if not hasattr(source, "contacts"):
        raise ValidationError(
            [
                (
                    "source",
                    f"must be a unit of work or hold entity collections, got {type(source).__name__}",
                )
            ]
        )
    return {k: list(getattr(source, k, ())) for k in _KINDS}


@attrs.frozen(eq=False)
class CustomerBaseReport:
    """The figures of :func:`customer_base_report`; parts that the data cannot support are None."""

    as_of: datetime
    counts: dict[str, int]
    lifecycle: dict[str, int]
    nps: Any
    nps_scores: Any
    currency: str | None
    rfm: Any
    concentration: Any
    revenue: Any
    transaction_model: Any
    top_customers: list[dict[str, Any]]
    idic: Any
    notes: list[str]
    quality: Any = None

    def to_dict(self) -> dict[str, Any]:
        def d(x: Any) -> Any:
            return None if x is None else x.to_dict()

        return {
            "as_of": self.as_of.isoformat(),
            "counts": self.counts,
            "lifecycle": self.lifecycle,
            "nps": d(self.nps),
            "currency": self.currency,
            "rfm_segments": None if self.rfm is None else self.rfm.segment_sizes(),
            "concentration": d(self.concentration),
            "transaction_model": None
            if self.transaction_model is None
            else self.transaction_model.summary().to_dict(),
            "top_customers": self.top_customers,
            "idic": None if self.idic is None else self.idic.summary().to_dict(),
            "data_quality": d(self.quality),
            "notes": self.notes,
        }

    def _sections(self) -> list[tuple[str, str]]:
        total = sum(self.lifecycle.values()) or 1
        parts = [
            (
                "Customer base",
                " | ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in self.counts.items()),
            ),
            (
                "Lifecycle stages",
                "\n".join(f"{k:<14} {v:>6,}  {v / total:6.1%}" for k, v in self.lifecycle.items()),
            ),
            ("Satisfaction", "no NPS answers" if self.nps is None else str(self.nps)),
        ]
        if self.rfm is not None:
            parts.append(("RFM segments", str(self.rfm)))
        if self.concentration is not None:
            parts.append((f"Revenue concentration ({self.currency})", str(self.concentration)))
        if self.transaction_model is not None:
            by = (
                "12-month CLV"
                if any(r["clv"] is not None for r in self.top_customers)
                else "expected purchases"
            )
            lines = [
                str(self.transaction_model.summary()),
                table(
                    ("customer", "P(alive)", f"CLV ({self.currency})"),
                    [
                        (row["name"][:28], row["probability_alive"], row["clv"])
                        for row in self.top_customers
                    ],
                    formats=("", ".2f", ",.2f"),
                    title=f"top customers by {by}:",
                ),
            ]
            parts.append(("Customer value", "\n".join(lines)))
        if self.idic is not None:
            lines = [str(self.idic)]
            worst = sorted(range(len(self.idic)), key=lambda i: self.idic.composite[i])[:3]
            for i in worst:
                lines.append(
                    f"  lowest: {self.idic.customer_id[i]} {self.idic.composite[i]:.1f}: "
                    + "; ".join(self.idic.reasons(i, limit=2))
                )
            parts.append(("IDIC (identify, differentiate, interact, customize)", "\n".join(lines)))
        if self.quality is not None:
            parts.append(("Data quality of the contacts", str(self.quality)))
        if self.notes:
            parts.append(("Notes", "\n".join(self.notes)))
        return parts

    def __str__(self) -> str:
        out = [f"Customer base report as of {self.as_of:%Y-%m-%d}"]
        for title, body in self._sections():
            out.append(f"\n{title}\n" + "\n".join(f"  {line}" for line in body.splitlines()))
        return "\n".join(out)

    def to_html(self) -> str:
        """A self-contained HTML page; plots are embedded as PNG when matplotlib is installed."""
        figures = self._figures()
        body = []
        for title, text in self._sections():
            body.append(f"<h2>{html.escape(title)}</h2><pre>{html.escape(text)}</pre>")
            for fig_title, png in figures.get(title, []):
                body.append(
                    f'<figure><img alt="{html.escape(fig_title)}" src="data:image/png;base64,{png}">'
                    f"<figcaption>{html.escape(fig_title)}</figcaption></figure>"
                )
        if not figures:
            body.append(
                '<p class="note">Install the plot extra (pip install "crmkit[plot]") for the charts.</p>'
            )
        style = (
            "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
            "pre{background:#f6f8fa;padding:.75rem;overflow-x:auto}figure{margin:1rem 0}img{max-width:100%}"
        )
        title = f"Customer base report as of {self.as_of:%Y-%m-%d}"
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>"
        )

    def _figures(self) -> dict[str, list[tuple[str, str]]]:
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError:
            return {}
        import base64
        import io

        from crmkit import plot

        out: dict[str, list[tuple[str, str]]] = {}

        def add(section: str, title: str, draw: Any) -> None:
            fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
            draw(ax)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90)
            plt.close(fig)
            out.setdefault(section, []).append(
                (title, base64.b64encode(buf.getvalue()).decode("ascii"))
            )

        if self.nps_scores is not None:
            add(
                "Satisfaction",
                "Likelihood-to-recommend answers",
                lambda ax: plot.nps_distribution(self.nps_scores, ax=ax),
            )
        if self.rfm is not None:
            add(
                "RFM segments",
                "Customers per RFM segment",
                lambda ax: plot.segment_sizes(self.rfm, ax=ax),
            )
        if self.concentration is not None:
            add(
                f"Revenue concentration ({self.currency})",
                "Lorenz curve of revenue",
                lambda ax: plot.lorenz(self.concentration, ax=ax),
            )
        if self.idic is not None:
            add(
                "IDIC (identify, differentiate, interact, customize)",
                "IDIC composite scores",
                lambda ax: plot.idic_histogram(self.idic, ax=ax),
            )
        return out


def customer_base_report(source: Any, *, as_of: datetime) -> CustomerBaseReport:
    """Run lifecycle, satisfaction, value and IDIC on one customer base (see the module docs)."""
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ValidationError([("as_of", "must be a timezone-aware datetime")])
    import numpy as np

    from crmkit.lifecycle import CUSTOMER_LIFECYCLE
    from crmkit.satisfaction import nps
    from crmkit.value import (
        concentration,
        idic_from_entities,
        rfm_scores,
        rfm_summary_from_orders,
        value_report,
    )

    data = _collections(source)
    contacts = data["contacts"]
    notes: list[str] = []
    counts = {k: len(v) for k, v in data.items()}
    # Customers are the accounts and the contacts that buy for themselves (not an account's
    # staff): the same set whose stages the lifecycle machine moves.
    customers = [*data["accounts"], *(c for c in contacts if c.account_id is None)]
    seen = Counter(c.lifecycle_stage for c in customers)
    lifecycle = {s: seen[s] for s in CUSTOMER_LIFECYCLE.state_names if s in seen}
    lifecycle.update({s: n for s, n in seen.items() if s not in lifecycle})
    answers = [
        r.answers["nps"]
        for r in data["survey_responses"]
        if isinstance(r.answers.get("nps"), int) and r.answered_at <= as_of
    ]
    nps_result = nps(answers) if answers else None
    orders = [o for o in data["orders"] if o.contact_id is not None and o.ordered_at <= as_of]
    currency = Counter(o.currency for o in orders).most_common(1)[0][0] if orders else None
    rfm = conc = revenue = model = None
    top: list[dict[str, Any]] = []
    clv_by_customer: dict[str, float] = {}
    if currency is not None:
        mine = [o for o in orders if o.currency == currency]
        if len({o.currency for o in orders}) > 1:
            notes.append(f"value figures use the {currency} orders only (the most common currency)")
        summary = rfm_summary_from_orders(mine, observation_end=as_of, currency=currency)
        rfm = rfm_scores(summary)
        totals: defaultdict[str, float] = defaultdict(float)
        for o in mine:
            totals[str(o.contact_id)] += float(o.total.amount)
        revenue = np.array([totals[str(c)] for c in summary.customer_id])
        try:
            conc = concentration(revenue)
        except InsufficientData as exc:
            notes.append(f"concentration skipped: {exc}")
        try:
            valued = value_report(summary, top=5)
            model = valued.transaction_model
            notes.extend(valued.notes)
            if valued.spend_model_skipped is not None:
                notes.append(f"spend model skipped: {valued.spend_model_skipped}")
            if valued.clv is not None:
                clv_by_customer = dict(
                    zip(summary.customer_id.tolist(), valued.clv.tolist(), strict=True)
                )
            names = {str(c.id): c.name for c in contacts}
            top = [
                {
                    "customer": str(row["customer"]),
                    "name": names.get(str(row["customer"]), str(row["customer"])),
                    "clv": row["clv"],
                    "probability_alive": row["probability_alive"],
                }
                for row in valued.top
            ]
        except (InsufficientData, ConvergenceError) as exc:
            model = None
            notes.append(f"value models skipped: {exc}")
    idic = None
    if contacts:
        # Differentiate by the 12-month CLV when the value models could be fitted, else by revenue.
        value = (
            {c.id: clv_by_customer.get(str(c.id), 0.0) for c in contacts}
            if clv_by_customer
            else None
        )
        idic = idic_from_entities(
            contacts,
            as_of=as_of,
            consents=data["consents"],
            interactions=data["interactions"],
            orders=data["orders"],
            survey_responses=data["survey_responses"],
            value=value,
        )
    quality = None
    if contacts:
        from crmkit.quality import Records, profile

        quality = profile(Records.from_contacts(contacts), as_of=as_of)
    return CustomerBaseReport(
        as_of=as_of,
        counts=counts,
        lifecycle=lifecycle,
        nps=nps_result,
        nps_scores=answers or None,
        currency=currency,
        rfm=rfm,
        concentration=conc,
        revenue=revenue,
        transaction_model=model,
        top_customers=top,
        idic=idic,
        notes=notes,
        quality=quality,
    )
