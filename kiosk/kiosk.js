// Kiosk mode: the entrance screen of one event, full-screen and touch-first.
// Opened as <base>/kiosk/<slug>#token=<kiosk token>[&idle=<seconds>]. Works from its local
// replica when the venue Wi-Fi drops, and catches up (pokes, then pulls) when it returns.

import { barList } from "./charts.js";
import { LiveSocket } from "./live.js";
import { highlight, searchItems } from "./localsearch.js";
import { byNumber, Replica } from "./replica.js";
import {
  debounce,
  escapeHtml,
  fill,
  formatMoney,
  h,
  HttpError,
  itemUrl,
  pathSlug,
  qrSrc,
  readParams,
  registerWorker,
  request,
  safeMarkHtml,
  STATE_LABELS,
  timeLabel,
} from "./util.js";

const $ = (id) => document.getElementById(id);
const positive = (value, fallback) => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

const slug = pathSlug();
const params = readParams();
const IDLE_SECONDS = positive(params.get("idle"), 90);
const FEATURE_SECONDS = positive(params.get("feature"), 8);
const TOKEN_KEY = `souk.kiosk.token:${slug}`;
const VERIFIED_KEY = `souk.kiosk.verified:${slug}`;
const RECHECK_MS = 5 * 60_000; // how soon a token the organizer revoked stops a running screen
const SEARCH_STATES = ["available", "reserved"];
const VIEWS = ["welcome", "search", "tags", "stalls", "stall", "item"];

const state = {
  replica: null,
  live: null,
  view: "welcome",
  history: [],
  query: "",
  tag: null, // {key, tag}
  cards: [],
  searchSeq: 0,
  searchAbort: null,
  item: null, // card shown in the item view
  stallId: null,
  serverTags: null,
  serverTagsAt: 0,
  net: "connecting",
  worker: null,
  updatePending: false,
  featured: [],
  featuredId: null, // the item on the welcome screen now
  featureIndex: 0,
  featureTimer: null,
  idleTimer: null,
  blocked: false,
};

// ---- kiosk token and the full-screen messages ------------------------------------------------

const BLOCKS = {
  missing: [
    "This screen needs a kiosk token from the organizer",
    "Ask the organizer to create a kiosk link in their dashboard (Kiosk screens) and open it on this screen.",
  ],
  401: [
    "This screen needs a kiosk token from the organizer",
    "The token this screen has is not known to the market. Ask the organizer for a new kiosk link.",
  ],
  403: [
    "This kiosk token belongs to another event",
    "This screen was set up for a different event. Ask the organizer for this event's kiosk link.",
  ],
  404: ["There is no event at this address", "Check the kiosk link with the organizer."],
  waiting: [
    "Waiting for the network…",
    "This screen starts as soon as it can reach the market server. It keeps trying on its own.",
  ],
};

