from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit.entities import Account, Contact, Lead, Money, Opportunity, Ticket
from crmkit.entities.serde import from_dict, to_dict
from crmkit.errors import DefinitionError, InvalidTransition, ValidationError
from crmkit.lifecycle import (
    CUSTOMER_LIFECYCLE,
    LEAD,
    OPPORTUNITY_PIPELINE,
    TICKET,
    Machine,
    State,
    Transition,
    TransitionRecord,
    ticket_machine,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def deal() -> Opportunity:
    return Opportunity(name="Deal", account_id=uuid4(), amount=Money("1000", "EUR"), created_at=T0)


# ---------------------------------------------------------------- definitions are validated


def _tiny(**changes: Any) -> Machine:
    spec: dict[str, Any] = {
        "name": "tiny",
        "entity_types": (Lead,),
        "field": "status",
        "initial": "new",
        "states": (State("new"), State("done", terminal=True)),
        "transitions": (Transition("finish", {"new"}, "done"),),
    }
    spec.update(changes)
    return Machine(**spec)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"initial": "start"}, "initial state 'start' is not a state"),
        ({"states": (State("new"), State("new"), State("done", terminal=True))}, "defined twice"),
        ({"transitions": (Transition("finish", {"new"}, "gone"),)}, "unknown state 'gone'"),
        (
            {"states": (State("new"), State("done", terminal=True), State("limbo"))},
            "'limbo' cannot be reached",
        ),
        ({"states": (State("new"), State("done"))}, "'done' is not terminal but has no way out"),
        (
            {
                "transitions": (
                    Transition("finish", {"new"}, "done"),
                    Transition("finish", {"new"}, "new"),
                )
            },
            "two transitions for event 'finish' from state 'new'",
        ),
        (
            {
                "transitions": (
                    Transition("finish", {"new"}, "done"),
                    Transition("undo", {"done"}, "new"),
                )
            },
            "terminal state 'done' has a way out",
        ),
        ({"field": "stage"}, "Lead has no field 'stage'"),
        ({"transitions": (Transition("finish", set(), "done"),)}, "no source state"),
    ],
)
def test_bad_definitions_are_refused(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        _tiny(**changes)
    assert fragment in str(info.value)


def test_standard_machines_are_valid_and_complete() -> None:
    for machine in (LEAD, OPPORTUNITY_PIPELINE, CUSTOMER_LIFECYCLE, TICKET):
        assert machine.derive() == machine
    assert {s.name for s in OPPORTUNITY_PIPELINE.states if s.outcome} == {
        "closed_won",
        "closed_lost",
    }
    assert all(s.probability is not None for s in OPPORTUNITY_PIPELINE.states)
    assert set(CUSTOMER_LIFECYCLE.state_names) >= {
        "awareness",
        "acquisition",
        "conversion",
        "retention",
        "loyalty",
        "churned",
        "win_back",
        "terminated",
    }
    assert TICKET.state_names == ("new", "open", "pending", "on_hold", "solved", "closed")


# ---------------------------------------------------------------- firing


def test_fire_is_pure_and_records_the_move() -> None:
    lead = Lead(company="Initech", email="p@initech.example", created_at=T0)
    moved, record = LEAD.fire(lead, "contact", at=T0 + timedelta(hours=1), actor="rep-7")
    assert lead.status == "new"
    assert moved.status == "contacted" and moved.updated_at == T0 + timedelta(hours=1)
    assert record == TransitionRecord(
        machine="lead",
        entity_type="Lead",
        entity_id=lead.id,
        event="contact",
        from_state="new",
        to_state="contacted",
        at=T0 + timedelta(hours=1),
        actor="rep-7",
    )
    assert from_dict(TransitionRecord, to_dict(record)) == record


def test_refusals_name_state_event_reason_and_allowed_events() -> None:
    lead = Lead(company="Initech", created_at=T0)  # no e-mail, no phone
    with pytest.raises(InvalidTransition) as info:
        LEAD.fire(lead, "qualify", at=T0)
    text = str(info.value)
    assert "'qualify'" in text and "state 'new'" in text
    assert "needs an e-mail address or a phone number" in text
    assert "allowed there: 'contact', 'disqualify'" in text
    with pytest.raises(InvalidTransition, match="a reason is required"):
        LEAD.fire(lead, "disqualify", at=T0)
    with pytest.raises(InvalidTransition, match="no such move"):
        LEAD.fire(lead, "convert", at=T0)
    moved, _ = LEAD.fire(lead, "disqualify", at=T0, reason="no budget")
    assert moved.disqualified_reason == "no budget"
    assert LEAD.fire(moved, "reopen", at=T0)[0].disqualified_reason is None


def test_allowed_events_and_can_fire_respect_guards() -> None:
    unreachable = Lead(company="Initech")
    reachable = Lead(company="Initech", phone="+442079460958")
    assert "qualify" not in LEAD.allowed_events(unreachable)
    assert "qualify" in LEAD.allowed_events(reachable)
    assert LEAD.can_fire(reachable, "qualify") and not LEAD.can_fire(unreachable, "qualify")
    assert not LEAD.can_fire(reachable, "no-such-event")


def test_an_event_that_is_not_a_name_is_refused_clearly() -> None:
    lead = Lead(company="Initech", created_at=T0)
    for event in (["contact"], None, 3):
        with pytest.raises(ValidationError, match="event: must be an event name"):
            LEAD.fire(lead, event, at=T0)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="event: must be an event name"):
            LEAD.can_fire(lead, event)  # type: ignore[arg-type]


