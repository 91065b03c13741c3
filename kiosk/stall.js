// Stall mode: a vendor's tablet on the stall. Shows the stall's QR code large and its items
// (kept current by pokes), and — once the vendor signs in — a big cue when a visitor messages.
// Message bodies are never shown: the screen faces the public.

import { h, replace } from "/app/kit/dom.js";
import { HttpError, request } from "/app/kit/http.js";
import { LiveSocket } from "/app/kit/live.js";
import { formatMoney } from "/app/kit/money.js";
import { pathSlug, registerWorker, STATE_LABELS, throttle, timeLabel } from "./util.js";

const $ = (id) => document.getElementById(id);
const code = pathSlug();
const TOKEN_KEY = "souk.vendor.token";
const CACHE_KEY = `souk.stall.cache:${code}`;

const state = { stall: null, event: null, items: [], live: null, unseen: 0, audio: null, net: "connecting" };

function problem(text) {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
}

async function load() {
  const stall = await request("GET", `/api/stalls/${encodeURIComponent(code)}`, { timeout: 6000 });
  const event = await request("GET", `/api/events/${encodeURIComponent(stall.event_id)}`, { timeout: 6000 });
  const items = await request("GET", `/api/stalls/${encodeURIComponent(code)}/items`, { timeout: 8000 });
  Object.assign(state, { stall, event, items });
  localStorage.setItem(CACHE_KEY, JSON.stringify({ stall, event, items, at: Date.now() }));
}

const reloadItems = throttle(async () => {
  try {
    state.items = await request("GET", `/api/stalls/${encodeURIComponent(code)}/items`, { timeout: 8000 });
    localStorage.setItem(CACHE_KEY, JSON.stringify({ stall: state.stall, event: state.event, items: state.items, at: Date.now() }));
    renderItems();
  } catch (err) {
    console.warn("stall: items not refreshed", err);
  }
}, 800);

function render() {
  const { stall, event } = state;
  document.title = `${stall.name} — Souk`;
  $("event-name").textContent = event ? `${event.name} · ${event.hashtag}` : "";
  $("stall-name").textContent = stall.name;
  $("stall-meta").textContent = [stall.number ? `Stall ${stall.number}` : "", stall.location, stall.store_tag]
    .filter(Boolean)
    .join(" · ");
  $("stall-description").textContent = stall.description || "";
  const figure = $("stall-qr");
  if (!figure.querySelector("img")) {
    figure.prepend(
      h("img", {
        class: "qr",
        src: `/s/${encodeURIComponent(stall.code)}/qr.svg`,
        alt: `QR code: scan to open ${stall.name} on your phone`,
        width: 480,
        height: 480,
      }),
      h("p", { class: "kiosk-link" }, stall.url),
    );
  }
  renderItems();
}

function renderItems() {
  const order = { available: 0, reserved: 1, sold: 2 };
  const items = [...state.items].sort(
    (a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || String(a.title).localeCompare(String(b.title)),
  );
  replace(
    $("items"),
    items.length
      ? items.map((item) =>
          h(
            "li",
            { "data-item-id": item.id, "data-state": item.state },
            h("span", { class: "item-title", dir: "auto" }, item.title),
            h(
              "span",
              {},
              h("span", { class: "price" }, formatMoney(item.price, item.currency)),
              " ",
              h("span", { class: `state state-${item.state}` }, STATE_LABELS[item.state] || item.state),
            ),
          ),
        )
      : h("li", { class: "note" }, "No items listed yet."),
  );
}

function setNet(net) {
  state.net = navigator.onLine === false ? "offline" : net;
  const el = $("net-status");
  const signedIn = Boolean(localStorage.getItem(TOKEN_KEY));
  el.textContent = {
    live: signedIn ? "● Live · message alerts on" : "● Live",
    connecting: "Connecting…",
    offline: "Offline — showing saved items",
  }[state.net];
  el.dataset.net = state.net;
  document.body.dataset.net = state.net;
}

// ---- the new-message cue -------------------------------------------------------------------

function beep() {
  try {
    const ctx = state.audio;
    if (!ctx) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.25, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.6);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.6);
  } catch {
    /* no sound: the screen cue is enough */
  }
}

function cue() {
  state.unseen += 1;
  $("cue").querySelector("h2").textContent = state.unseen === 1 ? "New message" : `${state.unseen} new messages`;
  $("cue-detail").textContent = `A visitor messaged you at ${timeLabel(new Date())} — open Souk on your phone to answer.`;
  $("cue").hidden = false;
  document.body.dataset.cue = "on";
  beep();
}

function dismissCue() {
  state.unseen = 0;
  $("cue").hidden = true;
  delete document.body.dataset.cue;
}

