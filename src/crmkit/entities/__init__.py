"""The CRM domain model: validated, immutable entities and value objects.

Every class here is a frozen, keyword-only attrs class; an invalid one
cannot be built, and the :class:`~crmkit.errors.ValidationError` names each
broken field. Serialization lives in :mod:`crmkit.entities.serde`, privacy
helpers in :mod:`crmkit.entities.privacy`.

This package imports only the standard library and attrs.
"""

from crmkit.entities._base import Entity, JsonObject
from crmkit.entities._consent import Consent
from crmkit.entities._enums import (
    Channel,
    CustomerType,
    Direction,
    InstrumentKind,
    LawfulBasis,
    MemberStatus,
    Priority,
)
from crmkit.entities._feedback import SurveyResponse
from crmkit.entities._frozen import FrozenDict
from crmkit.entities._marketing import Campaign, CampaignMember
from crmkit.entities._parties import Account, Contact
from crmkit.entities._sales import Lead, Opportunity, Order, OrderLine, Product
from crmkit.entities._service import Interaction, Ticket
from crmkit.entities._values import Address, Email, Money, PhoneNumber

#: Every stored entity type, in a stable order.
ENTITY_TYPES: tuple[type[Entity], ...] = (
    Account,
    Contact,
    Lead,
    Opportunity,
    Product,
    Order,
    Interaction,
    Ticket,
    Campaign,
    CampaignMember,
    SurveyResponse,
    Consent,
)

__all__ = [
    "ENTITY_TYPES",
    "Account",
    "Address",
    "Campaign",
    "CampaignMember",
    "Channel",
    "Consent",
    "Contact",
    "CustomerType",
    "Direction",
    "Email",
    "Entity",
    "FrozenDict",
    "InstrumentKind",
    "Interaction",
    "JsonObject",
    "LawfulBasis",
    "Lead",
    "MemberStatus",
    "Money",
    "Opportunity",
    "Order",
    "OrderLine",
    "PhoneNumber",
    "Priority",
    "Product",
    "SurveyResponse",
    "Ticket",
]
