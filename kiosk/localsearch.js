// Searching the local replica when the venue Wi-Fi is gone. It follows the server's rules
// closely enough that a visitor does not notice the switch: Unicode words, case and accents
// folded; a typo budget of 0 / 1 / 2 by word length (1-4 / 5-8 / 9+ letters); a swap of two
// neighbouring letters is one typo; a different first letter costs two; the last word is
// matched as a prefix while it is still being typed; `#tag` words must be one of the item's tags.

const WORD = /[\p{L}\p{N}]+/gu;
const MAX_WORDS = 10;

export function fold(text) {
  return String(text ?? "")
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .normalize("NFKC")
    .toLowerCase();
}

export function words(text) {
  return fold(text).match(WORD) || [];
}

export function allowedTypos(word) {
  const n = [...word].length;
  return n <= 4 ? 0 : n <= 8 ? 1 : 2;
}

/** Optimal string alignment distance, giving up (returning max + 1) once it exceeds `max`. */
export function distance(a, b, max) {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  let prev2 = null;
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (prev2 && i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[t.length];
}

/** Typos needed for query word `q` to match indexed word `w` (-1: no match). */
export function typos(q, w, prefix) {
  if (w === q || (prefix && w.startsWith(q))) return 0;
  const budget = allowedTypos(q);
  if (budget === 0) return -1;
  const firstDiffers = w[0] !== q[0];
  if (firstDiffers && budget < 2) return -1;
  let best = distance(q, w, budget);
  if (prefix) {
    const chars = [...w];
    const n = [...q].length;
    for (let len = Math.max(1, n - budget); len <= Math.min(chars.length, n + budget); len++) {
      best = Math.min(best, distance(q, chars.slice(0, len).join(""), budget));
    }
  }
  if (best > budget) return -1;
  if (firstDiffers) return best === 1 ? 2 : -1;
  return best;
}

export function parseQuery(q) {
  const trimmed = String(q ?? "");
  const finished = /\s$/.test(trimmed);
  const parsed = [];
  for (const match of trimmed.matchAll(/[#＃]?[^\s#＃]+/g)) {
    const raw = match[0];
    const hashtag = /^[#＃]/.test(raw);
    for (const w of words(raw)) parsed.push({ text: w, hashtag, prefix: false });
  }
  const list = parsed.slice(0, MAX_WORDS);
  if (list.length && !finished) list[list.length - 1].prefix = true;
  return list;
}

/**
 * Search items of the replica.
 * @param items   ItemView objects (from sync)
 * @param stalls  Map stall id -> StallView
 * @param opts    {q, tag (key), stallId, states}
 * @returns       [{item, stall, score, matched: Set of matched indexed words}]
 */
export function searchItems(items, stalls, { q = "", tag = null, stallId = null, states = ["available"] } = {}) {
  const query = parseQuery(q);
  const wanted = new Set(states);
  const tagKey = tag ? fold(tag).replace(/^#/, "") : null;
  const hits = [];
  for (const item of items) {
    if (!wanted.has(item.state)) continue;
    if (stallId && item.stall_id !== stallId) continue;
    const keys = (item.tag_keys?.length ? item.tag_keys : (item.hashtags || []).map((t) => fold(t).replace(/^#/, "")));
    if (tagKey && !keys.includes(tagKey)) continue;
    const stall = stalls.get(item.stall_id) || null;
    const titleWords = words(item.title);
    const otherWords = [...words(item.description), ...keys, ...words(stall?.name)];
    let score = 0;
    let inTitle = 0;
    const matched = new Set();
    let ok = true;
    for (const qw of query) {
      let best = -1;
      let bestTitle = false;
      const pool = qw.hashtag ? keys : [...titleWords, ...otherWords];
      for (let i = 0; i < pool.length; i++) {
        const t = qw.hashtag ? (pool[i] === qw.text || (qw.prefix && pool[i].startsWith(qw.text)) ? 0 : -1)
          : typos(qw.text, pool[i], qw.prefix);
        if (t < 0) continue;
        if (best < 0 || t < best || (t === best && !bestTitle && i < titleWords.length)) {
          best = t;
          bestTitle = !qw.hashtag && i < titleWords.length;
        }
        matched.add(pool[i]);
      }
      if (best < 0) {
        ok = false;
        break;
      }
      score += best;
      if (bestTitle) inTitle += 1;
    }
    if (ok) hits.push({ item, stall, score, inTitle, matched });
  }
  hits.sort(
    (a, b) =>
      a.score - b.score || b.inTitle - a.inTitle || String(a.item.title).localeCompare(String(b.item.title)),
  );
  return hits;
}

/** The title as safe HTML, with the words that matched wrapped in <mark>. */
export function highlight(title, matched) {
  const text = String(title ?? "");
  let out = "";
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    out += escape(text.slice(last, m.index));
    const w = m[0];
    const hit = words(w).some((x) => matched.has(x));
    out += hit ? `<mark>${escape(w)}</mark>` : escape(w);
    last = m.index + w.length;
  }
  return out + escape(text.slice(last));
}

function escape(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
