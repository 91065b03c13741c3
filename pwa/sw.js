// Souk's service worker (a module worker, registered at the root so it covers /s/* and /app*).
// Shell and photos come from the cache; stall pages and the app are network-first with the
// cached shell as the offline answer; /api/ is never cached; pushes become notifications;
// Background Sync flushes the same outbox the pages use.
import { flush } from "/app/outbox.js";

const BUILD = {"version": "dev", "shell": []}; // filled in by the server: see server/api/pwa.py
// The data format the shell speaks (kit/wire.js: sync format 2, IndexedDB version 2) is in the
// cache names too: a shell of another format is never kept beside it.
const FORMAT = "f2";
const SHELL_CACHE = `souk-shell-${FORMAT}-${BUILD.version}`;
const PAGES_CACHE = `souk-pages-${FORMAT}-${BUILD.version}`;
const PHOTOS_CACHE = "souk-photos-v1"; // content-addressed: the bytes behind a URL never change
const KEEP = [SHELL_CACHE, PAGES_CACHE, PHOTOS_CACHE];
const SHELL = "/app/";
const PLACEHOLDER = "/app/icons/placeholder.svg";
const NETWORK_TIMEOUT_MS = 5000;
const MAX_PHOTOS = 800;
// Warming thumbnails ahead (a stall never opened online still shows its photos offline): at most
// this many per request from a page, and this many bytes, one at a time at low priority, only
// /photos/<key>/<size> URLs, and never pushing the cache past MAX_PHOTOS (trim keeps the newest).
const WARM_MAX_COUNT = 300;
const WARM_MAX_BYTES = 8 * 1024 * 1024;
const PHOTO_URL = /^\/photos\/[A-Za-z0-9_-]+\/[a-z0-9]+$/;

self.addEventListener("install", (event) => {
  // No skipWaiting(): a new version waits until the person agrees to reload (see install.js).
  // "no-cache": each file is revalidated by its ETag, so what the page has just downloaded comes
  // from the HTTP cache as a 304 (this build's bytes, never an older copy) rather than twice.
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) =>
    cache.addAll(BUILD.shell.map((url) => new Request(url, { cache: "no-cache" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("souk-") && !KEEP.includes(name)) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
  if (event.data?.type === "version") event.source?.postMessage({ type: "version", version: BUILD.version });
  if (event.data?.type === "warm-photos" && Array.isArray(event.data.urls)) event.waitUntil(warmPhotos(event.data.urls));
});

// One warm-up at a time: a second request while one runs waits for it (its URLs are mostly cached by then).
let warming = Promise.resolve();
function warmPhotos(urls) {
  warming = warming.then(() => warmNow(urls)).catch(() => {});
  return warming;
}

async function warmNow(urls) {
  const cache = await caches.open(PHOTOS_CACHE);
  let fetched = 0;
  let bytes = 0;
  const room = Math.max(0, MAX_PHOTOS - (await cache.keys()).length);
  const limit = Math.min(WARM_MAX_COUNT, room || WARM_MAX_COUNT);
  for (const raw of urls) {
    if (fetched >= limit || bytes >= WARM_MAX_BYTES) break;
    if (typeof raw !== "string") continue;
    const url = new URL(raw, self.location.origin);
    if (url.origin !== self.location.origin || !PHOTO_URL.test(url.pathname)) continue;
    if (await cache.match(url.href)) continue;
    let response;
    try {
      response = await fetch(url.href, { priority: "low", credentials: "same-origin" });
    } catch {
      return; // the network went: try again after the next sync
    }
    if (!response.ok || response.type !== "basic") continue;
    const body = await response.clone().arrayBuffer();
    bytes += body.byteLength;
    fetched += 1;
    await cache.put(url.href, response);
  }
  if (fetched) await trim(cache);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // Only same-origin GETs: other origins' opaque responses cost ~7 MB of quota each.
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && (/^\/s\/[^/]+\/?$/.test(url.pathname) || /^\/app(\/|$)/.test(url.pathname))) {
    event.respondWith(page(event, url));
  } else if (url.pathname.startsWith("/photos/")) {
    event.respondWith(photo(event));
  } else if (url.pathname.startsWith("/app/") || url.pathname === "/manifest.webmanifest") {
    // ignoreVary: a revalidated file keeps the page's "Vary: Origin" (module requests send an
    // Origin, the precache did not); the shell is one set of bytes per URL whoever asks.
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true, ignoreVary: true })
      .then((hit) => hit || fetch(request)));
  }
});

// Network first (fresh prices), then the page as last seen, then the bare shell: the app
// renders any stall of a synced event from IndexedDB, even one never opened before.
async function page(event, url) {
  // The page goes to the browser as it streams in; the copy for offline is stored alongside.
  const network = fetch(event.request).then((response) => {
    if (response.ok && url.pathname.startsWith("/s/")) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(event.request, copy)));
    }
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  try {
    const response = await Promise.race([network, timeout(NETWORK_TIMEOUT_MS)]);
    if (response.status < 500) return response;
  } catch { /* offline, or too slow to wait for */ }
  return (await caches.match(event.request, { cacheName: PAGES_CACHE }))
    || (await caches.match(SHELL, { cacheName: SHELL_CACHE })) || network;
}

async function photo(event) {
  const cache = await caches.open(PHOTOS_CACHE);
  const hit = await cache.match(event.request);
  if (hit) return hit;
  try {
    const response = await fetch(event.request);
    if (response.ok && response.type === "basic") event.waitUntil(cache.put(event.request, response.clone()).then(() => trim(cache)));
    return response;
  } catch {
    return (await caches.match(PLACEHOLDER, { cacheName: SHELL_CACHE }))
      || new Response('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 3"><rect width="4" height="3" fill="#e4e4e4"/></svg>',
        { headers: { "Content-Type": "image/svg+xml" } });
  }
}

async function trim(cache) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - MAX_PHOTOS))) await cache.delete(key);
}

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data?.text() || "" };
  }
  event.waitUntil((async () => {
    await self.registration.showNotification(data.title || "Souk", {
      body: data.body || "", tag: data.tag || undefined, renotify: Boolean(data.tag),
      icon: "/app/icons/icon-192.png", badge: "/app/icons/icon-192.png", data: { url: data.url || "/app/#/conversations" },
    });
    // Something changed for this person: open pages pull now rather than at the next poke.
    for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "pushed" });
  })());
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL(event.notification.data?.url || SHELL, self.location.origin);
  if (target.origin !== self.location.origin) target = new URL(SHELL, self.location.origin); // never another site
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const exact = windows.find((w) => w.url === target.href);
    const ours = exact || windows.find((w) => new URL(w.url).origin === target.origin);
    if (ours) {
      if (!exact) ours.postMessage({ type: "navigate", url: target.href });
      return ours.focus();
    }
    return self.clients.openWindow(target.href);
  })());
});

self.addEventListener("sync", (event) => {
  // A rejection makes the browser retry later; success ends the sync.
  if (event.tag === "souk-outbox") event.waitUntil(flush());
});