// ---- live updates --------------------------------------------------------------------------

function onFrame(frame) {
  const forThisStall = !frame.stall_id || frame.stall_id === state.stall?.id;
  if (frame.type === "message" && frame.message?.sender === "visitor" && forThisStall) cue();
  else if (frame.type === "poke" || frame.type === "item") reloadItems();
  else if (frame.type === "ready" || frame.type === "hello") reloadItems(); // catch up after a reconnect
}

function connect() {
  state.live?.stop();
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) {
    state.live = new LiveSocket("/api/live", {
      firstFrame: () => ({ type: "auth", token, event: state.event?.slug || state.stall.event_id }),
      isReady: (frame) => frame.type === "ready",
      expectPong: true,
      onFrame,
      onState: setNet,
      onClose: (closeCode) => {
        if (closeCode === 4401) signOut("Your sign-in has expired; sign in again for message alerts.");
      },
    });
  } else {
    state.live = new LiveSocket(`/api/events/${encodeURIComponent(state.event?.slug || state.stall.event_id)}/live`, {
      onFrame,
      onState: setNet,
    });
  }
  state.live.start();
  renderVendor();
}

function renderVendor(message) {
  const token = localStorage.getItem(TOKEN_KEY);
  const who = localStorage.getItem(`${TOKEN_KEY}.name`);
  $("show-signin").hidden = Boolean(token);
  $("signout").hidden = !token;
  if (token) $("signin").hidden = true;
  $("vendor-status").textContent =
    message ||
    (token
      ? `Signed in${who ? ` as ${who}` : ""}: a big alert shows here when a visitor messages you.`
      : "Sign in as this stall's vendor to get a big alert here when a visitor messages you.");
}

function signOut(message) {
  const token = localStorage.getItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(`${TOKEN_KEY}.name`);
  if (token && !message) request("POST", "/api/auth/logout", { token }).catch(() => {});
  connect();
  renderVendor(message);
}

// A vendor account may run stalls at several markets, but this screen is for one stall only.
async function ownsThisStall(token) {
  const mine = await request("GET", "/api/vendors/me/stalls", { token, timeout: 6000 });
  return mine.some((stall) => stall.code === code);
}

// A tablet moved to another stall keeps the previous vendor's sign-in: drop it (when we can tell).
async function checkSavedSignIn() {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) return;
  try {
    if (!(await ownsThisStall(token))) signOut("The saved sign-in is for another stall: sign in with this stall's vendor account.");
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) signOut("Your sign-in has expired; sign in again for message alerts.");
    // offline: keep it, the socket will tell
  }
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  // A user gesture: the only moment a browser lets a page prepare to make sound.
  try {
    state.audio ||= new AudioContext();
  } catch {
    /* no audio */
  }
  try {
    const out = await request("POST", "/api/auth/login", {
      json: { email: $("email").value.trim(), password: $("password").value },
    });
    if (out.role !== "vendor" || !(await ownsThisStall(out.token))) {
      request("POST", "/api/auth/logout", { token: out.token }).catch(() => {});
      $("signin-error").textContent = "This account does not run this stall: sign in with the stall's own vendor account.";
      return;
    }
    localStorage.setItem(TOKEN_KEY, out.token);
    localStorage.setItem(`${TOKEN_KEY}.name`, out.display_name || "");
    $("password").value = "";
    connect();
  } catch (err) {
    $("signin-error").textContent =
      err instanceof HttpError ? err.message : "No network: try again when the Wi-Fi is back.";
  }
}

async function start() {
  $("show-signin").addEventListener("click", () => {
    $("signin").hidden = false;
    $("show-signin").hidden = true;
    $("email").focus();
  });
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", () => signOut());
  $("cue-dismiss").addEventListener("click", dismissCue);
  for (;;) {
    try {
      await load();
      problem("");
      break;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        problem(`There is no stall with the code ${code}. Check the address with the organizer.`);
        return;
      }
      const cached = JSON.parse(localStorage.getItem(CACHE_KEY) || "null");
      if (cached) {
        Object.assign(state, cached);
        setNet("offline");
        break;
      }
      problem("Waiting for the network…");
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
  render();
  connect();
  checkSavedSignIn();
  const registration = await registerWorker();
  // Keep the stall's QR code in the worker's cache: the tablet may restart while offline.
  registration?.active?.postMessage({ type: "warm", urls: [`/s/${encodeURIComponent(code)}/qr.svg`] });
}

start().catch((err) => {
  console.error(err);
  problem("Something went wrong; reloading shortly.");
  setTimeout(() => location.reload(), 15_000);
});
