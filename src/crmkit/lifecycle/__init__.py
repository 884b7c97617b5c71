"""Lifecycle state machines: the engine and the standard CRM machines.

A :class:`Machine` is data: states, transitions with optional guards, the
entity field holding the state. Firing an event is pure: it returns the
moved entity and a :class:`TransitionRecord`, or raises
:class:`~crmkit.errors.InvalidTransition` and changes nothing.

>>> from crmkit.entities import Lead
>>> lead = Lead(company="Initech", email="peter@initech.example")
>>> lead, record = LEAD.fire(lead, "contact")
>>> lead, record = LEAD.fire(lead, "qualify")
>>> lead.status, record.from_state, record.to_state
('qualified', 'contacted', 'qualified')
>>> LEAD.fire(lead, "contact")
Traceback (most recent call last):
...
crmkit.errors.InvalidTransition: cannot 'contact' Lead ... in state 'qualified': no such move; allowed there: 'disqualify', 'convert'
"""

from crmkit.lifecycle._hooks import Effect, Guard
from crmkit.lifecycle._machine import Machine, State, Transition, TransitionRecord
from crmkit.lifecycle._services import (
    Conversion,
    StageReplay,
    convert_lead,
    replay_customer_stages,
)
from crmkit.lifecycle._standard import (
    CUSTOMER_LIFECYCLE,
    LEAD,
    OPPORTUNITY_PIPELINE,
    REOPEN_WINDOW,
    TICKET,
    ticket_machine,
)

__all__ = [
    "CUSTOMER_LIFECYCLE",
    "LEAD",
    "OPPORTUNITY_PIPELINE",
    "REOPEN_WINDOW",
    "TICKET",
    "Conversion",
    "Effect",
    "Guard",
    "Machine",
    "StageReplay",
    "State",
    "Transition",
    "TransitionRecord",
    "convert_lead",
    "replay_customer_stages",
    "ticket_machine",
]
