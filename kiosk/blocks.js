// The dashboard's "Blocked visitors" list: every block at the event (the organizer's, the
// vendors' in their own chats, and those that followed a blocked visitor to a new device from the
// same address), each with "Lift", which lifts every block of that device at the event.

import { h, replace } from "/app/kit/dom.js";
import { HttpError } from "/app/kit/http.js";

const $ = (id) => document.getElementById(id);
const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const BY = {
  organizer: "by you, the whole event",
  vendor: "by the vendor",
  address: "followed from a blocked device at the same address",
};
let section = null;

/** Load (and reload) the list; `api(path, opts)` sends the organizer's token. */
export function loadBlocks(slug, api) {
  section ||= { api, base: `/api/events/${encodeURIComponent(slug)}/blocked-devices` };
  return load();
}

async function load() {
  let rows;
  try {
    rows = await section.api(section.base);
  } catch (err) {
    $("blocks-status").textContent = err instanceof HttpError ? err.message : "The list of blocks needs the network.";
    return;
  }
  replace($("blocks"), rows.length ? rows.map(blockRow) : h("li", { class: "note" }, "Nobody is blocked."));
}

function blockRow(row) {
  const created = new Date(row.created_at);
  const where = row.stall_name ? ` at ${row.stall_name}` : "";
  const lift = h("button", { type: "button", "aria-label": `Lift the blocks of device ${row.device_id}` }, "Lift");
  lift.addEventListener("click", async () => {
    lift.disabled = true;
    try {
      await section.api(section.base, { method: "POST", body: { device_id: row.device_id, blocked: false } });
      $("blocks-status").textContent = `Device ${row.device_id} can chat again.`;
      await load();
    } catch (err) {
      lift.disabled = false;
      $("blocks-status").textContent = err instanceof HttpError ? err.message : "No network: try again.";
    }
  });
  return h(
    "li",
    { "data-device": row.device_id },
    h(
      "span",
      { class: "grow" },
      h("code", { dir: "ltr" }, row.device_id.slice(0, 8)),
      h("span", { dir: "auto" }, ` blocked${where} `),
      h("span", { class: "note" }, `(${BY[row.blocked_by] || row.blocked_by}) · `,
        h("time", { datetime: created.toISOString() }, whenFormat.format(created))),
    ),
    lift,
  );
}
