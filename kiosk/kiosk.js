// Kiosk mode: the entrance screen of one event, full-screen and touch-first.
// Opened as <base>/kiosk/<slug>#token=<kiosk token>[&idle=<seconds>]. Works from its local
// replica when the venue Wi-Fi drops, and catches up (pokes, then pulls) when it returns.
//
// This module starts the screen and redraws it when the replica changes; the parts are:
// kiosk-config (settings, shared objects), kiosk-gate (token), kiosk-status (network, pulls),
// kiosk-nav (views, idle reset), kiosk-search, kiosk-tags, kiosk-cards, kiosk-views (header,
// totals, item, stall, directory) and kiosk-featured (the welcome carousel).

import { LiveSocket } from "/app/kit/live.js";
import { Replica } from "./replica.js";
import { registerWorker } from "./util.js";
import { $, kiosk, slug } from "./kiosk-config.js";
import { itemsChanged } from "./kiosk-featured.js";
import { block, recheck, seedFromSetup, takeToken, unblock, verifiedBefore, verify, whenTokenArrives } from "./kiosk-gate.js";
import { nav, show, wireNavigation } from "./kiosk-nav.js";
import { renderResults, wireSearch } from "./kiosk-search.js";
import { pull, renderNet, setNet, workerReady } from "./kiosk-status.js";
import { renderWelcomeTags } from "./kiosk-tags.js";
import { renderHeader, renderItem, renderStall, renderStalls, renderTotals, wireViews } from "./kiosk-views.js";
import { kioskPhase } from "./event-phase.js";
import { formatMoney } from "/app/kit/money.js";

/** Today's figures and the "ended" banner, after the totals are drawn. */
const phase = () => kioskPhase(kiosk.replica, (v) => formatMoney(v, kiosk.replica.totals()?.currency || kiosk.replica.event()?.currency || ""));

const RECHECK_MS = 5 * 60_000; // how soon a token the organizer revoked stops a running screen

async function start() {
  const token = takeToken();
  if (!token) {
    block("missing");
    // The token link opened in this same tab changes only the hash (no reload), and one opened
    // in another tab lands in localStorage: either way the gate looks again and starts.
    whenTokenArrives().then(() => start().catch(failed));
    return;
  }
  kiosk.blocked = false;
  if (!kiosk.replica) {
    kiosk.replica = await Replica.open(slug);
    kiosk.replica.onChange(onReplicaChange);
    wireNavigation();
    wireSearch();
    wireViews();
  }
  if (kiosk.replica.hasData && verifiedBefore(token)) renderAll();

  const setup = await verify(token);
  if (setup === null) {
    whenTokenArrives(token).then(() => start().catch(failed)); // a new link replaces a refused token
    return;
  }
  unblock();
  if (setup !== "offline") await seedFromSetup(setup);
  renderAll();
  show(nav.view, { push: false }); // where a person already tapped to while we checked, not back to welcome

  const hadController = Boolean(navigator.serviceWorker?.controller);
  navigator.serviceWorker?.addEventListener("controllerchange", () => {
    if (hadController) nav.updatePending = true; // a new build: reload at the next idle reset
  });
  registerWorker().then(workerReady);

  kiosk.live = new LiveSocket(`/api/events/${encodeURIComponent(slug)}/live`, {
    onState: (s) => setNet(s),
    onFrame: (frame) => {
      if (frame.type === "hello" || frame.type === "poke") pull();
    },
  });
  kiosk.live.start();
  window.addEventListener("online", () => {
    pull();
    recheck(token);
  });
  window.addEventListener("offline", () => setNet("offline"));
  setInterval(pull, 60_000); // a missed poke delays an update by a minute at most
  setInterval(() => kiosk.blocked || recheck(token), RECHECK_MS); // a revoked token closes the screen
  pull();
}

// ---- redrawing what the replica changed, once per frame -------------------------------------

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
      phase();
    }
    if (changed.has("item")) {
      itemsChanged(nav.view === "welcome");
      if (nav.view === "search") renderResults();
      if (nav.view === "item") renderItem();
    }
    if (changed.has("item") || changed.has("stall")) {
      if (nav.view === "stall") renderStall();
      if (nav.view === "stalls") renderStalls();
      if (nav.view === "welcome") renderWelcomeTags();
    }
    if (changed.has("sync")) renderNet();
  });
}

function renderAll() {
  renderHeader();
  renderTotals();
  phase();
  renderWelcomeTags();
  renderNet();
}

function failed(err) {
  console.error(err);
  $("net-status").textContent = "Something went wrong; reloading shortly";
  setTimeout(() => location.reload(), 15_000);
}

start().catch(failed);
