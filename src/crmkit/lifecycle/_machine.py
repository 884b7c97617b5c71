"""The state-machine engine: machines as data, validated when built, fired as pure functions."""

from __future__ import annotations

import functools
import types
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar
from uuid import UUID

import attrs

from crmkit.entities import Entity
from crmkit.entities._base import utcnow
from crmkit.entities._rules import aware_argument, describe
from crmkit.errors import DefinitionError, InvalidTransition, ValidationError

__all__ = [
    "Guard",
    "Machine",
    "State",
    "Transition",
    "TransitionRecord",
]

E = TypeVar("E", bound=Entity)
_UTC = timezone.utc

#: A guard looks at the entity and the firing context (which always holds ``"at"``)
#: and returns ``None`` (or ``True``) to allow the move, or a reason (or ``False``) to refuse it.
Guard = Callable[[Any, Mapping[str, Any]], "str | bool | None"]
#: An effect gives the other fields a move changes (``{"resolved_at": ctx["at"]}``); its
#: context holds ``"at"``, ``"actor"`` and ``"reason"`` besides the caller's context.
Effect = Callable[[Any, Mapping[str, Any]], Mapping[str, Any]]


@functools.lru_cache(maxsize=64)
def _slot_setters(cls: type) -> tuple[tuple[str, Callable[[Any, Any], None]], ...] | None:
    """Each attrs field of ``cls`` with its slot's setter.

    ``None`` when a field is not a slot (a subclass defined with
    ``slots=False``) or the class has slots that are not fields (attrs'
    ``cache_hash``): a copy of the fields alone would be incomplete there,
    and the general path (``attrs.evolve``) handles such classes.
    """
    names = {a.name for a in attrs.fields(cls)}
    slots: set[str] = set()
    for klass in cls.__mro__:
        declared = vars(klass).get("__slots__", ())
        slots.update((declared,) if isinstance(declared, str) else declared)
    if not slots - {"__weakref__", "__dict__"} <= names:
        return None
    setters = []
    for a in attrs.fields(cls):
        descriptor: Any = getattr(cls, a.name, None)
        if not isinstance(descriptor, types.MemberDescriptorType):
            return None
        setters.append((a.name, descriptor.__set__))
    return tuple(setters)


@functools.lru_cache(maxsize=256)
def _draft_class(cls: type) -> type | None:
    """A private subclass of ``cls`` whose instances take plain attribute writes, or ``None``.

    A frozen attrs class refuses ``obj.name = value`` in its ``__setattr__``;
    its draft restores ``object.__setattr__`` (and ``__delattr__``: both fill
    one type slot), adds no slots of its own and so has the very same
    layout. A copy is filled in as a draft, with the interpreter's fast slot
    stores, then its ``__class__`` is set back to ``cls`` before anybody
    sees it. (The draft is the one trace: ``cls.__subclasses__()`` lists
    it once a move of a ``cls`` has run.) ``None`` (use the slot
    descriptors) when ``cls`` is not fully slotted, has a metaclass or an
    ``__init_subclass__`` hook that a new subclass would run, or refuses
    the ``__class__`` change.
    """
    if type(cls) is not type or _slot_setters(cls) is None:
        return None
    if any("__init_subclass__" in vars(klass) for klass in cls.__mro__[:-1]):
        return None
    draft = type(
        f"_{cls.__name__}Draft",
        (cls,),
        {
            "__slots__": (),
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": __name__,
            "__doc__": f"Private: a {cls.__name__} being filled in by crmkit.lifecycle.",
        },
    )
    probe: Any = object.__new__(draft)
    try:
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - a layout CPython will not swap
        return None
    return draft


