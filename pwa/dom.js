// The app's view helpers (photos, form fields, dates, item states), built with the kit's
// element builder, which views import from here too.
import { append, h, replace } from "./kit/dom.js";
import { eventZone, formatWhen } from "./kit/phase.js";
import { photoUrl } from "./kit/wire.js";

export { append, h, replace };
export const PLACEHOLDER = "/app/icons/placeholder.svg";

// Text someone typed (titles, names, messages): its own direction, whatever the page's.
export function userText(tag, text, props = {}) {
  return h(tag, { ...props, dir: "auto" }, text || "");
}

// A photo (a record's {key, width, height}, or a URL) in a box sized before it loads, so the
// layout never jumps: thumbnails in fixed squares; other sizes take the photo's real shape when the
// record knows it (set through the CSSOM, which the CSP allows), else the box's. A placeholder if
// it cannot be loaded.
export function photo(source, { width = 80, height = 80, alt = "", cls = "thumb", eager = false, size = "thumb" } = {}) {
  const real = cls !== "thumb" && source?.width > 0 && source?.height > 0;
  const img = h("img", {
    src: photoUrl(source, size) || PLACEHOLDER, alt, width, height: real ? Math.round((width * source.height) / source.width) : height,
    class: cls, decoding: "async", loading: eager ? "eager" : "lazy",
  });
  if (real) img.style.aspectRatio = `${source.width} / ${source.height}`;
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

// A time as the locale writes it (its own hour cycle), in the event's time zone: the same
// clock as the server's "Reserved for you until 15:30" (kit/phase.js).
export function when(iso) {
  if (!iso) return "";
  return formatWhen(iso, eventZone());
}

// Holds are per unit: "12 available · 1 on hold"; "Reserved" only when every unit left is held.
export function stateLabel(state, quantity, held = 0) {
  if (state === "sold") return "Sold";
  if (state === "reserved") return quantity > 1 ? `Reserved · all ${quantity} on hold` : "Reserved";
  const free = Math.max(0, quantity - (held || 0));
  if (held > 0) return `${free} available · ${held} on hold`;
  return quantity > 1 ? `Available · ${quantity} left` : "Available";
}
