"""The state-machine engine: machines as data, validated when built, fired as pure functions."""

from __future__ import annotations

import functools
import operator
import types
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn, TypeVar
from uuid import UUID

import attrs

from crmkit._args import items, text, texts
from crmkit._text import shown
from crmkit.entities import Entity
from crmkit.entities._base import utcnow
from crmkit.entities._rules import aware_argument, describe
from crmkit.errors import DefinitionError, InvalidTransition, ValidationError
from crmkit.lifecycle._hooks import STANDARD_EFFECTS, STANDARD_GUARDS, Effect, Guard

__all__ = [
    "Effect",
    "Guard",
    "Machine",
    "State",
    "Transition",
    "TransitionRecord",
]

E = TypeVar("E", bound=Entity)
_UTC = timezone.utc


@attrs.frozen
class _Layout:
    """How to copy an instance of a fully slotted attrs class with some fields changed.

    A frozen attrs class refuses attribute writes, and sets its fields in
    ``__init__`` by going around that; a moved entity is built the same way,
    through each field's slot descriptor (``__set__``, as fast as a plain
    attribute write): every field copied from the entity or taken from the
    changes, then the validators of the changed fields and the class's
    cross-field rules (``__attrs_post_init__``). The unchanged fields were
    valid already.
    """

    cls: type
    setters: tuple[Callable[[Any, Any], None], ...]  # each field's slot descriptor's __set__
    read: Callable[[Any], tuple[Any, ...]]  # every field's value, in order
    position: Mapping[str, int]
    validators: Mapping[str, tuple[attrs.Attribute[Any], Callable[..., Any]]]
    converted: frozenset[str]  # fields with a converter: changes to them go through attrs.evolve
    post_init: bool

    def new(self, values: Iterable[Any]) -> Any:
        """An instance with ``values`` (every field, in order), without running any check."""
        made: Any = object.__new__(self.cls)
        for setter, value in zip(self.setters, values, strict=True):
            setter(made, value)
        return made

    def build(self, entity: Any, changes: Mapping[str, Any]) -> Any:
        """A copy of ``entity`` with ``changes`` (fields of the class), every set field checked.

        Raises :class:`~crmkit.errors.ValidationError` listing every problem.
        """
        if not self.converted.isdisjoint(changes):
            return _evolve(entity, changes)
        values = list(self.read(entity))
        for name, value in changes.items():
            values[self.position[name]] = value
        moved = self.new(values)
        errors: list[tuple[str, str]] = []
        for name, value in changes.items():
            check = self.validators.get(name)
            if check is not None:
                attribute, validator = check
                try:
                    validator(moved, attribute, value)
                except ValidationError as exc:
                    errors.extend(exc.errors)
                except (ValueError, TypeError) as exc:  # a validator of the user's own
                    errors.append((name, str(exc) or type(exc).__name__))
        if errors:
            raise ValidationError(errors)
        if self.post_init:
            moved.__attrs_post_init__()
        return moved


def _evolve(entity: Any, changes: Mapping[str, Any]) -> Any:
    """``attrs.evolve`` (every converter and validator), its errors as a ValidationError."""
    try:
        return attrs.evolve(entity, **changes)
    except ValidationError:
        raise
    except (ValueError, TypeError) as exc:  # a validator or converter of the user's own
        raise ValidationError([("$", str(exc) or type(exc).__name__)]) from None


@functools.lru_cache(maxsize=256)
def _layout(cls: type) -> _Layout | None:
    """The :class:`_Layout` of ``cls``; ``None`` when its fields are not exactly its slots.

    A subclass defined with ``slots=False`` keeps a ``__dict__``, and a class
    with slots that are not fields (attrs' ``cache_hash``) would be copied
    incompletely: such classes move through ``attrs.evolve``.
    """
    fields = attrs.fields(cls)
    names = tuple(a.name for a in fields)
    slots: set[str] = set()
    for klass in cls.__mro__:
        declared = vars(klass).get("__slots__", ())
        slots.update((declared,) if isinstance(declared, str) else declared)
    if "__dict__" in slots or slots - {"__weakref__"} != set(names):
        return None
    descriptors = [getattr(cls, name) for name in names]
    if not all(isinstance(d, types.MemberDescriptorType) for d in descriptors):
        return None  # a field shadowed by a property or the like
    return _Layout(
        cls=cls,
        setters=tuple(d.__set__ for d in descriptors),
        read=(lambda entity: (getattr(entity, names[0]),))
        if len(names) == 1
        else operator.attrgetter(*names),
        position={name: i for i, name in enumerate(names)},
        validators={a.name: (a, a.validator) for a in fields if a.validator is not None},
        converted=frozenset(a.name for a in fields if a.converter is not None),
        post_init=getattr(cls, "__attrs_post_init__", None) is not None,
    )


