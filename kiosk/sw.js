// The kiosk's service worker (scope /kiosk/): the three page shells and their modules (the
// kiosk's own under /kiosk-assets/, the shared toolkit's under /app/kit/) come from the cache, so a kiosk reloaded while the venue Wi-Fi is down still starts, and never
// shows the browser's error page. QR images and photo thumbnails are kept as they are fetched.
// API calls are not touched: the pages handle a missing network themselves.

// The server replaces the next line with this build's version, file list and page shells.
const BUILD = { version: "dev", shell: [], pages: { kiosk: "kiosk.html", stall: "stall.html", dashboard: "dashboard.html" } };

const SHELL = `souk-kiosk-shell-${BUILD.version}`;
const RUNTIME = "souk-kiosk-runtime-v1";
const ASSETS = "/kiosk-assets/";
const KIT = "/app/kit/"; // the toolkit shared with the app (pwa/kit/), listed in BUILD.shell too
const RUNTIME_LIMIT = 1500;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(BUILD.shell.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("souk-kiosk-shell-") && name !== SHELL) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function pageFor(pathname) {
  const mode = pathname.startsWith("/kiosk/stall/") ? "stall" : pathname.startsWith("/kiosk/dashboard/") ? "dashboard" : "kiosk";
  return ASSETS + BUILD.pages[mode];
}

const OFFLINE_STYLE = `body{font:1.5rem/1.4 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;
background:#fff;color:#000;text-align:center;padding:2rem;box-sizing:border-box}h1{font-size:2.2rem}`;
const OFFLINE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="15">
<title>Souk — waiting for the network</title>
<style>${OFFLINE_STYLE}</style></head>
<body><main><h1>Waiting for the network</h1><p>This screen starts as soon as it can reach the market server.
It tries again on its own.</p></main></body></html>`;

// The same strictness as the server's pages: no script at all, and only this page's own style sheet
// (allowed by its hash, never by 'unsafe-inline').
async function offlinePage() {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(OFFLINE_STYLE));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  const policy = `default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return new Response(OFFLINE_PAGE, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy, "X-Frame-Options": "DENY" },
  });
}

async function navigation(request) {
  const url = new URL(request.url);
  const cache = await caches.open(SHELL);
  const cached = await cache.match(pageFor(url.pathname));
  if (cached) return cached; // the shell is the same for every event: start instantly, even offline
  try {
    return await fetch(request);
  } catch {
    return offlinePage();
  }
}

async function asset(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetch(request);
}

async function keep(request) {
  const cache = await caches.open(RUNTIME);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
    trim(cache);
  }
  return response;
}

async function trim(cache) {
  const keys = await cache.keys();
  for (const key of keys.slice(0, Math.max(0, keys.length - RUNTIME_LIMIT))) await cache.delete(key);
}

const KEPT = [/^\/kiosk-qr\.svg$/, /^\/s\/[^/]+\/qr\.svg$/, /^\/photos\/[^/]+\/320$/];

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/kiosk/")) {
    event.respondWith(navigation(request));
  } else if (url.pathname.startsWith(ASSETS) || url.pathname.startsWith(KIT)) {
    event.respondWith(asset(request));
  } else if (KEPT.some((re) => re.test(url.pathname))) {
    event.respondWith(keep(request));
  }
});

// The page asks for stall QR codes and item thumbnails to be fetched ahead (one at a time, at low
// priority, never more than the runtime cache keeps), so the directory and cards show them offline.
self.addEventListener("message", (event) => {
  if (event.data?.type !== "warm" || !Array.isArray(event.data.urls)) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(RUNTIME);
      for (const url of event.data.urls.slice(0, RUNTIME_LIMIT)) {
        if (typeof url !== "string" || !url.startsWith("/")) continue;
        try {
          if (!(await cache.match(url))) {
            if (!KEPT.some((re) => re.test(new URL(url, self.location.origin).pathname))) continue;
            const response = await fetch(url, { priority: "low" });
            if (response.ok) await cache.put(url, response);
          }
        } catch {
          return; // offline: try again another time
        }
      }
      await trim(cache);
    })(),
  );
});
