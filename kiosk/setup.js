// The dashboard's "Set up the market" section: invites (create, share as link and QR code,
// revoke, see who joined with which stall), causes (add, edit name, hashtag and goal), the items
// tagged #SocialCause that name no cause (credit them to one), and stalls (number, place, hide).
// Everything here calls organizer-only routes; `api(path, opts)` sends the organizer's token.

import { h, replace } from "/app/kit/dom.js";
import { HttpError } from "/app/kit/http.js";
import { formatMoney, minorDigits, parseMoney } from "/app/kit/money.js";
import { confirmInRow, qrSrc, throttle } from "./util.js";

const $ = (id) => document.getElementById(id);
const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** @type {{slug: string, api: Function, base: string, currency: () => string, onChanged: () => void, causes: any[], stalls: any[]} | null} */
let setup = null;

const failure = (err, what) => (err instanceof HttpError ? err.message : `${what} needs the network: try again.`);
const money = (amount) => formatMoney(amount, setup.currency());

function say(id, text) {
  $(id).textContent = text;
}

/** Wire the section (once) and load its lists. `currency()` names the event's currency;
 * `onChanged()` is called after a change that moves the totals (a cause credited). */
export function startSetup(slug, api, { currency, onChanged }) {
  if (!setup) {
    setup = { slug, api, base: `/api/events/${encodeURIComponent(slug)}`, currency, onChanged, causes: [], stalls: [] };
    $("invite-form").addEventListener("submit", createInvites);
    $("cause-form").addEventListener("submit", createCause);
    $("setup-stall-q").addEventListener("input", renderStalls);
  }
  return loadAll();
}

/** Something changed at the event (a poke): who joined, new stalls, items needing a cause. */
export const setupPoke = throttle(() => setup && loadAll(true), 3000);

function loadAll(poked = false) {
  return Promise.all([loadInvites(), loadCauses().then(loadUncredited), loadStalls(poked)]);
}

// ---- invites -----------------------------------------------------------------------------------

async function loadInvites() {
  let rows;
  try {
    rows = await setup.api(`${setup.base}/invites`);
  } catch (err) {
    say("invites-status", failure(err, "The list of invites"));
    return;
  }
  // Waiting ones first (those are the ones to share), then who joined, then revoked ones.
  const rank = (r) => (r.revoked ? 2 : r.used ? 1 : 0);
  rows.sort((a, b) => rank(a) - rank(b));
  replace($("invites"), rows.length ? rows.map(inviteRow) : h("li", { class: "note" }, "No invites yet."));
}

function inviteState(row) {
  if (row.revoked) return h("span", { class: "note" }, "Revoked");
  if (!row.used) return h("span", { class: "note" }, "Not used yet");
  const stall = row.stall;
  const when = row.used_at ? new Date(row.used_at) : null;
  return h(
    "span",
    {},
    "Joined: ",
    h("strong", { dir: "auto" }, row.vendor_name || "a vendor"),
    stall ? h("span", { dir: "auto" }, ` — ${stall.name}${stall.number ? ` (No. ${stall.number})` : ""}${stall.hidden ? ", hidden" : ""}`) : null,
    when ? h("span", { class: "note" }, " · ", h("time", { datetime: when.toISOString() }, whenFormat.format(when))) : null,
  );
}

function inviteRow(row) {
  const li = h("li", { "data-invite": row.code });
  const about = h("span", { class: "grow" }, h("code", { class: "invite-code", dir: "ltr" }, row.code), " ", inviteState(row));
  const open = !row.used && !row.revoked;
  const share = open ? h("button", { type: "button", "aria-expanded": "false" }, "Share") : null;
  const revoke = open ? h("button", { type: "button", class: "danger", "aria-label": `Revoke invite ${row.code}` }, "Revoke") : null;
  const box = h("div", { class: "invite-share", hidden: true });
  const showRow = () => replace(li, about, open ? h("span", { class: "tools" }, share, revoke) : null, box);
  share?.addEventListener("click", () => {
    const opening = box.hidden;
    box.hidden = !opening;
    share.setAttribute("aria-expanded", String(opening));
    if (opening && !box.childElementCount) replace(box, shareBox(row));
  });
  revoke?.addEventListener("click", () => confirmRevoke(li, row, showRow));
  showRow();
  return li;
}

