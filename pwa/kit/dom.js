// @ts-check
// Building DOM without a framework: h(tag, props, ...children). Text is always set as text,
// never as HTML, so user content cannot inject markup; escapeHtml is for the rare string of
// HTML a page builds itself (search highlights).

// Set as properties (the live state of a control), not as attributes.
const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "multiple", "required"]);

/** @typedef {Node | string | number | null | undefined | false | Array<any>} Child  (arrays nest) */

/**
 * Create an element: h("a", {href, class: "x", onclick: fn, dataset: {...}, text: "..."}, child, [more]).
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (PROPS.has(key)) /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nested arrays flattened; null, undefined and false skipped). @param {Element} el @param {Child[]} children */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace every child of `el`. @param {Element} el @param {...Child} children */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** @param {unknown} text */
export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Server-made highlight HTML may only hold text and <mark>; anything else is shown as plain text. */
export function safeMarkHtml(/** @type {unknown} */ html, /** @type {unknown} */ fallbackText) {
  const withoutMarks = String(html ?? "").replace(/<\/?mark>/g, "");
  return /[<>]/.test(withoutMarks) || html == null ? escapeHtml(fallbackText ?? "") : String(html);
}
