"""Enumerations shared by the entities. Each serializes as its value."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "Channel",
    "CustomerType",
    "Direction",
    "InstrumentKind",
    "LawfulBasis",
    "MemberStatus",
    "Priority",
]


class Channel(str, Enum):
    """Where an interaction happened or a campaign runs."""

    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"
    WEB = "web"
    IN_PERSON = "in_person"
    VIDEO = "video"


class Direction(str, Enum):
    """Who started an interaction: the customer (inbound) or the company (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CustomerType(str, Enum):
    """The kind of organisation an account is."""

    RETAIL = "retail"
    COMMERCIAL = "commercial"
    WHOLESALE = "wholesale"
    INDUSTRIAL = "industrial"
    GOVERNMENT = "government"


class Priority(str, Enum):
    """Urgency of a support ticket."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class InstrumentKind(str, Enum):
    """The survey instrument a response answers."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    SERVQUAL = "servqual"
    KANO = "kano"
    ACSI = "acsi"
    CUSTOM = "custom"


class LawfulBasis(str, Enum):
    """The six lawful bases for processing personal data, GDPR art. 6(1)(a)-(f)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class MemberStatus(str, Enum):
    """How far a campaign member has gone, furthest step first reached last."""

    TARGETED = "targeted"
    SENT = "sent"
    OPENED = "opened"
    CLICKED = "clicked"
    RESPONDED = "responded"
    CONVERTED = "converted"
