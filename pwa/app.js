// The app's entry: works out which market this is, renders the route from the replica at once,
// then syncs (pull), pushes the outbox, and listens on the realtime socket.
import { request } from "./kit/http.js";
import { on, once } from "./bus.js";
import * as data from "./data.js";
import { PLACEHOLDER } from "./dom.js";
import { kick, startFlusher } from "./flusher.js";
import { activeIdentity, deviceIdentity, forgetIdentity, getIdentity, saveIdentity } from "./identity.js";
import { registerWorker, requestBackgroundSync } from "./install.js";
import { Live } from "./live.js";
import { startNotices } from "./notices.js";
import { enqueue } from "./outbox.js";
import * as replica from "./replica.js";
import { currentRoute, startRouter } from "./router.js";
import { kvGet, kvSet } from "./store.js";
import { pull } from "./sync.js";
import { photoUrl } from "./kit/wire.js";
import { endedNote, eventPhase, setEventZone, watchPhase } from "./kit/phase.js";
// Views load when first shown: a visitor on a stall page never downloads the vendor's forms.
// (The service worker still precaches every module, so all of them work offline.)
const VIEWS = {
  home: () => import("./view-search.js"),
  stall: () => import("./view-stall.js"),
  item: () => import("./view-item.js"),
  favourites: () => import("./view-favourites.js"),
  conversations: () => import("./view-conversations.js"),
  thread: () => import("./view-thread.js"),
  chat: () => import("./view-thread.js"),
  vendor: () => import("./view-vendor.js"),
  "item-new": () => import("./view-item-form.js"),
  "item-edit": () => import("./view-item-form.js"),
  sell: () => import("./view-sell.js"),
  "stall-edit": () => import("./view-stall-form.js"),
  replies: () => import("./view-replies.js"),
  resume: () => import("./view-resume.js"),
};
const TABS = {
  home: "search", stall: "search", item: "search", favourites: "favourites", conversations: "conversations",
  thread: "conversations", chat: "conversations", resume: "conversations",
};

// A thumbnail that cannot be loaded shows the placeholder: one listener for the whole page (error
// events do not bubble, hence the capture phase), as the CSP forbids inline onerror="..." in the
// server-rendered stall page. Thumbnails that failed before this module ran are swapped at once.
function placeholderFor(img) {
  if (img instanceof HTMLImageElement && img.classList.contains("thumb") && !img.src.endsWith(PLACEHOLDER)) {
    img.src = PLACEHOLDER;
  }
}
document.addEventListener("error", (event) => placeholderFor(event.target), true);
for (const img of document.querySelectorAll("img.thumb")) if (img.complete && img.naturalWidth === 0) placeholderFor(img);

const main = document.getElementById("main");
let current = null;
let chain = Promise.resolve();

const app = {
  slug: null,
  vendor: null,
  live: null,
  go: (url) => { location.href = url; },

  // The identity actions are sent as: the vendor when signed in, else the visitor device.
  async identity({ create = false } = {}) {
    const known = await activeIdentity();
    return known || (create ? deviceIdentity() : null);
  },

  async enqueue(owner, name, args, options) {
    const entry = await enqueue(owner, name, args, options);
    requestBackgroundSync();
    kick();
    return entry;
  },

  pull: () => pullNow(),

  async setEvent(slug) {
    if (!slug || slug === app.slug) return;
    app.slug = slug;
    await kvSet("event", slug);
    app.live?.restart();
    pullNow();
  },

  // Sign in and find the account's stalls: one stall is opened at once; with stalls at several
  // markets the caller asks which (`chooseStall`). The token is dropped again if none is usable.
  async signIn({ email, password }) {
    const login = await request("POST", "/api/auth/login", { json: { email, password } });
    const dropToken = () => request("POST", "/api/auth/logout", { token: login.token }).catch(() => {});
    if (login.role !== "vendor") {
      dropToken();
      throw new Error("This is not a vendor account: organizers use the dashboard at /kiosk/dashboard/.");
    }
    let stalls;
    try {
      stalls = await request("GET", "/api/vendors/me/stalls", { token: login.token });
    } catch (error) {
      dropToken();
      throw error;
    }
    if (!stalls.length) {
      dropToken();
      throw new Error("This account has no stall yet: join a market with your invite code below.");
    }
    const events = await Promise.all(stalls.map((s) => request("GET", `/api/events/${encodeURIComponent(s.event_id)}`)));
    const choices = stalls.map((stall, i) => ({ stall, event: events[i] }));
    const here = choices.filter((c) => c.event.slug === app.slug);
    if (choices.length === 1 || here.length === 1) {
      const { stall, event } = here[0] || choices[0];
      await becomeVendor(login.token, login, stall, event);
      return null;
    }
    return { login, choices };
  },

  chooseStall: (login, { stall, event }) => becomeVendor(login.token, login, stall, event),

  async join(body) {
    const joined = await request("POST", "/api/vendors/join", { json: body });
    const me = await request("GET", "/api/auth/me", { token: joined.token });
    const event = await request("GET", `/api/events/${encodeURIComponent(joined.stall.event_id)}`);
    await becomeVendor(joined.token, me, joined.stall, event);
  },

  async signOut() {
    const vendor = await getIdentity("vendor");
    if (vendor) request("POST", "/api/auth/logout", { token: vendor.token }).catch(() => {});
    await forgetIdentity("vendor");
    app.vendor = null;
    await replica.clearConversations();
    app.live?.restart();
    pullNow();
  },
};

