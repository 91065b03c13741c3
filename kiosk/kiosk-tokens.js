// The dashboard's "Kiosk screens" section: create a link for an entrance screen (shown once:
// the server keeps only a hash of its token), list the event's kiosk tokens by name and date,
// and revoke one after a confirm step. A revoked screen is refused (401) at its next check
// and shows its token gate.

import { h, replace } from "/app/kit/dom.js";
import { HttpError } from "/app/kit/http.js";
import { formatDateTime } from "/app/kit/phase.js";
import { confirmInRow, qrSrc } from "./util.js";

const $ = (id) => document.getElementById(id);
const whenFormat = { format: (/** @type {Date} */ date) => formatDateTime(date) }; // the locale's own clock (kit/phase.js)
let section = null;

/** Wire the section (once) and load its list; `api(path, opts)` sends the organizer's token. */
export function startKioskTokens(slug, api) {
  if (!section) {
    section = { slug, api, base: `/api/events/${encodeURIComponent(slug)}/kiosk-tokens` };
    $("kiosk-form").addEventListener("submit", create);
  }
  return load();
}

function status(text) {
  $("kiosk-status").textContent = text;
}

const failure = (err, what) => (err instanceof HttpError ? err.message : `${what} needs the network: try again.`);
const nameOf = (row) => row.label || "Unnamed screen";

async function load() {
  let rows;
  try {
    rows = await section.api(section.base);
  } catch (err) {
    status(failure(err, "The list of kiosk screens"));
    return;
  }
  replace($("kiosk-tokens"), rows.length ? rows.map(tokenRow) : h("li", { class: "note" }, "No kiosk screens yet."));
}

function tokenRow(row) {
  const created = new Date(row.created_at);
  const li = h("li", { "data-token-id": row.id });
  const about = h(
    "span",
    { class: "grow" },
    h("strong", { dir: "auto" }, nameOf(row)),
    h("span", { class: "note" }, " · created ", h("time", { datetime: created.toISOString() }, whenFormat.format(created))),
  );
  const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${nameOf(row)}` }, "Revoke");
  const showRow = () => replace(li, about, revoke);
  revoke.addEventListener("click", () => confirmRevoke(li, row, showRow));
  showRow();
  return li;
}

/** The confirm step, in the row (see `confirmInRow`). */
function confirmRevoke(li, row, showRow) {
  const question = `Revoke “${nameOf(row)}”? That screen stops showing the market at its next check.`;
  confirmInRow(li, question, showRow, async () => {
    try {
      await section.api(`${section.base}/${encodeURIComponent(row.id)}`, { method: "DELETE" });
      status(`Revoked “${nameOf(row)}”: that screen now asks for a new kiosk link.`);
      li.remove();
      if (!$("kiosk-tokens").children.length) replace($("kiosk-tokens"), h("li", { class: "note" }, "No kiosk screens yet."));
      $("kiosk-label").focus();
    } catch (err) {
      status(failure(err, "Revoking"));
      showRow();
      li.querySelector("button")?.focus();
      if (err instanceof HttpError && err.status === 404) load(); // already gone
    }
  });
}

async function create(event) {
  event.preventDefault();
  const box = $("kiosk-link");
  try {
    const out = await section.api(section.base, {
      method: "POST",
      body: { label: $("kiosk-label").value.trim() || "Entrance" },
    });
    const copy = h("button", { type: "button" }, "Copy link");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(out.url);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select the link to copy it";
      }
    });
    replace(
      box,
      h(
        "div",
        { class: "kiosk-link-box" },
        h("figure", { class: "qr-frame" }, h("img", { class: "qr", src: qrSrc(out.url), alt: "QR code of the kiosk link", width: 200, height: 200 })),
        h(
          "div",
          {},
          h("p", { class: "kiosk-link", id: "kiosk-url" }, out.url),
          h("p", { class: "tools" }, h("a", { class: "button", href: out.url, target: "_blank", rel: "noopener" }, "Open on this device"), copy),
          h(
            "p",
            { class: "note" },
            "Open this link on the kiosk screen (or scan the code with it). Anyone with the link can run a kiosk for this event; "
              + "it is shown only now. Revoke the screen below if the link gets out.",
          ),
        ),
      ),
    );
    status("");
    await load();
  } catch (err) {
    replace(box, h("p", { class: "form-error" }, failure(err, "Creating a kiosk link")));
  }
}