def test_unknown_state_and_wrong_entity() -> None:
    with pytest.raises(InvalidTransition, match="does not know"):
        LEAD.fire(Lead(company="X", status="zombie"), "contact")
    with pytest.raises(ValidationError, match="moves Lead"):
        LEAD.fire(Contact(first_name="A"), "contact")  # type: ignore[type-var]
    with pytest.raises(ValidationError, match="timezone-aware"):
        LEAD.fire(Lead(company="X"), "contact", at=datetime(2026, 1, 1))


def test_pipeline_sets_probability_and_closes_with_a_reason() -> None:
    d = deal()
    d, _ = OPPORTUNITY_PIPELINE.fire(d, "qualify", at=T0)
    assert (d.stage, d.probability) == ("qualification", 0.2)
    with pytest.raises(InvalidTransition, match="reason"):
        OPPORTUNITY_PIPELINE.fire(d, "lose", at=T0)
    lost, record = OPPORTUNITY_PIPELINE.fire(d, "lose", at=T0 + timedelta(days=3), reason="price")
    assert (lost.stage, lost.probability, lost.close_reason) == ("closed_lost", 0.0, "price")
    assert lost.closed_at == T0 + timedelta(days=3)
    assert record.reason == "price"


def test_customer_lifecycle_terminate_needs_a_reason_and_works_for_accounts() -> None:
    acme = Account(name="Acme")
    acme, _ = CUSTOMER_LIFECYCLE.fire(acme, "acquire")
    with pytest.raises(InvalidTransition, match="reason"):
        CUSTOMER_LIFECYCLE.fire(acme, "terminate")
    ended, _ = CUSTOMER_LIFECYCLE.fire(acme, "terminate", reason="fraud")
    assert ended.lifecycle_stage == "terminated"
    assert CUSTOMER_LIFECYCLE.allowed_events(ended) == ()


def test_ticket_reopen_window() -> None:
    t = Ticket(subject="Broken", contact_id=uuid4(), created_at=T0)
    t, _ = TICKET.fire(t, "open", at=T0 + timedelta(minutes=5))
    assert t.first_response_at == T0 + timedelta(minutes=5)
    t, _ = TICKET.fire(t, "solve", at=T0 + timedelta(hours=2))
    assert t.resolved_at == T0 + timedelta(hours=2)
    again, _ = TICKET.fire(t, "reopen", at=T0 + timedelta(days=6))
    assert again.status == "open" and again.resolved_at is None
    with pytest.raises(InvalidTransition, match="solved more than 7 days"):
        TICKET.fire(t, "reopen", at=T0 + timedelta(days=8))
    short = ticket_machine(reopen_window=timedelta(days=1))
    with pytest.raises(InvalidTransition, match="1 day"):
        short.fire(t, "reopen", at=T0 + timedelta(days=2))
    closed, _ = TICKET.fire(t, "close", at=T0 + timedelta(days=1))
    with pytest.raises(InvalidTransition, match="a final state"):
        TICKET.fire(closed, "reopen", at=T0 + timedelta(days=1))


def test_replay_rebuilds_and_checks_history() -> None:
    lead = Lead(company="Initech", email="p@initech.example")
    history = []
    for event in ("contact", "qualify", "convert"):
        lead, record = LEAD.fire(lead, event)
        history.append(record)
    assert LEAD.replay(history) == "converted"
    with pytest.raises(InvalidTransition, match="record 0"):
        LEAD.replay(history[1:])


