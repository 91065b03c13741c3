// The vendor's side: sign in (or join a market with an invite code), then the stall dashboard:
// list, edit, hold (per unit) and sell items (and undo a sale), the inbox, quick replies and the QR sign. Everything a
// vendor changes goes through the outbox, so it works offline just the same.
import { empty, itemRow } from "./cards.js";
import * as data from "./data.js";
import { append, field, h, replace, userText } from "./dom.js";
import { askHoldLength, freeUnits, takeLastSale } from "./holds.js";
import { getIdentity } from "./identity.js";
import { uuid } from "./util.js";

export async function mount(main, route, app) {
  const vendor = await getIdentity("vendor");
  return vendor ? dashboard(main, app, vendor) : signIn(main, app, route);
}

async function signIn(main, app, route) {
  const status = h("p", { class: "error", role: "alert" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const login = h("form", { class: "card-form", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    field("Email", email), field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  const choose = h("section", { class: "card-form", "aria-labelledby": "choose-title", hidden: true });
  login.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "";
    try {
      const open = await app.signIn({ email: email.value.trim(), password: password.value });
      if (!open) {
        app.go("/app/#/vendor");
        return;
      }
      // Stalls at several markets: the vendor says which one to run now.
      replace(choose, h("h2", { id: "choose-title" }, "Which stall?"),
        h("ul", { class: "choices" }, open.choices.map((choice) => h("li", {},
          h("button", {
            type: "button", class: "primary",
            onclick: async () => {
              await app.chooseStall(open.login, choice);
              app.go("/app/#/vendor");
            },
          }, userText("span", `${choice.stall.name} — ${choice.event.name}`))))));
      choose.hidden = false;
      login.hidden = true;
      choose.querySelector("button")?.focus();
    } catch (error) {
      status.textContent = error.message;
    }
  });

  const joinFields = {
    // The organizer's invite link (and its QR code) is /app/#/vendor?invite=CODE.
    invite_code: h("input", { type: "text", name: "invite_code", autocomplete: "off", required: true, autocapitalize: "characters", value: route?.query?.get("invite") || "" }),
    name: h("input", { type: "text", name: "stall_name", required: true, dir: "auto", maxlength: 80 }),
    store_tag: h("input", { type: "text", name: "store_tag", required: true, placeholder: "#MabelsHoney" }),
    number: h("input", { type: "text", name: "number", maxlength: 16 }),
    location: h("input", { type: "text", name: "location", dir: "auto" }),
    display_name: h("input", { type: "text", name: "display_name", autocomplete: "name", required: true, dir: "auto" }),
    email: h("input", { type: "email", name: "join_email", autocomplete: "username", required: true }),
    password: h("input", { type: "password", name: "join_password", autocomplete: "new-password", required: true, minlength: 8 }),
  };
  const j = joinFields;
  const join = h("form", { class: "card-form", "aria-labelledby": "join-title" },
    h("h2", { id: "join-title" }, "New here? Join with an invite code"),
    field("Invite code", j.invite_code, "From the market's organizer."),
    field("Stall name", j.name), field("Store hashtag", j.store_tag), field("Stall number", j.number),
    field("Where at the market", j.location), field("Your name", j.display_name), field("Email", j.email),
    field("Password", j.password, "At least 8 characters."),
    h("button", { type: "submit", class: "primary" }, "Join the market"));
  join.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "";
    try {
      await app.join({
        invite_code: j.invite_code.value.trim(), email: j.email.value.trim(), password: j.password.value,
        display_name: j.display_name.value.trim(),
        stall: { name: j.name.value.trim(), store_tag: j.store_tag.value.trim(), number: j.number.value.trim(), location: j.location.value.trim() },
      });
      app.go("/app/#/vendor");
    } catch (error) {
      status.textContent = error.message;
      // The server names the field it refused: take the person there.
      j[String(error.field || "").replace(/^stall\./, "")]?.focus();
    }
  });

  replace(main, h("section", { class: "wrap" },
    h("h1", { id: "page-title" }, "Sell at the market"),
    navigator.onLine ? null : h("p", { class: "note" }, "Signing in needs a connection; once signed in, everything works offline."),
    status, login, choose, join));
  return {};
}

