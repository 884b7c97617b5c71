from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.entities import Address, Email, Money, PhoneNumber
from crmkit.entities._iso import COUNTRIES, CURRENCY_MINOR_UNITS
from crmkit.errors import ValidationError
from crmkit.testing.strategies import emails, money

# ---------------------------------------------------------------- Email (WHATWG "valid e-mail address")


@pytest.mark.parametrize(
    "address",
    [
        "simple@example.com",
        "very.common@example.com",
        "x@example.com",
        "long.email-address-with-hyphens@and.subdomains.example.com",
        "user.name+tag+sorting@example.com",
        "name/surname@example.com",
        "admin@example",  # a dotless domain is valid in the WHATWG grammar
        "example@s.example",
        "mailhost!username@example.org",
        "user%example.com@example.org",
        "user-@example.org",
        "#!$%&'*+-/=?^_`{}|~@example.org",
        "a@" + "b" * 63 + ".com",
    ],
)
def test_valid_addresses(address: str) -> None:
    assert Email(address).local_part == address.rpartition("@")[0]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "a@b@c@example.com",
        '"quoted"@example.com',  # quoted local parts are excluded by the WHATWG grammar
        "john..doe@example.com@",
        "user@-example.com",
        "user@example-.com",
        "user@exa_mple.com",
        "user@[192.168.0.1]",
        "user name@example.com",
        "jos\u00e9@example.com",
        "user@" + "b" * 64 + ".com",  # a label is at most 63 characters
        "u" * 65 + "@example.com",  # RFC 5321: local part at most 64 octets
        "u@" + ".".join(["d" * 60] * 5),  # RFC 5321: at most 254 octets
    ],
)
def test_invalid_addresses(address: str) -> None:
    with pytest.raises(ValidationError) as info:
        Email(address)
    assert info.value.errors[0][0] == "address"


def test_domain_is_case_insensitive_local_part_is_kept() -> None:
    e = Email("John.Smith@EXAMPLE.Com")
    assert e.address == "John.Smith@example.com"
    assert e == Email("John.Smith@example.com")
    assert e != Email("john.smith@example.com")
    assert e.normalized == Email("john.smith@Example.com").normalized == "john.smith@example.com"


def test_email_rejects_non_strings() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        Email(42)  # type: ignore[arg-type]


def test_email_repr_masks_but_str_does_not() -> None:
    e = Email("ada.lovelace@example.com")
    assert "lovelace" not in repr(e)
    assert str(e) == "ada.lovelace@example.com"


@given(emails())
def test_normalized_is_idempotent(e: Email) -> None:
    assert Email(e.normalized).normalized == e.normalized
    assert Email(str(e)) == e


# ---------------------------------------------------------------- PhoneNumber


def test_parse_written_forms() -> None:
    expected = "+442079460958"
    assert PhoneNumber.parse("(020) 7946 0958", region="GB").e164 == expected
    assert PhoneNumber.parse("+44 20 7946 0958").e164 == expected
    assert PhoneNumber.parse("020-7946-0958", region="gb").e164 == expected
    us = PhoneNumber.parse("(650) 253-0000 ext. 12", region="US")
    assert (us.e164, us.extension) == ("+16502530000", "12")
    assert us.region == "US"
    assert us.format("national") == "(650) 253-0000 ext. 12"
    assert us.format("rfc3966") == "tel:+1-650-253-0000;ext=12"


@pytest.mark.parametrize(
    ("text", "region", "path"),
    [
        ("not a number", "GB", "text"),
        ("020 7946 0958", None, "text"),  # national form without a region
        ("+44 20 7946", None, "text"),  # too short to be valid
        ("020 7946 0958", "XX", "region"),
        (123, "GB", "text"),
    ],
)
def test_parse_refuses(text: object, region: str | None, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        PhoneNumber.parse(text, region=region)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == path


@pytest.mark.parametrize("e164", ["+442079460958", "+16502530000", "+3312345"])
def test_e164_constructor_accepts(e164: str) -> None:
    assert PhoneNumber(e164).e164 == e164


@pytest.mark.parametrize(
    "e164", ["442079460958", "+0442079460958", "+44 20 7946 0958", "+1234", "+1234567890123456"]
)
def test_e164_constructor_refuses(e164: str) -> None:
    with pytest.raises(ValidationError, match=r"E\.164"):
        PhoneNumber(e164)


def test_phone_repr_masks() -> None:
    assert "7946" not in repr(PhoneNumber("+442079460958"))


def test_phone_format_refuses_unknown_style() -> None:
    with pytest.raises(ValidationError, match="style"):
        PhoneNumber("+442079460958").format("fancy")  # type: ignore[arg-type]


# ---------------------------------------------------------------- Money


def test_money_arithmetic_within_a_currency() -> None:
    a, b = Money("19.99", "EUR"), Money("0.01", "EUR")
    assert a + b == Money("20.00", "EUR")
    assert a - b == Money("19.98", "EUR")
    assert a * 3 == Money("59.97", "EUR")
    assert 3 * a == a * 3
    assert -a == Money("-19.99", "EUR")
    assert abs(-a) == a
    assert sum([a, b, b]) == Money("20.01", "EUR")
    assert a > b and b < a and a >= a and b <= b


@pytest.mark.parametrize("op", ["add", "sub", "lt", "le", "gt", "ge"])
def test_money_refuses_mixed_currencies(op: str) -> None:
    with pytest.raises(ValidationError, match="EUR and USD"):
        getattr(Money("1", "EUR"), f"__{op}__")(Money("1", "USD"))


def test_money_equality_across_currencies_is_false_not_an_error() -> None:
    assert Money("1", "EUR") != Money("1", "USD")


def test_money_refuses_floats() -> None:
    with pytest.raises(ValidationError, match="float"):
        Money(19.99, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="float"):
        Money("1", "EUR") * 1.5
    with pytest.raises(ValidationError, match="zero"):
        Money("1", "EUR") / 0


@pytest.mark.parametrize(
    ("amount", "currency", "error_path"),
    [
        ("NaN", "EUR", "amount"),
        ("Infinity", "EUR", "amount"),
        ("abc", "EUR", "amount"),
        ("1e21", "EUR", "amount"),
        ("1", "EURO", "currency"),
        ("1", "XYZ", "currency"),
    ],
)
def test_money_validation(amount: str, currency: str, error_path: str) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, currency)
    assert info.value.errors[0][0] == error_path


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.675", "EUR", "2.68"),  # half-even: 7 is odd, so up
        ("2.665", "EUR", "2.66"),  # half-even: 6 is even, so down
        ("1234.5", "JPY", "1234"),  # JPY has no minor unit
        ("1235.5", "JPY", "1236"),
        ("1.23456", "KWD", "1.235"),  # three decimals
        ("1.23456", "CLF", "1.2346"),  # four decimals
    ],
)
def test_round_to_minor_units(amount: str, currency: str, rounded: str) -> None:
    assert Money(amount, currency).round().amount == Decimal(rounded)
    assert str(Money(amount, currency).round().amount) == rounded