def _fill_lines(
    cls: type, var: str, exprs: Mapping[str, str], namespace: dict[str, Any], tag: str
) -> list[str] | None:
    """Source lines (indented once) that set ``var`` to a new ``cls`` whose fields are ``exprs``.

    ``exprs`` maps every field to the expression that gives it. The object
    is filled in as the draft class when there is one (plain slot stores),
    else through each slot's descriptor; ``None`` when ``cls`` is not fully
    slotted. The names the lines use are added to ``namespace``, prefixed
    with ``tag``.
    """
    setters = _slot_setters(cls)
    if setters is None:
        return None
    draft = _draft_class(cls)
    namespace["_new"] = object.__new__
    namespace[f"_{tag}cls"] = cls
    namespace[f"_{tag}draft"] = draft
    lines = [f"    {var} = _new(_{tag}{'cls' if draft is None else 'draft'})"]
    for i, (field, setter) in enumerate(setters):
        if draft is None:
            namespace[f"_{tag}s{i}"] = setter
            lines.append(f"    _{tag}s{i}({var}, {exprs[field]})")
        else:
            lines.append(f"    {var}.{field} = {exprs[field]}")
    if draft is not None:
        lines.append(f"    {var}.__class__ = _{tag}cls")
    return lines


def _generate(name: str, params: str, body: list[str], namespace: dict[str, Any]) -> Any:
    """Compile ``def name(params): body`` in ``namespace`` and return the function."""
    source = "\n".join([f"def {name}({params}):", *body]) + "\n"
    exec(compile(source, f"<crmkit.lifecycle {name}>", "exec"), namespace)
    return namespace[name]


def _entity_exprs(
    cls: type, fixed: tuple[tuple[str, Any], ...], dynamic: Iterable[str], namespace: dict[str, Any]
) -> dict[str, str]:
    """Each field of a moved ``cls``: a ``fixed`` constant, ``changes[...]``, or the entity's own."""
    exprs: dict[str, str] = {}
    constants = dict(fixed)
    for a in attrs.fields(cls):
        if a.name == "updated_at":
            exprs[a.name] = "updated_at"
        elif a.name in constants:
            namespace[f"_v_{a.name}"] = constants[a.name]
            exprs[a.name] = f"_v_{a.name}"
        elif a.name in dynamic:
            exprs[a.name] = f"changes[{a.name!r}]"
        else:
            exprs[a.name] = f"entity.{a.name}"
    return exprs


