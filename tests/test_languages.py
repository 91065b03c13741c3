"""Prices on server-rendered pages in the reader's language (Accept-Language), as Intl writes them."""

from __future__ import annotations

import httpx
import pytest
from babel import Locale

from server.api.languages import reader_locale
from server.domain.money import format_money_for
from tests.conftest import World


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9", "en_GB"),
        ("de-CH, de;q=0.9, *;q=0.5", "de_CH"),
        ("fr;q=0.2, xx-YY", "fr"),  # an unknown language is passed over
        ("en;q=0, de", "de"),  # q=0 means "not this one"
        ("en;q=banana, ar-EG", "ar_EG"),  # a malformed weight counts as none
        ("", "en"),
        (None, "en"),
        ("*", "en"),
        ("x" * 5000, "en"),
        ("<script>, ../../etc", "en"),
    ],
)
def test_reader_locale(header: str | None, expected: str) -> None:
    assert str(reader_locale(header)) == expected


def test_money_in_the_readers_language() -> None:
    assert format_money_for(123450, "GBP", Locale.parse("en_GB")) == "£1,234.50"
    assert format_money_for(123450, "EUR", Locale.parse("de_DE")) == "1.234,50\xa0€"
    assert format_money_for(500, "JPY", Locale.parse("en_GB")) == "JP¥500"
    assert format_money_for(1234, "KWD", Locale.parse("en")) == "KWD\xa01.234"
    assert format_money_for(-250, "GBP", Locale.parse("en")) == "-£2.50"
    # CLDR counts IQD's minor digits unlike ISO 4217: the plain, exact form rather than a wrong one.
    assert format_money_for(1234, "IQD", Locale.parse("en")) == "1.234 IQD"


async def test_the_stall_page_writes_prices_for_its_reader(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        f"/api/stalls/{world.stall['code']}/items", json={"title": "Jar", "price": 1299}, headers=world.vendor
    )
    assert r.status_code == 201, r.text
    english = await client.get(f"/s/{world.stall['code']}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    german = await client.get(f"/s/{world.stall['code']}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<span class="price">£12.99</span>' in english.text
    assert '<span class="price">12,99\xa0£</span>' in german.text
    assert english.headers["vary"].lower().count("accept-language") == 1
