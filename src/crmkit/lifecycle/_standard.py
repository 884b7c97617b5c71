"""The standard CRM machines: lead, opportunity pipeline, customer lifecycle, support ticket.

They are ordinary :class:`~crmkit.lifecycle.Machine` instances: copy and
change them with ``derive``, ``with_states``, ``without_state``,
``rename_state`` and ``with_guard``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from crmkit.entities import Account, Contact, Lead, Opportunity, Ticket
from crmkit.lifecycle._machine import Effect, Guard, Machine, State, Transition

__all__ = [
    "CUSTOMER_LIFECYCLE",
    "LEAD",
    "OPPORTUNITY_PIPELINE",
    "REOPEN_WINDOW",
    "STANDARD_EFFECTS",
    "STANDARD_GUARDS",
    "TICKET",
    "ticket_machine",
]

#: How long after being solved a ticket may be reopened, unless the context says otherwise.
REOPEN_WINDOW = timedelta(days=7)


# --------------------------------------------------------------------------- guards


def reachable(lead: Any, ctx: Mapping[str, Any]) -> str | None:
    """A lead is qualified only when there is a way to reach the person."""
    if lead.email is None and lead.phone is None:
        return "a lead needs an e-mail address or a phone number before it can be qualified"
    return None


def within_reopen_window(ticket: Any, ctx: Mapping[str, Any]) -> str | None:
    """A solved ticket reopens only within the window (``ctx["reopen_window"]``, default 7 days)."""
    window = ctx.get("reopen_window", REOPEN_WINDOW)
    solved = ticket.resolved_at or ticket.updated_at
    if ctx["at"] - solved > window:
        return f"it was solved more than {window} ago ({solved.isoformat()})"
    return None


# --------------------------------------------------------------------------- effects


def record_disqualification(lead: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"disqualified_reason": ctx["reason"]}


def clear_disqualification(lead: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"disqualified_reason": None}


def record_conversion(lead: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Stamp the conversion, with the ids of what the lead became (``ctx["converted_ids"]``)."""
    return {"converted_at": lead.converted_at or ctx["at"], **ctx.get("converted_ids", {})}


def close_deal(deal: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"closed_at": ctx["at"], "close_reason": ctx["reason"] or deal.close_reason}