function shareBox(row) {
  const copy = h("button", { type: "button" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(row.link);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Select the link to copy it";
    }
  });
  return h(
    "div",
    { class: "kiosk-link-box" },
    h("figure", { class: "qr-frame" }, h("img", { class: "qr", src: qrSrc(row.link), alt: `QR code to join with invite ${row.code}`, width: 200, height: 200 })),
    h(
      "div",
      {},
      h("p", { class: "kiosk-link", dir: "ltr" }, row.link),
      h("p", { class: "tools" }, copy),
      h("p", { class: "note" }, "The vendor scans this code or opens the link on their phone: the join form opens with the code filled in."),
    ),
  );
}

/** The confirm step, in the row (see `confirmInRow`). */
function confirmRevoke(li, row, showRow) {
  confirmInRow(li, `Revoke invite ${row.code}? Nobody can join with it afterwards.`, showRow, async () => {
    try {
      await setup.api(`${setup.base}/invites/${encodeURIComponent(row.code)}`, { method: "DELETE" });
      say("invites-status", `Revoked invite ${row.code}.`);
      await loadInvites();
      $("invite-count").focus();
    } catch (err) {
      say("invites-status", failure(err, "Revoking"));
      showRow();
    }
  });
}

async function createInvites(event) {
  event.preventDefault();
  const count = Number.parseInt($("invite-count").value || "1", 10);
  if (!Number.isInteger(count) || count < 1 || count > 500) {
    say("invites-status", "Make between 1 and 500 invites at a time.");
    $("invite-count").setAttribute("aria-invalid", "true");
    $("invite-count").focus();
    return;
  }
  $("invite-count").removeAttribute("aria-invalid");
  try {
    const out = await setup.api(`${setup.base}/invites`, { method: "POST", body: { count } });
    say("invites-status", `${out.codes.length === 1 ? "1 invite" : `${out.codes.length} invites`} ready: ${out.codes.join(", ")}. Share each with one vendor.`);
    await loadInvites();
    // Open the first new one's link and QR code straight away.
    $("invites").querySelector(`[data-invite="${out.codes[0]}"] button`)?.click();
  } catch (err) {
    say("invites-status", failure(err, "Creating invites"));
  }
}

// ---- causes ------------------------------------------------------------------------------------

function goalMinor(text) {
  const value = text.trim();
  if (!value) return { goal: null };
  const minor = parseMoney(value, setup.currency());
  return minor == null || minor < 0 ? { error: `Write the goal as an amount, like ${formatMoney(50000, setup.currency())}.` } : { goal: minor };
}

function goalText(goal) {
  if (goal == null) return "";
  const digits = minorDigits(setup.currency());
  return digits ? (goal / 10 ** digits).toFixed(digits) : String(goal);
}

async function loadCauses() {
  try {
    setup.causes = await setup.api(`${setup.base}/causes`);
  } catch (err) {
    say("causes-status", failure(err, "The list of causes"));
    return;
  }
  replace($("causes-list"), setup.causes.length ? setup.causes.map(causeRow) : h("li", { class: "note" }, "No causes yet."));
}

function causeRow(cause) {
  const li = h("li", { "data-cause": cause.id });
  const edit = h("button", { type: "button", "aria-label": `Edit ${cause.name}` }, "Edit");
  const show = () =>
    replace(
      li,
      h(
        "span",
        { class: "grow" },
        h("strong", { dir: "auto" }, cause.name),
        " ",
        h("span", { dir: "ltr" }, cause.tag),
        h("span", { class: "note" }, cause.goal != null ? ` · goal ${money(cause.goal)}` : " · no goal"),
      ),
      edit,
    );
  edit.addEventListener("click", () => editCause(li, cause, show));
  show();
  return li;
}