async function dashboard(main, app, vendor) {
  const list = h("ul", { class: "items" });
  const inbox = h("a", { class: "button", href: "/app/#/conversations" }, "Inbox");
  const signOut = h("button", { type: "button" }, "Sign out");
  const signOutNote = h("p", { class: "meta", role: "status" });
  const printNote = h("p", { class: "error", role: "alert" });
  signOut.addEventListener("click", async () => {
    const waiting = (await data.queuedEntries()).filter((e) => e.owner === "vendor").length;
    if (waiting) {
      signOutNote.textContent = `${waiting} change${waiting > 1 ? "s are" : " is"} still waiting to be sent; sign out once they are.`;
      return;
    }
    await app.signOut();
    app.go("/app/#/vendor");
  });
  const heading = h("h1", { id: "page-title" }, "My stall");
  const undoBox = h("p", { class: "note undo-sale", role: "status", hidden: true });
  const details = h("p", { class: "meta" });
  replace(main, h("section", { class: "wrap vendor" },
    heading, details,
    h("div", { class: "actions" },
      h("a", { class: "button primary", href: "/app/#/vendor/item/new" }, "List an item"),
      inbox,
      h("a", { class: "button", href: "/app/#/vendor/stall" }, "Edit stall profile"),
      h("a", { class: "button", href: "/app/#/vendor/replies" }, "Quick replies"),
      h("a", { class: "button", href: `/s/${encodeURIComponent(vendor.stall_code)}/sign.pdf`, download: `souk-${vendor.stall_code}-sign.pdf` }, "Download my QR sign (PDF)"),
      h("button", { type: "button", onclick: () => downloadPriceTags(vendor, printNote) }, "Price tags for my items (PDF)"),
      h("a", { class: "button", href: `/s/${encodeURIComponent(vendor.stall_code)}` }, "See my stall as visitors do")),
    printNote, undoBox,
    h("h2", {}, "Items"), list,
    h("p", { class: "meta" }, `Signed in as ${vendor.display_name || "vendor"}.`), signOut, signOutNote));

  let shown = "";
  async function update() {
    const stall = await data.stallByCode(vendor.stall_code);
    const items = stall ? await data.items(stall.event_id, { stallId: stall.id }) : [];
    const conversations = await data.conversations(vendor);
    const unread = conversations.reduce((n, c) => n + (c.unread || 0), 0);
    const saved = await data.favouriteIds();
    const signature = JSON.stringify([stall, items, unread]);
    if (signature === shown) return;
    shown = signature;
    if (stall) {
      heading.replaceChildren(userText("span", stall.name));
      details.textContent = [stall.number && `Stall ${stall.number}`, stall.store_tag, `code ${stall.code}`].filter(Boolean).join(" · ");
    }
    inbox.textContent = unread ? `Inbox (${unread} unread)` : "Inbox";
    items.sort((a, b) => (a.state === "sold") - (b.state === "sold") || String(b.created_at).localeCompare(String(a.created_at)));
    replace(list, items.length ? items.map((item) => itemRow(item, {
      saved: saved.has(item.id), href: `/app/#/vendor/item/${item.id}`, extra: actions(item, app),
    })) : h("li", {}, empty("Nothing listed yet: tap “List an item”.")));
    renders += 1;
    applyFocus();
  }

  await update();
  undoBar(app, undoBox);
  return { update };
}

// Per item: hold one unit (for how long: the vendor chooses), release the holds, sell.
function actions(item, app) {
  if (item.state === "sold") return null;
  const box = h("div", { class: "row-actions" });
  const buttons = [];
  if (freeUnits(item) > 0) {
    const hold = h("button", { type: "button", "aria-label": `Hold one ${item.title}` }, "Hold one");
    hold.addEventListener("click", async () => {
      const length = await askHoldLength(item.title, hold);
      if (!length) return;
      const before = renders;
      await app.enqueue("vendor", "reserve_item", { id: item.id, hold_id: uuid(), quantity: 1, ...length }, { display: { title: item.title } });
      refocus(item.id, "Release", before);
    });
    buttons.push(hold);
  }
  if (item.held > 0) {
    const label = item.held > 1 ? `Release ${item.held} holds` : "Release hold";
    const release = h("button", { type: "button", "aria-label": `${label} on ${item.title}` }, label);
    release.addEventListener("click", async () => {
      const before = renders;
      await app.enqueue("vendor", "release_item", { id: item.id }, { display: { title: item.title } });
      refocus(item.id, "Hold", before);
    });
    buttons.push(release);
  }
  buttons.push(h("a", { class: "button", href: `/app/#/vendor/sell/${item.id}`, "aria-label": `Sell ${item.title}` }, "Sell"));
  return append(box, buttons);
}

// The row is drawn anew after a change: keep the focus on it (on the button that now applies),
// once the list shows the change.
let wantFocus = null;
let renders = 0; // how many times the list was drawn: focus goes to a row drawn after the change
function refocus(itemId, startsWith, after) {
  wantFocus = { itemId, startsWith, after };
  applyFocus();
}

function applyFocus() {
  if (!wantFocus || renders <= wantFocus.after) return;
  const row = document.querySelector(`.item-row[data-item="${CSS.escape(wantFocus.itemId)}"]`);
  const button = [...(row?.querySelectorAll("button") || [])].find((b) => b.textContent.startsWith(wantFocus.startsWith));
  if (!button) return;
  wantFocus = null;
  button.focus();
}

// Right after a sale: say what was recorded and offer to take it back (the server allows it
// for UNDO_WINDOW, 2 hours; offline, the undo waits in the outbox like the sale).
function undoBar(app, box) {
  const sale = takeLastSale();
  if (!sale) return;
  const undo = h("button", { type: "button" }, "Undo sale");
  const text = h("span", {}, `Sold ${sale.quantity} × `, userText("span", sale.title), ".");
  undo.addEventListener("click", async () => {
    undo.disabled = true;
    await app.enqueue("vendor", "undo_sale", { sale_id: sale.sale_id },
      { display: { title: sale.title, item_id: sale.item_id, quantity: sale.quantity } });
    replace(box, h("span", {}, "Sale undone: ", userText("span", sale.title), " is back on sale."));
  });
  replace(box, text, " ", undo);
  box.hidden = false;
  undo.focus();
}

// A sheet of small price tags, each with its item's QR code. Only the stall's vendor may have
// it, so it is fetched with the token and handed to the browser as a file.
async function downloadPriceTags(vendor, note) {
  note.textContent = "";
  const code = encodeURIComponent(vendor.stall_code);
  let response;
  try {
    response = await fetch(`/api/stalls/${code}/price-tags.pdf`, {
      headers: { Authorization: `Bearer ${vendor.token}` }, cache: "no-store",
    });
  } catch {
    note.textContent = "Price tags need a connection: try again when you are online.";
    return;
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    note.textContent = answer?.error || `The server answered ${response.status}; try again.`;
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `souk-${vendor.stall_code}-price-tags.pdf`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
