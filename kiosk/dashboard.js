// The organizer's dashboard for one event: live totals and charts, exports, printable signs,
// kiosk links and moderation. Opened as <base>/kiosk/dashboard/<slug>.

import { barList, columnChart } from "./charts.js";
import { loadBlocks } from "./blocks.js";
import { startKioskTokens } from "./kiosk-tokens.js";
import { LiveSocket } from "./live.js";
import {
  bearer,
  fill,
  formatMoney,
  h,
  HttpError,
  pathSlug,
  registerWorker,
  request,
  saveBlob,
  throttle,
  timeLabel,
} from "./util.js";

const $ = (id) => document.getElementById(id);
const slug = pathSlug();
const TOKEN_KEY = "souk.organizer.token";

const state = {
  token: localStorage.getItem(TOKEN_KEY),
  totals: null,
  event: null,
  stalls: [],
  hiddenStalls: new Map(),
  live: null,
  entered: false,
};

function api(path, opts = {}) {
  return request(path, { ...opts, headers: { ...(opts.headers || {}), ...bearer(state.token) } });
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
    const out = await request("/api/auth/login", {
      method: "POST",
      body: { email: $("email").value.trim(), password: $("password").value },
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

  fill(
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
  fill(
    $("causes-chart"),
    causes.length
      ? barList(
          causes.map((c) => ({ label: c.name, sublabel: c.tag, value: c.amount, goal: c.goal })),
          { format: money, label: "Amount per cause against its goal", showGoal: true },
        )
      : h("p", { class: "note" }, "No causes at this event."),
  );
  const top = stalls.filter((s) => s.amount > 0).slice(0, 10);
  fill(
    $("stalls-chart"),
    top.length
      ? barList(
          top.map((s) => ({ label: s.name, sublabel: s.number ? `(${s.number})` : "", value: s.amount })),
          { format: money, label: "Top stalls by amount sold" },
        )
      : h("p", { class: "note" }, "No sales yet."),
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
      fill(status, `Saved ${filename}. `, h("a", { href: url, target: "_blank", rel: "noopener" }, "Open it to print"));
    } else {
      status.textContent = `Saved ${filename}.`;
    }
  } catch (err) {
    status.textContent = err instanceof HttpError ? `Could not get ${filename}: ${err.message}` : "No network: try again.";
  } finally {
    button.disabled = false;
  }
}

// ---- moderation ------------------------------------------------------------------------------

function modStatus(text) {
  $("moderation-status").textContent = text;
}

async function block(deviceId, blocked = true) {
  try {
    await api(`/api/events/${encodeURIComponent(slug)}/blocked-devices`, {
      method: "POST",
      body: { device_id: deviceId, blocked },
    });
    modStatus(blocked ? `Device ${deviceId} can no longer chat at this event.` : `Device ${deviceId} unblocked.`);
    loadBlocks(slug, api);
    return true;
  } catch (err) {
    modStatus(err instanceof HttpError ? err.message : "No network: try again.");
    return false;
  }
}

async function loadReports() {
  let reports;
  try {
    reports = await api(`/api/events/${encodeURIComponent(slug)}/reports`);
  } catch (err) {
    modStatus(err instanceof HttpError ? err.message : "Reports need the network.");
    return;
  }
  fill(
    $("reports"),
    reports.length
      ? reports.map((r) => {
          // ReportView does not (yet) name the visitor's device or the stall: when the server adds
          // `device_id` and `stall_code`, one-tap actions appear; until then, block by id below.
          const actions = [];
          if (r.device_id && r.sender === "visitor") {
            const button = h("button", { type: "button", class: "danger" }, "Block this visitor");
            button.addEventListener("click", async () => {
              if (await block(r.device_id)) button.replaceWith(h("span", { class: "note" }, "Blocked"));
            });
            actions.push(button);
          }
          if (r.stall_code && r.sender === "vendor") {
            actions.push(hideToggle(`/api/stalls/${encodeURIComponent(r.stall_code)}/hidden`, "stall"));
          }
          return h(
            "li",
            {},
            h(
              "div",
              { class: "grow" },
              h("strong", { dir: "auto" }, r.body || "(photo)"),
              h("div", { class: "note" }, `From the ${r.sender} · reported ${timeLabel(new Date(r.created_at))}`),
              r.reason ? h("div", { dir: "auto" }, `Reason: ${r.reason}`) : null,
            ),
            actions,
          );
        })
      : h("li", { class: "note" }, "No reported messages."),
  );
}

async function searchItems(event) {
  event?.preventDefault();
  const url = new URL(`/api/events/${encodeURIComponent(slug)}/search`, location.origin);
  url.searchParams.set("q", $("item-q").value);
  for (const s of ["available", "reserved", "sold"]) url.searchParams.append("state", s);
  url.searchParams.set("limit", "20");
  try {
    const out = await request(url, { timeout: 6000 });
    fill(
      $("item-results"),
      out.hits.length
        ? out.hits.map((hit) => {
            const row = h(
              "li",
              { "data-item-id": hit.id },
              h("span", { class: "grow" }, h("span", { dir: "auto" }, hit.title), h("span", { class: "note", dir: "auto" }, ` · ${hit.stall_name} · ${formatMoney(hit.price, hit.currency)}`)),
            );
            row.append(hideToggle(`/api/items/${encodeURIComponent(hit.id)}/hidden`, "item"));
            return row;
          })
        : h("li", { class: "note" }, "Nothing found."),
    );
  } catch (err) {
    modStatus(err instanceof HttpError ? err.message : "Search needs the network.");
  }
}

/** A Hide / Show again button for an item or a stall. */
function hideToggle(path, what, initiallyHidden = false, onChange = null) {
  let hidden = initiallyHidden;
  const button = h("button", { type: "button", class: hidden ? "" : "danger" }, hidden ? "Show again" : `Hide ${what}`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(path, { method: "POST", body: { hidden: !hidden } });
      hidden = !hidden;
      button.textContent = hidden ? "Show again" : `Hide ${what}`;
      button.className = hidden ? "" : "danger";
      modStatus(hidden ? `The ${what} is hidden from visitors.` : `The ${what} is visible again.`);
      onChange?.(hidden);
    } catch (err) {
      modStatus(err instanceof HttpError ? err.message : "No network: try again.");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

async function loadStalls() {
  try {
    state.stalls = await request(`/api/events/${encodeURIComponent(slug)}/stalls`, { timeout: 6000 });
  } catch {
    return;
  }
  renderStalls();
}

function renderStalls() {
  const q = $("stall-q").value.trim().toLocaleLowerCase();
  const all = [...state.stalls, ...[...state.hiddenStalls.values()].filter((s) => !state.stalls.some((x) => x.code === s.code))];
  // Only stalls asked for (and the ones hidden in this session, to show them again).
  const shown = all
    .filter((s) =>
      q
        ? [s.name, s.number, s.store_tag].some((v) => String(v || "").toLocaleLowerCase().includes(q))
        : state.hiddenStalls.has(s.code),
    )
    .slice(0, 20);
  fill(
    $("stall-rows"),
    !shown.length ? h("li", { class: "note" }, q ? "No stall matches." : "Type a stall's name or number.") : null,
    shown.map((s) =>
      h(
        "li",
        { "data-stall-code": s.code },
        h("span", { class: "grow" }, h("strong", {}, s.number || "–"), " ", h("span", { dir: "auto" }, s.name)),
        hideToggle(`/api/stalls/${encodeURIComponent(s.code)}/hidden`, "stall", state.hiddenStalls.has(s.code), (hidden) => {
          if (hidden) state.hiddenStalls.set(s.code, s);
          else state.hiddenStalls.delete(s.code);
        }),
      ),
    ),
  );
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
  request(`/api/events/${encodeURIComponent(slug)}`)
    .then((event) => {
      showEvent(event);
      localStorage.setItem(EVENT_KEY, JSON.stringify(event));
    })
    .catch(() => {});
  state.live = new LiveSocket(`/api/events/${encodeURIComponent(slug)}/live`, {
    onState: setNet,
    onFrame: (frame) => {
      if (frame.type === "poke" || frame.type === "hello") refresh();
    },
  });
  state.live.start();
  loadReports();
  loadStalls();
  startKioskTokens(slug, api);
  loadBlocks(slug, api);
}

function wire() {
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("sales-csv").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/sales.csv`, `${slug}-sales.csv`));
  $("causes-csv").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/cause-totals.csv`, `${slug}-cause-totals.csv`));
  $("signs-a4").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/signs.pdf?page=a4`, `${slug}-signs-a4.pdf`));
  $("signs-letter").addEventListener("click", (e) => download(e.currentTarget, `/api/events/${encodeURIComponent(slug)}/signs.pdf?page=letter`, `${slug}-signs-letter.pdf`));
  $("reports-refresh").addEventListener("click", loadReports);
  $("blocks-refresh").addEventListener("click", () => loadBlocks(slug, api));
  $("item-search").addEventListener("submit", searchItems);
  $("stall-q").addEventListener("input", renderStalls);
  $("block-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("block-device").value.trim();
    if (id && (await block(id))) $("block-device").value = "";
  });
  window.addEventListener("online", () => state.entered && refresh());
}

wire();
registerWorker();
if (state.token) enter();
else showSignIn();
