// The welcome screen's carousel: an available item (with a photo when enough have one) and its
// QR code, a new one every few seconds while nobody uses the screen.
import { h, replace } from "/app/kit/dom.js";
import { formatMoney } from "/app/kit/money.js";
import { itemUrl, qrSrc } from "./util.js";
import { $, FEATURE_SECONDS, kiosk } from "./kiosk-config.js";
import { cardFromItem, qrImage, stallForCard, stallUrl } from "./kiosk-cards.js";
import { openItem } from "./kiosk-views.js";

export const featured = {
  pool: [],
  id: null, // the item on the welcome screen now
  index: 0,
  timer: null,
};

/** Items changed: draw a new pool next time (keeping the item on screen unless it was sold or hidden). */
export function itemsChanged(onWelcome) {
  const still = featured.id && kiosk.replica.get("item", featured.id);
  featured.pool = [];
  if (onWelcome && still?.state !== "available") renderFeatured();
}

function featuredPool() {
  if (!featured.pool.length) {
    const items = kiosk.replica.items().filter((i) => i.state === "available");
    const withPhotos = items.filter((i) => i.photos?.length);
    const pool = (withPhotos.length >= 3 ? withPhotos : items).slice();
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    featured.pool = pool.slice(0, 50);
    featured.index = 0;
  }
  return featured.pool;
}

function renderFeatured() {
  const pool = featuredPool();
  const box = $("featured");
  featured.id = null;
  if (!pool.length) {
    replace(box, h("p", { class: "note" }, "Scan a stall's sign with your phone to see what it has."));
    return;
  }
  const item = pool[featured.index % pool.length];
  const card = cardFromItem(item);
  featured.id = card.id;
  const stall = stallForCard(card);
  const url = itemUrl(stallUrl(stall, card.stallCode), card.id);
  replace(
    box,
    h("h2", {}, "Featured"),
    h(
      "div",
      { class: "featured-body" },
      h(
        "button",
        { type: "button", class: "featured-card", onclick: () => openItem(card), "data-item-id": card.id },
        card.photo ? h("img", { src: card.photo, alt: "", class: "featured-photo" }) : null,
        h("span", { class: "card-title", dir: "auto" }, card.title),
        h("span", { class: "price-line" }, h("span", { class: "price" }, formatMoney(card.price, card.currency))),
        h("span", { class: "card-stall", dir: "auto" }, card.stallNumber ? `Stall ${card.stallNumber} · ` : "", card.stallName),
      ),
      h(
        "figure",
        { class: "qr-frame small" },
        qrImage(qrSrc(url), `QR code for ${card.title}`, `/s/${encodeURIComponent(card.stallCode)}/qr.svg`),
        h("figcaption", {}, "Scan me with your phone camera"),
      ),
    ),
  );
}

export function startFeatured() {
  stopFeatured();
  if (!kiosk.replica) return;
  renderFeatured();
  featured.timer = setInterval(() => {
    featured.index += 1;
    renderFeatured();
  }, FEATURE_SECONDS * 1000);
}

export function stopFeatured() {
  clearInterval(featured.timer);
  featured.timer = null;
}