function takeToken() {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromLink = hash.get("token");
  if (fromLink) {
    localStorage.setItem(TOKEN_KEY, fromLink);
    hash.delete("token");
    const rest = hash.toString();
    // Keep the token off the screen and out of the history.
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return localStorage.getItem(TOKEN_KEY);
}

function block(kind) {
  const [title, detail] = BLOCKS[kind] || BLOCKS[401];
  $("blocked-title").textContent = title;
  $("blocked-detail").textContent = detail;
  $("blocked").hidden = false;
  $("screen").hidden = true;
  document.body.dataset.blocked = String(kind);
  document.title = title;
  if (kind !== "waiting") {
    state.blocked = true;
    state.live?.stop();
    stopFeatured();
  }
}

function unblock() {
  $("blocked").hidden = true;
  $("screen").hidden = false;
  delete document.body.dataset.blocked;
}

/** Ask the server whether the token opens this event: the setup data, "offline", or null (refused). */
async function verify(token, { once = false } = {}) {
  for (;;) {
    try {
      const setup = await request(`/api/kiosk/${encodeURIComponent(slug)}`, { headers: { token }, timeout: 8000 });
      localStorage.setItem(VERIFIED_KEY, token);
      return setup;
    } catch (err) {
      if (err instanceof HttpError && [401, 403, 404].includes(err.status)) {
        localStorage.removeItem(VERIFIED_KEY); // revoked: no running on saved data offline either
        block(err.status);
        return null;
      }
      // No network (or a server hiccup): a screen that was verified before runs on its saved data.
      if (localStorage.getItem(VERIFIED_KEY) === token && state.replica.hasData) return "offline";
      if (once) return "offline";
      block("waiting");
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        window.addEventListener("online", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}

function seedFromSetup(setup) {
  const up = (entity, data, version) => ({ entity, id: String(data.id), op: "upsert", version, data });
  return state.replica.seed([
    up("event", setup.event, setup.event.version),
    ...setup.stalls.map((s) => up("stall", s, s.version)),
    ...setup.causes.map((c) => up("cause", c, c.version)),
    { entity: "totals", id: String(setup.event.id), op: "upsert", version: setup.totals.sales, data: setup.totals },
  ]);
}

// ---- start -----------------------------------------------------------------------------------

async function start() {
  const token = takeToken();
  if (!token) {
    block("missing");
    return;
  }
  state.replica = await Replica.open(slug);
  state.replica.onChange(onReplicaChange);
  wireUi();
  if (state.replica.hasData && localStorage.getItem(VERIFIED_KEY) === token) renderAll();

  const setup = await verify(token);
  if (setup === null) return;
  unblock();
  if (setup !== "offline") await seedFromSetup(setup);
  renderAll();
  show(state.view, { push: false }); // where a person already tapped to while we checked, not back to welcome

  const hadController = Boolean(navigator.serviceWorker?.controller);
  navigator.serviceWorker?.addEventListener("controllerchange", () => {
    if (hadController) state.updatePending = true; // a new build: reload at the next idle reset
  });
  registerWorker().then((registration) => {
    state.worker = registration;
    updateOfflineReady();
  });

  state.live = new LiveSocket(`/api/events/${encodeURIComponent(slug)}/live`, {
    onState: (s) => setNet(s),
    onFrame: (frame) => {
      if (frame.type === "hello" || frame.type === "poke") pull();
    },
  });
  state.live.start();
  window.addEventListener("online", () => {
    pull();
    recheck(token);
  });
  window.addEventListener("offline", () => setNet("offline"));
  setInterval(pull, 60_000); // a missed poke delays an update by a minute at most
  setInterval(() => state.blocked || recheck(token), RECHECK_MS); // a revoked token closes the screen
  pull();
}

async function recheck(token) {
  const setup = await verify(token, { once: true });
  if (setup && setup !== "offline") await seedFromSetup(setup);
}

async function pull() {
  if (state.blocked) return;
  try {
    await state.replica.pull();
  } catch (err) {
    console.warn("kiosk: pull failed", err);
    if (navigator.onLine === false) setNet("offline");
  }
  renderNet();
  updateOfflineReady();
}

function updateOfflineReady() {
  const ready = Boolean(state.worker?.active) && state.replica?.complete;
  document.body.dataset.offlineReady = ready ? "yes" : "no";
  if (ready && !state.warmed) {
    state.warmed = true;
    // Keep every stall's QR code in the worker's cache, so the directory works offline too.
    state.worker.active.postMessage({
      type: "warm",
      urls: state.replica.stalls().map((s) => `/s/${encodeURIComponent(s.code)}/qr.svg`),
    });
  }
}

// ---- status ----------------------------------------------------------------------------------

function setNet(net) {
  state.net = navigator.onLine === false ? "offline" : net;
  renderNet();
}

function renderNet() {
  const el = $("net-status");
  const synced = state.replica?.syncedAt ? ` · saved ${timeLabel(state.replica.syncedAt)}` : "";
  const text = {
    live: "● Live",
    connecting: "Connecting…",
    offline: `Offline — showing saved data${synced}`,
  }[state.net];
  el.textContent = text || state.net;
  el.dataset.net = state.net;
  document.body.dataset.net = state.net;
}

// ---- navigation ------------------------------------------------------------------------------

function show(view, { push = true } = {}) {
  if (push && state.view !== view) state.history = [...state.history, state.view].slice(-20);
  state.view = view;
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  document.body.dataset.view = view;
  for (const [id, v] of [["nav-home", "welcome"], ["nav-tags", "tags"], ["nav-stalls", "stalls"]]) {
    $(id).setAttribute("aria-current", v === view ? "page" : "false");
  }
  $("nav-back").hidden = view === "welcome" || !state.history.length;
  if (view === "welcome") startFeatured();
  else stopFeatured();
  if (view === "tags") renderTags();
  if (view === "stalls") renderStalls();
  window.scrollTo(0, 0);
}

function back() {
  const previous = state.history.pop() || "welcome";
  show(previous, { push: false });
}

function resetToWelcome() {
  if (state.updatePending) {
    location.reload();
    return;
  }
  $("q").value = "";
  $("stall-filter").value = "";
  state.query = "";
  state.tag = null;
  state.item = null;
  state.history = [];
  state.searchAbort?.abort();
  document.activeElement?.blur?.();
  show("welcome", { push: false });
}

function touched() {
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(resetToWelcome, IDLE_SECONDS * 1000);
}

function wireUi() {
  for (const type of ["pointerdown", "keydown", "input", "wheel", "touchstart"]) {
    window.addEventListener(type, touched, { capture: true, passive: true });
  }
  $("nav-home").addEventListener("click", resetToWelcome);
  $("nav-tags").addEventListener("click", () => show("tags"));
  $("nav-stalls").addEventListener("click", () => show("stalls"));
  const runSearch = debounce(search, 180);
  $("q").addEventListener("input", () => {
    state.query = $("q").value;
    if (!state.query.trim() && !state.tag) {
      if (state.view === "search") back();
      return;
    }
    if (state.view !== "search") show("search");
    runSearch();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("q").blur(); // put the on-screen keyboard away
    if (state.query.trim() || state.tag) {
      if (state.view !== "search") show("search");
      search();
    }
  });
  $("stall-filter").addEventListener("input", renderStalls);
  $("item-to-stall").addEventListener("click", () => {
    const stall = stallForCard(state.item);
    if (stall) openStall(stall.id);
  });
  $("nav-back").addEventListener("click", back);
}

// ---- rendering from the replica ------------------------------------------------------------------

let frame = 0;
let pending = new Set();

function onReplicaChange(entities) {
  for (const e of entities) pending.add(e);
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const changed = pending;
    pending = new Set();
    if (changed.has("event") || changed.has("totals") || changed.has("cause")) {
      renderHeader();
      renderTotals();
    }
    if (changed.has("item")) {
      // Keep the featured item on screen until its turn ends, unless it was sold or hidden.
      const still = state.featuredId && state.replica.get("item", state.featuredId);
      state.featured = [];
      if (state.view === "welcome" && still?.state !== "available") renderFeatured();
      if (state.view === "search") renderResults();
      if (state.view === "item") renderItem();
    }
    if (changed.has("item") || changed.has("stall")) {
      if (state.view === "stall") renderStall();
      if (state.view === "stalls") renderStalls();
      if (state.view === "welcome") renderWelcomeTags();
    }
    if (changed.has("sync")) renderNet();
  });
}

function renderAll() {
  renderHeader();
  renderTotals();
  renderWelcomeTags();
  renderNet();
}

function eventCurrency() {
  return state.replica.totals()?.currency || state.replica.event()?.currency || "";
}

function renderHeader() {
  const event = state.replica.event();
  if (!event) return;
  $("event-name").textContent = event.name;
  $("event-meta").textContent = [event.hashtag, event.venue].filter(Boolean).join(" · ");
  document.title = `${event.name} — Souk`;
}

function renderTotals() {
  const totals = state.replica.totals();
  if (!totals) return;
  const currency = totals.currency || eventCurrency();
  const causes = totals.causes || [];
  $("causes-title").hidden = !causes.length;
  $("total-amount").textContent = formatMoney(totals.amount, currency);
  $("total-sales").textContent = `${totals.sales} ${totals.sales === 1 ? "sale" : "sales"}`;
  fill(
    $("cause-totals"),
    causes.length
      ? barList(
          causes.map((c) => ({ label: c.name, sublabel: c.tag, value: c.amount, goal: c.goal })),
          { format: (v) => formatMoney(v, currency), label: "Totals per cause", showGoal: true },
        )
      : null,
  );
}

// ---- hashtags ----------------------------------------------------------------------------------

function localTags() {
  const counts = new Map();
  for (const item of state.replica.items()) {
    (item.tag_keys || []).forEach((key, i) => {
      const entry = counts.get(key) || { key, tag: item.hashtags?.[i] || `#${key}`, items: 0 };
      entry.items += 1;
      counts.set(key, entry);
    });
  }
  return [...counts.values()].sort((a, b) => b.items - a.items || a.key.localeCompare(b.key));
}

async function tags() {
  const fresh = Date.now() - state.serverTagsAt < 60_000;
  if (!fresh && navigator.onLine !== false) {
    try {
      state.serverTags = await request(`/api/events/${encodeURIComponent(slug)}/hashtags`, { timeout: 3000 });
      state.serverTagsAt = Date.now();
    } catch {
      /* use the replica's */
    }
  }
  const list = fresh || state.serverTagsAt ? state.serverTags : null;
  const eventKey = (state.replica.event()?.hashtag || "").replace(/^#/, "").toLowerCase();
  return (list && list.length ? list : localTags()).filter((t) => t.key !== eventKey);
}

function tagChip(t) {
  return h(
    "button",
    { type: "button", class: "chip", dir: "auto", onclick: () => browseTag(t) },
    t.tag,
    h("span", { class: "count" }, ` ${t.items}`),
  );
}

async function renderWelcomeTags() {
  const list = await tags();
  fill($("welcome-tags"), list.slice(0, 12).map(tagChip));
}

async function renderTags() {
  const list = await tags();
  fill($("all-tags"), list.length ? list.map(tagChip) : h("p", { class: "note" }, "No hashtags yet."));
}

function browseTag(t) {
  state.tag = { key: t.key, tag: t.tag };
  state.query = "";
  $("q").value = "";
  show("search");
  search();
}

// ---- search ------------------------------------------------------------------------------------

function cardFromHit(hit) {
  return {
    id: hit.id,
    title: hit.title,
    titleHtml: safeMarkHtml(hit.title_html, hit.title),
    description: null,
    price: hit.price,
    currency: hit.currency,
    state: hit.state,
    stallId: hit.stall_id,
    stallCode: hit.stall_code,
    stallName: hit.stall_name,
    stallNumber: hit.stall_number,
    photo: hit.photo,
  };
}

function cardFromItem(item, matched = null) {
  const stall = state.replica.get("stall", item.stall_id);
  return {
    id: String(item.id),
    title: item.title,
    titleHtml: matched ? highlight(item.title, matched) : escapeHtml(item.title),
    description: item.description,
    price: item.price,
    currency: item.currency,
    state: item.state,
    stallId: String(item.stall_id),
    stallCode: stall?.code || "",
    stallName: stall?.name || "",
    stallNumber: stall?.number || "",
    photo: item.photos?.[0]?.thumb || null,
  };
}

/** The card with what the replica knows now (a sale seconds ago), or null once hidden/deleted. */
function current(card) {
  const rec = state.replica.maps.item.get(String(card.id));
  if (!rec) return card;
  if (rec.deleted) return null;
  const item = rec.data;
  return { ...card, title: item.title, description: item.description, price: item.price, state: item.state, currency: item.currency };
}

async function search() {
  const seq = ++state.searchSeq;
  const q = state.query;
  const tag = state.tag;
  state.searchAbort?.abort();
  const controller = new AbortController();
  state.searchAbort = controller;
  let cards = null;
  let total = 0;
  let source = "server";
  if (navigator.onLine !== false) {
    const url = new URL(`/api/events/${encodeURIComponent(slug)}/search`, location.origin);
    url.searchParams.set("q", q);
    if (tag) url.searchParams.append("tag", tag.key);
    for (const s of SEARCH_STATES) url.searchParams.append("state", s);
    url.searchParams.set("limit", "40");
    try {
      const result = await request(url, { timeout: 3000, signal: controller.signal });
      cards = result.hits.map(cardFromHit);
      total = result.total;
    } catch (err) {
      if (controller.signal.aborted) return;
      console.info("kiosk: searching the saved copy", err.message);
    }
  }
  if (seq !== state.searchSeq) return;
  if (cards === null) {
    source = "local";
    const stalls = new Map(state.replica.stalls().map((s) => [String(s.id), s]));
    const hits = searchItems(state.replica.items(), stalls, { q, tag: tag?.key, states: SEARCH_STATES });
    total = hits.length;
    cards = hits.slice(0, 40).map((hit) => cardFromItem(hit.item, hit.matched));
  }
  state.cards = cards;
  state.total = total;
  state.source = source;
  renderResults();
}

function renderResults() {
  const q = state.query.trim();
  const tag = state.tag;
  const title = $("search-title");
  fill(title, tag ? h("span", { dir: "auto" }, tag.tag) : null, tag && q ? " · " : null, q ? h("span", { dir: "auto" }, `“${q}”`) : null);
  if (tag) {
    title.append(
      " ",
      h("button", { type: "button", class: "chip small", onclick: () => { state.tag = null; if (state.query.trim()) search(); else back(); } }, "✕ clear tag"),
    );
  }
  const cards = state.cards.map(current).filter(Boolean);
  const offlineNote =
    state.source === "local"
      ? state.replica.complete
        ? " (from this screen's saved copy: the network is down)"
        : " — the network is down and this screen has not saved the market yet"
      : "";
  $("search-note").textContent = cards.length
    ? `${state.total} found${offlineNote}`
    : `Nothing found. Try fewer words or another spelling.${offlineNote}`;
  fill($("results"), cards.map(cardElement));
}

function cardElement(card) {
  const titleEl = h("span", { class: "card-title", dir: "auto" });
  titleEl.innerHTML = card.titleHtml; // text and <mark> only (escaped or checked)
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "card", "data-item-id": card.id, "data-state": card.state, onclick: () => openItem(card) },
      card.photo ? h("img", { src: card.photo, alt: "", loading: "lazy", width: 160, height: 120 }) : h("span", { class: "no-photo", "aria-hidden": "true" }),
      h(
        "span",
        { class: "card-body" },
        titleEl,
        h("span", { class: "price-line" }, h("span", { class: "price" }, formatMoney(card.price, card.currency)), " ", stateBadge(card.state)),
        h("span", { class: "card-stall", dir: "auto" }, card.stallNumber ? `Stall ${card.stallNumber} · ` : "", card.stallName),
      ),
    ),
  );
}

