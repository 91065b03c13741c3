// Small helpers shared by the kiosk, stall mode and the organizer dashboard.
// Plain ES module, no dependencies.

/** Create an element: h("a", {href, class: "x", onclick: fn, dir: "auto"}, "text", child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace every child of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const formatters = new Map();

/** Money is integer minor units + ISO currency; the currency says how many digits it has. */
export function formatMoney(amount, currency) {
  let fmt = formatters.get(currency);
  if (fmt === undefined) {
    try {
      fmt = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      fmt = null; // unknown or empty currency code: show the plain number
    }
    formatters.set(currency, fmt);
  }
  if (!fmt) return String(amount);
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(amount / 10 ** digits);
}

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

export class HttpError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** A network failure or time-out (as opposed to an answer from the server). */
export class NetworkError extends Error {}

/**
 * fetch that answers parsed JSON (or a Blob with `as: "blob"`), throws HttpError for a 4xx/5xx
 * with the server's `error` message, and NetworkError when the venue Wi-Fi lets us down.
 */
export async function request(url, { method = "GET", body, headers = {}, timeout = 8000, as = "json", signal } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort);
  const init = { method, headers: { ...headers }, signal: controller.signal, cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new NetworkError(controller.signal.aborted ? "The network took too long to answer" : "No network");
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      /* not JSON */
    }
    throw new HttpError(response.status, data?.error || `HTTP ${response.status}`, data);
  }
  if (as === "blob") return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/** A QR image for any link under this market's base URL, rendered by the server. */
export const qrSrc = (url) => `/kiosk-qr.svg?url=${encodeURIComponent(url)}`;

/** The link a visitor's phone opens for one item: `<base>/s/<stall code>?item=<id>`. */
export const itemUrl = (stallUrl, itemId) => `${stallUrl}?item=${encodeURIComponent(itemId)}`;

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Server-made highlight HTML may only hold text and <mark>; anything else is shown as plain text. */
export function safeMarkHtml(html, fallbackText) {
  const withoutMarks = String(html ?? "").replace(/<\/?mark>/g, "");
  return /[<>]/.test(withoutMarks) || html == null ? escapeHtml(fallbackText ?? "") : String(html);
}

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
