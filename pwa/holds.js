// Holds and sales the vendor can take back: the hold-length choice, the state line
// ("12 available · 1 on hold") and an accessible confirmation dialog (a native <dialog> opened
// with showModal: focus moves into it and stays there, Escape cancels, focus returns to the
// button that opened it).
import { h } from "./dom.js";

// How long a hold lasts; the server refuses anything past the event's end (or a day).
export const HOLD_CHOICES = [
  { key: "15", label: "15 minutes", args: { minutes: 15 } },
  { key: "60", label: "1 hour", args: { minutes: 60 } },
  { key: "end", label: "Until the market ends", args: { until_end: true } },
];

// Units on sale to anyone: what is left beyond the holds.
export function freeUnits(item) {
  return Math.max(0, (item.quantity || 0) - (item.held || 0));
}

/**
 * Ask something in a modal dialog; resolves with the value of the button pressed, or null when
 * cancelled (Cancel, Escape).
 * @param {{title: string, body?: (Node|string|null)[], choices: {value: string, label: string, primary?: boolean}[], opener?: HTMLElement|null, cancel?: string}} options
 * @returns {Promise<string|null>}
 */
export function ask({ title, body = [], choices, opener = null, cancel = "Cancel" }) {
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const dialog = h("dialog", { class: "sheet", "aria-labelledby": titleId },
    h("form", { method: "dialog", class: "card-form" },
      h("h2", { id: titleId }, title),
      ...body,
      h("div", { class: "actions" },
        choices.map((c) => h("button", { type: "submit", value: c.value, class: c.primary ? "primary" : "" }, c.label)),
        h("button", { type: "submit", value: "", formnovalidate: true }, cancel))));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const value = dialog.returnValue || null;
      dialog.remove();
      opener?.focus();
      resolve(value);
    }, { once: true });
    dialog.showModal();
    (dialog.querySelector("button.primary") || dialog.querySelector("button"))?.focus();
  });
}

// "How long?": one of HOLD_CHOICES (its args for the mutation), or null.
export async function askHoldLength(itemTitle, opener, forWhom = "") {
  const picked = await ask({
    title: `Hold one ${itemTitle}${forWhom ? ` for ${forWhom}` : ""}`,
    body: [h("p", {}, "For how long? The rest stay on sale.")],
    choices: HOLD_CHOICES.map((c) => ({ value: c.key, label: c.label })),
    opener,
  });
  return HOLD_CHOICES.find((c) => c.key === picked)?.args || null;
}

// The sale just recorded on this phone, for the dashboard's "Undo sale" (taken once).
let lastSale = null;

export function rememberSale(sale) {
  lastSale = sale;
}

export function takeLastSale() {
  const sale = lastSale;
  lastSale = null;
  return sale;
}