def _when(at: Any) -> datetime:
    """``at`` checked (timezone-aware), or now."""
    return utcnow() if at is None else aware_argument("at", at)


def _verdict(guard: Any, verdict: Any) -> str:
    """A guard's refusal as a reason: its text, or that it said ``False``."""
    return f"guard {_named(guard)} refused" if verdict is False else str(verdict)


def _check_event(event: Any) -> None:
    if not isinstance(event, str):
        raise ValidationError([("event", f"must be an event name, got {describe(event)}")])


def _named(fn: Any) -> str:
    return getattr(fn, "__name__", repr(fn))


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(texts(value, "sources"))


def _types(value: Iterable[type[Entity]]) -> tuple[type[Entity], ...]:
    return tuple(items(value, "entity_types", of=type))


def _state_tuple(value: Iterable[State]) -> tuple[State, ...]:
    return tuple(items(value, "states"))


def _transition_tuple(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(items(value, "transitions"))


@attrs.frozen
class State:
    """One state of a machine.

    ``terminal`` states have no way out; ``outcome`` marks won / lost ends
    of a pipeline; ``probability`` is a default win probability (pipelines).
    """

    name: str
    terminal: bool = False
    outcome: str | None = None
    probability: float | None = None
    description: str | None = None


@attrs.frozen
class Transition:
    """``event`` moves an entity from any of ``sources`` to ``target``.

    ``guard`` may refuse the move with a reason; ``requires_reason`` refuses
    it when the caller gives no ``reason``; ``effect`` returns other fields
    to change with the move.
    """

    event: str
    sources: frozenset[str] = attrs.field(converter=_names)
    target: str
    guard: Guard | None = attrs.field(default=None, eq=False, hash=False)
    requires_reason: bool = False
    effect: Effect | None = attrs.field(default=None, eq=False, hash=False)


@attrs.frozen
class TransitionRecord:
    """What happened: a domain event for the unit of work's outbox, and the history to replay."""

    machine: str
    entity_type: str
    entity_id: UUID
    event: str
    from_state: str
    to_state: str
    at: datetime
    actor: str | None = None
    reason: str | None = None


class _Move:
    """One move of a machine: an entity class in one state, one event.

    Everything that depends only on those three is decided once, when the
    move is first fired (the transition, the target state and its
    probability, how to copy the class); :meth:`__call__` does what depends
    on the call: the time, the guard's verdict, the reason, the effect's
    changes, and the copy with every field it sets validated.
    """

    __slots__ = ("cls", "current", "fields", "fixed", "layout", "machine", "transition")

    def __init__(
        self,
        machine: Machine,
        cls: type,
        current: str,
        transition: Transition,
        fixed: Mapping[str, Any],
        layout: _Layout | None,
    ) -> None:
        self.machine = machine
        self.cls = cls
        self.current = current
        self.transition = transition
        self.fixed = fixed
        self.layout = layout
        self.fields = frozenset(a.name for a in attrs.fields(cls))

    def __call__(
        self,
        entity: Any,
        at: datetime | None,
        actor: str | None,
        reason: str | None,
        context: Mapping[str, Any] | None,
    ) -> tuple[Any, TransitionRecord]:
        when = at if type(at) is datetime and at.tzinfo is _UTC else _when(at)
        transition = self.transition
        ctx: dict[str, Any] | None = None
        if transition.guard is not None:
            ctx = self.machine._context(when, context)
            verdict = transition.guard(entity, ctx)
            if verdict is not None and verdict is not True:
                self._refuse(entity, _verdict(transition.guard, verdict), ctx, when, context)
        if transition.requires_reason and not (isinstance(reason, str) and reason.strip()):
            self._refuse(entity, "a reason is required", ctx, when, context)
        changes = dict(self.fixed)
        changes["updated_at"] = max(entity.updated_at, when)
        if transition.effect is not None:
            if ctx is None:
                ctx = self.machine._context(when, context)
            changes.update(self._effect(entity, {**ctx, "actor": actor, "reason": reason}))
        try:
            if self.layout is None:
                moved = _evolve(entity, changes)
            else:
                moved = self.layout.build(entity, changes)
        except ValidationError as exc:
            self._refuse(entity, f"the result would be invalid: {exc}", ctx, when, context)
        record = TransitionRecord(
            self.machine.name,
            self.cls.__name__,
            entity.id,
            transition.event,
            self.current,
            transition.target,
            when,
            actor,
            reason,
        )
        return moved, record

    def _effect(self, entity: Any, ctx: Mapping[str, Any]) -> Mapping[str, Any]:
        """The effect's changes, checked: a mapping of fields the class has."""
        effect = self.transition.effect
        changes = effect(entity, ctx)  # type: ignore[misc]
        if isinstance(changes, Mapping) and self.fields.issuperset(changes):
            return changes
        where = (
            f"machine {shown(self.machine.name)}: the effect {_named(effect)} "
            f"of event {shown(self.transition.event)}"
        )
        if not isinstance(changes, Mapping):
            raise DefinitionError(
                f"{where} must return a mapping of field changes, got {describe(changes)}"
            )
        unknown = [k for k in changes if k not in self.fields]
        raise DefinitionError(
            f"{where} changes {', '.join(map(repr, unknown))}, which "
            f"{self.cls.__name__} does not have"
        )

    def _refuse(
        self,
        entity: Any,
        why: str,
        ctx: Mapping[str, Any] | None,
        when: datetime,
        context: Mapping[str, Any] | None,
    ) -> NoReturn:
        """Raise the :class:`InvalidTransition` of a refused move (``ctx`` is built if not yet)."""
        machine = self.machine
        if ctx is None:
            ctx = machine._context(when, context)
        refusal = machine._refusal(entity, self.current, self.transition.event, why, ctx)
        raise InvalidTransition(refusal) from None


class _Plans(dict):  # type: ignore[type-arg]
    """The per-machine cache of planned moves; pickles (and deep-copies) as empty."""

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (_Plans, ())


@attrs.frozen(kw_only=True)
class Machine:
    """A state machine over one field of an entity type, validated when built.

    Parameters
    ----------
    name:
        The machine's name (``"lead"``), written into every record.
    entity_types:
        The entity classes it moves (one or more; each must have ``field``).
    field:
        The string field holding the state (``"status"``, ``"stage"``).
    states, transitions:
        The states and moves. ``initial`` names the state new entities start in.

    Raises
    ------
    DefinitionError
        For unknown or duplicate states, a transition whose (state, event) is
        already taken, a state no path reaches from ``initial``, a non-terminal
        state with no way out, a terminal state with a way out, or an entity
        type without ``field``.
    """

    name: str
    entity_types: tuple[type[Entity], ...] = attrs.field(converter=_types)
    field: str
    states: tuple[State, ...] = attrs.field(converter=_state_tuple)
    transitions: tuple[Transition, ...] = attrs.field(converter=_transition_tuple)
    initial: str
    probability_field: str | None = None
    _index: dict[tuple[str, str], Transition] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )
    _states: dict[str, State] = attrs.field(init=False, eq=False, repr=False, hash=False)
    # (event, entity class, state) -> its _Move; filled by fire
    _plans: _Plans = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        for label in ("name", "field", "initial"):
            text(getattr(self, label), label)
        if self.probability_field is not None:
            text(self.probability_field, "probability_field")
        problems: list[str] = []
        states: dict[str, State] = {}
        for s in self.states:
            if not isinstance(s, State):  # type: ignore[unreachable, unused-ignore]
                raise DefinitionError(
                    f"machine {shown(self.name)}: states must be State objects, got {describe(s)}"
                )
            if s.name in states:
                problems.append(f"state {shown(s.name)} is defined twice")
            if type(s.name) is not str or not s.name.strip() or len(s.name) > 100:
                problems.append(
                    f"state names must be non-blank strings of at most 100 characters, got {shown(s.name)}"
                )
            if s.probability is not None and not (
                type(s.probability) in (int, float) and 0 <= s.probability <= 1
            ):
                problems.append(
                    f"state {shown(s.name)}: probability must be between 0 and 1, got {shown(s.probability)}"
                )
            states[s.name] = s
        if self.initial not in states:
            problems.append(f"initial state {shown(self.initial)} is not a state")
        types: tuple[Any, ...] = self.entity_types  # checked: callers may pass anything
        for cls in types:
            if not (isinstance(cls, type) and issubclass(cls, Entity)):
                problems.append(f"{describe(cls)} is not a crmkit entity type")
            elif self.field not in attrs.fields_dict(cls):
                problems.append(f"{cls.__name__} has no field {shown(self.field)}")
            elif (
                self.probability_field is not None
                and self.probability_field not in attrs.fields_dict(cls)
            ):
                problems.append(f"{cls.__name__} has no field {shown(self.probability_field)}")
        index: dict[tuple[str, str], Transition] = {}
        for t in self.transitions:
            if not isinstance(t, Transition):
                raise DefinitionError(
                    f"machine {shown(self.name)}: transitions must be Transition objects, got {describe(t)}"
                )
            if not t.sources:
                problems.append(f"event {shown(t.event)} has no source state")
            for name in (*sorted(t.sources), t.target):
                if name not in states:
                    problems.append(f"event {shown(t.event)} names the unknown state {shown(name)}")
            for source in t.sources:
                if (source, t.event) in index:
                    problems.append(
                        f"two transitions for event {shown(t.event)} from state {shown(source)}"
                    )
                index[(source, t.event)] = t
        if not problems:
            outgoing: dict[str, set[str]] = {name: set() for name in states}
            for (source, _), t in index.items():
                outgoing[source].add(t.target)
            seen = {self.initial}
            todo = deque([self.initial])
            while todo:
                for nxt in outgoing[todo.popleft()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            for name, state in states.items():
                if name not in seen:
                    problems.append(
                        f"state {shown(name)} cannot be reached from {shown(self.initial)}"
                    )
                if state.terminal and outgoing[name]:
                    problems.append(f"terminal state {shown(name)} has a way out")
                if not state.terminal and not outgoing[name]:
                    problems.append(f"state {shown(name)} is not terminal but has no way out")
        if problems:
            raise DefinitionError(
                f"machine {shown(self.name)} is badly defined: " + "; ".join(problems)
            )
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_states", states)
        object.__setattr__(self, "_plans", _Plans())

    # looking ---------------------------------------------------------------------------

    def state(self, name: str) -> State:
        """The state called ``name``."""
        found = self._states.get(name) if type(name) is str else None
        if found is None:
            raise ValidationError(
                [("state", f"machine {shown(self.name)} has no state {shown(name)}")]
            )
        return found

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def events(self) -> tuple[str, ...]:
        """Every event, in definition order."""
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    def _current(self, entity: Any) -> str:
        if not isinstance(entity, self.entity_types):
            names = " or ".join(c.__name__ for c in self.entity_types)
            raise ValidationError(
                [("entity", f"machine {shown(self.name)} moves {names}, got {describe(entity)}")]
            )
        current: str = getattr(entity, self.field)
        if current not in self._states:
            raise InvalidTransition(
                f"{type(entity).__name__} {entity.id} is in state {shown(current)}, which machine {shown(self.name)} "
                f"does not know (states: {', '.join(self.state_names)})"
            )
        return current

    def _context(self, at: datetime, context: Mapping[str, Any] | None) -> dict[str, Any]:
        if not context:
            return {"at": at}
        ctx = dict(context)
        ctx.setdefault("at", at)
        return ctx

    @staticmethod
    def _guard_reason(transition: Transition, entity: Any, ctx: Mapping[str, Any]) -> str | None:
        if transition.guard is None:
            return None
        verdict = transition.guard(entity, ctx)
        if verdict is None or verdict is True:
            return None
        return _verdict(transition.guard, verdict)

    def allowed_events(
        self, entity: Any, *, context: Mapping[str, Any] | None = None
    ) -> tuple[str, ...]:
        """Events that would succeed now (guards included; reasons are not checked)."""
        current = self._current(entity)
        ctx = self._context(utcnow(), context)
        return tuple(
            event
            for (source, event), t in self._index.items()
            if source == current and self._guard_reason(t, entity, ctx) is None
        )

    def can_fire(
        self, entity: Any, event: str, *, context: Mapping[str, Any] | None = None
    ) -> bool:
        """Whether ``event`` would succeed now (guards included)."""
        _check_event(event)
        transition = self._index.get((self._current(entity), event))
        return (
            transition is not None
            and self._guard_reason(transition, entity, self._context(utcnow(), context)) is None
        )

    # moving ----------------------------------------------------------------------------

    def fire(
        self,
        entity: E,
        event: str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        reason: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> tuple[E, TransitionRecord]:
        """Move ``entity`` by ``event``: return the moved copy and the record of the move.

        Pure: ``entity`` itself is never changed. The copy has the new state,
        ``updated_at = at`` (default now; never earlier than before) and the
        transition's effects.

        Raises
        ------
        InvalidTransition
            When the event is not allowed in the current state, a guard refuses
            it, or a required reason is missing; the message names the state,
            the event, the reason and the events allowed there.
        """
        move: _Move
        try:
            move = self._plans[event, type(entity), getattr(entity, self.field)]
        except (KeyError, TypeError, AttributeError):  # new move or bad input: _plan says
            move = self._plan(entity, event)
        return move(entity, at, actor, reason, context)

    def _plan(self, entity: Any, event: str) -> _Move:
        """Check ``entity`` and ``event`` (raising the precise error); plan and cache the move."""
        current = self._current(entity)
        _check_event(event)
        transition = self._index.get((current, event))
        if transition is None:
            raise InvalidTransition(self._refusal(entity, current, event, "no such move"))
        fixed: dict[str, Any] = {self.field: transition.target}
        target = self._states[transition.target]
        if self.probability_field is not None and target.probability is not None:
            fixed[self.probability_field] = target.probability
        cls: type = type(entity)
        move = _Move(self, cls, current, transition, fixed, _layout(cls))
        self._plans[event, cls, current] = move
        return move

    def _refusal(
        self, entity: Any, current: str, event: str, why: str, ctx: Mapping[str, Any] | None = None
    ) -> str:
        allowed = [
            e
            for (s, e), t in self._index.items()
            if s == current
            and self._guard_reason(t, entity, ctx or self._context(utcnow(), None)) is None
        ]
        where = f"{type(entity).__name__} {entity.id} in state {shown(current)}"
        return (
            f"cannot {shown(event)} {where}: {why}; "
            f"allowed there: {', '.join(repr(e) for e in allowed) or 'nothing (a final state)'}"
        )

    def replay(self, records: Iterable[TransitionRecord], *, start: str | None = None) -> str:
        """The state that the history ``records`` leads to, from ``start`` (default: the initial state).

        Raises :class:`~crmkit.errors.InvalidTransition` when a record does not
        follow from the state before it.
        """
        state = self.initial if start is None else self.state(start).name
        for i, record in enumerate(items(records, "records", of=TransitionRecord)):
            transition = self._index.get((state, record.event))
            if (
                record.from_state != state
                or transition is None
                or transition.target != record.to_state
            ):
                raise InvalidTransition(
                    f"record {i} ({shown(record.event)}: {shown(record.from_state)} -> {shown(record.to_state)}) "
                    f"does not follow from state {shown(state)} in machine {shown(self.name)}"
                )
            state = record.to_state
        return state

    # pictures ---------------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the machine, for docs.

        >>> from crmkit.lifecycle import TICKET
        >>> print(TICKET.to_mermaid().splitlines()[1])
            [*] --> new
        """
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            label = t.event + (f" [{_named(t.guard)}]" if t.guard is not None else "")
            if t.requires_reason:
                label += " (reason)"
            for source in sorted(t.sources, key=self.state_names.index):
                lines.append(f"    {source} --> {t.target}: {label}")
        for s in self.states:
            if s.terminal:
                lines.append(f"    {s.name} --> [*]")
        return "\n".join(lines)

    # deriving ----------------------------------------------------------------------------

    def derive(self, **changes: Any) -> Machine:
        """A copy with ``changes`` (any constructor argument), validated again."""
        fields: dict[str, Any] = {
            "name": self.name,
            "entity_types": self.entity_types,
            "field": self.field,
            "states": self.states,
            "transitions": self.transitions,
            "initial": self.initial,
            "probability_field": self.probability_field,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise ValidationError([(k, "not a Machine argument") for k in sorted(unknown)])
        fields.update(changes)
        return Machine(**fields)

    def with_states(self, *states: State, transitions: Iterable[Transition] = ()) -> Machine:
        """Add states (and the transitions that connect them)."""
        return self.derive(
            states=(*self.states, *states), transitions=(*self.transitions, *transitions)
        )

    def with_transitions(self, *transitions: Transition) -> Machine:
        """Add transitions."""
        return self.derive(transitions=(*self.transitions, *transitions))

    def without_state(self, name: str, *, rewire: Mapping[str, str] | None = None) -> Machine:
        """Drop a state and every move into it; moves out of it lose it as a source.

        ``rewire`` redirects events that led into the dropped state to another
        state (``{"needs_analysis": "proposal"}`` keeps the pipeline connected).
        """
        self.state(name)
        rewire = dict(rewire or {})
        kept: list[Transition] = []
        for t in self.transitions:
            sources = t.sources - {name}
            target = rewire.get(t.target, t.target) if t.target == name else t.target
            if target == name or not sources:
                continue
            kept.append(attrs.evolve(t, sources=sources, target=target))
        return self.derive(states=tuple(s for s in self.states if s.name != name), transitions=kept)

    def rename_state(self, old: str, new: str) -> Machine:
        """Rename a state everywhere it appears."""
        state = self.state(old)
        new = text(new, "new")

        def swap(n: str) -> str:
            return new if n == old else n

        return self.derive(
            states=tuple(attrs.evolve(s, name=new) if s is state else s for s in self.states),
            transitions=tuple(
                attrs.evolve(
                    t, sources=frozenset(swap(x) for x in t.sources), target=swap(t.target)
                )
                for t in self.transitions
            ),
            initial=swap(self.initial),
        )

    def without_transition(self, event: str, *, source: str | None = None) -> Machine:
        """Drop the transitions of ``event`` (only from ``source`` if given)."""
        _check_event(event)
        if source is not None:
            self.state(source)
        out: list[Transition] = []
        for t in self.transitions:
            if t.event != event:
                out.append(t)
            elif source is not None and source in t.sources and len(t.sources) > 1:
                out.append(attrs.evolve(t, sources=t.sources - {source}))
            elif source is not None and source not in t.sources:
                out.append(t)
        return self.derive(transitions=out)

    def with_guard(self, event: str, guard: Guard | None) -> Machine:
        """Set (or, with ``None``, remove) the guard of every transition of ``event``."""
        _check_event(event)
        if guard is not None and not callable(guard):
            raise ValidationError([("guard", f"must be a callable or None, got {describe(guard)}")])
        if event not in self.events:
            raise ValidationError(
                [("event", f"machine {shown(self.name)} has no event {shown(event)}")]
            )
        return self.derive(
            transitions=tuple(
                attrs.evolve(t, guard=guard) if t.event == event else t for t in self.transitions
            )
        )

    # plain data ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The machine as plain data (guards and effects by their function names)."""
        return {
            "name": self.name,
            "entity_types": [c.__name__ for c in self.entity_types],
            "field": self.field,
            "initial": self.initial,
            "probability_field": self.probability_field,
            "states": [attrs.asdict(s) for s in self.states],
            "transitions": [
                {
                    "event": t.event,
                    "sources": sorted(t.sources, key=self.state_names.index),
                    "target": t.target,
                    "guard": None if t.guard is None else _named(t.guard),
                    "requires_reason": t.requires_reason,
                    "effect": None if t.effect is None else _named(t.effect),
                }
                for t in self.transitions
            ],
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        guards: Mapping[str, Guard] | None = None,
        effects: Mapping[str, Effect] | None = None,
    ) -> Machine:
        """Build a machine from :meth:`to_dict` data (from your config or database).

        Guards and effects are looked up by name in ``guards`` / ``effects``
        and in crmkit's standard ones. Raises :class:`~crmkit.errors.DefinitionError`
        for anything that does not fit.
        """
        from crmkit.entities import ENTITY_TYPES

        guard_table = {**STANDARD_GUARDS, **(guards or {})}
        effect_table = {**STANDARD_EFFECTS, **(effects or {})}
        types = {t.__name__: t for t in ENTITY_TYPES}
        try:
            states = tuple(State(**s) for s in data["states"])
            transitions = []
            for t in data["transitions"]:
                guard = t.get("guard")
                effect = t.get("effect")
                if guard is not None and guard not in guard_table:
                    raise DefinitionError(f"unknown guard {shown(guard)}: pass it in guards=")
                if effect is not None and effect not in effect_table:
                    raise DefinitionError(f"unknown effect {shown(effect)}: pass it in effects=")
                transitions.append(
                    Transition(
                        event=t["event"],
                        sources=frozenset(t["sources"]),
                        target=t["target"],
                        guard=None if guard is None else guard_table[guard],
                        requires_reason=bool(t.get("requires_reason", False)),
                        effect=None if effect is None else effect_table[effect],
                    )
                )
            return cls(
                name=data["name"],
                entity_types=tuple(types[n] for n in data["entity_types"]),
                field=data["field"],
                states=states,
                transitions=tuple(transitions),
                initial=data["initial"],
                probability_field=data.get("probability_field"),
            )
        except DefinitionError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise DefinitionError(
                f"not a machine definition: {type(exc).__name__}: {exc}"
            ) from None
