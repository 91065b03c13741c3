// The dashboard's moderation section: reported messages (block the visitor, hide the stall),
// blocking a device by id, and hiding or showing items and stalls again.

import { h, replace } from "/app/kit/dom.js";
import { HttpError, request } from "/app/kit/http.js";
import { formatMoney } from "/app/kit/money.js";
import { loadBlocks } from "./blocks.js";
import { timeLabel } from "./util.js";

const $ = (id) => document.getElementById(id);
// `api(path, opts)` sends the organizer's token; `stalls` are the event's, for the stall search.
const section = { slug: "", api: null, stalls: [], hiddenStalls: new Map() };

/** Wire the section's forms (once, at start). */
export function wireModeration(slug, api) {
  Object.assign(section, { slug, api });
  $("reports-refresh").addEventListener("click", loadReports);
  $("item-search").addEventListener("submit", searchItems);
  $("stall-q").addEventListener("input", renderStalls);
  $("block-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("block-device").value.trim();
    if (id && (await block(id))) $("block-device").value = "";
  });
}

/** Load the reports and the stalls (once signed in). */
export function loadModeration() {
  loadReports();
  loadStalls();
}

function modStatus(text) {
  $("moderation-status").textContent = text;
}

async function block(deviceId, blocked = true) {
  try {
    await section.api(`/api/events/${encodeURIComponent(section.slug)}/blocked-devices`, {
      method: "POST",
      body: { device_id: deviceId, blocked },
    });
    modStatus(blocked ? `Device ${deviceId} can no longer chat at this event.` : `Device ${deviceId} unblocked.`);
    loadBlocks(section.slug, section.api);
    return true;
  } catch (err) {
    modStatus(err instanceof HttpError ? err.message : "No network: try again.");
    return false;
  }
}

async function loadReports() {
  let reports;
  try {
    reports = await section.api(`/api/events/${encodeURIComponent(section.slug)}/reports`);
  } catch (err) {
    modStatus(err instanceof HttpError ? err.message : "Reports need the network.");
    return;
  }
  replace(
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
  const url = new URL(`/api/events/${encodeURIComponent(section.slug)}/search`, location.origin);
  url.searchParams.set("q", $("item-q").value);
  for (const s of ["available", "reserved", "sold"]) url.searchParams.append("state", s);
  url.searchParams.set("limit", "20");
  try {
    const out = await request("GET", url.href, { timeout: 6000 });
    replace(
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
      await section.api(path, { method: "POST", body: { hidden: !hidden } });
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
    section.stalls = await request("GET", `/api/events/${encodeURIComponent(section.slug)}/stalls`, { timeout: 6000 });
  } catch {
    return;
  }
  renderStalls();
}

function renderStalls() {
  const q = $("stall-q").value.trim().toLocaleLowerCase();
  const all = [...section.stalls, ...[...section.hiddenStalls.values()].filter((s) => !section.stalls.some((x) => x.code === s.code))];
  // Only stalls asked for (and the ones hidden in this session, to show them again).
  const shown = all
    .filter((s) =>
      q
        ? [s.name, s.number, s.store_tag].some((v) => String(v || "").toLocaleLowerCase().includes(q))
        : section.hiddenStalls.has(s.code),
    )
    .slice(0, 20);
  replace(
    $("stall-rows"),
    !shown.length ? h("li", { class: "note" }, q ? "No stall matches." : "Type a stall's name or number.") : null,
    shown.map((s) =>
      h(
        "li",
        { "data-stall-code": s.code },
        h("span", { class: "grow" }, h("strong", {}, s.number || "–"), " ", h("span", { dir: "auto" }, s.name)),
        hideToggle(`/api/stalls/${encodeURIComponent(s.code)}/hidden`, "stall", section.hiddenStalls.has(s.code), (hidden) => {
          if (hidden) section.hiddenStalls.set(s.code, s);
          else section.hiddenStalls.delete(s.code);
        }),
      ),
    ),
  );
}
