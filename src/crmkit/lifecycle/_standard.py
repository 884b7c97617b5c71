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
from crmkit.lifecycle._hooks import (
    REOPEN_WINDOW,
    clear_disqualification,
    close_deal,
    mark_closed,
    mark_reopened,
    mark_responded,
    mark_solved,
    reachable,
    record_conversion,
    record_disqualification,
    within_reopen_window,
)
from crmkit.lifecycle._machine import Machine, State, Transition

__all__ = [
    "CUSTOMER_LIFECYCLE",
    "LEAD",
    "OPPORTUNITY_PIPELINE",
    "REOPEN_WINDOW",
    "TICKET",
    "ticket_machine",
]

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
    if not isinstance(reopen_window, timedelta) or reopen_window < timedelta(0):
        from crmkit._text import describe
        from crmkit.errors import ValidationError

        raise ValidationError(
            [("reopen_window", f"must be a timedelta >= 0, got {describe(reopen_window)}")]
        )

    def within_reopen_window_of(ticket: Any, ctx: Mapping[str, Any]) -> str | None:
        return within_reopen_window(ticket, {"reopen_window": reopen_window, **ctx})

    within_reopen_window_of.__name__ = "within_reopen_window"
    guard = within_reopen_window if reopen_window == REOPEN_WINDOW else within_reopen_window_of
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
