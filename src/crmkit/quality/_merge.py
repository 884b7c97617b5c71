"""Merge duplicate contacts without losing anything, and take a merge back.

A merge keeps one contact (the survivor) and marks the others as merged
into it (``attributes["merged_into"]``, never deleted). The survivor's
fields are chosen by survivorship rules given as data, per field:

* ``"most_recent"``: the value of the most recently updated record that has one;
* ``"most_complete"``: the value of the record with the most fields filled in;
* ``"priority"``: the value of the record whose ``attributes["source"]``
  ranks first in ``Survivorship.priority`` (then the most recent);
* ``"keep_all"``: the survivor keeps its own value (else the most recent),
  and every other value is kept in ``attributes["merged_values"]``.

Tags are always united and attributes combined (the survivor's win). Related
records (orders, interactions, tickets, survey responses, consents,
campaign members) that point at a merged contact are pointed at the
survivor. Consent is resolved to the most restrictive state: where one of
the merged records withdrew consent for a purpose, the survivor's active
consents for that purpose are withdrawn at the time of the merge.

:func:`plan_merge` returns a :class:`MergePlan` to review (``print(plan)``)
before anything changes; :func:`apply_merge` stages it in a unit of work
and records a ``contacts_merged`` event; :func:`unmerge` stages the
records as they were before the merge (every field but ``version`` and
``updated_at``, which the repository moves forward on each save) and
refuses when a record changed after the merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit._text import describe
from crmkit.errors import ConcurrencyError, ValidationError

__all__ = ["MergePlan", "Survivorship", "apply_merge", "plan_merge", "unmerge"]

RULES = ("most_recent", "most_complete", "priority", "keep_all")
#: The contact fields survivorship chooses (the others are the store's or the merge's own).
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "job_title",
    "account_id",
    "owner",
    "lifecycle_stage",
    "preferred_channel",
    "lifetime_value",
)


@attrs.frozen
class Survivorship:
    """Survivorship rules: ``default`` for every field, ``fields`` per field, ``priority`` of sources.

    ``survivor`` picks the record that survives: ``"oldest"`` (the first
    created: other systems have known its id longest) or ``"most_complete"``.

    >>> Survivorship(fields={"email": "most_recent", "job_title": "keep_all"}).rule("job_title")
    'keep_all'
    """

    default: str = "most_recent"
    fields: Mapping[str, str] = attrs.field(factory=dict)
    priority: tuple[str, ...] = ()
    survivor: str = "oldest"

    def __attrs_post_init__(self) -> None:
        from crmkit._args import choice, instance, texts

        choice(self.default, "default", RULES)
        instance(self.fields, Mapping, "fields")
        for name, rule in self.fields.items():
            if name not in FIELDS:
                raise ValidationError(
                    [("fields", f"{describe(name)} is not one of {', '.join(FIELDS)}")]
                )
            choice(rule, f"fields[{name}]", RULES)
        object.__setattr__(self, "fields", dict(self.fields))
        object.__setattr__(self, "priority", texts(self.priority, "priority"))
        choice(self.survivor, "survivor", ("oldest", "most_complete"))

    def rule(self, field: str) -> str:
        return self.fields.get(field, self.default)


@attrs.frozen
class FieldChoice:
    """Which record a survivor's field came from, by which rule."""

    field: str
    source: UUID
    rule: str