function stateBadge(s) {
  return h("span", { class: `state state-${s}`, "data-state": s }, STATE_LABELS[s] || s);
}

// ---- item and stall views ------------------------------------------------------------------------

function stallForCard(card) {
  if (!card) return null;
  return state.replica.get("stall", card.stallId) || state.replica.stallByCode(card.stallCode);
}

function stallUrl(stall, code) {
  return stall?.url || `${location.origin}/s/${encodeURIComponent(code)}`;
}

function openItem(card) {
  state.item = card;
  show("item");
  renderItem();
}

function qrImage(src, alt, fallbackSrc) {
  const img = h("img", { src, alt, class: "qr", width: 480, height: 480 });
  if (fallbackSrc) {
    img.addEventListener("error", () => {
      if (img.getAttribute("src") === fallbackSrc) return;
      img.src = fallbackSrc;
      img.nextElementSibling?.append(h("span", { class: "note" }, " (offline: this code opens the stall)"));
    }, { once: true });
  }
  return img;
}

function renderItem() {
  const card = current(state.item);
  const figure = $("item-qr");
  if (!card) {
    $("item-state").replaceChildren(h("span", { class: "state state-sold" }, "No longer listed"));
    return;
  }
  const stall = stallForCard(card);
  const code = stall?.code || card.stallCode;
  const url = itemUrl(stallUrl(stall, code), card.id);
  if (figure.dataset.url !== url) {
    figure.dataset.url = url;
    fill(
      figure,
      qrImage(qrSrc(url), `QR code: scan to open ${card.title} on your phone`, `/s/${encodeURIComponent(code)}/qr.svg`),
      h("figcaption", {}, "Scan with your phone camera"),
    );
  }
  $("item-title").textContent = card.title;
  $("item-price").textContent = formatMoney(card.price, card.currency);
  $("item-state").replaceChildren(stateBadge(card.state));
  $("item-stall").textContent = [
    stall?.number || card.stallNumber ? `Stall ${stall?.number || card.stallNumber}` : "",
    stall?.name || card.stallName,
    stall?.location,
  ].filter(Boolean).join(" · ");
  $("item-description").textContent = card.description ?? state.replica.get("item", card.id)?.description ?? "";
  $("item-to-stall").hidden = !stall;
}

