// The event's header and totals, one item (large QR to open it on a phone), one stall with its
// items, and the stall directory.
import { h, replace } from "/app/kit/dom.js";
import { request } from "/app/kit/http.js";
import { formatMoney } from "/app/kit/money.js";
import { barList } from "./charts.js";
import { byNumber } from "./replica.js";
import { itemUrl, qrSrc } from "./util.js";
import { $, kiosk } from "./kiosk-config.js";
import { cardElement, cardFromItem, current, qrImage, stallForCard, stallUrl, stateBadge } from "./kiosk-cards.js";
import { show } from "./kiosk-nav.js";

export const views = {
  item: null, // the card shown in the item view
  stallId: null, // the stall shown in the stall view
};

function eventCurrency() {
  return kiosk.replica.totals()?.currency || kiosk.replica.event()?.currency || "";
}

export function renderHeader() {
  const event = kiosk.replica.event();
  if (!event) return;
  $("event-name").textContent = event.name;
  $("event-meta").textContent = [event.hashtag, event.venue].filter(Boolean).join(" · ");
  document.title = `${event.name} — Souk`;
}

export function renderTotals() {
  const totals = kiosk.replica.totals();
  if (!totals) return;
  const currency = totals.currency || eventCurrency();
  const causes = totals.causes || [];
  $("causes-title").hidden = !causes.length;
  $("total-amount").textContent = formatMoney(totals.amount, currency);
  $("total-sales").textContent = `${totals.sales} ${totals.sales === 1 ? "sale" : "sales"}`;
  renderCharityTotal(totals, currency);
  replace(
    $("cause-totals"),
    causes.length
      ? barList(
          causes.map((c) => ({ label: c.name, sublabel: c.tag, value: c.amount, goal: c.goal })),
          { format: (v) => formatMoney(v, currency), label: "Totals per cause", showGoal: true },
        )
      : null,
  );
}

/** All the event's causes combined (each sale once), under the per-cause bars. */
export function renderCharityTotal(totals, currency) {
  const el = $("charity-total");
  if (!el) return;
  const amount = totals.charity?.amount || 0;
  el.hidden = !(totals.causes || []).length;
  el.textContent = `${formatMoney(amount, currency)} raised for good causes in all`;
}

export function openItem(card) {
  views.item = card;
  show("item");
  renderItem();
}

export function renderItem() {
  const card = current(views.item);
  const figure = $("item-qr");
  if (!card) {
    $("item-state").replaceChildren(h("span", { class: "state state-sold" }, "No longer listed"));
    return;
  }
  const stall = stallForCard(card);
  const code = stall?.code || card.stallCode;
  const url = itemUrl(stallUrl(stall, code), card.id);
  if (figure.dataset.url !== url) {
    figure.dataset.url = url;
    replace(
      figure,
      qrImage(qrSrc(url), `QR code: scan to open ${card.title} on your phone`, `/s/${encodeURIComponent(code)}/qr.svg`),
      h("figcaption", {}, "Scan with your phone camera"),
    );
  }
  $("item-title").textContent = card.title;
  $("item-price").textContent = formatMoney(card.price, card.currency);
  $("item-state").replaceChildren(stateBadge(card.state));
  $("item-stall").textContent = [
    stall?.number || card.stallNumber ? `Stall ${stall?.number || card.stallNumber}` : "",
    stall?.name || card.stallName,
    stall?.location,
  ].filter(Boolean).join(" · ");
  $("item-description").textContent = card.description ?? kiosk.replica.get("item", card.id)?.description ?? "";
  $("item-to-stall").hidden = !stall;
}

export async function openStall(stallId) {
  views.stallId = String(stallId);
  show("stall");
  renderStall();
}

export async function renderStall() {
  const stall = kiosk.replica.get("stall", views.stallId);
  if (!stall) return;
  const figure = $("stall-qr");
  const src = `/s/${encodeURIComponent(stall.code)}/qr.svg`;
  if (figure.dataset.url !== src) {
    figure.dataset.url = src;
    replace(
      figure,
      qrImage(src, `QR code: scan to open ${stall.name} on your phone`),
      h("figcaption", {}, "Scan to see this stall on your phone"),
    );
  }
  $("stall-title").textContent = stall.name;
  $("stall-meta").textContent = [stall.number ? `Stall ${stall.number}` : "", stall.location, stall.store_tag]
    .filter(Boolean)
    .join(" · ");
  $("stall-description").textContent = stall.description || "";
  let items = kiosk.replica.items().filter((i) => String(i.stall_id) === views.stallId);
  if (!kiosk.replica.complete && navigator.onLine !== false) {
    try {
      items = await request("GET", `/api/stalls/${encodeURIComponent(stall.code)}/items`, { timeout: 4000 });
    } catch {
      /* what the replica has */
    }
  }
  const order = { available: 0, reserved: 1, sold: 2 };
  items.sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || String(a.title).localeCompare(String(b.title)));
  replace(
    $("stall-items"),
    items.length ? items.map((i) => cardElement(cardFromItem(i))) : h("li", { class: "note" }, "No items listed yet."),
  );
}

export function renderStalls() {
  const filter = $("stall-filter").value.trim().toLocaleLowerCase();
  const stalls = kiosk.replica.stalls().sort(byNumber).filter((s) =>
    !filter || [s.number, s.name, s.store_tag, s.location].some((v) => String(v || "").toLocaleLowerCase().includes(filter)),
  );
  replace(
    $("stall-list"),
    stalls.length
      ? stalls.map((s) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "stall-row", "data-stall-code": s.code, onclick: () => openStall(s.id) },
              h("span", { class: "stall-number" }, s.number || "–"),
              h("span", { class: "stall-name", dir: "auto" }, s.name),
              h("span", { class: "stall-where", dir: "auto" }, [s.location, s.store_tag].filter(Boolean).join(" · ")),
            ),
          ),
        )
      : h("li", { class: "note" }, "No stall matches."),
  );
}

/** The stall directory's filter box and the item view's "go to the stall" button. */
export function wireViews() {
  $("stall-filter").addEventListener("input", renderStalls);
  $("item-to-stall").addEventListener("click", () => {
    const stall = stallForCard(views.item);
    if (stall) openStall(stall.id);
  });
}