def mark_solved(ticket: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {"resolved_at": ctx["at"]}
    if ticket.first_response_at is None:
        changes["first_response_at"] = ctx["at"]
    return changes


def mark_reopened(ticket: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"resolved_at": None}


def mark_closed(ticket: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {"closed_at": ctx["at"]}


def mark_responded(ticket: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {} if ticket.first_response_at is not None else {"first_response_at": ctx["at"]}


STANDARD_GUARDS: dict[str, Guard] = {g.__name__: g for g in (reachable, within_reopen_window)}
STANDARD_EFFECTS: dict[str, Effect] = {
    e.__name__: e
    for e in (
        record_disqualification,
        clear_disqualification,
        record_conversion,
        close_deal,
        mark_solved,
        mark_reopened,
        mark_closed,
        mark_responded,
    )
}


# --------------------------------------------------------------------------- machines

#: Lead: new -> contacted -> qualified -> converted, or disqualified (and reopened).
LEAD = Machine(
    name="lead",
    entity_types=(Lead,),
    field="status",
    initial="new",
    states=(
        State("new", description="not yet contacted"),
        State("contacted", description="reached at least once"),
        State("qualified", description="a real prospect, reachable"),
        State("disqualified", description="not a prospect now; can be reopened"),
        State(
            "converted", terminal=True, description="became an account, a contact and maybe a deal"
        ),
    ),
    transitions=(
        Transition("contact", {"new"}, "contacted"),
        Transition("qualify", {"new", "contacted"}, "qualified", guard=reachable),
        Transition(
            "disqualify",
            {"new", "contacted", "qualified"},
            "disqualified",
            requires_reason=True,
            effect=record_disqualification,
        ),
        Transition("reopen", {"disqualified"}, "contacted", effect=clear_disqualification),
        Transition("convert", {"qualified"}, "converted", effect=record_conversion),
    ),
)

#: The opportunity pipeline, each stage with a default win probability.
OPPORTUNITY_PIPELINE = Machine(
    name="opportunity",
    entity_types=(Opportunity,),
    field="stage",
    initial="prospecting",
    probability_field="probability",
    states=(
        State("prospecting", probability=0.10),
        State("qualification", probability=0.20),
        State("needs_analysis", probability=0.40),
        State("proposal", probability=0.60),
        State("negotiation", probability=0.80),
        State("closed_won", terminal=True, outcome="won", probability=1.0),
        State("closed_lost", terminal=True, outcome="lost", probability=0.0),
    ),
    transitions=(
        Transition("qualify", {"prospecting"}, "qualification"),
        Transition("analyze_needs", {"qualification"}, "needs_analysis"),
        Transition("propose", {"needs_analysis", "qualification"}, "proposal"),
        Transition("negotiate", {"proposal"}, "negotiation"),
        Transition("win", {"proposal", "negotiation"}, "closed_won", effect=close_deal),
        Transition(
            "lose",
            {"prospecting", "qualification", "needs_analysis", "proposal", "negotiation"},
            "closed_lost",
            requires_reason=True,
            effect=close_deal,
        ),
    ),
)

_ACTIVE = {"awareness", "acquisition", "conversion", "retention", "loyalty", "churned", "win_back"}

#: The customer life cycle: awareness, acquisition, conversion, retention, loyalty;
#: churn and win-back; termination (ending the relationship on purpose, with a reason).
CUSTOMER_LIFECYCLE = Machine(
    name="customer",
    entity_types=(Contact, Account),
    field="lifecycle_stage",
    initial="awareness",
    states=(
        State("awareness", description="knows the company"),
        State("acquisition", description="engaged as a prospect"),
        State("conversion", description="first purchase"),
        State("retention", description="buys again"),
        State("loyalty", description="a loyal, repeat customer"),
        State("churned", description="stopped buying"),
        State("win_back", description="being won back"),
        State("terminated", terminal=True, description="relationship ended on purpose"),
    ),
    transitions=(
        Transition("acquire", {"awareness"}, "acquisition"),
        Transition("convert", {"awareness", "acquisition"}, "conversion"),
        Transition("retain", {"conversion", "win_back"}, "retention"),
        Transition("reward", {"retention"}, "loyalty"),
        Transition("churn", {"conversion", "retention", "loyalty"}, "churned"),
        Transition("win_back", {"churned"}, "win_back"),
        Transition("lose", {"win_back"}, "churned"),
        Transition("terminate", _ACTIVE, "terminated", requires_reason=True),
    ),
)


def ticket_machine(reopen_window: timedelta = REOPEN_WINDOW) -> Machine:
    """The support-ticket machine, with solved tickets reopenable within ``reopen_window``."""

    def within_reopen_window(ticket: Any, ctx: Mapping[str, Any]) -> str | bool | None:
        return STANDARD_GUARDS["within_reopen_window"](
            ticket, {"reopen_window": reopen_window, **ctx}
        )

    guard = (
        STANDARD_GUARDS["within_reopen_window"]
        if reopen_window == REOPEN_WINDOW
        else within_reopen_window
    )
    return Machine(
        name="ticket",
        entity_types=(Ticket,),
        field="status",
        initial="new",
        states=(
            State("new", description="not yet looked at"),
            State("open", description="being worked on"),
            State("pending", description="waiting for the customer"),
            State("on_hold", description="waiting for a third party"),
            State("solved", description="answered; may reopen within the window"),
            State("closed", terminal=True, description="final"),
        ),
        transitions=(
            Transition("open", {"new"}, "open", effect=mark_responded),
            Transition("wait_for_customer", {"open"}, "pending"),
            Transition("hold", {"open"}, "on_hold"),
            Transition("resume", {"pending", "on_hold"}, "open"),
            Transition(
                "solve", {"new", "open", "pending", "on_hold"}, "solved", effect=mark_solved
            ),
            Transition("reopen", {"solved"}, "open", guard=guard, effect=mark_reopened),
            Transition("close", {"solved"}, "closed", effect=mark_closed),
        ),
    )


#: The support ticket: new, open, pending, on hold, solved, closed; reopen within 7 days of solving.
TICKET = ticket_machine()
