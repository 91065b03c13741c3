// The market's front page: search as you type (the server's search when online, the local
// index over the replica when not), filters and sort, and the list of stalls.
import { request } from "./kit/http.js";
import { empty, itemRow, stallRow } from "./cards.js";
import * as data from "./data.js";
import { field, h, replace, userText } from "./dom.js";
import { parseMoney } from "./kit/money.js";
import * as replica from "./replica.js";
import { ItemIndex, STATES } from "./kit/search.js";

const PAGE = 30; // items per page: the server's and the offline search's answers are paged alike

export async function mount(main, route, app) {
  if (!app.slug) return mountWithoutEvent(main, app);
  const event = await data.eventBySlug(app.slug);
  const q = route.query;
  const currency = event?.currency || "GBP";
  const input = h("input", { type: "search", name: "q", autocomplete: "off", enterkeyhint: "search", value: q.get("q") || "", spellcheck: "false" });
  const tag = h("input", { type: "text", name: "tag", value: q.get("tag") || "", list: "tag-list", autocomplete: "off", placeholder: "#honey" });
  const tagList = h("datalist", { id: "tag-list" });
  const cause = h("select", { name: "cause" }, h("option", { value: "" }, "Any cause"));
  const stall = h("select", { name: "stall" }, h("option", { value: "" }, "All stalls"));
  const priceMin = h("input", { type: "text", name: "price_min", inputmode: "decimal", autocomplete: "off", value: q.get("min") || "" });
  const priceMax = h("input", { type: "text", name: "price_max", inputmode: "decimal", autocomplete: "off", value: q.get("max") || "" });
  const available = h("input", { type: "checkbox", name: "available", id: "f-available", checked: q.get("all") !== "1" });
  const sort = h("select", { name: "sort" },
    h("option", { value: "relevance" }, "Best match"), h("option", { value: "price_asc" }, "Price: low to high"),
    h("option", { value: "price_desc" }, "Price: high to low"), h("option", { value: "newest" }, "Newest first"));
  sort.value = q.get("sort") || "relevance";
  const status = h("p", { class: "meta", role: "status", id: "search-status" });
  const active = h("ul", { class: "tags active-filters", "aria-label": "Active filters" });
  const results = h("ul", { class: "items", "aria-labelledby": "results-title" });
  const more = h("button", { type: "button", class: "more", id: "show-more", hidden: true, onclick: () => showMore() }, "Show more");
  const suggestions = h("div", { class: "suggestions", hidden: true });
  const resultsTitle = h("h2", { id: "results-title" }, "Items");
  const stallsList = h("ul", { class: "stalls" });
  const stallsSection = h("section", { "aria-labelledby": "stalls-title" }, h("h2", { id: "stalls-title" }, "All stalls"), stallsList);
  const form = h("form", { role: "search", class: "search", onsubmit: (e) => { e.preventDefault(); input.blur(); run(); } },
    field("Search the market", input),
    // A hashtag chip (?tag=) opens results, not the form: the tag is shown as a removable chip instead.
    h("details", { class: "filters", open: ["stall", "min", "max", "sort"].some((k) => q.get(k)) || undefined },
      h("summary", {}, "Filters and sort"),
      field("Hashtag", tag), tagList, field("Cause", cause), field("Stall", stall),
      h("div", { class: "row" }, field(`Lowest price (${currency})`, priceMin), field(`Highest price (${currency})`, priceMax)),
      h("label", { class: "check", for: "f-available" }, available, "Available items only"),
      field("Sort by", sort)),
    h("button", { type: "submit", class: "primary" }, "Search"));
  replace(main, h("section", { class: "wrap" },
    event ? userText("h1", event.name, { id: "page-title" }) : h("h1", { id: "page-title" }, "Search the market"),
    event ? h("p", { class: "meta" }, [event.venue, event.hashtag].filter(Boolean).join(" · ")) : null,
    form, active, status, resultsTitle, results, more, suggestions, stallsSection));

  let index = null;
  let stallsById = new Map();
  let generation = 0;
  let timer = null;
  // What is shown: the items so far, the true total, and how to fetch the next page.
  let shown = { items: [], total: 0, filtered: false, f: null, local: null, saved: new Set() };

  async function refreshLocal() {
    const [stalls, items, causes] = await Promise.all([
      event ? data.stalls(event.id) : [], event ? data.items(event.id) : [], event ? replica.ofEvent(event.id, "cause") : []]);
    stallsById = new Map(stalls.map((s) => [s.id, s]));
    index = new ItemIndex(items, stallsById);
    fillSelect(stall, stalls.map((s) => [s.code, `${s.number ? `${s.number} · ` : ""}${s.name}`]), q.get("stall"));
    fillSelect(cause, causes.map((c) => [c.tag, c.name]), q.get("cause"));
    const tags = new Map();
    for (const item of items) for (const t of item.hashtags || []) tags.set(t.toLowerCase(), t);
    replace(tagList, [...tags.values()].sort().slice(0, 200).map((t) => h("option", { value: t })));
    replace(stallsList, stalls.map(stallRow));
  }

  function filters() {
    const code = stall.value;
    return {
      q: input.value, tag: tag.value.trim(), cause: cause.value, stallCode: code,
      stallId: [...stallsById.values()].find((s) => s.code === code)?.id || "",
      priceMin: priceMin.value.trim() ? parseMoney(priceMin.value, currency) : null,
      priceMax: priceMax.value.trim() ? parseMoney(priceMax.value, currency) : null,
      availableOnly: available.checked, sort: sort.value,
    };
  }

  function remember(f) {
    const params = new URLSearchParams();
    if (f.q) params.set("q", f.q);
    if (f.tag) params.set("tag", f.tag);
    if (f.cause) params.set("cause", f.cause);
    if (f.stallCode) params.set("stall", f.stallCode);
    if (priceMin.value.trim()) params.set("min", priceMin.value.trim());
    if (priceMax.value.trim()) params.set("max", priceMax.value.trim());
    if (!f.availableOnly) params.set("all", "1");
    if (f.sort !== "relevance") params.set("sort", f.sort);
    const hash = `#/${params.toString() ? `?${params}` : ""}`;
    if (location.hash !== hash) history.replaceState(history.state, "", `/app/${hash}`);
  }

  async function run() {
    const mine = ++generation;
    const f = filters();
    remember(f);
    showActive(f);
    const filtered = Boolean(f.q.trim() || f.tag || f.cause || f.stallCode || f.priceMin != null || f.priceMax != null);
    stallsSection.hidden = filtered;
    let found = null;
    let where = "";
    if (navigator.onLine && app.slug) {
      try {
        found = await serverSearch(f, 0);
      } catch {
        found = null; // the network failed us: the local copy answers
      }
    }
    if (!found) {
      found = localSearch(f);
      where = navigator.onLine ? "" : "Offline: searching the market data saved on this phone.";
    }
    if (mine !== generation) return;
    const saved = await data.favouriteIds();
    if (mine !== generation) return;
    shown = { items: found.items, total: found.total, filtered, f, local: found.local, saved };
    resultsTitle.textContent = filtered ? "Results" : "Latest items";
    const count = `${found.total} ${found.total === 1 ? "item" : "items"}${filtered ? " found" : ""}.`;
    const corrected = found.relaxed ? `No exact matches for “${f.q.trim()}”: showing results for “${found.showingFor}”.` : "";
    status.textContent = [corrected, count, where].filter(Boolean).join(" ");
    status.classList.toggle("relaxed", found.relaxed);
    if (found.items.length) {
      replace(results, found.items.map(row));
      suggestions.hidden = true;
    } else {
      replace(results, h("li", {}, empty(f.q.trim() ? `Nothing matches “${f.q.trim()}”. Try fewer words or another spelling.` : "Nothing matches these filters.")));
      showSuggestions(f);
    }
    showMoreButton();
  }

  const row = (item) => itemRow(item, { saved: shown.saved.has(item.id), stall: stallsById.get(item.stall_id) });

  function showMoreButton() {
    const left = shown.total - shown.items.length;
    more.hidden = left <= 0;
    more.textContent = `Show ${Math.min(left, PAGE)} more (${left} left)`;
  }

  // The next page: from the server when the first page came from it, else from the local answer.
  async function showMore() {
    const mine = generation;
    more.disabled = true;
    try {
      let next;
      if (shown.local) next = shown.local.slice(shown.items.length, shown.items.length + PAGE);
      else next = (await serverSearch(shown.f, shown.items.length)).items;
      if (mine !== generation) return;
      const firstNew = results.children.length;
      shown.items = shown.items.concat(next);
      results.append(...next.map(row));
      showMoreButton();
      results.children[firstNew]?.querySelector("a")?.focus(); // keyboard and screen reader users carry on from there
    } catch (error) {
      status.textContent = `Could not load more: ${error.message}`;
    } finally {
      more.disabled = false;
    }
  }

  // The active filters as chips a thumb can remove (a hashtag chip from an item lands here).
  function showActive(f) {
    const chips = [];
    const chip = (label, clear) => h("li", {}, h("button", { type: "button", class: "tag chip", "aria-label": `Remove filter ${label}`,
      onclick: () => { clear(); run(); } }, h("span", { dir: "auto" }, label), h("span", { "aria-hidden": "true" }, " ✕")));
    if (f.tag) chips.push(chip(f.tag.startsWith("#") ? f.tag : `#${f.tag}`, () => { tag.value = ""; }));
    if (f.cause) chips.push(chip(cause.selectedOptions[0]?.textContent || f.cause, () => { cause.value = ""; }));
    if (f.stallCode) chips.push(chip(stall.selectedOptions[0]?.textContent || f.stallCode, () => { stall.value = ""; }));
    replace(active, chips);
    active.hidden = !chips.length;
  }

  // Never an empty page: the market's most used hashtags to try instead.
  function showSuggestions(f) {
    const counts = new Map();
    for (const doc of index?.docs || []) for (const t of doc.item.hashtags || []) {
      const key = t.toLowerCase();
      if (key !== f.tag.toLowerCase() && `#${key}` !== f.tag.toLowerCase()) counts.set(key, { t, n: (counts.get(key)?.n || 0) + 1 });
    }
    const top = [...counts.values()].sort((a, b) => b.n - a.n || a.t.localeCompare(b.t)).slice(0, 8);
    replace(suggestions, top.length ? [h("h2", { id: "suggest-title" }, "Try one of these"),
      h("ul", { class: "tags", "aria-labelledby": "suggest-title" }, top.map(({ t }) =>
        h("li", {}, h("a", { class: "tag", href: `/app/#/?tag=${encodeURIComponent(t.replace(/^#/, ""))}`, dir: "auto" }, t))))] : []);
    suggestions.hidden = !top.length;
  }

  // The same rules as the server's search (kit/search.js), over the replica: every hit, paged here.
  function localSearch(f) {
    if (!index) return { items: [], total: 0, relaxed: false, showingFor: "", local: [] };
    const found = index.find({
      q: f.q, tags: f.tag ? [f.tag] : [], causes: f.cause ? [f.cause] : [], stallIds: f.stallId ? [f.stallId] : [],
      priceMin: f.priceMin, priceMax: f.priceMax, states: f.availableOnly ? ["available"] : STATES, sort: f.sort,
    });
    const all = found.hits.map((hit) => hit.item);
    return { items: all.slice(0, PAGE), total: found.total, relaxed: found.relaxed, showingFor: found.showingFor, local: all };
  }

  async function serverSearch(f, offset) {
    const params = new URLSearchParams({ q: f.q, sort: f.sort, limit: String(PAGE), offset: String(offset) });
    if (f.tag) params.append("tag", f.tag);
    if (f.cause) params.append("cause", f.cause);
    if (f.stallCode) params.append("stall", f.stallCode);
    if (f.priceMin != null) params.set("price_min", String(f.priceMin));
    if (f.priceMax != null) params.set("price_max", String(f.priceMax));
    for (const state of f.availableOnly ? ["available"] : ["available", "reserved", "sold"]) params.append("state", state);
    const answer = await request("GET", `/api/events/${encodeURIComponent(app.slug)}/search?${params}`, { timeout: 6000 });
    // The replica's copy (with this phone's pending changes) wins for display; the order is the server's.
    const items = await Promise.all(answer.hits.map(async (hit) => (await data.item(hit.id)) || {
      id: hit.id, title: hit.title, price: hit.price, currency: hit.currency, state: hit.state, stall_id: hit.stall_id,
      photos: hit.photo ? [{ src: hit.photo }] : [], hashtags: hit.hashtags,
    }));
    return { items, total: answer.total, relaxed: Boolean(answer.relaxed), showingFor: answer.showing_for || "", local: null };
  }

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 180);
  };
  input.addEventListener("input", schedule);
  for (const control of [tag, priceMin, priceMax]) control.addEventListener("input", schedule);
  for (const control of [cause, stall, available, sort]) control.addEventListener("change", run);

  await refreshLocal();
  await run();
  return {
    async update() {
      await refreshLocal();
      if (!navigator.onLine) await run();
    },
    destroy() {
      clearTimeout(timer);
      generation += 1;
    },
  };
}

function fillSelect(select, options, wanted) {
  const value = select.value || wanted || "";
  const first = select.options[0];
  replace(select, first, options.map(([v, label]) => h("option", { value: v }, label)));
  select.value = value;
}

async function mountWithoutEvent(main, app) {
  const list = h("ul", { class: "stalls" });
  replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Souk"),
    h("p", {}, "Scan a stall's QR code to start, or pick a market."), list));
  if (!navigator.onLine) {
    replace(list, h("li", {}, empty("You are offline. Open a stall's link once with a connection to save its market on this phone.")));
    return {};
  }
  try {
    const events = await request("GET", "/api/events/");
    if (events.length === 1) {
      await app.setEvent(events[0].slug); // the only market: go straight in
      app.go("/app/#/");
      return {};
    }
    replace(list, events.length ? events.map((e) => h("li", {},
      h("a", { class: "stall-link", href: "/app/#/", onclick: () => app.setEvent(e.slug) },
        userText("span", e.name, { class: "title" }), h("span", { class: "where" }, e.venue))))
      : h("li", {}, empty("No markets yet.")));
  } catch (error) {
    replace(list, h("li", {}, empty(`Could not load the markets: ${error.message}`)));
  }
  return {};
}
