"""IDIC scoring (Peppers & Rogers): identify, differentiate, interact, customize.

Peppers and Rogers' IDIC programme (*Managing Customer Relationships*,
2004/2017) has four tasks: **identify** each customer (know who they are,
reach them, with permission, once), **differentiate** them by value and by
needs, **interact** with them (a dialogue, recent and two-way), and
**customize** how they are treated to what was learned. crmkit turns each
task into a 0-100 score per customer from documented components (each in
0-1) and configurable weights, and says which components lowered each score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.errors import DefinitionError, InsufficientData, ValidationError

__all__ = ["IdicResult", "IdicSummary", "IdicWeights", "idic_from_entities", "idic_scores"]

Array = npt.NDArray[np.float64]

STAGES = ("identify", "differentiate", "interact", "customize")
COMPONENTS: dict[str, tuple[str, ...]] = {
    "identify": ("complete", "reachable", "consent", "unique"),
    "differentiate": ("value", "needs"),
    "interact": ("recency", "frequency", "two_way", "channels", "satisfaction"),
    "customize": ("preferences",),
}
#: What a low component means, for the reasons given to an account manager.
LOW: dict[str, str] = {
    "complete": "identity data incomplete",
    "reachable": "no e-mail or phone to reach them",
    "consent": "no active consent for the purposes used",
    "unique": "likely duplicate record (same e-mail or phone)",
    "value": "low value compared with other customers",
    "needs": "needs segment unknown",
    "recency": "no recent interaction",
    "frequency": "few interactions",
    "two_way": "one-way contact (no dialogue)",
    "channels": "reached through few channels",
    "satisfaction": "low or no satisfaction answer",
    "preferences": "recorded preferences not used",
}


def _check_group(
    name: str, weights: Mapping[str, float], keys: tuple[str, ...]
) -> dict[str, float]:
    unknown = sorted(set(weights) - set(keys))
    if unknown:
        raise DefinitionError(
            f"{name} weights: unknown components {unknown}; expected {list(keys)}"
        )
    out = {k: float(weights.get(k, 0.0)) for k in keys}
    if any(not math.isfinite(v) or v < 0 for v in out.values()) or not math.isclose(
        sum(out.values()), 1.0
    ):
        raise DefinitionError(f"{name} weights must be >= 0 and add up to 1, got {out}")
    return out


def _stages(w: Mapping[str, float]) -> dict[str, float]:
    return _check_group("stage", w, STAGES)


def _identify(w: Mapping[str, float]) -> dict[str, float]:
    return _check_group("identify", w, COMPONENTS["identify"])


def _differentiate(w: Mapping[str, float]) -> dict[str, float]:
    return _check_group("differentiate", w, COMPONENTS["differentiate"])


def _interact(w: Mapping[str, float]) -> dict[str, float]:
    return _check_group("interact", w, COMPONENTS["interact"])


def _customize(w: Mapping[str, float]) -> dict[str, float]:
    return _check_group("customize", w, COMPONENTS["customize"])


@attrs.frozen
class IdicWeights:
    """Weights of the components within each stage and of the stages in the composite.

    Defaults: the four stages count equally (the programme is a cycle: each
    needs the others). Identify weighs consent and uniqueness most (a
    customer one cannot lawfully contact, or who exists twice, is not
    identified); interact weighs recency most, then frequency, dialogue and
    satisfaction; differentiate puts 0.6 on value, 0.4 on knowing the needs.
    ``half_life_days`` sets the recency decay (a 90-day-old interaction
    counts half), ``target_interactions`` and ``target_channels`` the
    counts that earn a full component.
    """

    stages: Mapping[str, float] = attrs.field(
        factory=lambda: dict.fromkeys(STAGES, 0.25),
        converter=_stages,
    )
    identify: Mapping[str, float] = attrs.field(
        factory=lambda: {"complete": 0.2, "reachable": 0.2, "consent": 0.3, "unique": 0.3},
        converter=_identify,
    )
    differentiate: Mapping[str, float] = attrs.field(
        factory=lambda: {"value": 0.6, "needs": 0.4},
        converter=_differentiate,
    )
    interact: Mapping[str, float] = attrs.field(
        factory=lambda: {
            "recency": 0.3,
            "frequency": 0.2,
            "two_way": 0.2,
            "channels": 0.1,
            "satisfaction": 0.2,
        },
        converter=_interact,
    )
    customize: Mapping[str, float] = attrs.field(
        factory=lambda: {"preferences": 1.0},
        converter=_customize,
    )
    half_life_days: float = 90.0
    target_interactions: float = 12.0
    target_channels: float = 3.0

    def group(self, stage: str) -> Mapping[str, float]:
        out: Mapping[str, float] = getattr(self, stage)
        return out


@attrs.frozen
class IdicSummary:
    """IDIC at a glance: customers, the mean score of each stage, customers per value class."""

    customers: int
    mean: dict[str, float]
    value_classes: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "mean": dict(self.mean),
            "value_classes": dict(self.value_classes),
        }

    def __str__(self) -> str:
        return (
            f"IDIC scores of {self.customers:,} customers (0-100): "
            + ", ".join(f"{k} {v:.1f}" for k, v in self.mean.items())
            + "\nvalue classes: "
            + ", ".join(
                f"{k} {v:,}" for k, v in sorted(self.value_classes.items(), key=lambda kv: -kv[1])
            )
        )


@attrs.frozen(eq=False)
class IdicResult:
    """Scores (0-100) per customer for each stage and the composite, the value class, and the components."""

    customer_id: npt.NDArray[Any]
    identify: Array
    differentiate: Array
    interact: Array
    customize: Array
    composite: Array
    value_class: npt.NDArray[np.str_]
    components: dict[str, Array]
    weights: IdicWeights

    def __len__(self) -> int:
        return int(self.composite.shape[0])

    def reasons(self, i: int, *, limit: int = 3) -> list[str]:
        """What lowered customer ``i``'s composite most: components by weighted loss, in points."""
        if not -len(self) <= i < len(self):
            raise ValidationError([("i", f"must index one of the {len(self)} customers, got {i}")])
        losses = []
        for stage in STAGES:
            sw = self.weights.stages[stage]
            for comp, w in self.weights.group(stage).items():
                loss = 100 * sw * w * (1 - float(self.components[comp][i]))
                if loss > 0.05:
                    losses.append((loss, f"{stage}: {LOW[comp]} (-{loss:.1f} points)"))
        return [text for _, text in sorted(losses, key=lambda t: -t[0])[:limit]]

    def summary(self) -> IdicSummary:
        """Mean scores per stage and customers per value class."""
        classes, counts = np.unique(self.value_class, return_counts=True)
        return IdicSummary(
            customers=len(self),
            mean={s: float(getattr(self, s).mean()) for s in (*STAGES, "composite")},
            value_classes=dict(zip(classes.tolist(), counts.tolist(), strict=True)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": [str(c) for c in self.customer_id.tolist()],
            **{s: getattr(self, s).tolist() for s in (*STAGES, "composite")},
            "value_class": self.value_class.tolist(),
            "summary": self.summary().to_dict(),
        }

    def __str__(self) -> str:
        return str(self.summary())


def _unit(values: Any, name: str, n: int, *, missing_ok: bool = False) -> Array:
    from crmkit._validation import _positions, as_numbers

    x = as_numbers(values, name, ndim=1)
    if x.shape[0] != n:
        raise ValidationError([(name, f"must have one value per customer ({n}), got {x.shape[0]}")])
    finite = np.isfinite(x)
    bad = (finite & ((x < 0) | (x > 1))) | (~finite if not missing_ok else np.isinf(x))
    if bad.any():
        raise ValidationError(
            [
                (
                    name,
                    f"must lie in 0-1{' (NaN for unknown)' if missing_ok else ''}; positions {_positions(bad)} do not",
                )
            ]
        )
    return x


def _group_quantile(values: Array, codes: npt.NDArray[np.int64], k: int, q: float) -> Array:
    """The q-quantile (lower) of ``values`` within each group, per element; one sort."""
    order = np.lexsort((values, codes))
    counts = np.bincount(codes, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = starts + np.floor(q * (counts - 1)).astype(np.int64)
    per_group = values[order][np.clip(pos, 0, values.shape[0] - 1)]
    out: Array = per_group[codes]
    return out


def idic_scores(
    *,
    completeness: Any,
    reachable: Any,
    consent: Any,
    duplicate: Any,
    value: Any,
    days_since_interaction: Any,
    interactions: Any,
    inbound_share: Any,
    channels: Any,
    satisfaction: Any,
    personalized_share: Any,
    segment: Any = None,
    needs_known: Any = None,
    customer_ids: Any = None,
    weights: IdicWeights | None = None,
) -> IdicResult:
    """IDIC scores from per-customer arrays (vectorised; a million customers in about a second).

    Components, each 0-1:

    * identify: ``completeness`` (share of identity fields present),
      ``reachable``, ``consent`` (active for the purposes used), unique
      (not ``duplicate``);
    * differentiate: value (the percentile rank of ``value``, e.g. CLV, among
      all customers) and needs (``needs_known``, by default whether a
      ``segment`` is given). The value class follows Peppers & Rogers:
      *below zero* (value < 0), *most valuable* (top decile of value),
      *most growable* (value at most half the potential, the 90th percentile
      of value within the customer's ``segment``), otherwise *maintain*;
    * interact: recency ``0.5 ** (days / half_life_days)`` (NaN or inf days:
      never, 0), frequency ``min(interactions / target_interactions, 1)``,
      two-way ``2 * min(inbound_share, 1 - inbound_share)`` (1 for a balanced
      dialogue, 0 for one-way; NaN: 0), channels ``min(channels /
      target_channels, 1)``, ``satisfaction`` (answers mapped to 0-1; NaN: 0);
    * customize: ``personalized_share`` of interactions or offers that used
      the customer's recorded preferences (NaN: 0).

    Each stage scores ``100 * sum(weight * component)``; the composite
    weights the stages (:class:`IdicWeights`).
    """
    from scipy.stats import rankdata

    from crmkit._validation import as_array, as_finite, as_numbers, factorize

    w = weights or IdicWeights()
    v = as_finite(value, "value")
    n = v.shape[0]
    if n == 0:
        raise InsufficientData("no customers to score")
    comp: dict[str, Array] = {}
    comp["complete"] = _unit(completeness, "completeness", n)
    comp["reachable"] = _unit(reachable, "reachable", n)
    comp["consent"] = _unit(consent, "consent", n)
    comp["unique"] = 1 - _unit(duplicate, "duplicate", n)
    comp["value"] = (rankdata(v, method="average") - 1) / (n - 1) if n > 1 else np.ones(1)
    codes: npt.NDArray[np.int64]
    if segment is not None:
        seg = as_array(segment, "segment")
        if seg.shape[0] != n:
            raise ValidationError([("segment", f"must have one label per customer ({n})")])
        _, codes = factorize(seg.astype(str))
        k = int(codes.max()) + 1
    else:
        codes, k = np.zeros(n, dtype=np.int64), 1
    if needs_known is None:
        comp["needs"] = np.full(n, 1.0 if segment is not None else 0.0)
    else:
        comp["needs"] = _unit(needs_known, "needs_known", n)
    days = as_numbers(days_since_interaction, "days_since_interaction", ndim=1)
    if days.shape[0] != n:
        raise ValidationError(
            [("days_since_interaction", f"must have one value per customer ({n})")]
        )
    if (days[np.isfinite(days)] < 0).any():
        raise ValidationError([("days_since_interaction", "must be >= 0 (NaN or inf for never)")])
    comp["recency"] = np.where(
        np.isfinite(days), 0.5 ** (np.where(np.isfinite(days), days, 0) / w.half_life_days), 0.0
    )
    count = as_finite(interactions, "interactions", n)
    if (count < 0).any():
        raise ValidationError([("interactions", "must be >= 0")])
    comp["frequency"] = np.minimum(count / w.target_interactions, 1.0)
    share = _unit(inbound_share, "inbound_share", n, missing_ok=True)
    comp["two_way"] = np.nan_to_num(2 * np.minimum(share, 1 - share), nan=0.0)
    ch = as_finite(channels, "channels", n)
    if (ch < 0).any():
        raise ValidationError([("channels", "must be >= 0")])
    comp["channels"] = np.minimum(ch / w.target_channels, 1.0)
    comp["satisfaction"] = np.nan_to_num(
        _unit(satisfaction, "satisfaction", n, missing_ok=True), nan=0.0
    )
    comp["preferences"] = np.nan_to_num(
        _unit(personalized_share, "personalized_share", n, missing_ok=True), nan=0.0
    )
    stage_scores: dict[str, Array] = {}
    for stage in STAGES:
        acc = np.zeros(n)
        for c, wt in w.group(stage).items():
            acc += wt * comp[c]
        stage_scores[stage] = 100 * acc
    composite = np.zeros(n)
    for stage in STAGES:
        composite += w.stages[stage] * stage_scores[stage]
    top = np.quantile(v, 0.9)
    potential = _group_quantile(v, codes, k, 0.9)
    value_class = np.where(
        v < 0,
        "below zero",
        np.where(
            (v >= top) & (v > 0),
            "most valuable",
            np.where(v <= 0.5 * potential, "most growable", "maintain"),
        ),
    )
    ids = np.arange(n) if customer_ids is None else as_array(customer_ids, "customer_ids")
    if ids.shape[0] != n:
        raise ValidationError([("customer_ids", f"must have one id per customer ({n})")])
    return IdicResult(
        customer_id=ids,
        identify=stage_scores["identify"],
        differentiate=stage_scores["differentiate"],
        interact=stage_scores["interact"],
        customize=stage_scores["customize"],
        composite=composite,
        value_class=value_class,
        components=comp,
        weights=w,
    )


def _satisfaction_of(answers: Mapping[str, Any]) -> float:
    """An answer mapped to 0-1: NPS (0-10), CSAT (1-5) or CES (1-7, lower effort is better)."""
    for key, low, high, invert in (
        ("nps", 0, 10, False),
        ("csat", 1, 5, False),
        ("ces", 1, 7, True),
    ):
        raw = answers.get(key)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and low <= raw <= high:
            x = (raw - low) / (high - low)
            return 1 - x if invert else x
    return math.nan


def idic_from_entities(
    contacts: Iterable[Any],
    *,
    as_of: datetime,
    consents: Iterable[Any] = (),
    interactions: Iterable[Any] = (),
    orders: Iterable[Any] = (),
    survey_responses: Iterable[Any] = (),
    purposes: Iterable[str] = ("marketing",),
    value: Mapping[Any, float] | None = None,
    segment: Mapping[Any, str] | None = None,
    window_days: float = 365.0,
    weights: IdicWeights | None = None,
) -> IdicResult:
    """IDIC scores of :class:`~crmkit.entities.Contact` entities from their related records.

    Each collection is grouped by contact once (no per-customer scan).
    Identity fields are name, e-mail, phone and preferred channel; a
    duplicate shares a normalised e-mail or a phone number with another
    contact; consent means an active consent at ``as_of`` for every purpose
    in ``purposes``. Value is ``value[contact id]`` (e.g. a CLV) or else the
    sum of the contact's order totals; ``segment[contact id]`` is the needs
    segment. Interactions in the ``window_days`` before ``as_of`` count for
    frequency, direction, channels and personalisation; satisfaction is the
    latest survey answer (NPS, CSAT or CES) mapped to 0-1.
    """
    from collections import Counter, defaultdict

    from crmkit._args import instance, items, number, texts
    from crmkit.entities import Consent, Contact, Interaction, Order, SurveyResponse
    from crmkit.entities._rules import aware_argument

    people = items(contacts, "contacts", of=Contact)
    if not people:
        raise InsufficientData("no contacts to score")
    as_of = aware_argument("as_of", as_of)
    consents = items(consents, "consents", of=Consent)
    interactions = items(interactions, "interactions", of=Interaction)
    orders = items(orders, "orders", of=Order)
    survey_responses = items(survey_responses, "survey_responses", of=SurveyResponse)
    wanted = set(texts(purposes, "purposes"))
    window_days = number(window_days, "window_days", 0, open_low=True)
    for name, given in (("value", value), ("segment", segment)):
        if given is not None:
            instance(given, Mapping, name)
    if weights is not None:
        instance(weights, IdicWeights, "weights")
    index = {c.id: i for i, c in enumerate(people)}
    n = len(people)
    emails = Counter(c.email.normalized for c in people if c.email is not None)
    phones = Counter(str(c.phone) for c in people if c.phone is not None)
    complete = np.empty(n)
    reachable = np.empty(n)
    duplicate = np.zeros(n)
    for i, c in enumerate(people):
        fields = [
            bool(c.first_name or c.last_name),
            c.email is not None,
            c.phone is not None,
            c.preferred_channel is not None,
        ]
        complete[i] = sum(fields) / len(fields)
        reachable[i] = float(c.email is not None or c.phone is not None)
        if (c.email is not None and emails[c.email.normalized] > 1) or (
            c.phone is not None and phones[str(c.phone)] > 1
        ):
            duplicate[i] = 1.0
    active: dict[Any, set[str]] = defaultdict(set)
    for consent in consents:
        if consent.contact_id in index and consent.is_active(as_of):
            active[consent.contact_id].add(consent.purpose)
    consent_ok = np.array([float(wanted <= active.get(c.id, set())) for c in people])
    spent = np.zeros(n)
    for order in orders:
        oi = index.get(order.contact_id)
        if oi is not None and order.ordered_at <= as_of:
            spent[oi] += float(order.total.amount)
    values = spent if value is None else np.array([float(value.get(c.id, 0.0)) for c in people])
    last = np.full(n, np.inf)
    count = np.zeros(n)
    inbound = np.zeros(n)
    personal = np.zeros(n)
    seen_channels: list[set[str]] = [set() for _ in range(n)]
    horizon = window_days * 86400
    for it in interactions:
        age = (as_of - it.occurred_at).total_seconds()
        if age < 0:
            continue
        for cid in it.contact_ids:
            ci = index.get(cid)
            if ci is None:
                continue
            last[ci] = min(last[ci], age / 86400)
            if age <= horizon:
                count[ci] += 1
                inbound[ci] += it.direction.value == "inbound"
                personal[ci] += bool(it.personalized)
                seen_channels[ci].add(it.channel.value)
    latest: dict[int, tuple[datetime, float]] = {}
    for response in survey_responses:
        ri = index.get(response.contact_id)
        if ri is None or response.answered_at > as_of:
            continue
        score = _satisfaction_of(response.answers)
        if not math.isnan(score) and (ri not in latest or response.answered_at > latest[ri][0]):
            latest[ri] = (response.answered_at, score)
    with np.errstate(invalid="ignore", divide="ignore"):
        inbound_share = np.where(count > 0, inbound / np.maximum(count, 1), np.nan)
        personalized = np.where(count > 0, personal / np.maximum(count, 1), np.nan)
    satisfaction = np.array([latest[i][1] if i in latest else np.nan for i in range(n)])
    seg = None if segment is None else np.array([str(segment.get(c.id, "")) for c in people])
    needs = None if segment is None else np.array([float(c.id in segment) for c in people])
    return idic_scores(
        completeness=complete,
        reachable=reachable,
        consent=consent_ok,
        duplicate=duplicate,
        value=values,
        segment=seg,
        needs_known=needs,
        days_since_interaction=last,
        interactions=count,
        inbound_share=inbound_share,
        channels=np.array([len(s) for s in seen_channels], dtype=float),
        satisfaction=satisfaction,
        personalized_share=personalized,
        customer_ids=np.array([str(c.id) for c in people]),
        weights=weights,
    )