async function openStall(stallId) {
  state.stallId = String(stallId);
  show("stall");
  renderStall();
}

async function renderStall() {
  const stall = state.replica.get("stall", state.stallId);
  if (!stall) return;
  const figure = $("stall-qr");
  const src = `/s/${encodeURIComponent(stall.code)}/qr.svg`;
  if (figure.dataset.url !== src) {
    figure.dataset.url = src;
    fill(
      figure,
      qrImage(src, `QR code: scan to open ${stall.name} on your phone`),
      h("figcaption", {}, "Scan to see this stall on your phone"),
    );
  }
  $("stall-title").textContent = stall.name;
  $("stall-meta").textContent = [stall.number ? `Stall ${stall.number}` : "", stall.location, stall.store_tag]
    .filter(Boolean)
    .join(" · ");
  $("stall-description").textContent = stall.description || "";
  let items = state.replica.items().filter((i) => String(i.stall_id) === state.stallId);
  if (!state.replica.complete && navigator.onLine !== false) {
    try {
      items = await request(`/api/stalls/${encodeURIComponent(stall.code)}/items`, { timeout: 4000 });
    } catch {
      /* what the replica has */
    }
  }
  const order = { available: 0, reserved: 1, sold: 2 };
  items.sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || String(a.title).localeCompare(String(b.title)));
  fill(
    $("stall-items"),
    items.length ? items.map((i) => cardElement(cardFromItem(i))) : h("li", { class: "note" }, "No items listed yet."),
  );
}

