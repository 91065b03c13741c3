"""Money is an integer count of the currency's minor unit plus an ISO 4217 code.

Floats never touch prices: 0.1 + 0.2 is not 0.3, and a charity total that is off by a penny
is a bug someone will notice on a projector in front of the donors.
"""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not 1/100; everything else has two decimals.
_EXPONENTS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
MAX_AMOUNT = 10**12  # a trillion minor units: far beyond any stall, far below int64


def is_currency_code(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def minor_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(amount: int, currency: str) -> str:
    """'12.50 GBP' style, exact for every exponent (no float arithmetic)."""
    exponent = minor_exponent(currency)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if exponent == 0:
        return f"{sign}{amount:,} {currency}"
    major, minor = divmod(amount, 10**exponent)
    return f"{sign}{major:,}.{minor:0{exponent}d} {currency}"
