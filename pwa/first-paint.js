// @ts-check
// Prices on the server-rendered stall page are written "4.50 GBP" (the server has no locale
// data); the app writes them as the phone's locale does ("£4.50"). This classic script runs in
// <head>, before anything is painted, and rewrites each price as the parser adds it, the way
// kit/money.js formatMoney does, so the first paint already shows "£4.50" and nothing jumps.
(() => {
  const locale = globalThis.navigator?.language || "en";
  /** @type {Map<string, Intl.NumberFormat>} */
  const formats = new Map();
  const SERVER_PRICE = /^(-?)(\d{1,3}(?:,\d{3})*)(?:\.(\d+))? ([A-Z]{3})$/;

  /** The locale's writing of a server price ("1,234.50 GBP"), or null if it is not one. @param {string} text */
  function localPrice(text) {
    const match = SERVER_PRICE.exec(text.trim());
    if (!match) return null;
    const [, sign, major, minor = "", currency] = match;
    try {
      let format = formats.get(currency);
      if (!format) {
        format = new Intl.NumberFormat(locale, { style: "currency", currency });
        formats.set(currency, format);
      }
      const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
      if (minor.length !== digits) return null; // the server and Intl disagree on this currency: leave it
      const units = Number(major.replace(/,/g, "") + minor);
      return format.format(((sign ? -1 : 1) * units) / 10 ** digits);
    } catch {
      return null;
    }
  }

  /** @param {Node | null} node */
  function scan(node) {
    if (!(node instanceof Element)) return;
    const prices = node.matches(".price") ? [node] : node.querySelectorAll(".price");
    for (const price of prices) {
      const local = localPrice(price.textContent || "");
      if (local) price.textContent = local;
    }
  }

  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) scan(node.nodeType === Node.TEXT_NODE ? node.parentElement : node);
    }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", () => {
    scan(document.body);
    observer.disconnect();
  });
})();