function editCause(li, cause, show) {
  const name = h("input", { value: cause.name, required: true, maxlength: 120, dir: "auto" });
  const tag = h("input", { value: cause.tag, required: true, maxlength: 51, dir: "ltr", autocomplete: "off" });
  const goal = h("input", { value: goalText(cause.goal), inputmode: "decimal", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert" });
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    { class: "setup-form grow", "aria-label": `Edit ${cause.name}` },
    h("label", {}, "Name ", name),
    h("label", {}, "Hashtag ", tag),
    h("label", {}, "Goal (empty for none) ", goal),
    error,
    h("span", { class: "tools" }, h("button", { type: "submit", class: "primary" }, "Save cause"), cancel),
  );
  cancel.addEventListener("click", () => {
    show();
    li.querySelector("button")?.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const parsed = goalMinor(goal.value);
    if (parsed.error) {
      error.textContent = parsed.error;
      goal.focus();
      return;
    }
    const body = {};
    if (name.value.trim() !== cause.name) body.name = name.value.trim();
    if (tag.value.trim() !== cause.tag) body.tag = tag.value.trim();
    if (parsed.goal !== cause.goal) body.goal = parsed.goal ?? 0; // 0 removes the goal
    try {
      await setup.api(`${setup.base}/causes/${cause.id}`, { method: "PATCH", body });
      say("causes-status", `Saved ${body.name || cause.name}.`);
      await loadCauses();
      await loadUncredited();
      setup.onChanged();
    } catch (err) {
      error.textContent = failure(err, "Saving the cause");
      ({ name, tag, goal })[err.field]?.focus();
    }
  });
  replace(li, form);
  name.focus();
}

async function createCause(event) {
  event.preventDefault();
  const parsed = goalMinor($("cause-goal").value);
  if (parsed.error) {
    say("causes-status", parsed.error);
    $("cause-goal").focus();
    return;
  }
  try {
    const made = await setup.api(`${setup.base}/causes`, {
      method: "POST",
      body: { name: $("cause-name").value.trim(), tag: $("cause-tag").value.trim(), goal: parsed.goal },
    });
    say("causes-status", `Added ${made.name} (${made.tag}). Vendors can now tick it when they list an item.`);
    for (const id of ["cause-name", "cause-tag", "cause-goal"]) $(id).value = "";
    await loadCauses();
    await loadUncredited();
    setup.onChanged();
  } catch (err) {
    say("causes-status", failure(err, "Adding a cause"));
    $({ name: "cause-name", tag: "cause-tag", goal: "cause-goal" }[err.field] || "cause-name")?.focus();
  }
}

// ---- items tagged #SocialCause that name no cause ----------------------------------------------

async function loadUncredited() {
  let rows;
  try {
    rows = await setup.api(`${setup.base}/uncredited-items`);
  } catch (err) {
    say("uncredited-status", failure(err, "The list of items"));
    return;
  }
  replace($("uncredited"), rows.length ? rows.map(uncreditedRow) : h("li", { class: "note" }, "None: every item for a cause names it."));
}

function uncreditedRow(row) {
  const { item } = row;
  const select = h(
    "select",
    { "aria-label": `Cause for ${item.title}` },
    h("option", { value: "" }, "Choose a cause…"),
    setup.causes.map((c) => h("option", { value: c.tag }, `${c.name} (${c.tag})`)),
  );
  const credit = h("button", { type: "button", class: "primary" }, "Credit");
  credit.addEventListener("click", async () => {
    if (!select.value) {
      say("uncredited-status", `Choose which cause “${item.title}” raises money for.`);
      select.focus();
      return;
    }
    credit.disabled = true;
    try {
      await setup.api(`/api/items/${encodeURIComponent(item.id)}/cause`, { method: "POST", body: { cause: select.value } });
      say("uncredited-status", `“${item.title}” now counts for ${select.value}${row.sold_amount ? `, with ${money(row.sold_amount)} already sold` : ""}.`);
      await loadUncredited();
      setup.onChanged();
      $("uncredited").querySelector("select")?.focus();
    } catch (err) {
      credit.disabled = false;
      say("uncredited-status", failure(err, "Crediting"));
    }
  });
  return h(
    "li",
    { "data-item": item.id },
    h(
      "span",
      { class: "grow" },
      h("strong", { dir: "auto" }, item.title),
      h("span", { dir: "auto" }, ` — ${row.stall_name}${row.stall_number ? ` (No. ${row.stall_number})` : ""}`),
      h("span", { class: "note" }, row.sold_count ? ` · ${money(row.sold_amount)} sold, credited to no cause` : " · nothing sold yet"),
    ),
    h("span", { class: "tools" }, select, credit),
  );
}

// ---- stalls ------------------------------------------------------------------------------------

async function loadStalls(poked = false) {
  try {
    setup.stalls = await setup.api(`${setup.base}/setup/stalls`);
  } catch (err) {
    say("setup-stalls-status", failure(err, "The list of stalls"));
    return;
  }
  // A poke must not throw away a number or place someone is typing.
  if (!poked || !$("setup-stalls").querySelector("[data-dirty]")) renderStalls();
}

function renderStalls() {
  const q = $("setup-stall-q").value.trim().toLocaleLowerCase();
  const rows = setup.stalls.filter(({ stall, vendor_name: vendor }) =>
    !q || [stall.name, stall.number, stall.location, stall.store_tag, vendor].some((v) => (v || "").toLocaleLowerCase().includes(q)));
  replace($("setup-stalls"), rows.length ? rows.map(stallRow) : h("li", { class: "note" }, setup.stalls.length ? "No stall matches." : "No stalls yet: share an invite."));
}

function stallRow(row) {
  const { stall } = row;
  const number = h("input", { value: stall.number, maxlength: 16, size: 5, dir: "auto", "aria-label": `Number of ${stall.name}` });
  const location = h("input", { value: stall.location, maxlength: 200, dir: "auto", "aria-label": `Place of ${stall.name}` });
  const save = h("button", { type: "button", class: "primary" }, "Save");
  const toggle = h("button", { type: "button", class: stall.hidden ? "" : "danger" }, stall.hidden ? "Show again" : "Hide");
  const li = h(
    "li",
    { "data-stall": stall.code, "data-hidden": String(stall.hidden) },
    h(
      "span",
      { class: "grow" },
      h("strong", { dir: "auto" }, stall.name),
      h("span", { dir: "auto" }, ` — ${row.vendor_name}`),
      h("span", { class: "note" }, ` · ${row.items} ${row.items === 1 ? "item" : "items"}${stall.hidden ? " · hidden from visitors" : ""}`),
    ),
    h("span", { class: "tools" }, h("label", {}, "No. ", number), h("label", { class: "grow" }, "Place ", location), save, toggle),
  );
  for (const input of [number, location]) input.addEventListener("input", () => li.setAttribute("data-dirty", ""));
  save.addEventListener("click", async () => {
    save.disabled = true;
    try {
      await setup.api(`/api/stalls/${encodeURIComponent(stall.code)}/place`, {
        method: "PATCH",
        body: { number: number.value.trim(), location: location.value.trim() },
      });
      say("setup-stalls-status", `Saved ${stall.name}: No. ${number.value.trim() || "–"}, ${location.value.trim() || "no place given"}.`);
      li.removeAttribute("data-dirty");
      await loadStalls();
    } catch (err) {
      say("setup-stalls-status", failure(err, "Saving the stall"));
      (err.field === "location" ? location : number).focus();
    } finally {
      save.disabled = false;
    }
  });
  toggle.addEventListener("click", async () => {
    toggle.disabled = true;
    try {
      await setup.api(`/api/stalls/${encodeURIComponent(stall.code)}/hidden`, { method: "POST", body: { hidden: !stall.hidden } });
      say("setup-stalls-status", stall.hidden ? `${stall.name} is shown to visitors again.` : `${stall.name} is hidden from visitors.`);
      li.removeAttribute("data-dirty");
      await loadStalls();
      $("setup-stalls").querySelector(`[data-stall="${stall.code}"] button.danger, [data-stall="${stall.code}"] button:last-child`)?.focus();
    } catch (err) {
      toggle.disabled = false;
      say("setup-stalls-status", failure(err, "Hiding"));
    }
  });
  return li;
}