async function becomeVendor(token, account, stall, event) {
  const identity = {
    kind: "vendor", token, account_id: account.account_id, display_name: account.display_name || "",
    stall_code: stall.code, stall_id: stall.id, event_id: stall.event_id, event_slug: event.slug,
  };
  await saveIdentity(identity);
  app.vendor = identity;
  await replica.clearConversations(); // the inbox is the vendor's now, not the visitor's
  app.slug = null;
  await app.setEvent(event.slug);
  app.live?.restart();
  kick();
}

// The event's clock: its time zone for every time shown, and a banner once the market is over
// (people still browse and chat: vendors keep selling after the market).
let shownEvent = null;
let stopPhase = null;
async function showPhase() {
  const event = app.slug ? await data.eventBySlug(app.slug) : null;
  shownEvent = event;
  setEventZone(event?.time_zone);
  const note = endedNote(event);
  document.body.dataset.phase = eventPhase(event) || "";
  let banner = document.getElementById("ended-banner");
  if (!note) {
    banner?.remove();
  } else {
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "ended-banner";
      banner.className = "ended-banner";
      banner.setAttribute("role", "status");
      document.querySelector("header.top")?.after(banner);
    }
    banner.textContent = note;
  }
  stopPhase ||= watchPhase(() => shownEvent, () => showPhase());
}

// Once synced and online, the service worker fetches the thumbnails of the event's items in the
// background (low priority, bounded there), so a stall first opened offline shows its photos.
// The stall on screen goes first: on a first visit its thumbnails are asked for as soon as its
// page of the pull is in, before the rest of the event has arrived.
const warmed = new Set();
async function warmThumbnails({ stallOnly = false } = {}) {
  if (!navigator.serviceWorker || !navigator.onLine || navigator.connection?.saveData) return;
  const route = currentRoute();
  const stall = route.name === "stall" ? await data.stallByCode(route.params.code) : null;
  if (stallOnly && !stall) return;
  const event = app.slug ? await data.eventBySlug(app.slug) : null;
  if (!event && !stall) return;
  const worker = (await navigator.serviceWorker.ready).active; // on a first visit too, before it controls the page
  if (!worker) return;
  const own = stall ? await replica.children(stall.id, "item") : [];
  const rest = stallOnly || !event ? [] : await replica.ofEvent(event.id, "item");
  const urls = [...new Set([...own, ...rest]
    .filter((item) => item.state !== "sold" && item.photos?.length)
    .map((item) => photoUrl(item.photos[0], "thumb")))]
    .filter((url) => !warmed.has(url));
  if (!urls.length) return;
  for (const url of urls) warmed.add(url);
  worker.postMessage({ type: "warm-photos", urls });
}