function renderStalls() {
  const filter = $("stall-filter").value.trim().toLocaleLowerCase();
  const stalls = state.replica.stalls().sort(byNumber).filter((s) =>
    !filter || [s.number, s.name, s.store_tag, s.location].some((v) => String(v || "").toLocaleLowerCase().includes(filter)),
  );
  fill(
    $("stall-list"),
    stalls.length
      ? stalls.map((s) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "stall-row", "data-stall-code": s.code, onclick: () => openStall(s.id) },
              h("span", { class: "stall-number" }, s.number || "–"),
              h("span", { class: "stall-name", dir: "auto" }, s.name),
              h("span", { class: "stall-where", dir: "auto" }, [s.location, s.store_tag].filter(Boolean).join(" · ")),
            ),
          ),
        )
      : h("li", { class: "note" }, "No stall matches."),
  );
}

// ---- featured items while idle ---------------------------------------------------------------------

function featuredPool() {
  if (!state.featured.length) {
    const items = state.replica.items().filter((i) => i.state === "available");
    const withPhotos = items.filter((i) => i.photos?.length);
    const pool = (withPhotos.length >= 3 ? withPhotos : items).slice();
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    state.featured = pool.slice(0, 50);
    state.featureIndex = 0;
  }
  return state.featured;
}

