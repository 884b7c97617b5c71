"""Guards and effects: the functions a transition calls, and the standard ones by name.

A guard looks at the entity and the firing context and allows the move
(``None`` or ``True``) or refuses it (a reason, or ``False``); an effect
returns the other fields a move changes. Both are plain functions of
``(entity, context)``; this module imports nothing of the engine, so the
engine (which looks up standard hooks by name when it reads a machine from
data) and the standard machines (which use them) both depend on it alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

__all__ = [
    "REOPEN_WINDOW",
    "STANDARD_EFFECTS",
    "STANDARD_GUARDS",
    "Effect",
    "Guard",
]

#: A guard looks at the entity and the firing context (which always holds ``"at"``)
#: and returns ``None`` (or ``True``) to allow the move, or a reason (or ``False``) to refuse it.
Guard = Callable[[Any, Mapping[str, Any]], "str | bool | None"]
#: An effect gives the other fields a move changes (``{"resolved_at": ctx["at"]}``); its
#: context holds ``"at"``, ``"actor"`` and ``"reason"`` besides the caller's context.
Effect = Callable[[Any, Mapping[str, Any]], Mapping[str, Any]]

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


#: The standard guards and effects by name (read-only), for :meth:`Machine.from_dict`.
STANDARD_GUARDS: Mapping[str, Guard] = MappingProxyType(
    {g.__name__: g for g in (reachable, within_reopen_window)}
)
STANDARD_EFFECTS: Mapping[str, Effect] = MappingProxyType(
    {
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
)
