// Marking a sale: how many, and what was paid (defaults to price × quantity). A sale is a
// delta with its own UUID, so two phones selling offline both count and a retry counts once.
import * as data from "./data.js";
import { field, h, replace, userText } from "./dom.js";
import { formatMoney, minorDigits, parseMoney } from "./kit/money.js";
import { uuid } from "./util.js";

export async function mount(main, route, app) {
  const item = await data.item(route.params.id);
  if (!item || item.state === "sold") {
    replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, item ? "Already sold" : "Item not found"),
      h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall")));
    return {};
  }
  const digits = minorDigits(item.currency);
  const asText = (minor) => (digits ? (minor / 10 ** digits).toFixed(digits) : String(minor));
  const quantity = h("input", { type: "number", name: "quantity", min: 1, max: item.quantity, step: 1, value: "1" });
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", value: asText(item.price) });
  const status = h("p", { class: "error", role: "alert" });
  quantity.addEventListener("input", () => {
    const n = Number.parseInt(quantity.value, 10);
    if (n > 0) amount.value = asText(item.price * n);
  });
  const form = h("form", { class: "card-form" },
    field(`How many (${item.quantity} left)`, quantity), field(`Amount received (${item.currency})`, amount),
    h("button", { type: "submit", class: "primary" }, "Mark sold"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = Number.parseInt(quantity.value, 10);
    const paid = parseMoney(amount.value, item.currency);
    if (!(n >= 1 && n <= item.quantity)) return void (status.textContent = `Sell between 1 and ${item.quantity}.`);
    if (paid == null) return void (status.textContent = "Write the amount as a number.");
    await app.enqueue("vendor", "sell_item", { id: item.id, sale_id: uuid(), quantity: n, amount: paid }, { display: { title: item.title } });
    app.go("/app/#/vendor");
  });
  replace(main, h("section", { class: "wrap" },
    h("h1", { id: "page-title" }, "Mark sold"), userText("p", item.title, { class: "title" }),
    h("p", { class: "price" }, formatMoney(item.price, item.currency), " each"), form,
    h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  return {};
}
