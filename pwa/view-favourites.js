// Items saved for later: kept on this phone only.
import { empty, itemRow } from "./cards.js";
import * as data from "./data.js";
import { h, replace } from "./dom.js";

export async function mount(main) {
  let shown = "";
  async function update() {
    const saved = await data.favouriteIds();
    const items = (await Promise.all([...saved].map((id) => data.item(id)))).filter(Boolean);
    const signature = JSON.stringify(items);
    if (signature === shown) return;
    shown = signature;
    replace(main, h("section", { class: "wrap" },
      h("h1", { id: "page-title" }, "Saved items"),
      h("p", { class: "meta" }, "Kept on this phone; they work offline too."),
      items.length ? h("ul", { class: "items" }, items.map((item) => itemRow(item, { saved: true })))
        : empty("Nothing saved yet: tap ☆ on an item to keep it here.")));
  }
  await update();
  return { update };
}
