// The organizer's dashboard for one event: live totals and charts, exports, printable signs,
// kiosk links and moderation. Opened as <base>/kiosk/dashboard/<slug>. Sections of their own:
// moderation.js (reports, blocking, hiding), blocks.js (blocked visitors), kiosk-tokens.js.

import { barList, columnChart } from "./charts.js";
import { dashboardPhase } from "./event-phase.js";
import { loadBlocks } from "./blocks.js";
import { startKioskTokens } from "./kiosk-tokens.js";
import { setupPoke, startSetup } from "./setup.js";
import { loadModeration, wireModeration } from "./moderation.js";
import { h, replace } from "/app/kit/dom.js";
import { HttpError, request } from "/app/kit/http.js";
import { LiveSocket } from "/app/kit/live.js";
import { formatMoney } from "/app/kit/money.js";
import { pathSlug, registerWorker, saveBlob, throttle, timeLabel } from "./util.js";

const $ = (id) => document.getElementById(id);
const slug = pathSlug();
const TOKEN_KEY = "souk.organizer.token";

const state = {
  token: localStorage.getItem(TOKEN_KEY),
  totals: null,
  event: null,
  live: null,
  entered: false,
};

/** A call with the organizer's token: api(path, {method, body, as, timeout}). */
function api(path, { method = "GET", body, ...opts } = {}) {
  return request(method, path, { ...opts, json: body, token: state.token });
}

function problem(text) {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
}

const money = (amount) => formatMoney(amount, state.totals?.currency || state.event?.currency || "");

// ---- signing in ------------------------------------------------------------------------------

function showSignIn(message) {
  $("signin-panel").hidden = false;
  $("dashboard").hidden = true;
  $("signout").hidden = true;
  $("signin-error").textContent = message || "";
  state.live?.stop();
  state.entered = false;
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  try {
    const out = await request("POST", "/api/auth/login", {
      json: { email: $("email").value.trim(), password: $("password").value },
    });
    if (out.role !== "organizer") {
      $("signin-error").textContent = "This is not an organizer account.";
      return;
    }
    state.token = out.token;
    localStorage.setItem(TOKEN_KEY, out.token);
    $("password").value = "";
    await enter();
  } catch (err) {
    $("signin-error").textContent =
      err instanceof HttpError ? err.message : "No network: try again when the connection is back.";
  }
}

function signOut() {
  if (state.token) api("/api/auth/logout", { method: "POST" }).catch(() => {});
  state.token = null;
  localStorage.removeItem(TOKEN_KEY);
  showSignIn();
}

// ---- totals ----------------------------------------------------------------------------------

const SAVED_KEY = `souk.dashboard.totals:${slug}`;
// The event is kept too, so an offline reload still says which market this is.
const EVENT_KEY = `souk.dashboard.event:${slug}`;

function showEvent(event) {
  state.event = event;
  $("event-name").textContent = event.name;
  $("event-meta").textContent = [event.hashtag, event.venue].filter(Boolean).join(" · ");
  document.title = `${event.name} — dashboard`;
}

/** true: fresh figures shown; false: refused (sign-in shown); null: no network. */
async function loadTotals() {
  try {
    state.totals = await api(`/api/events/${encodeURIComponent(slug)}/totals`);
    problem("");
    renderTotals();
    $("updated").textContent = `Updated ${timeLabel(new Date())}`;
    localStorage.setItem(SAVED_KEY, JSON.stringify({ totals: state.totals, at: Date.now() }));
    return true;
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) {
      state.token = null;
      localStorage.removeItem(TOKEN_KEY);
      showSignIn("Your sign-in has expired; sign in again.");
    } else if (err instanceof HttpError && err.status === 403) {
      showSignIn("This account does not organize this event. Sign in with the organizer's account.");
    } else if (err instanceof HttpError && err.status === 404) {
      problem(`There is no event called “${slug}”.`);
    } else {
      const saved = JSON.parse(localStorage.getItem(SAVED_KEY) || "null");
      if (!state.totals && saved) {
        state.totals = saved.totals;
        renderTotals();
      }
      const when = saved ? ` (saved ${timeLabel(new Date(saved.at))})` : "";
      problem(state.totals ? `Offline: these figures may be out of date${when}.` : "Waiting for the network…");
      return null;
    }
    return false;
  }
}

const refresh = throttle(loadTotals, 1000);

/** Consecutive hours from the first sale to the last, so quiet hours show as empty bars. */
function hourSeries(hours) {
  const parse = (s) => new Date(`${s.slice(0, 10)}T${s.slice(11, 13)}:00:00Z`).getTime();
  if (!hours.length) return [];
  const byHour = new Map(hours.map((x) => [parse(x.hour), x]));
  const first = parse(hours[0].hour);
  const last = parse(hours[hours.length - 1].hour);
  const span = (last - first) / 3_600_000;
  const days = new Set(hours.map((x) => x.hour.slice(0, 10))).size;
  const series = [];
  const label = (s) => (days > 1 ? `${s.slice(5, 10)} ${s.slice(11)}` : s.slice(11));
  if (span > 72) return hours.map((x) => ({ ...x, label: label(x.hour) }));
  for (let t = first; t <= last; t += 3_600_000) {
    const iso = new Date(t).toISOString();
    const key = `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00`;
    const found = byHour.get(t) || { hour: key, amount: 0, sales: 0 };
    series.push({ ...found, label: label(key) });
  }
  return series;
}