# ---------------------------------------------------------------- customising


def test_derive_a_custom_pipeline() -> None:
    def needs_budget(opportunity: Any, ctx: Any) -> str | None:
        return None if opportunity.amount.amount > 0 else "a proposal needs a budget"

    custom = (
        OPPORTUNITY_PIPELINE.without_state("needs_analysis")
        .rename_state("negotiation", "contracting")
        .with_states(
            State("verbal_yes", probability=0.9),
            transitions=[
                Transition("agree", {"contracting"}, "verbal_yes"),
                Transition("win", {"verbal_yes"}, "closed_won"),
            ],
        )
        .with_guard("propose", needs_budget)
    )
    assert "needs_analysis" not in custom.state_names and "contracting" in custom.state_names
    d = deal()
    for event in ("qualify", "propose", "negotiate", "agree", "win"):
        d, _ = custom.fire(d, event, at=T0)
    assert (d.stage, d.probability) == ("closed_won", 1.0)
    free = Opportunity(
        name="Free", account_id=uuid4(), amount=Money("0", "EUR"), stage="qualification"
    )
    with pytest.raises(InvalidTransition, match="needs a budget"):
        custom.fire(free, "propose")
    with pytest.raises(DefinitionError, match="cannot be reached"):
        OPPORTUNITY_PIPELINE.without_transition("qualify")


def test_machines_load_and_dump_as_plain_data() -> None:
    import json

    for machine in (LEAD, OPPORTUNITY_PIPELINE, CUSTOMER_LIFECYCLE, TICKET):
        data = json.loads(json.dumps(machine.to_dict()))
        assert Machine.from_dict(data) == machine
        assert Machine.from_dict(data).to_mermaid() == machine.to_mermaid()
    data = LEAD.to_dict()
    data["transitions"][1]["guard"] = "has_budget"
    with pytest.raises(DefinitionError, match="unknown guard 'has_budget'"):
        Machine.from_dict(data)
    with pytest.raises(DefinitionError, match="not a machine definition"):
        Machine.from_dict({"name": "x"})


def test_mermaid() -> None:
    text = LEAD.to_mermaid()
    assert text.startswith("stateDiagram-v2\n    [*] --> new")
    assert "new --> qualified: qualify [reachable]" in text
    assert "converted --> [*]" in text


# ---------------------------------------------------------------- model-based tests


def _entity_for(machine: Machine) -> Any:
    if machine is LEAD:
        return Lead(company="Initech", created_at=T0)
    if machine is OPPORTUNITY_PIPELINE:
        return deal()
    if machine is TICKET:
        return Ticket(subject="Broken", contact_id=uuid4(), created_at=T0)
    return Contact(first_name="Ada", created_at=T0)


