// A stall (what a QR code opens): its items, prices and states, and "Message the seller".
// On /s/{code} the server has already rendered it; this takes over once the replica has it.
import { empty, itemRow } from "./cards.js";
import * as data from "./data.js";
import { h, replace, userText } from "./dom.js";
import * as replica from "./replica.js";

export async function mount(main, route, app) {
  const code = route.params.code;
  const ssr = main.querySelector("[data-stall]")?.dataset.stall === code;
  let shown = "";

  async function update() {
    const stall = await data.stallByCode(code);
    if (!stall) {
      if (ssr) return; // keep the server's page until the replica catches up
      if (shown !== "missing") {
        shown = "missing";
        replace(main, h("section", { class: "wrap" },
          h("h1", {}, "Stall not found"),
          h("p", {}, navigator.onLine
            ? "No stall has this code. Check the sign, or browse the whole market."
            : "This stall is not in the market data saved on this phone yet. Open it once with a connection."),
          h("p", {}, h("a", { class: "button", href: "/app/#/" }, "Browse the market"))));
      }
      return;
    }
    const [event, items, saved] = await Promise.all([
      replica.get("event", stall.event_id), data.items(stall.event_id, { stallId: stall.id }), data.favouriteIds()]);
    const signature = JSON.stringify([stall, event?.name, items, [...saved]]);
    if (signature === shown) return;
    shown = signature;
    items.sort((a, b) => (a.state === "sold") - (b.state === "sold") || String(b.created_at).localeCompare(String(a.created_at)));
    const selling = app.vendor?.stall_code === code;
    replace(main, h("section", { class: "stall wrap", dataset: { stall: code } },
      event ? h("p", { class: "crumb" }, userText("span", event.name), " · ", h("span", {}, event.hashtag)) : null,
      userText("h1", stall.name, { id: "page-title" }),
      h("p", { class: "meta" }, [stall.number && `Stall ${stall.number}`, stall.location, stall.store_tag].filter(Boolean).join(" · ")),
      stall.description ? userText("p", stall.description, { class: "desc" }) : null,
      h("div", { class: "actions" },
        selling
          ? h("a", { class: "button primary", href: "/app/#/vendor" }, "Manage my stall")
          : h("a", { class: "button primary", href: `/app/#/chat/${encodeURIComponent(code)}` }, "Message the seller"),
        h("a", { class: "button", href: `/app/#/?stall=${encodeURIComponent(code)}` }, "Search this stall"),
        h("a", { class: "button", href: "/app/#/" }, "Whole market")),
      h("h2", {}, `Items (${items.length})`),
      items.length
        ? h("ul", { class: "items", "aria-label": `Items at ${stall.name}` }, items.map((item) => itemRow(item, { saved: saved.has(item.id) })))
        : empty("Nothing listed yet.")));
  }

  await update();
  return { update };
}
