// One item as a card (from a server search hit or from the replica), the card's button, its
// state badge, and the QR images that take a visitor's phone to the item or its stall.
import { escapeHtml, h, safeMarkHtml } from "/app/kit/dom.js";
import { formatMoney } from "/app/kit/money.js";
import { highlight } from "/app/kit/search.js";
import { photoUrl } from "/app/kit/wire.js";
import { STATE_LABELS } from "./util.js";
import { kiosk } from "./kiosk-config.js";
import { openItem } from "./kiosk-views.js";

export function cardFromHit(hit) {
  return {
    id: hit.id,
    title: hit.title,
    titleHtml: safeMarkHtml(hit.title_html, hit.title),
    description: null,
    price: hit.price,
    currency: hit.currency,
    state: hit.state,
    stallId: hit.stall_id,
    stallCode: hit.stall_code,
    stallName: hit.stall_name,
    stallNumber: hit.stall_number,
    photo: hit.photo,
  };
}

export function cardFromItem(item, matched = null) {
  const stall = kiosk.replica.get("stall", item.stall_id);
  return {
    id: String(item.id),
    title: item.title,
    titleHtml: matched ? highlight(item.title, matched) : escapeHtml(item.title),
    description: item.description,
    price: item.price,
    currency: item.currency,
    state: item.state,
    stallId: String(item.stall_id),
    stallCode: stall?.code || "",
    stallName: stall?.name || "",
    stallNumber: stall?.number || "",
    photo: photoUrl(item.photos?.[0], "thumb"),
  };
}

/** The card with what the replica knows now (a sale seconds ago), or null once hidden/deleted. */
export function current(card) {
  if (kiosk.replica.isDeleted("item", card.id)) return null;
  const item = kiosk.replica.get("item", card.id);
  if (!item) return card;
  return { ...card, title: item.title, description: item.description, price: item.price, state: item.state, currency: item.currency };
}

export function cardElement(card) {
  const titleEl = h("span", { class: "card-title", dir: "auto" });
  titleEl.innerHTML = card.titleHtml; // text and <mark> only (escaped or checked)
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "card", "data-item-id": card.id, "data-state": card.state, onclick: () => openItem(card) },
      card.photo ? h("img", { src: card.photo, alt: "", loading: "lazy", width: 160, height: 120 }) : h("span", { class: "no-photo", "aria-hidden": "true" }),
      h(
        "span",
        { class: "card-body" },
        titleEl,
        h("span", { class: "price-line" }, h("span", { class: "price" }, formatMoney(card.price, card.currency)), " ", stateBadge(card.state)),
        h("span", { class: "card-stall", dir: "auto" }, card.stallNumber ? `Stall ${card.stallNumber} · ` : "", card.stallName),
      ),
    ),
  );
}

export function stateBadge(s) {
  return h("span", { class: `state state-${s}`, "data-state": s }, STATE_LABELS[s] || s);
}

export function stallForCard(card) {
  if (!card) return null;
  return kiosk.replica.get("stall", card.stallId) || kiosk.replica.stallByCode(card.stallCode);
}

export function stallUrl(stall, code) {
  return stall?.url || `${location.origin}/s/${encodeURIComponent(code)}`;
}

/** A large QR image; offline, an item's code (made by the server) falls back to its stall's (cached). */
export function qrImage(src, alt, fallbackSrc) {
  const img = h("img", { src, alt, class: "qr", width: 480, height: 480 });
  if (fallbackSrc) {
    img.addEventListener("error", () => {
      if (img.getAttribute("src") === fallbackSrc) return;
      img.src = fallbackSrc;
      img.nextElementSibling?.append(h("span", { class: "note" }, " (offline: this code opens the stall)"));
    }, { once: true });
  }
  return img;
}
