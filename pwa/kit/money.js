// @ts-check
// Money is an integer count of the currency's minor unit; the digits come from Intl itself,
// so JPY has none and KWD three. Parsing is string arithmetic: no floats touch a price.
/** @type {Map<string, Intl.NumberFormat>} */
const formatters = new Map();

/** @param {string} currency @returns {Intl.NumberFormat} */
function formatter(currency) {
  const locale = globalThis.navigator?.language || "en";
  const key = `${locale}|${currency}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.NumberFormat(locale, { style: "currency", currency }));
  return /** @type {Intl.NumberFormat} */ (formatters.get(key));
}

/** Digits after the decimal mark of a currency (2 unless Intl says otherwise). @param {string} currency */
export function minorDigits(currency) {
  try {
    return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Integer minor units as the visitor's locale writes them. @param {number|null|undefined} minor @param {string} currency */
export function formatMoney(minor, currency) {
  if (minor == null) return "";
  try {
    const f = formatter(currency);
    return f.format(minor / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency || ""}`.trim();
  }
}

// "12", "12.5", "12,50", "1,234.50", "1.234,50" -> minor units; null if it is not a clear amount.
/** @param {unknown} text @param {string} currency @returns {number|null} */
export function parseMoney(text, currency) {
  const digits = minorDigits(currency);
  const s = String(text ?? "").trim().replace(/[\s'’\u00a0\u202f]/g, "").replace(/^[^\d.,]+|[^\d.,]+$/g, "");
  if (!/^[\d.,]+$/.test(s) || !/\d/.test(s)) return null;
  const seps = [...new Set(s.replace(/\d/g, ""))];
  let major = s;
  let minor = "";
  if (seps.length === 2) {
    // Both: the last one is the decimal mark, the other groups thousands.
    const last = Math.max(s.lastIndexOf("."), s.lastIndexOf(","));
    major = s.slice(0, last);
    minor = s.slice(last + 1);
    if (!new RegExp(`^\\d{1,3}(\\${major.replace(/\d/g, "")[0] || ","}\\d{3})*$`).test(major)) return null;
    major = major.replace(/\D/g, "");
  } else if (seps.length === 1) {
    const parts = s.split(seps[0]);
    const grouped = parts.length > 1 && /^[1-9]\d{0,2}$/.test(parts[0]) && parts.slice(1).every((p) => p.length === 3);
    if (parts.length === 2 && parts[1].length > 0 && parts[1].length <= digits) {
      [major, minor] = parts; // one mark, few enough digits after it: decimals
    } else if (grouped) {
      major = parts.join(""); // 1,234 or 1.234.567: thousands
    } else {
      return null;
    }
  }
  if (!/^\d*$/.test(major) || !/^\d*$/.test(minor) || minor.length > digits) return null;
  return Number(major || "0") * 10 ** digits + Number((minor + "0".repeat(digits)).slice(0, digits) || "0");
}
