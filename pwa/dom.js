// Building DOM without a framework: h(tag, props, ...children). Text is always set as text,
// never as HTML, so user content cannot inject markup.
const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "multiple", "required"]);
export const PLACEHOLDER = "/app/icons/placeholder.svg";

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Text someone typed (titles, names, messages): its own direction, whatever the page's.
export function userText(tag, text, props = {}) {
  return h(tag, { ...props, dir: "auto" }, text || "");
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
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
