"""The stored-entity base class and field factories shared by every entity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID, uuid4

import attrs

from crmkit._text import shown
from crmkit.entities import _rules as r
from crmkit.entities._frozen import FrozenDict, freeze_json
from crmkit.entities._values import Email, Money, PhoneNumber
from crmkit.errors import ValidationError

__all__ = ["Entity", "JsonObject"]

#: The type of ``attributes`` and other free-form JSON mappings.
JsonObject = Mapping[str, Any]

E = TypeVar("E", bound="Entity")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def _to_attributes(field: str) -> Any:
    def convert(value: Any) -> Any:
        if type(value) is FrozenDict:
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(
                [(field, f"must be a mapping of str to JSON values, got {r.describe(value)}")]
            )
        return freeze_json(value, field)

    return convert


def _frozen_dict(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not FrozenDict:  # only reachable through attrs.evolve tricks
        r.fail(inst, attr.name, f"must be a mapping of JSON values, got {r.describe(value)}")


def _keys_only(value: Any) -> str:
    """Custom data may hold anything personal: reprs show the keys, not the values."""
    if isinstance(value, dict):
        return f"<{len(value)} keys: {', '.join(sorted(map(str, value))[:5])}>" if value else "{}"
    return "..."


def masked_text(value: Any) -> str:
    """Free text may hold anything personal: reprs show its length only."""
    return "None" if value is None else f"<{len(value)} characters>"


def json_object_field(*, required: bool = False) -> Any:
    """A mapping of JSON values, deeply frozen on the way in; excluded from ``hash``."""
    if required:
        return attrs.field(
            converter=_to_attributes("answers"),
            validator=_frozen_dict,
            hash=False,
            repr=_keys_only,
        )
    return attrs.field(
        factory=FrozenDict,
        converter=_to_attributes("attributes"),
        validator=_frozen_dict,
        hash=False,
        repr=_keys_only,
    )


def to_email(value: Email | str | None) -> Email | None:
    """Converter: a ``str`` becomes an :class:`Email` (and is validated)."""
    return Email(value) if type(value) is str else value  # type: ignore[return-value]


def to_phone(value: PhoneNumber | str | None) -> PhoneNumber | None:
    """Converter: an E.164 ``str`` becomes a :class:`PhoneNumber`."""
    return PhoneNumber(value) if type(value) is str else value  # type: ignore[return-value]


def to_tags(value: Iterable[str]) -> frozenset[str]:
    """Converter: any iterable of tags (a set, a list) becomes a frozenset."""
    return r.to_frozenset(value)  # type: ignore[no-any-return]


#: Validators of the optional e-mail and phone fields.
OPTIONAL_EMAIL = r.instance_of(Email, optional=True)
OPTIONAL_PHONE = r.instance_of(PhoneNumber, optional=True)


def _not_negative(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and isinstance(value, Money) and value.amount < 0:
        r.fail(inst, f"{attr.name}.amount", f"must be >= 0 (got {value.amount})")


def money_field(*, optional: bool = True, negative: bool = True) -> Any:
    """A Money field; ``negative=False`` for prices, costs, budgets, tax and shipping."""
    checks = [r.instance_of(Money, optional=optional)]
    if not negative:
        checks.append(_not_negative)
    validator = attrs.validators.and_(*checks) if len(checks) > 1 else checks[0]
    if optional:
        return attrs.field(default=None, validator=validator)
    return attrs.field(validator=validator)


def text_field(*, max_length: int = 200, default: Any = attrs.NOTHING) -> Any:
    return attrs.field(default=default, validator=r.text(max_length=max_length))


def optional_text_field(*, max_length: int = 200) -> Any:
    return attrs.field(default=None, validator=r.optional_text(max_length=max_length))


def optional_uuid_field() -> Any:
    return attrs.field(default=None, converter=r.to_uuid, validator=r.optional_uuid)


def uuid_field() -> Any:
    return attrs.field(converter=r.to_uuid, validator=r.uuid)


def optional_time_field() -> Any:
    return attrs.field(default=None, validator=r.optional_aware)


def time_field() -> Any:
    return attrs.field(validator=r.aware)


def enum_field(enum: type[Enum], *, default: Any = attrs.NOTHING, optional: bool = False) -> Any:
    return attrs.field(
        default=None if optional and default is attrs.NOTHING else default,
        converter=r.to_enum(enum),
        validator=r.member_of(enum, optional=optional),
    )


def stage_field(default: str) -> Any:
    """A lifecycle stage or status: a plain string the lifecycle machines validate."""
    return attrs.field(default=default, validator=r.text(max_length=100))


def _check_updated_at(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not inst.created_at:  # the default is created_at, checked already
        r.aware(inst, attr, value)


@attrs.frozen(kw_only=True)
class Entity:
    """Base of every stored entity.

    Every entity has an ``id`` (a random UUID unless given), a ``version``
    for optimistic concurrency (1 when new; repositories add one on each
    save), timezone-aware ``created_at``/``updated_at`` (``updated_at``
    defaults to ``created_at`` and is never earlier), and ``attributes``:
    custom fields as JSON values, deeply frozen.
    """

    id: UUID = attrs.field(factory=uuid4, converter=r.to_uuid, validator=r.uuid)
    version: int = attrs.field(default=1, validator=r.integer(minimum=1))
    created_at: datetime = attrs.field(factory=utcnow, validator=r.aware)
    updated_at: datetime = attrs.field(validator=_check_updated_at)
    attributes: JsonObject = json_object_field()

    @updated_at.default
    def _updated_at_default(self) -> datetime:
        return self.created_at

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.updated_at < self.created_at:  # both validated (aware) already
            r.not_before(self, "updated_at", "created_at", errors)
        self._check(errors)
        if errors:
            raise ValidationError(errors)

    def _check(self, errors: list[tuple[str, str]]) -> None:
        """Cross-field rules of a subclass: append ``(path, message)`` pairs to ``errors``."""

    def evolve(self: E, **changes: Any) -> E:
        """Return a copy with ``changes`` applied and every rule checked again.

        >>> from crmkit.entities import Contact
        >>> c = Contact(first_name="Ada")
        >>> c.evolve(last_name="Lovelace").last_name
        'Lovelace'
        >>> c.evolve(nickname="A")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: nickname: Contact has no field 'nickname'
        """
        names = attrs.fields_dict(type(self))
        unknown = [
            (k, f"{type(self).__name__} has no field {shown(k)}") for k in changes if k not in names
        ]
        if unknown:
            raise ValidationError(unknown)
        return attrs.evolve(self, **changes)


def check_currency(
    errors: list[tuple[str, str]], path: str, money: Money | None, currency: str
) -> None:
    """Record an error when ``money`` is set and not in ``currency``."""
    if money is not None and money.currency != currency:
        errors.append(
            (
                f"{path}.currency",
                f"must be {currency} like the rest of the record (got {money.currency})",
            )
        )
