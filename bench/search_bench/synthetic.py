"""Synthetic items: deterministic words, titles, tags and prices spread over real stalls."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from search.documents import ItemDocument
from server.domain import events, stalls
from server.domain.accounts import NewAccount, create_account
from server.domain.actors import Actor
from server.domain.context import Services
from server.domain.events import EventInput
from server.domain.stalls import StallInput

SEED = 20261107


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PRODUCTS = _words(
    "jacket coat scarf hat gloves boots sandals dress skirt shirt blouse sweater cardigan "
    "belt wallet handbag backpack necklace bracelet earrings ring brooch watch sunglasses "
    "honey jam marmalade chutney pickles bread sourdough cake cookies brownies pie tart "
    "cheese olives coffee tea chocolate fudge candles soap lotion balm perfume incense "
    "vase bowl mug teapot plate jug basket blanket cushion quilt rug lamp mirror frame "
    "painting print poster postcard notebook journal book comics vinyl record cassette "
    "camera lens radio clock telephone typewriter bicycle skateboard guitar ukulele "
    "plant succulent cactus seeds bulbs herbs lavender flowers bouquet wreath toy puzzle "
    "doll teddy marbles kite iphone charger headphones speaker keyboard console cartridge"
)
ADJECTIVES = _words(
    "vintage retro antique handmade homemade organic local raw artisan rustic classic "
    "modern minimalist colourful bright pastel black white red blue green yellow brown "
    "leather wooden ceramic glass silver golden copper woollen linen cotton silk velvet "
    "knitted crocheted embroidered painted carved recycled upcycled secondhand preloved "
    "small large tiny giant cosy warm soft delicate sturdy waterproof lightweight rare "
    "collectable signed limited original famous traditional seasonal spicy sweet fresh"
)
FILLER = _words(
    "the a of and with from for in on at by this that our my your very lovely great "
    "condition perfect gift idea made grown picked baked stitched finished each every "
    "comes includes bag box jar bottle pair set piece saturday sunday morning market "
    "stall village family recipe grandmother since years old new like worn once only"
)
TAGS = _words(
    "Vintage Handmade Organic Local SocialCause MabelsHoney LiveEvent Upcycled Retro "
    "ZeroWaste Vegan GlutenFree Charity KidsCorner Books Music Art Plants Jewellery"
)


@dataclass(frozen=True)
class StallRef:
    """A real stall of the benchmark's database, as documents refer to it."""

    id: str
    code: str
    name: str
    number: str


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    """Rare made-up words, so the vocabulary is as large as a real event's."""
    syllables = _words("ka lo mi ne ru sa te vo bri cha dor fen gal hum jex kor lun mar")
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def make_documents(count: int, event_id: str, stall_refs: Sequence[StallRef], seed: int = SEED) -> list[ItemDocument]:
    """`count` deterministic synthetic items of one event, spread over `stall_refs`."""
    rng = random.Random(seed)
    rare = pseudo_words(rng, 20000)
    docs = []
    for n in range(count):
        stall = stall_refs[n % len(stall_refs)]
        title = " ".join(
            [rng.choice(ADJECTIVES), rng.choice(ADJECTIVES), rng.choice(PRODUCTS)][rng.randint(0, 1) :]
        ).capitalize()
        words = [rng.choice(FILLER + ADJECTIVES + PRODUCTS) for _ in range(rng.randint(10, 40))]
        words += [rng.choice(rare) for _ in range(rng.randint(0, 4))]
        rng.shuffle(words)
        tags = tuple(f"#{tag}" for tag in rng.sample(TAGS, rng.randint(0, 3)))
        docs.append(
            ItemDocument(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                event_id=event_id,
                stall_id=stall.id,
                stall_code=stall.code,
                stall_name=stall.name,
                stall_number=stall.number,
                title=title,
                description=" ".join(words).capitalize() + ".",
                hashtags=tags,
                tag_keys=tuple(tag[1:].casefold() for tag in tags),
                causes=("foodbank",) if "#Charity" in tags else (),
                state=rng.choice(("available",) * 8 + ("reserved", "sold")),
                price=rng.randint(50, 50000),
                currency="EUR",
                created_at=1_700_000_000 + n * 7,
                photo=None,
                hidden=rng.random() < 0.01,
            )
        )
    return docs


async def event_with_stalls(market: Services, count: int) -> list[StallRef]:
    """Organizer, event and `count` stalls of one vendor, through the domain functions."""
    rng = random.Random(SEED)
    organizer = Actor(
        "organizer", account_id=await create_account(NewAccount("org@bench.test", "bench-pass", "Org"), "organizer")
    )
    starts = datetime.now(UTC) + timedelta(days=7)
    await events.create_event(
        market,
        organizer,
        EventInput(
            "Bench Market", "bench-market", "#BenchMarket", starts, starts + timedelta(hours=8), "Europe/Paris", "EUR"
        ),
    )
    vendor = Actor(
        "vendor", account_id=await create_account(NewAccount("v@bench.test", "bench-pass", "Vendor"), "vendor")
    )
    refs = []
    for n, code in enumerate(await events.create_invites(market, organizer, "bench-market", count)):
        name = f"{rng.choice(ADJECTIVES).title()} {rng.choice(PRODUCTS).title()} Stall {n}"
        joined = await stalls.join_event(market, vendor, code, StallInput(name, f"#BenchStall{n}", str(n + 1)))
        refs.append(StallRef(str(joined.stall.id), joined.stall.code, joined.stall.name, joined.stall.number))
    return refs
