"""The one offline search (pwa/kit/search.js, used by the app and the kiosk) finds what the server
finds, for the cases of the search contract (tests/search/test_contract.py): the typo budget at
4, 5-8 and 9+ letters, a first-letter typo, swaps, the last word as a prefix, accents, the
"last" matching strategy, hashtags (camel-case words included), and the tag, cause, stall,
price and state filters; the relaxed second pass when the strict one finds nothing (one typo
in 3-4 letter words, with the same corrections: "hony" is shown as "honey"), and true totals.

The server's answers come from /api/events/{event}/search; the browser pulls the event with the
sync protocol into the kit's replica rules and searches that copy. Both must return the same
items, in an order the offline search ranks the same (ties may fall either way: the server
breaks them by its index order).
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import Market

# (stall key, title, extra fields): the contract's documents, next to the market's own items.
ITEMS: list[tuple[str, str, dict[str, Any]]] = [
    ("honey", "Honey jar", {}),
    ("honey", "Leather belt", {}),
    ("olive", "Leather jacket", {}),
    ("olive", "Denim jacket", {}),
    ("honey", "Handkerchief set", {}),
    ("olive", "Embroidery kit", {}),
    ("honey", "Saturday special", {}),
    ("olive", "Vintage lamp", {}),
    ("honey", "Iphone charger", {}),
    ("olive", "Café crème", {}),
    ("honey", "CAFE SIGN", {}),
    ("olive", "Lather soap", {}),
    ("honey", "Leather soap", {}),
    ("olive", "Jacket made of soft brown old leather", {}),
    ("honey", "Brown leather jacket", {}),
    ("olive", "Old light", {"description": "A brass lamp for the desk"}),
    ("honey", "Desk lamp", {"description": "Brass, works well"}),
    ("olive", "Cushion", {"description": "Upcycled from old curtains"}),
    ("honey", "Lampshade", {"hashtags": ["#Upcycled"]}),
    ("olive", "Jamaican coffee", {}),
    ("honey", "Jam jar", {}),
    ("olive", "Raffle ticket", {"hashtags": ["#FoodBank"]}),
    ("honey", "Set of honey spoons", {"hashtags": ["#Local", "#Organic"]}),
    ("olive", "Plum jam", {"hashtags": ["#Local"]}),
    ("honey", "Green tea", {"hashtags": ["#Organic"]}),
    ("honey", "Mug", {"price": 300}),
    ("olive", "Mug", {"price": 500, "hashtags": ["#Shelter"]}),
    ("honey", "Mug", {"price": 700, "hashtags": ["#FoodBank"]}),
    ("olive", "Mug", {"price": 299}),
    ("honey", "Reading lamp", {"state": "reserved"}),
    ("olive", "Floor lamp", {"state": "sold"}),
]

# (label, query parameters as the server takes them)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("4 letters: no typo", {"q": "hony", "relax": "false"}),
    ("4 letters: the relaxed pass", {"q": "hony"}),
    ("3 letters: the relaxed pass, a swap", {"q": "jma "}),
    ("two short words, both relaxed", {"q": "hony jra "}),
    ("relaxed, but found strictly", {"q": "jam "}),
    ("relaxed finds nothing either", {"q": "xylo"}),
    ("relaxed, with a filter", {"q": "mgu ", "price_min": 300, "price_max": 500}),
    ("4 letters: a prefix", {"q": "hone"}),
    ("a finished word is no prefix", {"q": "hon "}),
    ("5-8 letters: one typo", {"q": "lether "}),
    ("5-8 letters: one typo, again", {"q": "honney "}),
    ("5-8 letters: not two typos", {"q": "lethar "}),
    ("9+ letters: two typos", {"q": "hankerchef "}),
    ("9+ letters: two typos, again", {"q": "embroydery "}),
    ("9+ letters: not three typos", {"q": "hankrchef "}),
    ("first letter typo", {"q": "caturday"}),
    ("a missing letter", {"q": "sturday"}),
    ("a swap is one typo", {"q": "laether "}),
    ("a swap is one typo, again", {"q": "leahter "}),
    ("the last word is a prefix", {"q": "vint"}),
    ("a prefix with its typo", {"q": "iphoe"}),
    ("two words, the last a prefix", {"q": "leather ja"}),
    ("a word before the last is no prefix", {"q": "vint lamp"}),
    ("accents and case", {"q": "cafe "}),
    ("accents and case, again", {"q": "CRÈME"}),
    ("the last strategy", {"q": "leather jacket "}),
    ("exact above a typo", {"q": "leather "}),
    ("title above description", {"q": "lamp "}),
    ("hashtag above stall name and description", {"q": "upcycled "}),
    ("exact above a longer prefix", {"q": "jam"}),
    ("a hashtag", {"q": "#FoodBank"}),
    ("a hashtag without the hash", {"q": "foodbank"}),
    ("a hashtag's camel-case words", {"q": "food bank"}),
    ("the event's hashtag", {"q": "#RipeMarketJan"}),
    ("a store tag's word", {"q": "mabels"}),
    ("every tag", {"tag": ["local", "organic"]}),
    ("one tag", {"tag": ["#Local"]}),
    ("a stall", {"q": "mug", "stall": ["olive"]}),
    ("causes", {"q": "mug", "cause": ["foodbank", "shelter"]}),
    ("a price range", {"q": "mug", "price_min": 300, "price_max": 500}),
    ("reserved and sold", {"q": "lamp", "state": ["reserved", "sold"]}),
    ("every state", {"q": "lamp", "state": ["available", "reserved", "sold"]}),
    ("no words: newest", {"sort": "newest"}),
    ("no words: cheapest", {"sort": "price_asc"}),
    ("words, then price", {"q": "mug", "sort": "price_desc"}),
    ("a stall name in Arabic", {"q": "الزيتون"}),
]

SEARCH_IN_BROWSER = """async ({ cases, stallIds }) => {
  const { ItemIndex, STATES } = await import("/app/kit/search.js");
  const { applyChange, pullToHead, isTombstone } = await import("/app/kit/replica.js");
  const { request } = await import("/app/kit/http.js");
  const { expandPage } = await import("/app/kit/wire.js");
  const { token } = await request("POST", "/api/devices");
  const stored = new Map();
  const context = {}; // the wire format's context (kit/wire.js): the event's id and currency
  const fetchPage = async (cursor) => {
    const json = { event: "ripe-jan", cursor, limit: 50, format: 2 };
    const page = expandPage(await request("POST", "/api/sync/pull", { token, json }), context);
    const event = page.changes.find((c) => c.entity === "event" && c.data);
    if (event) Object.assign(context, { eventId: event.id, currency: event.data.currency });
    return page;
  };
  await pullToHead({
    cursor: null,
    fetchPage,
    apply: async (page, fresh) => {
      if (fresh) stored.clear();
      for (const change of page.changes) {
        const key = `${change.entity}:${change.id}`;
        const next = applyChange(stored.get(key), change);
        if (next) stored.set(key, next);
      }
    },
  });
  const live = [...stored.values()].filter((r) => !isTombstone(r));
  const items = live.filter((r) => r.entity === "item").map((r) => r.data);
  const stalls = new Map(live.filter((r) => r.entity === "stall").map((r) => [r.data.id, r.data]));
  const index = new ItemIndex(items, stalls);
  const out = {};
  for (const [label, p] of cases) {
    const options = {
      q: p.q || "", tags: p.tag || [], causes: p.cause || [], stallIds: (p.stall || []).map((s) => stallIds[s]),
      states: p.state || ["available"], priceMin: p.price_min ?? null, priceMax: p.price_max ?? null,
      sort: p.sort || "relevance",
    };
    const found = p.relax === "false"
      ? { hits: index.search(options), relaxed: false, corrections: {}, showingFor: "" } : index.find(options);
    const hits = found.hits;
    const sort = p.sort || "relevance";
    const sortValue = (item) => (sort === "price_asc" ? item.price : sort === "price_desc" ? -item.price : 0);
    // the rank the offline search gives: equal ranks are ties, in any order
    out[label] = {
      total: hits.length, relaxed: found.relaxed, corrections: found.corrections, showing_for: found.showingFor,
      hits: hits.map((hit) => ({ id: hit.item.id, rank: [-hit.bucket, ...hit.key, sortValue(hit.item)] })) };
  }
  return { out, states: STATES, items: items.length };
}"""


def _seed(market: Market) -> int:
    """The contract's items in the market's two stalls; their number of items in the event."""
    with market.http() as http:
        for cause, tag in (("Food bank", "#FoodBank"), ("Night shelter", "#Shelter")):
            made = http.post("/api/events/ripe-jan/causes", json={"name": cause, "tag": tag}, headers=market.organizer)
            assert made.status_code == 201, made.text
        for key, title, extra in ITEMS:
            body = {
                "title": title,
                "price": extra.get("price", 500),
                "quantity": 1,
                "description": extra.get("description", ""),
                "hashtags": extra.get("hashtags", []),
            }
            vendor = market.vendors[key]
            made = http.post(f"/api/stalls/{market.stalls[key]['code']}/items", json=body, headers=vendor)
            assert made.status_code == 201, made.text
            item_id = made.json()["id"]
            if extra.get("state") == "reserved":
                assert http.post(f"/api/items/{item_id}/reserve", json={}, headers=vendor).status_code == 200
            elif extra.get("state") == "sold":
                assert http.post(f"/api/items/{item_id}/sell", json={}, headers=vendor).status_code == 201
    return len(ITEMS) + len(market.items)


def _answer(market: Market, params: dict[str, Any]) -> dict[str, Any]:
    query = {**params, "limit": 100}
    if "stall" in params:
        query["stall"] = [market.stalls[key]["code"] for key in params["stall"]]
    with market.http() as http:
        answer = http.get("/api/events/ripe-jan/search", params=query)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _server(market: Market, params: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in _answer(market, params)["hits"]]


def _wait_until_indexed(market: Market, count: int) -> None:
    deadline = time.monotonic() + 30
    states = {"state": ["available", "reserved", "sold"]}
    while len(_server(market, states)) < count:
        assert time.monotonic() < deadline, "the search index did not catch up"
        time.sleep(0.2)


def test_offline_search_finds_what_the_server_finds(context: BrowserContext, page: Page, market: Market) -> None:
    count = _seed(market)
    _wait_until_indexed(market, count)
    page.goto(f"{market.base}/api/health")  # same origin as the app, without the app running
    stall_ids = {key: stall["id"] for key, stall in market.stalls.items()}
    result = page.evaluate(SEARCH_IN_BROWSER, {"cases": CASES, "stallIds": stall_ids})
    assert result["items"] == count
    assert result["states"] == ["available", "reserved", "sold"]
    for label, params in CASES:
        answer = _answer(market, params)
        server = [hit["id"] for hit in answer["hits"]]
        found = result["out"][label]
        local = found["hits"]
        assert sorted(server) == sorted(hit["id"] for hit in local), (label, params)
        assert answer["total"] == found["total"], (label, "the totals differ")
        said = (answer["relaxed"], answer["corrections"], answer["showing_for"])
        assert said == (found["relaxed"], found["corrections"], found["showing_for"]), (label, said)
        rank = {hit["id"]: hit["rank"] for hit in local}
        in_server_order = [rank[item_id] for item_id in server]
        assert in_server_order == sorted(in_server_order), f"{label}: the server ranks them otherwise"
    # Not a comparison of empty answers: the contract's expectations hold here too.
    found = {label: result["out"][label]["total"] for label, _ in CASES}
    relaxed = {label: result["out"][label]["showing_for"] for label, _ in CASES if result["out"][label]["relaxed"]}
    assert relaxed == {
        "4 letters: the relaxed pass": "honey",
        "3 letters: the relaxed pass, a swap": "jam",
        "two short words, both relaxed": "honey jar",
        "relaxed, with a filter": "mug",
    }
    assert found["4 letters: the relaxed pass"] > 0 and found["relaxed finds nothing either"] == 0
    assert found["relaxed, with a filter"] == 2
    assert found["4 letters: no typo"] == 0 and found["5-8 letters: not two typos"] == 0
    assert found["9+ letters: not three typos"] == 0 and found["first letter typo"] == 0
    assert found["5-8 letters: one typo"] > 0 and found["9+ letters: two typos"] > 0
    assert found["a prefix with its typo"] > 0 and found["a word before the last is no prefix"] == 0
    assert found["a hashtag's camel-case words"] > 0 and found["causes"] == 2 and found["a price range"] == 2