function renderFeatured() {
  const pool = featuredPool();
  const box = $("featured");
  state.featuredId = null;
  if (!pool.length) {
    fill(box, h("p", { class: "note" }, "Scan a stall's sign with your phone to see what it has."));
    return;
  }
  const item = pool[state.featureIndex % pool.length];
  const card = cardFromItem(item);
  state.featuredId = card.id;
  const stall = stallForCard(card);
  const url = itemUrl(stallUrl(stall, card.stallCode), card.id);
  fill(
    box,
    h("h2", {}, "Featured"),
    h(
      "div",
      { class: "featured-body" },
      h(
        "button",
        { type: "button", class: "featured-card", onclick: () => openItem(card), "data-item-id": card.id },
        card.photo ? h("img", { src: card.photo, alt: "", class: "featured-photo" }) : null,
        h("span", { class: "card-title", dir: "auto" }, card.title),
        h("span", { class: "price-line" }, h("span", { class: "price" }, formatMoney(card.price, card.currency))),
        h("span", { class: "card-stall", dir: "auto" }, card.stallNumber ? `Stall ${card.stallNumber} · ` : "", card.stallName),
      ),
      h(
        "figure",
        { class: "qr-frame small" },
        qrImage(qrSrc(url), `QR code for ${card.title}`, `/s/${encodeURIComponent(card.stallCode)}/qr.svg`),
        h("figcaption", {}, "Scan me with your phone camera"),
      ),
    ),
  );
}

function startFeatured() {
  stopFeatured();
  if (!state.replica) return;
  renderFeatured();
  state.featureTimer = setInterval(() => {
    state.featureIndex += 1;
    renderFeatured();
  }, FEATURE_SECONDS * 1000);
}

function stopFeatured() {
  clearInterval(state.featureTimer);
  state.featureTimer = null;
}

start().catch((err) => {
  console.error(err);
  $("net-status").textContent = "Something went wrong; reloading shortly";
  setTimeout(() => location.reload(), 15_000);
});
