"""A first visit's staged pull (pwa/kit/replica.js `pullToHead`, `progressive`) asks for the next
snapshot page while it writes the one it has, so a slow link and a slow phone overlap; every page
is still asked for once, applied in order, and the replica ends up exactly what a plain pull
gives. A page that fails on its way stops the pull with that error, and pulling again from the
last cursor applied finishes the replica.

Run in the real browser against the real server: the kit's own module, the real pull endpoint,
pages of 10 records.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import Market

PULL_IN_BROWSER = """async ({ slug, failAt }) => {
  const { applyChange, pullToHead } = await import("/app/kit/replica.js");
  const { request } = await import("/app/kit/http.js");
  const { expandPage } = await import("/app/kit/wire.js");
  const { token } = await request("POST", "/api/devices");
  const context = {};
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function run({ progressive, cursor = null, stored = new Map(), failAt = null }) {
    const log = [];
    let calls = 0;
    let applied = cursor;
    const fetchPage = async (from) => {
      const call = ++calls;
      log.push(["ask", call, from]);
      if (call === failAt) throw new Error("the link dropped");
      const json = { event: slug, cursor: from, limit: 10, format: 2 };
      const page = expandPage(await request("POST", "/api/sync/pull", { token, json }), context);
      const event = page.changes.find((c) => c.entity === "event" && c.data);
      if (event) Object.assign(context, { eventId: event.id, currency: event.data.currency });
      log.push(["got", call, page.cursor]);
      return page;
    };
    const apply = async (page, fresh) => {
      log.push(["apply", page.cursor]);
      if (fresh) stored.clear();
      await pause(60); // a phone writing the page
      for (const change of page.changes) {
        const next = applyChange(stored.get(`${change.entity}:${change.id}`), change);
        if (next) stored.set(`${change.entity}:${change.id}`, next);
      }
      applied = page.cursor;
      log.push(["applied", page.cursor]);
    };
    let error = null;
    try {
      await pullToHead({ cursor, fetchPage, apply, progressive });
    } catch (caught) {
      error = String(caught.message);
    }
    const records = [...stored.values()].map((r) => [r.key, r.version]).sort();
    return { log, records, error, applied, stored };
  }
  const plain = await run({ progressive: false });
  const staged = await run({ progressive: true });
  const broken = await run({ progressive: true, failAt });
  const resumed = await run({ progressive: false, cursor: broken.applied, stored: broken.stored });
  const out = (r) => ({ log: r.log, records: r.records, error: r.error });
  return { plain: out(plain), staged: out(staged), broken: out(broken), resumed: out(resumed) };
}"""


def _seed(market: Market, count: int) -> None:
    jars = [
        {"title": f"Jar of jam no. {n}", "price": 300 + n, "quantity": 1, "hashtags": ["#jam"]} for n in range(count)
    ]
    market.add_items("honey", jars)


def _asked(log: list[list[Any]]) -> list[Any]:
    return [entry[2] for entry in log if entry[0] == "ask"]


def test_a_staged_pull_asks_for_the_next_page_while_it_writes_this_one(
    context: BrowserContext, page: Page, market: Market
) -> None:
    _seed(market, 35)
    page.goto(f"{market.base}/api/health")  # same origin as the app, without the app running
    result = page.evaluate(PULL_IN_BROWSER, {"slug": market.event["slug"], "failAt": 3})
    plain, staged = result["plain"], result["staged"]
    assert len(_asked(staged["log"])) >= 4, "a snapshot of several pages"
    assert staged["records"] == plain["records"] and staged["error"] is None

    # Each page asked for once, in cursor order, and applied in that order.
    asked = _asked(staged["log"])
    assert len(asked) == len(set(map(str, asked))), asked
    got = [entry[2] for entry in staged["log"] if entry[0] == "got"]
    assert asked[1:] == got[:-1], "each page asked for with the cursor of the one before"
    assert [entry[1] for entry in staged["log"] if entry[0] == "applied"] == got

    # The overlap: the next page was asked for before the one before it was written.
    log = [tuple(map(str, entry)) for entry in staged["log"]]
    for cursor in got[:-1]:
        asked_at = next(i for i, entry in enumerate(log) if entry[0] == "ask" and entry[2] == str(cursor))
        written_at = log.index(("applied", str(cursor)))
        assert asked_at < written_at, (cursor, staged["log"])


def _assert_no_overlap(run: dict[str, Any]) -> None:
    """A pull that is not a first visit asks for each page only after writing the one before."""
    log = [tuple(map(str, entry)) for entry in run["log"]]
    got = [entry[2] for entry in run["log"] if entry[0] == "got"]
    assert len(got) >= 2, run["log"]
    for cursor in got[:-1]:
        asked_at = next(i for i, entry in enumerate(log) if entry[0] == "ask" and entry[2] == str(cursor))
        assert asked_at > log.index(("applied", str(cursor))), run["log"]


def test_a_page_lost_on_its_way_stops_the_pull_and_the_next_pull_finishes(
    context: BrowserContext, page: Page, market: Market
) -> None:
    _seed(market, 35)
    page.goto(f"{market.base}/api/health")
    result = page.evaluate(PULL_IN_BROWSER, {"slug": market.event["slug"], "failAt": 3})
    broken, resumed, plain = result["broken"], result["resumed"], result["plain"]
    assert broken["error"] == "the link dropped"
    assert len(broken["records"]) < len(plain["records"]), "stopped part-way"
    assert resumed["error"] is None and resumed["records"] == plain["records"]
    _assert_no_overlap(resumed)
