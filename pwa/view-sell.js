// Marking a sale: how many, and what was paid (defaults to price × quantity), confirmed in a
// dialog (to whom, when units are on hold); the dashboard then offers to undo it. A sale is a
// delta with its own UUID, so two phones selling offline both count and a retry counts once.
import * as data from "./data.js";
import { field, h, replace, userText } from "./dom.js";
import { formatMoney, minorDigits, parseMoney } from "./kit/money.js";
import { ask, freeUnits, rememberSale } from "./holds.js";
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
    field(`How many (${item.quantity} left${item.held ? `, ${item.held} on hold` : ""})`, quantity), field(`Amount received (${item.currency})`, amount),
    h("button", { type: "submit", class: "primary" }, "Mark sold"), status);
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = Number.parseInt(quantity.value, 10);
    const paid = parseMoney(amount.value, item.currency);
    if (!(n >= 1 && n <= item.quantity)) return void (status.textContent = `Sell between 1 and ${item.quantity}.`);
    if (paid == null) return void (status.textContent = "Write the amount as a number.");
    // Confirm first: a tap by mistake must not record a sale. With units on hold, say whom it
    // was sold to: someone something was held for (the sale uses up their hold) or anyone else.
    const free = freeUnits(item);
    const held = item.held || 0;
    const choices = held > 0
      ? [
        { value: "hold", label: `Yes, to the visitor it is held for`, primary: free < n },
        ...(free >= n ? [{ value: "free", label: "Yes, to someone else", primary: true }] : []),
      ]
      : [{ value: "free", label: "Yes, mark sold", primary: true }];
    const answer = await ask({
      title: `Mark ${n} × ${item.title} sold?`,
      body: [
        h("p", {}, `For ${formatMoney(paid, item.currency)}. ${item.quantity - n} will be left.`),
        held > 0 ? h("p", {}, `${held} ${held === 1 ? "is" : "are"} on hold for visitors; ${free} not held.`) : null,
        h("p", { class: "meta" }, "You can undo a sale for 2 hours afterwards."),
      ],
      choices,
      opener: submit,
      cancel: "No, go back",
    });
    if (!answer) return;
    const saleId = uuid();
    const args = { id: item.id, sale_id: saleId, quantity: n, amount: paid, ...(answer === "hold" ? { from_holds: true } : {}) };
    await app.enqueue("vendor", "sell_item", args, { display: { title: item.title } });
    rememberSale({ sale_id: saleId, item_id: item.id, title: item.title, quantity: n });
    app.go("/app/#/vendor");
  });
  replace(main, h("section", { class: "wrap" },
    h("h1", { id: "page-title" }, "Mark sold"), userText("p", item.title, { class: "title" }),
    h("p", { class: "price" }, formatMoney(item.price, item.currency), " each"), form,
    h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  return {};
}
