// Search: the server's search while the network is up, the kit's offline search (the same
// rules, /app/kit/search.js) over the replica when it is not; results as cards.
import { h, replace } from "/app/kit/dom.js";
import { request } from "/app/kit/http.js";
import { findItems } from "/app/kit/search.js";
import { debounce } from "./util.js";
import { $, kiosk, SEARCH_STATES, slug } from "./kiosk-config.js";
import { cardElement, cardFromHit, cardFromItem, current } from "./kiosk-cards.js";
import { back, nav, show } from "./kiosk-nav.js";

const LIMIT = 40;

export const found = {
  query: "",
  tag: null, // {key, tag}
  cards: [],
  total: 0,
  relaxed: false, // the strict search found nothing: these are the second pass's results
  showingFor: "", // the query as the results read it ("honey" for "hony")
  local: null, // every local hit, when the saved copy answered (paged from here)
  source: "server", // or "local"
  seq: 0,
  abort: null,
};

export function resetSearch() {
  $("q").value = "";
  found.query = "";
  found.tag = null;
  found.abort?.abort();
}

/** Browse one hashtag (from a chip). */
export function searchTag(t) {
  found.tag = { key: t.key, tag: t.tag };
  found.query = "";
  $("q").value = "";
  show("search");
  search();
}

export async function search() {
  const seq = ++found.seq;
  const q = found.query;
  const tag = found.tag;
  found.abort?.abort();
  const controller = new AbortController();
  found.abort = controller;
  let cards = null;
  let total = 0;
  let relaxed = false;
  let showingFor = "";
  let local = null;
  let source = "server";
  if (navigator.onLine !== false) {
    const url = new URL(`/api/events/${encodeURIComponent(slug)}/search`, location.origin);
    url.searchParams.set("q", q);
    if (tag) url.searchParams.append("tag", tag.key);
    for (const s of SEARCH_STATES) url.searchParams.append("state", s);
    url.searchParams.set("limit", String(LIMIT));
    try {
      const result = await request("GET", url.href, { timeout: 3000, signal: controller.signal });
      cards = result.hits.map(cardFromHit);
      total = result.total;
      relaxed = Boolean(result.relaxed);
      showingFor = result.showing_for || "";
    } catch (err) {
      if (controller.signal.aborted) return;
      console.info("kiosk: searching the saved copy", err.message);
    }
  }
  if (seq !== found.seq) return;
  if (cards === null) {
    source = "local";
    const stalls = new Map(kiosk.replica.stalls().map((s) => [String(s.id), s]));
    const answer = findItems(kiosk.replica.items(), stalls, { q, tags: tag ? [tag.key] : [], states: SEARCH_STATES });
    ({ total, relaxed, showingFor } = answer);
    local = answer.hits;
    cards = local.slice(0, LIMIT).map((hit) => cardFromItem(hit.item, hit.matched));
  }
  Object.assign(found, { cards, total, relaxed, showingFor, local, source });
  renderResults();
}

/** The next page of results: from the server, or from the saved copy's answer. */
export async function showMore() {
  const seq = found.seq;
  const offset = found.cards.length;
  let next = [];
  if (found.local) {
    next = found.local.slice(offset, offset + LIMIT).map((hit) => cardFromItem(hit.item, hit.matched));
  } else {
    const url = new URL(`/api/events/${encodeURIComponent(slug)}/search`, location.origin);
    url.searchParams.set("q", found.query);
    if (found.tag) url.searchParams.append("tag", found.tag.key);
    for (const s of SEARCH_STATES) url.searchParams.append("state", s);
    url.searchParams.set("limit", String(LIMIT));
    url.searchParams.set("offset", String(offset));
    try {
      next = (await request("GET", url.href, { timeout: 3000 })).hits.map(cardFromHit);
    } catch (err) {
      $("search-note").textContent = `Could not load more: ${err.message}`;
      return;
    }
  }
  if (seq !== found.seq) return;
  found.cards = found.cards.concat(next);
  renderResults();
}

export function renderResults() {
  const q = found.query.trim();
  const tag = found.tag;
  const title = $("search-title");
  replace(title, tag ? h("span", { dir: "auto" }, tag.tag) : null, tag && q ? " · " : null, q ? h("span", { dir: "auto" }, `“${q}”`) : null);
  if (tag) {
    title.append(
      " ",
      h("button", { type: "button", class: "chip small", onclick: () => { found.tag = null; if (found.query.trim()) search(); else back(); } }, "✕ clear tag"),
    );
  }
  const cards = found.cards.map(current).filter(Boolean);
  const offlineNote =
    found.source === "local"
      ? kiosk.replica.complete
        ? " (from this screen's saved copy: the network is down)"
        : " — the network is down and this screen has not saved the market yet"
      : "";
  const corrected = found.relaxed && cards.length ? `No exact matches for “${q}”: showing results for “${found.showingFor}”. ` : "";
  $("search-note").textContent = cards.length
    ? `${corrected}${found.total} found${offlineNote}`
    : `Nothing found. Try fewer words or another spelling.${offlineNote}`;
  replace($("results"), cards.map(cardElement));
  const left = found.total - found.cards.length;
  const more = $("show-more");
  more.hidden = left <= 0 || !cards.length;
  more.textContent = `Show ${Math.min(left, LIMIT)} more (${left} left)`;
}

/** The search box: search as the visitor types, and on the keyboard's search key. */
export function wireSearch() {
  const runSearch = debounce(search, 180);
  const more = h("button", { type: "button", id: "show-more", class: "chip more", hidden: true, onclick: showMore }, "Show more");
  $("results").after(more);
  $("q").addEventListener("input", () => {
    found.query = $("q").value;
    if (!found.query.trim() && !found.tag) {
      if (nav.view === "search") back();
      return;
    }
    if (nav.view !== "search") show("search");
    runSearch();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("q").blur(); // put the on-screen keyboard away
    if (found.query.trim() || found.tag) {
      if (nav.view !== "search") show("search");
      search();
    }
  });
}