@functools.lru_cache(maxsize=512)
def _applier(
    cls: type, fixed: tuple[tuple[str, Any], ...], keys: tuple[str, ...]
) -> Callable[[Any, datetime, Mapping[str, Any]], Any]:
    """A generated ``apply(entity, updated_at, changes)``: the moved copy with an effect's ``changes``.

    The ``fixed`` fields (the target state, its probability) are baked in,
    ``keys`` (the fields an effect changed) are read from ``changes`` and the
    rest are the entity's own. The unchanged fields were valid already, so
    only the validators of ``keys`` run, then the class's cross-field rules
    (``__attrs_post_init__``). A change to a field with a converter, or to a
    field the move itself sets, and a class that is not fully slotted go
    through ``attrs.evolve`` (every validator). Raises
    :class:`~crmkit.errors.ValidationError` listing every problem. ``keys``
    must be fields of ``cls``.
    """
    fields = attrs.fields_dict(cls)
    namespace: dict[str, Any] = {
        "_ValidationError": ValidationError,
        "_evolve": attrs.evolve,
        "_fixed": dict(fixed),
    }
    lines = None
    if not any(
        fields[k].converter is not None or k in dict(fixed) or k == "updated_at" for k in keys
    ):
        lines = _fill_lines(
            cls, "moved", _entity_exprs(cls, fixed, keys, namespace), namespace, "e"
        )
    if lines is None:
        lines = ["    return _evolve(entity, **{**_fixed, 'updated_at': updated_at, **changes})"]
    else:
        lines.append("    errors = None")
        for i, key in enumerate(keys):
            if fields[key].validator is not None:
                namespace[f"_a{i}"] = fields[key]
                namespace[f"_c{i}"] = fields[key].validator
                lines += [
                    "    try:",
                    f"        _c{i}(moved, _a{i}, changes[{key!r}])",
                    "    except _ValidationError as exc:",
                    "        errors = [*(errors or ()), *exc.errors]",
                ]
        lines += ["    if errors:", "        raise _ValidationError(errors)"]
        if getattr(cls, "__attrs_post_init__", None) is not None:
            lines.append("    moved.__attrs_post_init__()")
        lines.append("    return moved")
    return _generate(  # type: ignore[no-any-return]
        "apply", "entity, updated_at, changes", lines, namespace
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
    return frozenset(value)


def _types(value: Iterable[type[Entity]]) -> tuple[type[Entity], ...]:
    return tuple(value)


def _state_tuple(value: Iterable[State]) -> tuple[State, ...]:
    return tuple(value)


def _transition_tuple(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(value)


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


#: A compiled move: ``move(entity, at, actor, reason, context) -> (moved, record)``.
_Move = Callable[[Any, Any, Any, Any, Any], "tuple[Any, TransitionRecord]"]


class _Plans(dict):  # type: ignore[type-arg]
    """The per-machine cache of compiled moves; pickles (and deep-copies) as empty."""

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
    # event -> entity class -> state -> compiled move (see _compile); filled by fire
    _plans: _Plans = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        states: dict[str, State] = {}
        for s in self.states:
            if not isinstance(s, State):  # type: ignore[unreachable, unused-ignore]
                raise DefinitionError(
                    f"machine {self.name!r}: states must be State objects, got {describe(s)}"
                )
            if s.name in states:
                problems.append(f"state {s.name!r} is defined twice")
            if type(s.name) is not str or not s.name.strip() or len(s.name) > 100:
                problems.append(
                    f"state names must be non-blank strings of at most 100 characters, got {s.name!r}"
                )
            if s.probability is not None and not (
                type(s.probability) in (int, float) and 0 <= s.probability <= 1
            ):
                problems.append(
                    f"state {s.name!r}: probability must be between 0 and 1, got {s.probability!r}"
                )
            states[s.name] = s
        if self.initial not in states:
            problems.append(f"initial state {self.initial!r} is not a state")
        types: tuple[Any, ...] = self.entity_types  # checked: callers may pass anything
        for cls in types:
            if not (isinstance(cls, type) and issubclass(cls, Entity)):
                problems.append(f"{describe(cls)} is not a crmkit entity type")
            elif self.field not in attrs.fields_dict(cls):
                problems.append(f"{cls.__name__} has no field {self.field!r}")
            elif (
                self.probability_field is not None
                and self.probability_field not in attrs.fields_dict(cls)
            ):
                problems.append(f"{cls.__name__} has no field {self.probability_field!r}")
        index: dict[tuple[str, str], Transition] = {}
        for t in self.transitions:
            if not isinstance(t, Transition):
                raise DefinitionError(
                    f"machine {self.name!r}: transitions must be Transition objects, got {describe(t)}"
                )
            if not t.sources:
                problems.append(f"event {t.event!r} has no source state")
            for name in (*sorted(t.sources), t.target):
                if name not in states:
                    problems.append(f"event {t.event!r} names the unknown state {name!r}")
            for source in t.sources:
                if (source, t.event) in index:
                    problems.append(f"two transitions for event {t.event!r} from state {source!r}")
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
                    problems.append(f"state {name!r} cannot be reached from {self.initial!r}")
                if state.terminal and outgoing[name]:
                    problems.append(f"terminal state {name!r} has a way out")
                if not state.terminal and not outgoing[name]:
                    problems.append(f"state {name!r} is not terminal but has no way out")
        if problems:
            raise DefinitionError(f"machine {self.name!r} is badly defined: " + "; ".join(problems))
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_states", states)
        object.__setattr__(self, "_plans", _Plans())

    # looking ---------------------------------------------------------------------------

    def state(self, name: str) -> State:
        """The state called ``name``."""
        try:
            return self._states[name]
        except KeyError:
            raise ValidationError(
                [("state", f"machine {self.name!r} has no state {name!r}")]
            ) from None

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
                [("entity", f"machine {self.name!r} moves {names}, got {describe(entity)}")]
            )
        current: str = getattr(entity, self.field)
        if current not in self._states:
            raise InvalidTransition(
                f"{type(entity).__name__} {entity.id} is in state {current!r}, which machine {self.name!r} "
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
        try:
            move = self._plans[event][type(entity)][getattr(entity, self.field)]
        except (KeyError, TypeError, AttributeError):  # new move or bad input: _plan says
            move = self._plan(entity, event)
        return move(entity, at, actor, reason, context)  # type: ignore[no-any-return]

    def _plan(self, entity: Any, event: str) -> _Move:
        """Check ``entity`` and ``event`` (raising the precise error); compile and cache the move."""
        current = self._current(entity)
        _check_event(event)
        transition = self._index.get((current, event))
        if transition is None:
            raise InvalidTransition(self._refusal(entity, current, event, "no such move"))
        move = self._compile(type(entity), current, transition)
        self._plans.setdefault(event, {}).setdefault(type(entity), {})[current] = move
        return move

    def _compile(self, cls: type, current: str, transition: Transition) -> _Move:
        """Generate the move of a ``cls`` in state ``current`` by ``transition``.

        The generated function does what :meth:`fire` promises with every
        decision that depends only on (class, state, event) taken here: which
        guard to ask, whether a reason is required, the target state and its
        probability as constants, and the copy and the record written field
        by field (see :func:`_fill_lines`). What depends on the call (``at``,
        the guard's verdict, the effect's changes) is checked in it.
        """
        event = transition.event
        fixed: tuple[tuple[str, Any], ...] = ((self.field, transition.target),)
        target = self._states[transition.target]
        if self.probability_field is not None and target.probability is not None:
            fixed += ((self.probability_field, target.probability),)
        ns: dict[str, Any] = {
            "_datetime": datetime,
            "_UTC": _UTC,
            "_when": _when,
            "_context": self._context,
            "_guard": transition.guard,
            "_effect": transition.effect,
            "_verdict": functools.partial(_verdict, transition.guard),
            "_refuse": functools.partial(self._refuse, current=current, event=event),
            "_apply_for": functools.partial(self._apply_for, cls, event, transition, fixed),
            "_by_keys": {},
            "_ValidationError": ValidationError,
            "_machine": self.name,
            "_type": cls.__name__,
            "_event": event,
            "_from": current,
            "_to": transition.target,
        }
        # The copy with an effect's changes (or, for a class that is not fully slotted,
        # every move) is made by an applier whose ValidationError refuses the move.
        checked_apply = [
            "    try:",
            "        moved = apply(entity, updated_at, changes)",
            "    except _ValidationError as exc:",
            "        _refuse(entity, f'the result would be invalid: {exc}', ctx, when, context)",
        ]
        body = [
            "    if at.__class__ is _datetime and at.tzinfo is _UTC:",
            "        when = at",
            "    else:",
            "        when = _when(at)",
            "    ctx = None",
        ]
        if transition.guard is not None:
            body += [
                "    ctx = _context(when, context) if context else {'at': when}",
                "    verdict = _guard(entity, ctx)",
                "    if verdict is not None and verdict is not True:",
                "        _refuse(entity, _verdict(verdict), ctx, when, context)",
            ]
        if transition.requires_reason:
            body += [
                "    if not (isinstance(reason, str) and reason.strip()):",
                "        _refuse(entity, 'a reason is required', ctx, when, context)",
            ]
        body += [
            "    updated_at = entity.updated_at",
            "    if not updated_at > when:",
            "        updated_at = when",
        ]
        if transition.effect is not None:
            body += [
                "    if context:",
                "        ctx = _context(when, context)",
                "        changes = _effect(entity, {**ctx, 'actor': actor, 'reason': reason})",
                "    else:",
                "        changes = _effect(entity, {'at': when, 'actor': actor, 'reason': reason})",
                "    apply = _by_keys.get(tuple(changes)) if changes.__class__ is dict else None",
                "    if apply is None:",
                "        apply = _apply_for(_by_keys, changes)",
                *checked_apply,
            ]
        else:
            copy = _fill_lines(cls, "moved", _entity_exprs(cls, fixed, (), ns), ns, "e")
            if copy is None:  # not fully slotted: attrs.evolve, which checks every field
                ns["apply"], ns["changes"] = _applier(cls, fixed, ()), {}
                copy = checked_apply
            body += copy
        record = _fill_lines(
            TransitionRecord,
            "record",
            {
                "machine": "_machine",
                "entity_type": "_type",
                "entity_id": "entity.id",
                "event": "_event",
                "from_state": "_from",
                "to_state": "_to",
                "at": "when",
                "actor": "actor",
                "reason": "reason",
            },
            ns,
            "r",
        )
        assert record is not None  # TransitionRecord is slotted
        body += [*record, "    return moved, record"]
        return _generate(  # type: ignore[no-any-return]
            "move", "entity, at, actor, reason, context", body, ns
        )

    def _refuse(
        self,
        entity: Any,
        why: str,
        ctx: Mapping[str, Any] | None,
        when: datetime,
        context: Mapping[str, Any] | None,
        *,
        current: str,
        event: str,
    ) -> None:
        """Raise the :class:`InvalidTransition` of a refused move (``ctx`` is built if not yet)."""
        if ctx is None:
            ctx = self._context(when, context)
        raise InvalidTransition(self._refusal(entity, current, event, why, ctx)) from None

    def _apply_for(
        self,
        cls: type,
        event: str,
        transition: Transition,
        fixed: tuple[tuple[str, Any], ...],
        by_keys: dict[tuple[str, ...], Callable[..., Any]],
        changes: Any,
    ) -> Callable[[Any, datetime, Mapping[str, Any]], Any]:
        """The applier of an effect's ``changes`` (checked here once per set of keys)."""
        if not isinstance(changes, Mapping):
            raise DefinitionError(
                f"machine {self.name!r}: the effect {_named(transition.effect)} of event {event!r} "
                f"must return a mapping of field changes, got {describe(changes)}"
            )
        keys = tuple(changes)
        apply = by_keys.get(keys)
        if apply is None:
            fields = attrs.fields_dict(cls)
            unknown = [k for k in keys if k not in fields]
            if unknown:
                raise DefinitionError(
                    f"machine {self.name!r}: the effect {_named(transition.effect)} of event "
                    f"{event!r} changes {', '.join(map(repr, unknown))}, which {cls.__name__} "
                    "does not have"
                )
            apply = by_keys[keys] = _applier(cls, fixed, keys)
        return apply

    def _refusal(
        self, entity: Any, current: str, event: str, why: str, ctx: Mapping[str, Any] | None = None
    ) -> str:
        allowed = [
            e
            for (s, e), t in self._index.items()
            if s == current
            and self._guard_reason(t, entity, ctx or self._context(utcnow(), None)) is None
        ]
        where = f"{type(entity).__name__} {entity.id} in state {current!r}"
        return (
            f"cannot {event!r} {where}: {why}; "
            f"allowed there: {', '.join(repr(e) for e in allowed) or 'nothing (a final state)'}"
        )

    def replay(self, records: Iterable[TransitionRecord], *, start: str | None = None) -> str:
        """The state that the history ``records`` leads to, from ``start`` (default: the initial state).

        Raises :class:`~crmkit.errors.InvalidTransition` when a record does not
        follow from the state before it.
        """
        state = self.initial if start is None else start
        for i, record in enumerate(records):
            transition = self._index.get((state, record.event))
            if (
                record.from_state != state
                or transition is None
                or transition.target != record.to_state
            ):
                raise InvalidTransition(
                    f"record {i} ({record.event!r}: {record.from_state!r} -> {record.to_state!r}) "
                    f"does not follow from state {state!r} in machine {self.name!r}"
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
        if event not in self.events:
            raise ValidationError([("event", f"machine {self.name!r} has no event {event!r}")])
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
        from crmkit.lifecycle._standard import STANDARD_EFFECTS, STANDARD_GUARDS

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
                    raise DefinitionError(f"unknown guard {guard!r}: pass it in guards=")
                if effect is not None and effect not in effect_table:
                    raise DefinitionError(f"unknown effect {effect!r}: pass it in effects=")
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