def _machine_test(machine: Machine) -> type[RuleBasedStateMachine]:
    class Walk(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.entity = _entity_for(machine)
            self.history: list[TransitionRecord] = []
            self.now = T0

        @rule(
            event=st.sampled_from([*machine.events, "no-such-event"]),
            minutes=st.integers(0, 60 * 24 * 10),
            reason=st.none() | st.sampled_from(["price", "fraud", "no budget"]),
            reach=st.booleans(),
        )
        def fire(self, event: str, minutes: int, reason: str | None, reach: bool) -> None:
            if machine is LEAD and reach and self.entity.phone is None:
                self.entity = self.entity.evolve(phone="+442079460958")
            self.now = self.now + timedelta(minutes=minutes)
            before = self.entity
            try:
                moved, record = machine.fire(before, event, at=self.now, reason=reason)
            except InvalidTransition:
                assert self.entity == before  # refused: nothing changed
                return
            assert before == self.entity  # fire is pure
            self.entity = moved
            self.history.append(record)

        @invariant()
        def entity_passes_every_rule(self) -> None:
            # fire copies slots without re-running validators: a full rebuild must agree.
            assert self.entity.evolve() == self.entity

        @invariant()
        def state_is_defined(self) -> None:
            assert getattr(self.entity, machine.field) in machine.state_names

        @invariant()
        def replay_equals_current_state(self) -> None:
            assert machine.replay(self.history) == getattr(self.entity, machine.field)

        @invariant()
        def final_states_allow_nothing(self) -> None:
            if machine.state(getattr(self.entity, machine.field)).terminal:
                assert machine.allowed_events(self.entity, context={"at": self.now}) == ()

    Walk.__name__ = f"Walk{machine.name.title()}"
    return Walk


TestLeadWalk = _machine_test(LEAD).TestCase
TestPipelineWalk = _machine_test(OPPORTUNITY_PIPELINE).TestCase
TestCustomerWalk = _machine_test(CUSTOMER_LIFECYCLE).TestCase
TestTicketWalk = _machine_test(TICKET).TestCase


# ---------------------------------------------------------------- lead conversion


def _qualified() -> Lead:
    lead = Lead(
        first_name="Peter",
        last_name="Gibbons",
        company="Initech",
        email="peter@initech.example",
        job_title="Engineer",
        tags={"tps"},
        created_at=T0,
    )
    lead, _ = LEAD.fire(lead, "contact", at=T0)
    lead, _ = LEAD.fire(lead, "qualify", at=T0)
    return lead


def test_convert_lead_with_a_unit_of_work() -> None:
    from crmkit.lifecycle import convert_lead
    from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork

    store = InMemoryStore()
    lead = _qualified()
    InMemoryRepository(Lead, store).add(lead)
    with InMemoryUnitOfWork(store) as uow:
        result = convert_lead(
            lead,
            opportunity_amount=Money("5000", "USD"),
            at=T0 + timedelta(days=1),
            actor="rep-7",
            uow=uow,
        )
        events = uow.commit()
    assert [type(e) for e in events] == [TransitionRecord]
    stored = InMemoryRepository(Lead, store).get(lead.id)
    assert stored.status == "converted" and stored.version == lead.version + 1
    assert stored.converted_contact_id == result.contact.id
    assert stored.converted_account_id == result.account.id
    assert stored.converted_opportunity_id == result.opportunity.id  # type: ignore[union-attr]
    contact = InMemoryRepository(Contact, store).get(result.contact.id)
    assert (contact.name, str(contact.email), contact.account_id) == (
        "Peter Gibbons",
        "peter@initech.example",
        result.account.id,
    )
    assert InMemoryRepository(Account, store).get(result.account.id).name == "Initech"
    assert InMemoryRepository(Opportunity, store).get(result.opportunity.id).probability == 0.1  # type: ignore[union-attr]
    with (
        InMemoryUnitOfWork(store) as uow,
        pytest.raises(InvalidTransition, match="converted already"),
    ):
        convert_lead(stored, uow=uow)


def test_convert_lead_refuses_unqualified_and_changes_nothing() -> None:
    from crmkit.lifecycle import convert_lead
    from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork

    store = InMemoryStore()
    lead = InMemoryRepository(Lead, store).add(Lead(company="Initech", email="p@initech.example"))
    with InMemoryUnitOfWork(store) as uow:
        with pytest.raises(InvalidTransition, match="not qualified"):
            convert_lead(lead, uow=uow)
        uow.commit()
    assert InMemoryRepository(Contact, store).count() == 0
    assert InMemoryRepository(Lead, store).get(lead.id) == lead


def test_convert_lead_into_an_existing_account_and_a_stale_lead() -> None:
    from crmkit.errors import ConcurrencyError
    from crmkit.lifecycle import convert_lead
    from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork

    store = InMemoryStore()
    acme = InMemoryRepository(Account, store).add(Account(name="Acme"))
    lead = _qualified()
    InMemoryRepository(Lead, store).add(lead)
    InMemoryRepository(Lead, store).save(lead.evolve(score=50.0))  # someone else edits it
    with InMemoryUnitOfWork(store) as uow, pytest.raises(ConcurrencyError):
        convert_lead(lead, account=acme, uow=uow)
    assert InMemoryRepository(Contact, store).count() == 0
    plain = convert_lead(lead, account=acme)
    assert (
        not plain.created_account
        and plain.contact.account_id == acme.id
        and plain.opportunity is None
    )


def test_the_docs_show_the_current_diagrams() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md").read_text()
    for machine in (LEAD, OPPORTUNITY_PIPELINE, CUSTOMER_LIFECYCLE, TICKET):
        assert f"```mermaid\n{machine.to_mermaid()}\n```" in text, (
            f"docs/lifecycle.md: redraw {machine.name}"
        )


def test_effects_are_checked_like_any_change() -> None:
    def absurd_score(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"score": 500.0}

    def set_email(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"email": "found@initech.example"}

    def unlink(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"converted_contact_id": uuid4()}  # without converted_at: a cross-field rule

    base = Lead(company="Initech", created_at=T0)
    for effect, fragment in ((absurd_score, "score"), (unlink, "converted_at")):
        machine = LEAD.without_transition("contact").with_transitions(
            Transition("contact", {"new"}, "contacted", effect=effect)
        )
        with pytest.raises(InvalidTransition, match=fragment):
            machine.fire(base, "contact", at=T0)
    machine = LEAD.without_transition("contact").with_transitions(
        Transition("contact", {"new"}, "contacted", effect=set_email)
    )
    moved, _ = machine.fire(base, "contact", at=T0)
    assert str(moved.email) == "found@initech.example"  # converted like in the constructor
    assert moved == Lead(
        **{
            **{a: getattr(moved, a) for a in ("id", "company", "created_at", "updated_at")},
            "status": "contacted",
            "email": "found@initech.example",
        }
    )


def test_effects_with_unknown_fields_converters_or_varying_keys() -> None:
    def misspelt(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"scor": 1.0}

    def tag(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"tags": ["hot", "hot", "web"]}  # a converted field: the general path

    def sometimes_score(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"score": 0.5} if ctx["reason"] == "scored" else {}

    def forgetful(lead: Any, ctx: Any) -> None:
        pass

    def override_state(lead: Any, ctx: Any) -> dict[str, Any]:
        return {"status": "qualified"}  # effects have the last word, as in evolve

    def with_effect(effect: Any) -> Machine:
        return LEAD.without_transition("contact").with_transitions(
            Transition("contact", {"new"}, "contacted", effect=effect)
        )

    base = Lead(company="Initech", email="peter@initech.example", created_at=T0)
    with pytest.raises(DefinitionError, match=r"misspelt.*'scor'.*Lead does not have"):
        with_effect(misspelt).fire(base, "contact", at=T0)
    with pytest.raises(DefinitionError, match=r"forgetful.*must return a mapping.*None"):
        with_effect(forgetful).fire(base, "contact", at=T0)
    moved, _ = with_effect(tag).fire(base, "contact", at=T0)
    assert moved.tags == frozenset({"hot", "web"})
    machine = with_effect(sometimes_score)
    assert machine.fire(base, "contact", at=T0, reason="scored")[0].score == 0.5
    assert machine.fire(base, "contact", at=T0)[0].score is None
    assert machine.fire(base, "contact", at=T0, reason="scored")[0].score == 0.5
    assert with_effect(override_state).fire(base, "contact", at=T0)[0].status == "qualified"


def test_fire_on_a_subclass_without_slots_and_after_pickling() -> None:
    import pickle

    import attrs

    @attrs.frozen(slots=False, kw_only=True)
    class TaggedLead(Lead):
        campaign: str = "spring"

    machine = LEAD.derive(entity_types=(Lead, TaggedLead))
    lead = TaggedLead(company="Initech", email="peter@initech.example", created_at=T0)
    for event in ("contact", "qualify", "disqualify", "reopen"):
        lead, record = machine.fire(lead, event, at=T0 + timedelta(hours=1), reason="later")
    assert type(lead) is TaggedLead and lead.status == "contacted" and lead.campaign == "spring"
    assert lead.updated_at == T0 + timedelta(hours=1) and lead.disqualified_reason is None
    assert record.entity_type == "TaggedLead"

    @attrs.frozen(kw_only=True, cache_hash=True)
    class HashedLead(Lead):
        campaign: str = "autumn"

    hashed = HashedLead(company="Initech", email="peter@initech.example", created_at=T0)
    moved, _ = LEAD.derive(entity_types=(HashedLead,)).fire(hashed, "contact", at=T0)
    assert moved.status == "contacted" and hash(moved) == hash(moved.evolve())
    copy = pickle.loads(pickle.dumps(LEAD))  # planned moves are a cache: not pickled
    assert copy == LEAD
    assert copy.fire(Lead(company="I", created_at=T0), "contact", at=T0)[0].status == "contacted"


def test_moves_of_subclasses_keep_their_type_and_every_rule() -> None:
    import pickle

    import attrs

    registered: list[type] = []

    @attrs.frozen(kw_only=True)
    class RegisteredLead(Lead):
        def __init_subclass__(cls, **kwargs: Any) -> None:  # a registry a draft must not enter
            registered.append(cls)
            super().__init_subclass__(**kwargs)

    @attrs.frozen(kw_only=True)
    class ChannelLead(Lead):
        channel: str = "web"

    machine = LEAD.derive(entity_types=(Lead, RegisteredLead, ChannelLead))
    for cls in (Lead, RegisteredLead, ChannelLead):
        lead = cls(company="Initech", email="peter@initech.example", created_at=T0)
        for hours, event in enumerate(("contact", "qualify", "disqualify", "reopen", "qualify")):
            at = T0 + timedelta(hours=hours)
            moved, record = machine.fire(lead, event, at=at, reason="no budget", actor="rep")
            assert type(moved) is cls and type(record) is TransitionRecord
            assert moved == moved.evolve()  # every rule holds
            assert moved == attrs.evolve(
                lead,
                status=record.to_state,
                updated_at=at,
                disqualified_reason="no budget" if event == "disqualify" else None,
            )
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                moved.status = "new"  # type: ignore[misc]
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                record.event = "x"  # type: ignore[misc]
            if cls is Lead:  # the local classes cannot be pickled
                assert pickle.loads(pickle.dumps(moved)) == moved
            assert record == TransitionRecord(
                machine="lead",
                entity_type=cls.__name__,
                entity_id=lead.id,
                event=event,
                from_state=lead.status,
                to_state=record.to_state,
                at=at,
                actor="rep",
                reason="no budget",
            )
            lead = moved
    assert registered == []  # moving creates no class behind the user's back


def _only(field: str, allowed: set[Any]) -> Any:
    """A validator of the user's own: ``field`` must be one of ``allowed``."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in allowed:
            raise ValueError(f"{field} must be one of {sorted(map(str, allowed))}, got {value!r}")

    return check


def _narrowed(base: type, field: str, default: Any, allowed: set[Any]) -> Any:
    """``class Strict<base>(base)`` with ``field`` redefined to allow only ``allowed``."""
    import attrs

    namespace = {
        "__annotations__": {field: "Any"},
        field: attrs.field(default=default, validator=_only(field, allowed)),
    }
    return attrs.frozen(kw_only=True)(type(f"Strict{base.__name__}", (base,), namespace))


@pytest.mark.parametrize(
    ("machine", "base", "kwargs", "allowed", "event"),
    [
        (LEAD, Lead, {"company": "Initech"}, {"new", "qualified"}, "contact"),
        (
            OPPORTUNITY_PIPELINE,
            Opportunity,
            {"name": "Renewal", "account_id": uuid4(), "amount": Money("1000", "EUR")},
            {"prospecting", "closed_lost"},
            "qualify",
        ),
        (CUSTOMER_LIFECYCLE, Contact, {"first_name": "Ada"}, {"awareness"}, "acquire"),
        (TICKET, Ticket, {"subject": "Printer", "contact_id": uuid4()}, {"new", "closed"}, "open"),
    ],
    ids=["lead", "pipeline", "customer", "ticket"],
)
def test_fire_runs_the_validators_of_the_fields_it_sets(
    machine: Machine, base: type, kwargs: dict[str, Any], allowed: set[str], event: str
) -> None:
    """A subclass may narrow the state field: fire refuses what evolve would refuse (issue 16)."""
    narrowed = _narrowed(base, machine.field, machine.initial, allowed)
    entity = narrowed(created_at=T0, **kwargs)
    derived = machine.derive(entity_types=(*machine.entity_types, narrowed))
    target = derived._index[(machine.initial, event)].target
    assert target not in allowed
    with pytest.raises(ValueError, match=machine.field):  # what evolve says of the target
        entity.evolve(**{machine.field: target})
    with pytest.raises(InvalidTransition, match="the result would be invalid") as info:
        derived.fire(entity, event, at=T0 + timedelta(hours=1))
    assert f"{machine.field} must be one of" in str(info.value)
    assert getattr(entity, machine.field) == machine.initial  # the entity is untouched
    plain, _ = derived.fire(base(created_at=T0, **kwargs), event, at=T0 + timedelta(hours=1))
    assert getattr(plain, machine.field) == target


def test_fire_runs_the_validator_of_the_probability_it_sets() -> None:
    capped = _narrowed(Opportunity, "probability", None, {None, 0.1})
    machine = OPPORTUNITY_PIPELINE.derive(entity_types=(Opportunity, capped))
    terms = {"name": "Renewal", "account_id": uuid4(), "amount": Money("1000", "EUR")}
    deal = capped(created_at=T0, **terms)
    target = machine.state(machine._index[(deal.stage, "qualify")].target)
    assert target.probability not in (None, 0.1)
    with pytest.raises(InvalidTransition, match="probability"):
        machine.fire(deal, "qualify", at=T0)
    moved, _ = machine.fire(Opportunity(created_at=T0, **terms), "qualify", at=T0)
    assert moved.probability == target.probability