function renderTotals() {
  const t = state.totals;
  $("total-amount").textContent = money(t.amount);
  $("total-sales").textContent = String(t.sales);
  const stalls = t.stalls || [];
  const selling = stalls.filter((s) => s.sales > 0).length;
  $("stalls-selling").textContent = `${selling} / ${stalls.length}`;
  renderCharity(t);

  replace(
    $("hours-chart"),
    columnChart(
      hourSeries(t.hours || []).map((x) => ({
        label: x.label,
        value: x.amount,
        title: `${x.hour}: ${money(x.amount)} (${x.sales} ${x.sales === 1 ? "sale" : "sales"})`,
      })),
      { format: money, label: "Amount sold per hour" },
    ),
  );
  const causes = t.causes || [];
  replace(
    $("causes-chart"),
    causes.length
      ? barList(
          causes.map((c) => ({ label: c.name, sublabel: c.tag, value: c.amount, goal: c.goal })),
          { format: money, label: "Amount per cause against its goal", showGoal: true },
        )
      : h("p", { class: "note" }, "No causes at this event."),
  );
  const top = stalls.filter((s) => s.amount > 0).slice(0, 10);
  replace(
    $("stalls-chart"),
    top.length
      ? barList(
          top.map((s) => ({ label: s.name, sublabel: s.number ? `(${s.number})` : "", value: s.amount })),
          { format: money, label: "Top stalls by amount sold" },
        )
      : h("p", { class: "note" }, "No sales yet."),
  );
  dashboardPhase(slug, t, money); // today in the event's time zone, hours chart at this width, "ended" (event-phase.js)
}

/** All causes combined, and what #SocialCause items sold that no cause has yet. */
function renderCharity(t) {
  const charity = t.charity || { amount: 0, sales: 0, uncredited_amount: 0, uncredited_sales: 0 };
  $("charity-amount").textContent = money(charity.amount);
  const note = $("charity-uncredited");
  note.hidden = !charity.uncredited_sales;
  replace(
    note,
    charity.uncredited_sales
      ? [
          `${money(charity.uncredited_amount)} sold for a cause (#SocialCause) that names none — `,
          h("a", { href: "#uncredited-title" }, "choose their cause"),
          ".",
        ]
      : [],
  );
}

// ---- exports and signs -----------------------------------------------------------------------

async function download(button, path, filename) {
  const status = $("exports-status");
  button.disabled = true;
  status.textContent = `Preparing ${filename}…`;
  try {
    const blob = await api(path, { as: "blob", timeout: 120_000 });
    saveBlob(blob, filename);
    if (filename.endsWith(".pdf")) {
      const url = URL.createObjectURL(blob);
      replace(status, `Saved ${filename}. `, h("a", { href: url, target: "_blank", rel: "noopener" }, "Open it to print"));
    } else {
      status.textContent = `Saved ${filename}.`;
    }
  } catch (err) {
    status.textContent = err instanceof HttpError ? `Could not get ${filename}: ${err.message}` : "No network: try again.";
  } finally {
    button.disabled = false;
  }
}

// ---- start -----------------------------------------------------------------------------------

function setNet(net) {
  const value = navigator.onLine === false ? "offline" : net;
  const el = $("net-status");
  el.textContent = { live: "● Live", connecting: "Connecting…", offline: "Offline" }[value];
  el.dataset.net = value;
  document.body.dataset.net = value;
}

async function enter() {
  const loaded = await loadTotals();
  if (loaded === false) return;
  if (loaded === null) {
    // No network: show what was saved (if anything) and keep trying.
    setTimeout(() => !state.entered && state.token && enter(), 5000);
    if (!state.totals) return;
  }
  $("signin-panel").hidden = true;
  $("dashboard").hidden = false;
  $("signout").hidden = false;
  if (state.entered) return;
  state.entered = true;
  const savedEvent = JSON.parse(localStorage.getItem(EVENT_KEY) || "null");
  if (savedEvent) showEvent(savedEvent);
  request("GET", `/api/events/${encodeURIComponent(slug)}`)
    .then((event) => {
      showEvent(event);
      localStorage.setItem(EVENT_KEY, JSON.stringify(event));
    })
    .catch(() => {});
  state.live = new LiveSocket(`/api/events/${encodeURIComponent(slug)}/live`, {
    onState: setNet,
    onFrame: (frame) => {
      if (frame.type === "poke" || frame.type === "hello") {
        refresh();
        setupPoke();
      }
    },
  });
  state.live.start();
  loadModeration();
  startKioskTokens(slug, api);
  loadBlocks(slug, api);
  startSetup(slug, api, { currency: () => state.totals?.currency || state.event?.currency || "", onChanged: refresh });
}

function wire() {
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("sales-csv").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/sales.csv`, `${slug}-sales.csv`));
  $("causes-csv").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/cause-totals.csv`, `${slug}-cause-totals.csv`));
  $("signs-a4").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/signs.pdf?page=a4`, `${slug}-signs-a4.pdf`));
  $("signs-letter").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/signs.pdf?page=letter`, `${slug}-signs-letter.pdf`));
  $("blocks-refresh").addEventListener("click", () => loadBlocks(slug, api));
  wireModeration(slug, api);
  window.addEventListener("online", () => state.entered && refresh());
}

wire();
registerWorker();
if (state.token) enter();
else showSignIn();
