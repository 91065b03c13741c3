"""The demo market is deterministic plain data that keeps the promises the loader relies on."""

from __future__ import annotations

import io
import random
import re
import statistics
import time
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from fixtures.causes import SOCIAL_CAUSE_TAG
from fixtures.market import build_market
from fixtures.photos import PhotoSpec, draw_photo
from fixtures.shapes import DemoItem, DemoMarket, all_items
from fixtures.stalls import store_tag_for

HASHTAG = re.compile(r"#[^\W_][\w]*")
LETTERS_AND_DIGITS_TAG = re.compile(r"#[^\W_]+")
CATEGORIES = {"food", "crafts", "vintage", "books", "plants"}
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def market() -> DemoMarket:
    return build_market()


def items_of(market: DemoMarket) -> list[DemoItem]:
    return [item for _, item in all_items(market)]


def inline_tags(text: str) -> list[str]:
    """Every '#'-token in free text, without the punctuation that may follow it."""
    return [token.rstrip(".,;:!?)") for token in re.findall(r"#\S*", text)]


def one_photo_per_look(market: DemoMarket) -> list[PhotoSpec]:
    looks: dict[tuple[str, str], PhotoSpec] = {}
    for spec in market.photos.values():
        looks.setdefault((spec.category, spec.label), spec)
    return list(looks.values())


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_an_equal_market(market: DemoMarket) -> None:
    again = build_market()
    assert again == market
    assert list(again.photos) == list(market.photos)


def test_same_spec_gives_identical_photo_bytes(market: DemoMarket) -> None:
    for spec in one_photo_per_look(market):
        assert draw_photo(spec) == draw_photo(PhotoSpec(spec.category, spec.seed, spec.label))


def test_different_seed_gives_a_different_market(market: DemoMarket) -> None:
    other = build_market(seed=7)
    assert other != market
    assert [i.title for i in items_of(other)] != [i.title for i in items_of(market)]
    assert [v.stall.name for v in other.vendors] != [v.stall.name for v in market.vendors]


def test_building_leaves_the_global_random_state_alone() -> None:
    before = random.getstate()
    build_market(stalls=10, items=200)
    assert random.getstate() == before


def test_small_markets_are_deterministic_too() -> None:
    small = build_market(seed=3, stalls=10, items=200)
    assert small == build_market(seed=3, stalls=10, items=200)
    assert len(small.vendors) == 10
    assert len(items_of(small)) == 200


@pytest.mark.parametrize(("stalls", "items"), [(7, 200), (10, 99), (10, 451), (400, 8000)])
def test_impossible_sizes_are_refused(stalls: int, items: int) -> None:
    with pytest.raises(ValueError):
        build_market(stalls=stalls, items=items)


# --- shape and counts ------------------------------------------------------------------------


def test_default_market_is_big_enough(market: DemoMarket) -> None:
    assert len(market.vendors) >= 80
    assert len(items_of(market)) >= 2000
    assert len(items_of(market)) == 2100


def test_items_are_spread_unevenly_over_stalls(market: DemoMarket) -> None:
    sizes = [len(vendor.stall.items) for vendor in market.vendors]
    assert all(10 <= size <= 45 for size in sizes)
    assert max(sizes) - min(sizes) >= 20


def test_exactly_two_causes(market: DemoMarket) -> None:
    assert len(market.causes) == 2
    assert len({cause.tag for cause in market.causes}) == 2
    assert all(cause.goal > 0 for cause in market.causes)


def test_keys_numbers_tags_and_logins_are_unique(market: DemoMarket) -> None:
    keys = [item.key for item in items_of(market)]
    assert len(keys) == len(set(keys))
    numbers = [vendor.stall.number for vendor in market.vendors]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"[A-Z]\d\d", number) for number in numbers)
    tags = [vendor.stall.store_tag.casefold() for vendor in market.vendors]
    assert len(tags) == len(set(tags))
    emails = [vendor.email for vendor in market.vendors]
    assert len(emails) == len(set(emails)) and market.organizer_email not in emails