@attrs.frozen(eq=False)
class MergePlan:
    """A reviewed merge: the survivor, the merged records, and every record before and after.

    ``before`` and ``after`` hold ``(entity type name, to_dict(record))``
    pairs for each record the merge changes, in the same order.
    """

    survivor: UUID
    merged: tuple[UUID, ...]
    at: datetime
    choices: tuple[FieldChoice, ...]
    before: tuple[tuple[str, dict[str, Any]], ...]
    after: tuple[tuple[str, dict[str, Any]], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "survivor": str(self.survivor),
            "merged": [str(m) for m in self.merged],
            "at": self.at.isoformat(),
            "choices": [
                {"field": c.field, "source": str(c.source), "rule": c.rule} for c in self.choices
            ],
            "before": [{"type": t, "record": r} for t, r in self.before],
            "after": [{"type": t, "record": r} for t, r in self.after],
        }

    def __str__(self) -> str:
        lines = [
            f"merge {len(self.merged)} contact(s) into {self.survivor}: "
            + ", ".join(str(m) for m in self.merged)
        ]
        for c in self.choices:
            lines.append(f"  {c.field:<18} from {c.source} ({c.rule.replace('_', ' ')})")
        kinds: dict[str, int] = {}
        for kind, _ in self.after:
            kinds[kind] = kinds.get(kind, 0) + 1
        lines.append(
            "  records changed: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        )
        return "\n".join(lines)


def _types() -> dict[str, type]:
    from crmkit.entities import (
        CampaignMember,
        Consent,
        Contact,
        Interaction,
        Order,
        SurveyResponse,
        Ticket,
    )

    return {
        t.__name__: t
        for t in (Contact, Order, Interaction, Ticket, SurveyResponse, Consent, CampaignMember)
    }


def _filled(contact: Any) -> int:
    return sum(getattr(contact, f) is not None for f in FIELDS) + bool(contact.tags)


def _pick(
    field: str, rule: str, contacts: Sequence[Any], survivor: Any, rules: Survivorship
) -> Any:
    """The contact whose value of ``field`` the survivor takes."""
    having = [c for c in contacts if getattr(c, field) is not None] or [survivor]
    recent = sorted(having, key=lambda c: c.updated_at, reverse=True)
    if rule == "most_complete":
        return max(recent, key=_filled)
    if rule == "priority":
        rank = {s: i for i, s in enumerate(rules.priority)}
        return min(recent, key=lambda c: rank.get(c.attributes.get("source"), len(rank)))
    if rule == "keep_all" and getattr(survivor, field) is not None:
        return survivor
    return recent[0]


def plan_merge(
    contacts: Iterable[Any],
    *,
    related: Iterable[Any] = (),
    rules: Survivorship | None = None,
    at: datetime | None = None,
) -> MergePlan:
    """The plan to merge ``contacts`` (two or more records of one person) and repoint ``related``.

    ``related`` holds the records that may point at the contacts (orders,
    interactions, tickets, survey responses, consents, campaign members);
    those pointing at a merged contact are planned to point at the
    survivor. ``at`` (timezone-aware, default now) is the merge's time.
    """
    from crmkit._args import instance, items
    from crmkit.entities import Consent, Contact
    from crmkit.entities.serde import to_dict

    group = items(contacts, "contacts", Contact)
    if len(group) < 2 or len({c.id for c in group}) != len(group):
        raise ValidationError([("contacts", "must hold two or more different contacts")])
    rules = Survivorship() if rules is None else instance(rules, Survivorship, "rules")
    if at is None:
        from datetime import timezone

        at = datetime.now(timezone.utc)
    elif not isinstance(at, datetime) or at.tzinfo is None:
        raise ValidationError([("at", "must be a timezone-aware datetime")])
    known = tuple(_types().values())
    others = items(related, "related", known)
    if any(c.erased_at is not None or "merged_into" in c.attributes for c in group):
        raise ValidationError(
            [("contacts", "holds an erased contact or one merged already: unmerge it first")]
        )
    if rules.survivor == "oldest":
        survivor = min(group, key=lambda c: (c.created_at, str(c.id)))
    else:
        survivor = max(group, key=lambda c: (_filled(c), -c.created_at.timestamp()))
    merged = [c for c in group if c.id != survivor.id]
    ids = {c.id for c in merged}
    choices, values = [], {}
    kept: dict[str, list[Any]] = {}
    for field in FIELDS:
        rule = rules.rule(field)
        source = _pick(field, rule, group, survivor, rules)
        values[field] = getattr(source, field)
        choices.append(FieldChoice(field, source.id, rule))
        if rule == "keep_all":
            others_values = {
                str(getattr(c, field)) for c in group if getattr(c, field) is not None
            } - {str(values[field])}
            if others_values:
                kept[field] = sorted(others_values)
    attributes: dict[str, Any] = {}
    for c in sorted(merged, key=lambda c: c.updated_at):
        attributes.update(c.attributes)
    attributes.update(survivor.attributes)
    if kept:
        attributes["merged_values"] = {**attributes.get("merged_values", {}), **kept}
    attributes["merged_from"] = sorted(
        {*survivor.attributes.get("merged_from", ()), *(str(i) for i in ids)}
    )
    tags = frozenset().union(*(c.tags for c in group))
    new_survivor = survivor.evolve(
        **values, tags=tags, attributes=attributes, updated_at=max(at, survivor.updated_at)
    )
    before: list[tuple[str, dict[str, Any]]] = [("Contact", to_dict(survivor))]
    after: list[tuple[str, dict[str, Any]]] = [("Contact", to_dict(new_survivor))]
    for c in merged:
        before.append(("Contact", to_dict(c)))
        marked = c.evolve(
            attributes={**c.attributes, "merged_into": str(survivor.id)},
            updated_at=max(at, c.updated_at),
        )
        after.append(("Contact", to_dict(marked)))
    # Consent: the most restrictive state wins for each purpose.
    consents = [
        r
        for r in others
        if isinstance(r, Consent) and (r.contact_id in ids or r.contact_id == survivor.id)
    ]
    withdrawn = {r.purpose for r in consents if r.withdrawn_at is not None}
    for record in others:
        changes: dict[str, Any] = {}
        field = "contact_id"
        if getattr(record, field, None) in ids:
            changes[field] = survivor.id
        if (
            isinstance(record, Consent)
            and record in consents
            and record.purpose in withdrawn
            and record.withdrawn_at is None
        ):
            changes["withdrawn_at"] = max(at, record.granted_at)
        if changes:
            before.append((type(record).__name__, to_dict(record)))
            after.append(
                (
                    type(record).__name__,
                    to_dict(record.evolve(**changes, updated_at=max(at, record.updated_at))),
                )
            )
    return MergePlan(
        survivor.id,
        tuple(c.id for c in merged),
        at,
        tuple(choices),
        tuple(before),
        tuple(after),
    )


def _stage(
    uow: Any,
    states: Sequence[tuple[str, dict[str, Any]]],
    expected: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """Save each record of ``states`` where the store holds ``expected`` (else nothing is staged)."""
    from crmkit.entities.serde import from_dict, to_dict

    if not all(callable(getattr(uow, name, None)) for name in ("repository", "record")):
        raise ValidationError([("uow", f"must be an open unit of work, got {describe(uow)}")])
    types = _types()
    loaded = []
    for (kind, state), (_, want) in zip(states, expected, strict=True):
        repo = uow.repository(types[kind])
        stored = repo.get(UUID(state["id"]))
        now = to_dict(stored)
        same = {k: v for k, v in now.items() if k not in ("version", "updated_at")} == {
            k: v for k, v in want.items() if k not in ("version", "updated_at")
        }
        if not same:
            raise ConcurrencyError(
                f"{kind} {state['id']} changed since the plan was made; nothing was saved: "
                "make a new plan"
            )
        loaded.append((repo, kind, state, stored.version))
    for repo, kind, state, version in loaded:
        repo.save(from_dict(types[kind], {**state, "version": version}))


def _carry_out(plan: Any, uow: Any, event: str, *, forward: bool) -> dict[str, Any]:
    from crmkit._args import instance

    instance(plan, MergePlan, "plan")
    states, expected = (plan.after, plan.before) if forward else (plan.before, plan.after)
    _stage(uow, states, expected)
    record = {
        "event": event,
        "survivor": str(plan.survivor),
        "merged": [str(m) for m in plan.merged],
        "at": plan.at.isoformat(),
    }
    uow.record(record)
    return record


def apply_merge(plan: MergePlan, uow: Any) -> dict[str, Any]:
    """Stage the merge in the open unit of work ``uow`` and record its event; the caller commits.

    Refuses, staging nothing, when a record changed since the plan was made.
    """
    return _carry_out(plan, uow, "contacts_merged", forward=True)


def unmerge(plan: MergePlan, uow: Any) -> dict[str, Any]:
    """Stage every record of a merge as it was before, in the open ``uow``; the caller commits.

    Refuses, staging nothing, when a record changed after the merge (its
    change would be lost).
    """
    return _carry_out(plan, uow, "contacts_unmerged", forward=False)