// `join`: the first pull, which boot.js may have started already: wait for it, not for another.
function pullNow({ join = false } = {}) {
  if (!app.slug || !navigator.onLine) return Promise.resolve();
  const route = currentRoute();
  return (join ? pull.join : pull)(app.slug, { stall: route.name === "stall" ? route.params.code : null }).then(
    () => {
      document.body.dataset.synced = "yes";
      showPhase();
      warmThumbnails().catch(() => {});
      navigator.storage?.persist?.().catch(() => {}); // ask the browser not to evict the replica
    },
    (error) => console.warn("Souk: sync paused:", error.message),
  );
}

// Which market: the server-rendered stall page says so; else the stall in the replica; else ask
// the server; else the vendor's own; else the last one used.
async function resolveEvent(route) {
  const ssr = document.querySelector("[data-event]")?.dataset.event;
  if (ssr) return ssr;
  if (route.name === "stall") {
    const stall = await data.stallByCode(route.params.code);
    const event = stall ? await replica.get("event", stall.event_id) : null;
    if (event) return event.slug;
    if (navigator.onLine) {
      try {
        const found = await request("GET", `/api/stalls/${encodeURIComponent(route.params.code)}`);
        return (await request("GET", `/api/events/${encodeURIComponent(found.event_id)}`)).slug;
      } catch {
        // unknown stall: the view says so
      }
    }
  }
  return (await getIdentity("vendor"))?.event_slug || (await kvGet("event")) || null;
}

function render(options = {}) {
  chain = chain.then(() => draw(options)).catch((error) => console.error("Souk: could not show this page", error));
  return chain;
}

async function draw({ moved = false } = {}) {
  const route = currentRoute();
  if (route.name === "stall") {
    const stall = await data.stallByCode(route.params.code);
    const event = stall ? await replica.get("event", stall.event_id) : null;
    if (event && event.slug !== app.slug) await app.setEvent(event.slug);
  }
  current?.destroy?.();
  current = null;
  document.body.dataset.view = route.name;
  const tab = TABS[route.name] || "vendor";
  for (const link of document.querySelectorAll("[data-tab]")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = await (VIEWS[route.name] || VIEWS.home)();
  current = (await view.mount(main, route, app)) || {};
  const heading = document.getElementById("page-title");
  document.title = heading ? `${heading.textContent} · Souk` : "Souk";
  if (moved) {
    scrollTo(0, 0);
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

let updateTimer = null;
function refreshView() {
  clearTimeout(updateTimer);
  updateTimer = setTimeout(() => {
    chain = chain.then(() => current?.update?.()).catch((error) => console.error("Souk: could not refresh", error));
  }, 60);
}

function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

async function boot() {
  // A returning phone's worker is registered at once (it handles pushes and update checks). On a
  // first visit its install downloads the shell into its cache, which on one bar of signal
  // competes with the scanned stall's page of the pull: it starts once that page is in (or the
  // pull has ended, online or not).
  const firstVisit = !navigator.serviceWorker?.controller;
  if (!firstVisit) registerWorker();
  startNotices();
  app.vendor = await getIdentity("vendor");
  app.go = startRouter(render);
  app.slug = await resolveEvent(currentRoute());
  if (app.slug) await kvSet("event", app.slug);
  await showPhase(); // before the first render, so its times are on the event's clock
  for (const topic of ["replica", "outbox", "favourites"]) on(topic, refreshView); // each refresh waits for the render
  on("pulled", ({ snapshot }) => {
    if (snapshot && document.body.dataset.synced !== "yes") warmThumbnails({ stallOnly: true }).catch(() => {});
  });
  // A first visit's pull starts while the view's module loads (from a stall's QR code it started
  // earlier still, in boot.js): the scanned stall's page of it may be in before the view is.
  const pulling = pullNow({ join: true });
  if (firstVisit) Promise.race([once("pulled"), pulling]).then(() => registerWorker()); // pullNow never rejects
  await render();
  on("flushed", () => pullNow());
  on("pushed", () => pullNow());
  on("navigate", ({ url }) => app.go(url));
  on("signed-out", async ({ kind }) => {
    if (kind === "vendor") app.vendor = null;
  });
  app.live = new Live({ identity: () => activeIdentity(), slug: () => app.slug, onPoke: debounce(pullNow, 250) });
  startFlusher();
  addEventListener("online", () => pullNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") pullNow();
  });
  if (navigator.onLine) {
    await pulling;
    app.live.connect();
  }
}

boot();
