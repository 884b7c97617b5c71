"""ISO code tables: ISO 4217 currencies and ISO 3166-1 alpha-2 countries.

Sources: ISO 4217 "List one: currency, fund and precious metal codes" as
published by SIX Financial Information for the ISO 4217 Maintenance Agency
(amendments up to 2025, including XCG and ZWG; recently withdrawn codes
such as ANG, BGN, SLL and ZWL are kept so historical records still load),
and the ISO 3166-1 alpha-2 officially assigned codes (249 entries).
"""

from __future__ import annotations

# code -> number of minor-unit digits; None where ISO lists "N.A." (metals, funds).
_MINOR_UNITS_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN "
    "ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES "
    "KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR "
    "SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD "
    "TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
).split()
_MINOR_UNITS_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
_MINOR_UNITS_3 = "BHD IQD JOD KWD LYD OMR TND".split()
_MINOR_UNITS_4 = "CLF UYW".split()
_NO_MINOR_UNITS = "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX".split()

CURRENCY_MINOR_UNITS: dict[str, int | None] = {
    **dict.fromkeys(_MINOR_UNITS_2, 2),
    **dict.fromkeys(_MINOR_UNITS_0, 0),
    **dict.fromkeys(_MINOR_UNITS_3, 3),
    **dict.fromkeys(_MINOR_UNITS_4, 4),
    **dict.fromkeys(_NO_MINOR_UNITS, None),
}

COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
    """.split()
)