def test_items_are_well_formed(market: DemoMarket) -> None:
    for item in items_of(market):
        assert 0 < len(item.title) <= 120
        assert 0 < len(item.description) <= 2000
        assert item.price > 0
        assert item.quantity >= 1
        assert item.category in CATEGORIES
        assert unicodedata.is_normalized("NFC", item.title + item.description)


def test_titles_are_varied(market: DemoMarket) -> None:
    titles = [item.title for item in items_of(market)]
    assert len(set(titles)) >= 0.95 * len(titles)
    words = " ".join(titles).lower()
    for word in ("vintage", "leather", "honey", "sourdough", "ceramic", "silk", "monstera"):
        assert word in words


def test_every_category_is_sold_and_prices_make_sense(market: DemoMarket) -> None:
    items = items_of(market)
    assert {item.category for item in items} == CATEGORIES
    honey = [i.price for i in items if re.search(r"\bHoney, \d+g jar\b", i.title)]
    jackets = [i.price for i in items if "Leather Jacket" in i.title]
    assert honey and all(450 <= price <= 900 for price in honey)
    assert jackets and all(3500 <= price <= 12000 for price in jackets)


def test_stalls_mostly_sell_one_category(market: DemoMarket) -> None:
    for vendor in market.vendors:
        counts = Counter(item.category for item in vendor.stall.items)
        assert counts.most_common(1)[0][1] >= 0.7 * len(vendor.stall.items)


# --- hashtags --------------------------------------------------------------------------------


def test_every_hashtag_is_letters_and_digits(market: DemoMarket) -> None:
    tags = [market.event.hashtag, *(cause.tag for cause in market.causes)]
    for vendor in market.vendors:
        tags.append(vendor.stall.store_tag)
        tags.extend(inline_tags(vendor.stall.description))
        for item in vendor.stall.items:
            tags.extend(item.hashtags)
            tags.extend(inline_tags(item.title))
            tags.extend(inline_tags(item.description))
    assert tags
    for tag in tags:
        assert HASHTAG.fullmatch(tag), tag
        assert LETTERS_AND_DIGITS_TAG.fullmatch(tag), tag


def test_about_a_third_of_items_have_inline_hashtags(market: DemoMarket) -> None:
    items = items_of(market)
    tagged = [i for i in items if "#" in i.title or "#" in i.description]
    assert 0.25 <= len(tagged) / len(items) <= 0.42
    assert any("#" in i.title for i in items) and any("#" in i.description for i in items)


def test_store_tag_is_left_for_the_loader(market: DemoMarket) -> None:
    for vendor in market.vendors:
        for item in vendor.stall.items:
            assert vendor.stall.store_tag not in item.hashtags


def test_cause_items_carry_social_cause_and_one_cause_tag(market: DemoMarket) -> None:
    cause_tags = {cause.tag for cause in market.causes}
    charity_stalls = [v for v in market.vendors if any(SOCIAL_CAUSE_TAG in i.hashtags for i in v.stall.items)]
    assert 6 <= len(charity_stalls) <= 10
    used = set()
    for vendor in charity_stalls:
        for item in vendor.stall.items:
            assert SOCIAL_CAUSE_TAG in item.hashtags
            tags = cause_tags.intersection(item.hashtags)
            assert len(tags) == 1
            used |= tags
    assert used == cause_tags


def test_some_names_and_tags_are_not_ascii(market: DemoMarket) -> None:
    names = [vendor.stall.name for vendor in market.vendors]
    tags = [vendor.stall.store_tag for vendor in market.vendors]
    assert "#CaféLumière" in tags
    assert any(unicodedata.bidirectional(ch) == "AL" for name in names for ch in name)
    assert sum(not tag.isascii() for tag in tags) >= 3


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Mabel's Honey", "#MabelsHoney"),
        ("Café Lumière", "#CaféLumière"),
        ("Lowry & Co.", "#LowryCo"),
        ("عسل الجبل", "#عسلالجبل"),
        ("the o'hara rail", "#TheOharaRail"),
    ],
)
def test_store_tag_for(name: str, tag: str) -> None:
    assert store_tag_for(name) == tag


