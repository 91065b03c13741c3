// One item: photos, price, state, description, hashtags, its stall, and asking about it.
import { favouriteButton, pendingMark } from "./cards.js";
import * as data from "./data.js";
import { h, photo, replace, stateLabel, userText } from "./dom.js";
import { formatMoney } from "./kit/money.js";
import * as replica from "./replica.js";

export async function mount(main, route, app) {
  const id = route.params.id;
  let shown = "";

  async function update() {
    const item = await data.item(id);
    if (!item) {
      if (shown !== "missing") {
        shown = "missing";
        replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Item not found"),
          h("p", {}, "It may have been removed by the seller."), h("a", { class: "button", href: "/app/#/" }, "Browse the market")));
      }
      return;
    }
    const stall = (await replica.get("stall", item.stall_id)) || {};
    const saved = (await data.favouriteIds()).has(id);
    const signature = JSON.stringify([item, stall, saved]);
    if (signature === shown) return;
    shown = signature;
    const photos = item.photos?.length ? item.photos : [null];
    replace(main, h("article", { class: "item wrap" },
      h("div", { class: "gallery" }, photos.map((p, i) =>
        photo(p, { size: "detail", width: 960, height: 720, cls: "detail", alt: i === 0 ? item.title : `${item.title}, photo ${i + 1}`, eager: i === 0 }))),
      userText("h1", item.title, { id: "page-title" }),
      h("p", { class: "price big" }, formatMoney(item.price, item.currency)),
      h("p", { class: `state state-${item.state}` }, stateLabel(item.state, item.quantity, item.held)),
      item.pending ? h("p", {}, pendingMark()) : null,
      item.description ? userText("p", item.description, { class: "desc" }) : null,
      item.hashtags?.length
        ? h("ul", { class: "tags", "aria-label": "Hashtags" }, item.hashtags.map((tag) =>
          h("li", {}, h("a", { class: "tag", href: `/app/#/?tag=${encodeURIComponent(tag.replace(/^#/, ""))}`, dir: "auto" }, tag))))
        : null,
      stall.code
        ? h("p", { class: "meta" }, "At ", h("a", { href: `/s/${encodeURIComponent(stall.code)}`, class: "inline" }, userText("span", stall.name)),
          stall.number ? ` (stall ${stall.number})` : "")
        : null,
      h("div", { class: "actions" },
        stall.code && app.vendor?.stall_code !== stall.code && item.state !== "sold"
          ? h("a", { class: "button primary", href: `/app/#/chat/${encodeURIComponent(stall.code)}?item=${encodeURIComponent(id)}` }, "Ask the seller about this")
          : null,
        app.vendor?.stall_code === stall.code ? h("a", { class: "button", href: `/app/#/vendor/item/${id}` }, "Edit this item") : null,
        favouriteButton(item, saved))));
  }

  await update();
  return { update };
}
