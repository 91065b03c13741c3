// Small helpers of the kiosk, stall mode and the organizer dashboard. What the app uses too
// (element builder, HTTP client, money, IndexedDB, live socket, replica, search) is the shared
// toolkit in pwa/kit/, imported by absolute URL (/app/kit/...).
import { h, replace } from "/app/kit/dom.js";
import { formatTime } from "/app/kit/phase.js";

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

/** A time of day as the locale writes it (its own hour cycle: "15:30", "3:30 PM"), see kit/phase.js. */
export function timeLabel(date, zone = undefined) {
  return formatTime(date, zone);
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

/**
 * Ask again inside a list row before something that cannot be undone: "Keep it" is focused, so a
 * double tap does nothing. `onYes` runs with both buttons disabled; `showRow` puts the row back.
 * @param {HTMLElement} li @param {string} question @param {() => void} showRow
 * @param {() => Promise<void>} onYes
 */
export function confirmInRow(li, question, showRow, onYes) {
  const yes = h("button", { type: "button", class: "danger" }, "Yes, revoke");
  const keep = h("button", { type: "button" }, "Keep it");
  replace(li, h("p", { class: "grow" }, question), h("span", { class: "tools" }, yes, keep));
  keep.focus();
  keep.addEventListener("click", () => {
    showRow();
    li.querySelector("button")?.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    keep.disabled = true;
    await onYes();
  });
}
