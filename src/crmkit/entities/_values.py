"""Value objects: Email, PhoneNumber, Money, Address."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

import attrs

from crmkit._args import items
from crmkit._text import describe, shown
from crmkit.entities import _rules as r
from crmkit.entities._iso import COUNTRIES, CURRENCY_MINOR_UNITS
from crmkit.errors import ValidationError

__all__ = ["Address", "Email", "Money", "PhoneNumber"]

# WHATWG HTML Living Standard, 4.10.5.1.5 "E-mail state": a *valid e-mail
# address* is  1*( atext / "." ) "@" label *( "." label )  where a label is
# 1-63 letters, digits or hyphens, neither starting nor ending with a hyphen.
# (A "willful violation" of RFC 5322: no quoted local parts, no comments, no
# IP literals; what browsers accept in <input type=email>.) On top of the
# grammar we apply RFC 5321's size limits: local part <= 64 octets, whole
# address <= 254 octets (the 256-octet path minus the angle brackets).
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
    re.ASCII,
)


def _canonical_email(value: Any) -> Any:
    if type(value) is not str:
        return value
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return value.strip()
    return f"{local}@{domain.lower()}"


def _check_email(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not str:
        raise ValidationError([("address", f"must be a string, got {r.describe(value)}")])
    if _EMAIL.fullmatch(value) is None:
        raise ValidationError(
            [
                (
                    "address",
                    f"{masked(value)} is not a valid e-mail address "
                    "(expected local@domain per the WHATWG grammar, e.g. 'ada@example.com')",
                )
            ]
        )
    local = value.rpartition("@")[0]
    if len(local) > 64:
        raise ValidationError(
            [("address", f"local part must be at most 64 characters (got {len(local)})")]
        )
    if len(value) > 254:
        raise ValidationError([("address", f"must be at most 254 characters (got {len(value)})")])


def masked(value: Any) -> str:
    """A personal value for an error message: its ends kept, the rest starred, at most 40 long.

    Applications log exception texts; a mistyped real address is still
    personal data, so messages show what reprs show.
    """
    if type(value) is not str:
        return r.describe(value)
    text = value if len(value) <= 40 else value[:20] + value[-20:]
    if len(text) <= 4:
        return repr("*" * len(text))
    return repr(text[:2] + "*" * (len(text) - 4) + text[-2:])


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    hidden = max(len(text) - keep_start - keep_end, 1)
    return text[:keep_start] + "*" * hidden + (text[-keep_end:] if keep_end else "")


@attrs.frozen(repr=False)
class Email:
    """An e-mail address, valid by the WHATWG grammar and RFC 5321's lengths.

    The domain is case-insensitive and stored in lower case; the local part
    is kept as written (RFC 5321 lets a server treat it case-sensitively).
    :attr:`normalized` folds the local part too and is the key to find
    duplicates by. ``repr()`` masks the address so it does not leak into
    logs; ``str()`` gives it in full.

    >>> e = Email("Ada.Lovelace@Example.COM")
    >>> str(e)
    'Ada.Lovelace@example.com'
    >>> e.normalized
    'ada.lovelace@example.com'
    >>> e == Email("Ada.Lovelace@example.com")
    True
    >>> e
    Email('A***********@example.com')
    >>> Email("not an address")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: address: 'no**********ss' is not a valid e-mail address (expected local@domain per the WHATWG grammar, e.g. 'ada@example.com')
    """

    address: str = attrs.field(converter=_canonical_email, validator=_check_email)

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def normalized(self) -> str:
        """Lower-cased address: the de-duplication key."""
        return self.address.lower()

    def __str__(self) -> str:
        return self.address

    def __repr__(self) -> str:
        return f"Email({_mask(self.local_part, 1, 0) + '@' + self.domain!r})"


# E.164: "+", a country code starting 1-9, at most 15 digits in all. Numbers
# shorter than 5 digits exist only as short codes, which E.164 does not cover.
_E164 = re.compile(r"\+[1-9][0-9]{4,14}", re.ASCII)
_EXTENSION = re.compile(r"[0-9]{1,10}", re.ASCII)

PhoneFormat = Literal["e164", "international", "national", "rfc3966"]


def _check_e164(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not str or _E164.fullmatch(value) is None:
        raise ValidationError(
            [
                (
                    "e164",
                    f"must be an E.164 number such as '+442079460958' (got {masked(value)}); "
                    "use PhoneNumber.parse() for written forms like '(020) 7946 0958'",
                )
            ]
        )


def _check_extension(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (type(value) is not str or _EXTENSION.fullmatch(value) is None):
        raise ValidationError([("extension", f"must be 1-10 digits or None (got {shown(value)})")])


@attrs.frozen(repr=False)
class PhoneNumber:
    """A telephone number stored in E.164 form (``+442079460958``).

    Building one from the E.164 text only checks its shape, and never loads
    the phone-number metadata. :meth:`parse` reads any written form through
    `phonenumbers` (the Python port of Google's libphonenumber) and checks
    the number is valid for its region. ``repr()`` masks the middle digits.

    >>> n = PhoneNumber.parse("(020) 7946 0958", region="GB")
    >>> n.e164
    '+442079460958'
    >>> n.format("international")
    '+44 20 7946 0958'
    >>> n
    PhoneNumber('+44*******958')
    >>> PhoneNumber("+1 650")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: e164: must be an E.164 number such as '+442079460958' (got '+1**50'); use PhoneNumber.parse() for written forms like '(020) 7946 0958'
    """

    e164: str = attrs.field(validator=_check_e164)
    extension: str | None = attrs.field(default=None, validator=_check_extension)

    @classmethod
    def parse(cls, text: str, region: str | None = None) -> PhoneNumber:
        """Parse a written phone number.

        Parameters
        ----------
        text:
            The number as written: ``"+44 20 7946 0958"``, ``"(020) 7946 0958"``,
            ``"020 7946 0958 ext. 12"``.
        region:
            ISO 3166-1 alpha-2 code of the country to read a national number
            in (``"GB"``); not needed when ``text`` starts with ``+``.

        Raises
        ------
        ValidationError
            When the text is not a number, or not a valid one for its region.
        """
        import phonenumbers  # lazy: about 15 ms and several MB of metadata

        if type(text) is not str:
            raise ValidationError([("text", f"must be a string, got {r.describe(text)}")])
        if region is not None and (type(region) is not str or region.upper() not in COUNTRIES):
            raise ValidationError(
                [
                    (
                        "region",
                        f"must be an ISO 3166-1 alpha-2 country code such as 'GB' (got {shown(region)})",
                    )
                ]
            )
        try:
            parsed = phonenumbers.parse(text, region.upper() if region else None)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(
                [("text", f"{masked(text)} is not a phone number: {exc._msg}")]
            ) from None
        if not phonenumbers.is_valid_number(parsed):
            where = phonenumbers.region_code_for_number(parsed) or region or "its region"
            raise ValidationError(
                [("text", f"{masked(text)} is not a valid phone number for {where}")]
            )
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return cls(e164, extension=parsed.extension or None)

    def _parsed(self) -> Any:
        import phonenumbers

        number = phonenumbers.parse(self.e164, None)
        if self.extension:
            number.extension = self.extension
        return number

    @property
    def region(self) -> str | None:
        """ISO 3166-1 alpha-2 code of the number's country, if known (``"GB"``)."""
        import phonenumbers

        try:
            return phonenumbers.region_code_for_number(self._parsed()) or None
        except phonenumbers.NumberParseException:
            return None

    def format(self, style: PhoneFormat = "international") -> str:
        """Format as ``"e164"``, ``"international"``, ``"national"`` or ``"rfc3966"``."""
        import phonenumbers

        styles = {
            "e164": phonenumbers.PhoneNumberFormat.E164,
            "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            "national": phonenumbers.PhoneNumberFormat.NATIONAL,
            "rfc3966": phonenumbers.PhoneNumberFormat.RFC3966,
        }
        if style not in styles:
            raise ValidationError(
                [("style", f"must be one of {sorted(styles)} (got {shown(style)})")]
            )
        try:
            return str(phonenumbers.format_number(self._parsed(), styles[style]))
        except phonenumbers.NumberParseException:
            return self.e164

    def __str__(self) -> str:
        return self.e164 if not self.extension else f"{self.e164};ext={self.extension}"

    def __repr__(self) -> str:
        shown = _mask(self.e164, 3, 3)
        ext = f", extension={self.extension!r}" if self.extension else ""
        return f"PhoneNumber({shown!r}{ext})"


def upper_code(value: Any) -> Any:
    """Converter for ISO codes: strip and upper-case text, leave anything else to the validator."""
    return value.strip().upper() if type(value) is str else value


def _check_currency(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not str or value not in CURRENCY_MINOR_UNITS:
        r.fail(
            inst,
            "currency",
            f"must be an ISO 4217 currency code such as 'EUR' or 'USD' (got {shown(value)})",
        )


def _check_amount(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not Decimal or not value.is_finite():
        r.fail(inst, "amount", f"must be a finite Decimal, got {r.describe(value)}")
    if value and value.adjusted() >= _MAX_DIGITS:
        r.fail(inst, "amount", f"must be less than 10**{_MAX_DIGITS} in size (got {value:.3e})")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_PLACES:
        r.fail(inst, "amount", f"must have at most {_MAX_PLACES} decimal places")


# Larger amounts are typing errors or attacks; 10**21 is more than the world's yearly
# output in any currency, and every product of an amount and an order quantity (at most
# 10**9) stays far inside Decimal's exponent range.
MAX_AMOUNT_DIGITS = 21
# Finer amounts too (1E-1000000000 is no price): with at most 21 digits before the point
# and 40 after, every amount fits an exact SQL NUMERIC(61, 40).
MAX_AMOUNT_PLACES = 40
_MAX_DIGITS, _MAX_PLACES = MAX_AMOUNT_DIGITS, MAX_AMOUNT_PLACES
# Sums, differences and integer multiples of amounts in range have at most
# 21 + 40 + 10 digits: computed in this context they are exact, never rounded to the
# 28 digits of Python's default context. Quotients and products with a Decimal are
# rounded to the 40 places an amount may have.
_EXACT = Context(prec=120)
_PLACES = Decimal(1).scaleb(-MAX_AMOUNT_PLACES)


def amount_fits(amount: Decimal) -> bool:
    """Whether ``amount`` is within the size an amount may have (below ``10**21``)."""
    return not amount or amount.adjusted() < MAX_AMOUNT_DIGITS


def _to_places(value: Decimal) -> Decimal:
    """``value`` with at most 40 decimal places (half-even), exact when it has fewer."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_AMOUNT_PLACES and amount_fits(value):
        return value.quantize(_PLACES, rounding=ROUND_HALF_EVEN, context=_EXACT)
    return value


_decimal_amount = r.to_decimal("amount")


def _to_amount(value: Decimal | int | str) -> Decimal:
    """Converter: ``int`` and ``str`` amounts become ``Decimal``; floats are refused."""
    return _decimal_amount(value)  # type: ignore[no-any-return]


def _operand(verb: str, other: Any) -> ValidationError:
    return ValidationError([("other", f"can only {verb} Money and Money, got {describe(other)}")])


@attrs.frozen(order=False, repr=False)
class Money:
    """An amount of one currency: a :class:`~decimal.Decimal` and an ISO 4217 code.

    Arithmetic and ordering work only between amounts of the same currency;
    mixing currencies raises :class:`~crmkit.errors.ValidationError`
    (``==`` between currencies is simply ``False``). Sums, differences
    and integer multiples are exact (never rounded to the 28 digits of
    Python's default :mod:`decimal` context); a product with a ``Decimal``
    or a quotient keeps 40 decimal places, the finest an amount may have
    (amounts are below ``10**21`` with at most 40 places, which an SQL
    ``NUMERIC(61, 40)`` holds exactly); :meth:`round` rounds to the currency's
    minor units (2 for EUR, 0 for JPY, 3 for KWD, from ISO 4217). Floats are
    refused: they cannot hold most decimal fractions exactly.

    >>> price = Money("19.99", "EUR")
    >>> price * 3
    Money('59.97', 'EUR')
    >>> (price / 3).round()
    Money('6.66', 'EUR')
    >>> Money("1000", "JPY").round()
    Money('1000', 'JPY')
    >>> Money("10", "EUR").allocate([1, 1, 1])
    (Money('3.34', 'EUR'), Money('3.33', 'EUR'), Money('3.33', 'EUR'))
    >>> price + Money("5", "USD")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: currency: cannot add EUR and USD amounts; convert one first
    """

    #: Amounts are below ``10**MAX_DIGITS`` in size ...
    MAX_DIGITS: ClassVar[int] = MAX_AMOUNT_DIGITS
    #: ... and have at most ``MAX_PLACES`` decimal places.
    MAX_PLACES: ClassVar[int] = MAX_AMOUNT_PLACES

    amount: Decimal = attrs.field(converter=_to_amount, validator=_check_amount)
    currency: str = attrs.field(converter=upper_code, validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency`` (a start value for ``sum``)."""
        return cls(Decimal(0), currency)

    @property
    def minor_units(self) -> int | None:
        """Digits after the decimal point in this currency (ISO 4217), ``None`` for metals and funds."""
        return CURRENCY_MINOR_UNITS[self.currency]

    def round(self, places: int | None = None, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor units (or ``places``), half-to-even by default."""
        digits = self.minor_units if places is None else places
        if digits is None:
            raise ValidationError(
                [("places", f"{self.currency} has no minor unit in ISO 4217; pass places=")]
            )
        if type(digits) is not int or not 0 <= digits <= MAX_AMOUNT_PLACES:
            raise ValidationError(
                [
                    (
                        "places",
                        f"must be an integer from 0 to {MAX_AMOUNT_PLACES} (got {shown(digits)})",
                    )
                ]
            )
        try:
            quantized = self.amount.quantize(Decimal(1).scaleb(-digits), rounding=rounding)
        except InvalidOperation:
            raise ValidationError(
                [("amount", f"{self.amount} has too many digits to round to {digits} places")]
            ) from None
        return Money(quantized, self.currency)

    def allocate(self, ratios: Sequence[int | Decimal]) -> tuple[Money, ...]:
        """Split into parts proportional to ``ratios`` that add up exactly to the rounded amount.

        Leftover minor units go one each to the first parts (the largest-remainder
        rule), so no cent is lost or created.
        """
        ratios = items(ratios, "ratios")
        if not ratios or any(
            type(x) not in (int, Decimal) or not Decimal(x).is_finite() or x < 0 for x in ratios
        ):
            raise ValidationError(
                [("ratios", f"must be non-negative ints or Decimals (got {shown(ratios)})")]
            )
        total_ratio = sum(Decimal(x) for x in ratios)
        if total_ratio == 0:
            raise ValidationError([("ratios", "must not all be zero")])
        digits = self.minor_units or 0
        unit = Decimal(1).scaleb(-digits)
        whole = self.round(digits).amount
        sign = -1 if whole < 0 else 1
        minor = int(abs(whole) / unit)
        exact = [minor * Decimal(x) / total_ratio for x in ratios]
        shares = [int(e) for e in exact]
        by_remainder = sorted(range(len(ratios)), key=lambda i: shares[i] - exact[i])
        for i in by_remainder[: minor - sum(shares)]:
            shares[i] += 1
        return tuple(Money(unit * (sign * s), self.currency) for s in shares)

    # arithmetic ---------------------------------------------------------------

    def _same(self, other: Money, verb: str) -> None:
        if self.currency != other.currency:
            raise ValidationError(
                [
                    (
                        "currency",
                        f"cannot {verb} {self.currency} and {other.currency} amounts; convert one first",
                    )
                ]
            )

    def __add__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._same(other, "add")
            return Money(_EXACT.add(self.amount, other.amount), self.currency)
        raise _operand("add", other)

    def __radd__(self, other: object) -> Money:
        # sum() starts from the int 0.
        if type(other) is int and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._same(other, "subtract")
            return Money(_EXACT.subtract(self.amount, other.amount), self.currency)
        raise _operand("subtract", other)

    def __mul__(self, factor: object) -> Money:
        if type(factor) is int:
            if self.amount and factor.bit_length() > 256:  # far beyond 10**21 either way
                raise ValidationError([("factor", "the product is too large for an amount")])
            return Money(_EXACT.multiply(self.amount, Decimal(factor)), self.currency)
        if type(factor) is Decimal:
            if not factor.is_finite():
                raise ValidationError([("factor", f"must be finite (got {factor})")])
            return Money(_to_places(_EXACT.multiply(self.amount, factor)), self.currency)
        raise ValidationError(
            [("factor", f"multiply Money by an int or a Decimal, got {describe(factor)}")]
        )

    __rmul__ = __mul__

    def __truediv__(self, divisor: object) -> Money:
        if type(divisor) in (int, Decimal):
            if isinstance(divisor, Decimal) and not divisor.is_finite():
                raise ValidationError([("divisor", f"must be finite (got {divisor})")])
            if divisor == 0:
                raise ValidationError([("divisor", "must not be zero")])
            try:
                quotient = _EXACT.divide(self.amount, Decimal(divisor))  # type: ignore[arg-type]
            except InvalidOperation:  # an int divisor of thousands of digits
                raise ValidationError([("divisor", "is too large")]) from None
            return Money(_to_places(quotient), self.currency)
        raise ValidationError(
            [("divisor", f"divide Money by an int or a Decimal, got {describe(divisor)}")]
        )

    def __neg__(self) -> Money:
        return Money(self.amount.copy_negate(), self.currency)

    def __abs__(self) -> Money:
        return Money(self.amount.copy_abs(), self.currency)

    def __bool__(self) -> bool:
        return bool(self.amount)

    def _cmp(self, other: object) -> Decimal:
        if not isinstance(other, Money):
            raise ValidationError(
                [("other", f"can only compare Money with Money, got {type(other).__name__}")]
            )
        self._same(other, "compare")
        return other.amount

    def __lt__(self, other: object) -> bool:
        return self.amount < self._cmp(other)

    def __le__(self, other: object) -> bool:
        return self.amount <= self._cmp(other)

    def __gt__(self, other: object) -> bool:
        return self.amount > self._cmp(other)

    def __ge__(self, other: object) -> bool:
        return self.amount >= self._cmp(other)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"


def _check_country(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not str or value not in COUNTRIES:
        r.fail(
            inst,
            "country",
            f"must be an ISO 3166-1 alpha-2 code such as 'GB' or 'US' (got {shown(value)})",
        )


def _check_lines(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not tuple:
        r.fail(inst, "lines", f"must be a tuple of strings, got {r.describe(value)}")
    if not 1 <= len(value) <= 4:
        r.fail(inst, "lines", f"must hold 1 to 4 street lines (got {len(value)})")
    for i, line in enumerate(value):
        if type(line) is not str or not line.strip() or len(line) > 200 or not r.storable(line):
            r.fail(
                inst,
                f"lines[{i}]",
                f"must be a non-blank string of at most 200 characters (got {masked(line)})",
            )


@attrs.frozen(kw_only=True, repr=False)
class Address:
    """A postal address.

    ``lines`` holds one to four street lines; ``country`` is an ISO 3166-1
    alpha-2 code (upper-cased on the way in). City, region and postal code
    are optional because many countries do without one or another.

    >>> Address(lines=["10 Downing Street"], city="London", postal_code="SW1A 2AA", country="gb").country
    'GB'
    """

    lines: tuple[str, ...] = attrs.field(converter=r.to_tuple, validator=_check_lines)
    city: str | None = attrs.field(default=None, validator=r.optional_text(max_length=200))
    region: str | None = attrs.field(default=None, validator=r.optional_text(max_length=200))
    postal_code: str | None = attrs.field(default=None, validator=r.optional_text(max_length=20))
    country: str = attrs.field(converter=upper_code, validator=_check_country)

    ISO_COUNTRIES: ClassVar[frozenset[str]] = COUNTRIES

    def __repr__(self) -> str:
        # Street lines and postal codes are personal data: keep them out of logs.
        postal = "None" if self.postal_code is None else masked(self.postal_code)
        return (
            f"Address(lines=<{len(self.lines)} lines>, city={self.city!r}, "
            f"region={self.region!r}, postal_code={postal}, country={self.country!r})"
        )
