// Small helpers of the kiosk, stall mode and the organizer dashboard. What the app uses too
// (element builder, HTTP client, money, IndexedDB, live socket, replica, search) is the shared
// toolkit in pwa/kit/, imported by absolute URL (/app/kit/...).
import { h } from "/app/kit/dom.js";

/** Parameters from both the query string and the fragment (`#token=...&idle=30`); the fragment wins. */
export function readParams() {
  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  for (const [key, value] of hash) params.set(key, value);
  return params;
}

/** The last path segments after `/kiosk/` (or `/kiosk/<mode>/`), decoded. */
export function pathSlug() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}

/** A QR image for any link under this market's base URL, rendered by the server. */
export const qrSrc = (url) => `/kiosk-qr.svg?url=${encodeURIComponent(url)}`;

/** The link a visitor's phone opens for one item: `<base>/s/<stall code>?item=<id>`. */
export const itemUrl = (stallUrl, itemId) => `${stallUrl}?item=${encodeURIComponent(itemId)}`;

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Call `fn` at most once per `ms`, always running the last call (for bursts of pokes). */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (timer) return;
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

/** Save a Blob as a file (CSV exports, sign PDFs). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const STATE_LABELS = { available: "Available", reserved: "Reserved", sold: "Sold" };

export function timeLabel(date) {
  return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }).format(date);
}

/** Register the kiosk service worker (scope /kiosk/); resolves when it is active, or null. */
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    const registration = await navigator.serviceWorker.register("/kiosk-assets/sw.js", { scope: "/kiosk/" });
    await navigator.serviceWorker.ready;
    return registration;
  } catch (err) {
    console.warn("kiosk: service worker not registered", err);
    return null;
  }
}