# --- event and sales -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "saturday", "utc_hour", "hashtag"),
    [
        (date(2026, 11, 23), date(2026, 11, 28), 9, "#RipeMarketNov"),  # a Monday, winter time
        (date(2026, 7, 4), date(2026, 7, 11), 8, "#RipeMarketJul"),  # a Saturday: the next one
        (date(2026, 12, 31), date(2027, 1, 2), 9, "#RipeMarketJan"),
    ],  # across the new year
)
def test_event_is_the_next_saturday_in_london(today: date, saturday: date, utc_hour: int, hashtag: str) -> None:
    event = build_market(stalls=10, items=200, today=today).event
    london = ZoneInfo(event.time_zone)
    assert event.starts_at.tzinfo is UTC and event.ends_at.tzinfo is UTC
    assert event.starts_at.astimezone(london).date() == saturday
    assert event.starts_at.hour == utc_hour
    assert event.starts_at.astimezone(london).hour == 9
    assert event.ends_at.astimezone(london).hour == 17
    assert event.starts_at > datetime.combine(today, datetime.max.time(), london)
    assert event.hashtag == hashtag
    assert event.currency == "GBP"


def test_default_today_is_fixed(market: DemoMarket) -> None:
    assert market.event.starts_at == datetime(2026, 11, 28, 9, tzinfo=UTC)
    assert build_market(stalls=10, items=200, today=TODAY).event == market.event


def test_sales_never_oversell_and_fall_in_opening_hours(market: DemoMarket) -> None:
    items = {item.key: item for item in items_of(market)}
    sold: Counter[str] = Counter()
    for sale in market.sales:
        item = items[sale.item_key]
        sold[sale.item_key] += sale.quantity
        assert sale.quantity >= 1
        assert 0 < sale.amount <= item.price * sale.quantity
        assert market.event.starts_at <= sale.sold_at <= market.event.ends_at
        assert sale.sold_at.tzinfo is UTC
    for key, quantity in sold.items():
        assert quantity <= items[key].quantity


def test_about_150_sales_some_for_causes_some_haggled(market: DemoMarket) -> None:
    items = {item.key: item for item in items_of(market)}
    assert 130 <= len(market.sales) <= 170
    assert sum(SOCIAL_CAUSE_TAG in items[s.item_key].hashtags for s in market.sales) >= 10
    assert any(s.amount < items[s.item_key].price * s.quantity for s in market.sales)
    hours = {s.sold_at.hour for s in market.sales}
    assert len(hours) >= 6


# --- photos ----------------------------------------------------------------------------------


def test_photo_keys_point_at_photos_and_every_photo_is_used(market: DemoMarket) -> None:
    items = items_of(market)
    used = {item.photo_key for item in items if item.photo_key is not None}
    assert used == set(market.photos)
    assert 200 <= len(market.photos) <= 260
    without = sum(item.photo_key is None for item in items)
    assert 0.05 <= without / len(items) <= 0.15
    for item in items:
        if item.photo_key is not None:
            assert market.photos[item.photo_key].category == item.category


@pytest.mark.parametrize("size", [(800, 600), (320, 240)])
def test_photo_decodes_as_jpeg_at_the_requested_size(market: DemoMarket, size: tuple[int, int]) -> None:
    spec = next(iter(market.photos.values()))
    with Image.open(io.BytesIO(draw_photo(spec, size=size))) as image:
        assert image.format == "JPEG"
        assert image.size == size
        image.load()


def test_photos_differ_between_specs(market: DemoMarket) -> None:
    blobs = {draw_photo(spec) for spec in one_photo_per_look(market)}
    assert len(blobs) == len(one_photo_per_look(market))


def test_drawing_a_photo_is_quick(market: DemoMarket) -> None:
    specs = one_photo_per_look(market)
    timings = []
    for spec in specs:
        started = time.perf_counter()
        draw_photo(spec)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.05
