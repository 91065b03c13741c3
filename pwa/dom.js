// The app's view helpers (photos, form fields, dates, item states), built with the kit's
// element builder, which views import from here too.
import { append, h, replace } from "./kit/dom.js";

export { append, h, replace };
export const PLACEHOLDER = "/app/icons/placeholder.svg";

// Text someone typed (titles, names, messages): its own direction, whatever the page's.
export function userText(tag, text, props = {}) {
  return h(tag, { ...props, dir: "auto" }, text || "");
}

// A photo in a fixed box (no layout jump); a placeholder if it cannot be loaded.
export function photo(url, { width = 80, height = 80, alt = "", cls = "thumb", eager = false } = {}) {
  const img = h("img", {
    src: url || PLACEHOLDER, alt, width, height, class: cls, decoding: "async", loading: eager ? "eager" : "lazy",
  });
  img.addEventListener("error", () => {
    if (!img.src.endsWith(PLACEHOLDER)) img.src = PLACEHOLDER;
  });
  return img;
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = new Date().toDateString() === date.toDateString();
  return date.toLocaleString(undefined, sameDay ? { hour: "2-digit", minute: "2-digit" } : { dateStyle: "medium", timeStyle: "short" });
}

export function stateLabel(state, quantity) {
  if (state === "sold") return "Sold";
  if (state === "reserved") return "Reserved";
  return quantity > 1 ? `Available · ${quantity} left` : "Available";
}
