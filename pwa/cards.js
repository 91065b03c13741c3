// Pieces several views share: an item row, a stall row, a pending mark, a favourite button.
import { h, photo, stateLabel, userText } from "./dom.js";
import { toggleFavourite } from "./data.js";
import { formatMoney } from "./kit/money.js";

export function pendingMark(text = "Waiting to send") {
  return h("span", { class: "mark pending", title: "Saved on this phone; it will be sent when there is a connection" },
    h("span", { "aria-hidden": "true" }, "🕓 "), text);
}

export function favouriteButton(item, saved) {
  const button = h("button", {
    type: "button", class: "icon fav", "aria-pressed": saved ? "true" : "false", "aria-label": `Save ${item.title}`,
    title: saved ? "Saved" : "Save for later",
  }, saved ? "★" : "☆");
  button.addEventListener("click", async () => {
    const now = await toggleFavourite(item.id);
    button.setAttribute("aria-pressed", now ? "true" : "false");
    button.textContent = now ? "★" : "☆";
    button.title = now ? "Saved" : "Save for later";
  });
  return button;
}

export function itemRow(item, { saved = false, stall = null, href = `/app/#/i/${item.id}`, extra = null } = {}) {
  const thumb = item.photos?.[0] || null;
  return h("li", { class: `item-row state-${item.state}`, dataset: { item: item.id } },
    h("a", { class: "item-link", href },
      photo(thumb, { width: 72, height: 72 }),
      h("span", { class: "item-text" },
        userText("span", item.title, { class: "title" }),
        h("span", { class: "price" }, formatMoney(item.price, item.currency)),
        h("span", { class: "state" }, stateLabel(item.state, item.quantity, item.held)),
        stall ? userText("span", stall.name, { class: "where" }) : null,
        item.pending ? pendingMark() : null)),
    extra,
    favouriteButton(item, saved));
}

export function stallRow(stall) {
  return h("li", {},
    h("a", { class: "stall-link", href: `/s/${encodeURIComponent(stall.code)}` },
      h("span", { class: "num" }, stall.number || "·"),
      userText("span", stall.name, { class: "title" }),
      stall.store_tag ? h("span", { class: "where", dir: "auto" }, stall.store_tag) : null));
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}