def test_round_mode_and_places() -> None:
    assert Money("2.665", "EUR").round(rounding=ROUND_HALF_UP).amount == Decimal("2.67")
    assert Money("2.665", "EUR").round(places=1).amount == Decimal("2.7")
    with pytest.raises(ValidationError, match="no minor unit"):
        Money("1", "XAU").round()


def test_currency_table_matches_iso_4217_examples() -> None:
    assert len(CURRENCY_MINOR_UNITS) >= 178
    assert {CURRENCY_MINOR_UNITS[c] for c in ("EUR", "USD", "GBP")} == {2}
    assert CURRENCY_MINOR_UNITS["JPY"] == CURRENCY_MINOR_UNITS["KRW"] == 0
    assert CURRENCY_MINOR_UNITS["BHD"] == CURRENCY_MINOR_UNITS["TND"] == 3
    assert CURRENCY_MINOR_UNITS["XAU"] is None


@given(
    money(min_value=-(10**6), max_value=10**6), st.lists(st.integers(0, 50), min_size=1, max_size=8)
)
def test_allocate_loses_no_minor_unit(total: Money, ratios: list[int]) -> None:
    if sum(ratios) == 0:
        ratios[0] = 1
    parts = total.allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum(parts, Money.zero(total.currency)) == total.round()
    unit = Decimal(1).scaleb(-(total.minor_units or 0))
    exact_total = total.round().amount
    for part, ratio in zip(parts, ratios, strict=True):
        exact = exact_total * ratio / sum(ratios)
        assert abs(part.amount - exact) < unit  # off by less than one minor unit


def test_allocate_refuses_bad_ratios() -> None:
    with pytest.raises(ValidationError, match="ratios"):
        Money("10", "EUR").allocate([])
    with pytest.raises(ValidationError, match="zero"):
        Money("10", "EUR").allocate([0, 0])
    with pytest.raises(ValidationError, match="ratios"):
        Money("10", "EUR").allocate([1.5])  # type: ignore[list-item]


# ---------------------------------------------------------------- Address


def test_address_normalises_country_and_lines() -> None:
    a = Address(lines=["1 Main St"], country=" us ")
    assert a.country == "US"
    assert a.lines == ("1 Main St",)


def test_address_collects_every_error() -> None:
    with pytest.raises(ValidationError) as info:
        Address(lines=[], postal_code=" ", country="UK")
    paths = [p for p, _ in info.value.errors]
    assert paths == ["lines", "postal_code", "country"]


def test_country_table_is_iso_3166_1() -> None:
    assert len(COUNTRIES) == 249
    assert {"GB", "US", "DE", "AX", "SS", "BQ"} <= COUNTRIES
    assert not {"UK", "EU", "XK"} & COUNTRIES


def test_error_messages_mask_personal_values() -> None:
    """Issue 17: messages repeated mistyped e-mails, phone numbers and street lines in full."""
    from crmkit.entities import Address, Email, PhoneNumber
    from crmkit.errors import ValidationError

    for make, secret in (
        (lambda: Email("ada.lovelace@@analytical.example"), "lovelace"),
        (lambda: PhoneNumber("+44 20 7123 4567"), "7123"),
        (lambda: PhoneNumber.parse("020 7123 456 8888 7777", "GB"), "7123"),
        (lambda: Address(lines=("12 Analytical Row", " "), country="GB"), "Analytical"),
        (lambda: Email("x" * 10_000_000 + "@"), "x" * 50),
    ):
        with pytest.raises(ValidationError) as info:
            make()
        assert secret not in str(info.value)
        assert len(str(info.value)) < 400
