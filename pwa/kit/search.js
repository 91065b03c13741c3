// @ts-check
// The offline search: the server's search contract (search/query.py, search/fuzzy.py,
// search/ranking.py) run over the replica, so an offline visitor and the kiosk find the same
// items the server would, in the same order.
//
// - Words: Unicode letters and digits; NFKC, case and accents folded; at most ten per query.
// - Typo budget by word length: 0 for 1-4 letters, 1 for 5-8, 2 for 9 or more; a swap of two
//   neighbours is one typo; a different first letter counts two (so it needs a budget of two).
// - Only the last word is a prefix, and only while it is being typed (no space after it).
// - "#word" is a word like any other; hashtags are searchable whole and by their camel-case
//   parts ("#LiveEvent" -> "liveevent live event").
// - The "last" matching strategy: items matching all words first, then the first k words,
//   down to the first word alone. Inside a bucket: fewer typos, closer words, better field
//   (title, hashtags, stall name, description), more exact words, then the sort, then newest.
// - The relaxed second pass (search/relaxed.py): when the strict search finds nothing, words of
//   3-4 letters allow one typo too (the first letter still has to be right); the answer says
//   which word each typed word was taken for, read from the best hit ("hony" -> "honey").
// - Filters: states (default available only), stalls, every tag, any cause, price range
//   (inclusive); hidden and deleted items never appear.
import { escapeHtml } from "./dom.js";

export const MAX_QUERY_WORDS = 10;
const MAX_WORD_CHARS = 64;
const FIRST_LETTER_TYPOS = 2;
const FAR = 8;
const MAX_CLOSE = 7;
const FILLER = "|";
const VALUE_GAP = Array(8).fill(FILLER);
const WORD = /[\p{L}\p{N}]+/gu;
export const STATES = ["available", "reserved", "sold"];

/**
 * @typedef {{text: string, hashtag: boolean, prefix: boolean, relaxed?: boolean}} QueryWord
 * @typedef {{q?: string, tags?: string[], causes?: string[], stallIds?: string[], states?: string[],
 *   priceMin?: number|null, priceMax?: number|null, sort?: string, relaxed?: boolean}} SearchOptions
 * @typedef {{item: any, stall: any, bucket: number, key: number[], matched: Set<string>}} SearchHit
 * @typedef {{hits: SearchHit[], total: number, relaxed: boolean, corrections: Record<string, string>, showingFor: string}} Found
 */

/** Python's str.casefold for what a market needs (JS has only toLowerCase). @param {string} s */
const casefold = (s) => s.toLowerCase().replace(/ß/g, "ss").replace(/ς/g, "σ");

/** One raw word -> its index words (normalization can split: "½" -> "1", "2"). @param {string} raw */
export function normalizeWord(raw) {
  let folded = casefold(raw.normalize("NFKC"));
  // eslint-disable-next-line no-control-regex -- "only ASCII" is the range from U+0000
  if (!/^[\x00-\x7f]*$/.test(folded)) folded = folded.normalize("NFKD").replace(/\p{M}/gu, "").normalize("NFC");
  return (folded.match(WORD) || []).map((w) => [...w].slice(0, MAX_WORD_CHARS).join(""));
}

/** Every normalized word of a text, in order (the index side). @param {unknown} text */
export function tokens(text) {
  const out = [];
  for (const raw of String(text ?? "").normalize("NFC").match(WORD) || []) out.push(...normalizeWord(raw));
  return out;
}

const RELAXED_ONE_TYPO = 3;

/** The typo budget; `relaxed` is the second pass (one typo from 3 letters). @param {string} word */
export function allowedTypos(word, relaxed = false) {
  const n = [...word].length;
  if (relaxed && n >= RELAXED_ONE_TYPO && n <= 4) return 1;
  return n <= 4 ? 0 : n <= 8 ? 1 : 2;
}

/** Whether the relaxed pass allows more typos than the strict one for some word. @param {QueryWord[]} words */
export function canRelax(words) {
  return words.some((w) => allowedTypos(w.text, true) > allowedTypos(w.text));
}

/** The words of a raw query: at most ten; the last is a prefix unless something follows it. @param {string} raw */
export function queryWords(raw, relaxed = false) {
  const text = String(raw ?? "").normalize("NFKC");
  /** @type {QueryWord[]} */
  const words = [];
  let lastEnd = 0;
  outer: for (const match of text.matchAll(WORD)) {
    const start = match.index ?? 0;
    const hashtag = start > 0 && text[start - 1] === "#";
    for (const part of normalizeWord(match[0])) {
      words.push({ text: part, hashtag, prefix: false, relaxed });
      lastEnd = start + match[0].length;
      if (words.length === MAX_QUERY_WORDS) break outer;
    }
  }
  if (words.length && lastEnd === text.length) words[words.length - 1].prefix = true;
  return words;
}

/** Canonical key of a hashtag: no '#', NFKC, case folded ("#MabelsHoney" -> "mabelshoney"). @param {string} tag */
export function tagKey(tag) {
  return casefold(String(tag ?? "").normalize("NFKC").replace(/^#+/, "").trim());
}

const isAlnum = (/** @type {string} */ ch) => /[\p{L}\p{N}]/u.test(ch);
const isDigit = (/** @type {string} */ ch) => /\p{Nd}/u.test(ch);
const isLower = (/** @type {string} */ ch) => /\p{Ll}/u.test(ch);
const isUpper = (/** @type {string} */ ch) => /\p{Lu}/u.test(ch);

/** "#LiveEvent" -> ["Live", "Event"]; "HTMLParser" -> ["HTML", "Parser"]. @param {string} tag */
export function camelParts(tag) {
  const chars = [...tag];
  const parts = [];
  let current = "";
  chars.forEach((ch, i) => {
    if (!isAlnum(ch)) {
      parts.push(current);
      current = "";
      return;
    }
    const prev = current ? [...current].at(-1) || "" : "";
    const next = chars[i + 1] || "";
    if (prev && (isDigit(prev) !== isDigit(ch) || (isLower(prev) && isUpper(ch)) || (isUpper(prev) && isUpper(ch) && isLower(next)))) {
      parts.push(current);
      current = "";
    }
    current += ch;
  });
  parts.push(current);
  return parts.filter(Boolean);
}

/** The hashtags field: per tag the whole tag as one word, then its camel-case words. */
function tagWords(/** @type {string[]} */ hashtags, /** @type {string[]} */ keys) {
  /** @type {string[][]} */
  const entries = [];
  const seen = new Set();
  for (const tag of hashtags) {
    const whole = tokens(tag).join("");
    if (!whole || seen.has(whole)) continue;
    seen.add(whole);
    const parts = camelParts(tag).flatMap(tokens);
    entries.push(parts.length > 1 ? [whole, ...parts] : [whole]);
  }
  for (const key of keys) {
    const whole = tokens(key).join("");
    if (whole && !seen.has(whole)) {
      seen.add(whole);
      entries.push([whole]);
    }
  }
  return entries.flatMap((entry, i) => (i ? [...VALUE_GAP, ...entry] : entry));
}

// Typos ------------------------------------------------------------------------------------

/** Optimal string alignment distance (of `term`'s best prefix when `prefix`), null past `limit`. */
export function typoDistance(/** @type {string} */ query, /** @type {string} */ term, /** @type {number} */ limit, /** @type {boolean} */ prefix) {
  let q = [...query];
  let t = [...term];
  let common = 0;
  while (common < q.length && common < t.length && q[common] === t[common]) common++;
  q = q.slice(common);
  t = t.slice(common);
  if (prefix) t = t.slice(0, q.length + limit);
  else if (Math.abs(q.length - t.length) > limit) return null;
  const inTerm = new Set(t);
  if (new Set(q.filter((ch) => !inTerm.has(ch))).size > limit) return null;
  const within = (/** @type {number} */ d) => (d <= limit ? d : null);
  if (!q.length) return prefix ? 0 : within(t.length);
  if (!t.length) return within(q.length);
  /** @type {number[]} */
  let prev2 = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= q.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      let best = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (q[i - 1] === t[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && q[i - 1] === t[j - 2] && q[i - 2] === t[j - 1] && prev2[j - 2] + 1 < best) best = prev2[j - 2] + 1;
      row.push(best);
    }
    if (Math.min(...row) > limit) return null;
    prev2 = prev;
    prev = row;
  }
  return within(prefix ? Math.min(...prev) : prev[t.length]);
}

/** Typos for query word `word` to match indexed word `term`, or null. @param {QueryWord} word @param {string} term */
export function termTypos(word, term) {
  const budget = allowedTypos(word.text, Boolean(word.relaxed));
  if (term === FILLER) return null;
  if (budget === 0) return term === word.text || (word.prefix && term.startsWith(word.text)) ? 0 : null;
  const [q0] = word.text;
  const [t0] = term;
  if (q0 === t0) return typoDistance(word.text, term, budget, word.prefix);
  if (budget >= FIRST_LETTER_TYPOS && typoDistance(word.text, term, 1, word.prefix) !== null) return FIRST_LETTER_TYPOS;
  return null;
}

// Ranking ----------------------------------------------------------------------------------

/** Occurrences of one word in a document's fields: [field, position, typos, inexact]. */
function occurrences(/** @type {string[][]} */ fields, /** @type {QueryWord} */ word, /** @type {Map<string, number|null>} */ cache) {
  /** @type {{field: number, position: number, typos: number, inexact: boolean, term: string}[]} */
  const found = [];
  fields.forEach((words, field) => {
    words.forEach((term, position) => {
      let typos = cache.get(term);
      if (typos === undefined) {
        typos = termTypos(word, term);
        cache.set(term, typos);
      }
      if (typos !== null) found.push({ field, position, typos, inexact: term !== word.text, term });
    });
  });
  return found;
}

function pairCost(/** @type {{field: number, position: number}[]} */ first, /** @type {{field: number, position: number}[]} */ second) {
  let best = FAR;
  for (const a of first) {
    for (const b of second) {
      if (a.field !== b.field || a.position === b.position) continue;
      const distance = b.position > a.position ? b.position - a.position : a.position - b.position + 1;
      if (distance < best) best = distance;
    }
  }
  return best <= MAX_CLOSE ? best : FAR;
}

const SORTS = {
  relevance: (/** @type {any} */ a, /** @type {any} */ b) => b.created - a.created,
  newest: (/** @type {any} */ a, /** @type {any} */ b) => b.created - a.created,
  price_asc: (/** @type {any} */ a, /** @type {any} */ b) => a.item.price - b.item.price,
  price_desc: (/** @type {any} */ a, /** @type {any} */ b) => b.item.price - a.item.price,
};

/** The items of one event, indexed for searching. */
export class ItemIndex {
  /** @param {any[]} items ItemViews from the replica @param {Map<string, any>} stallsById */
  constructor(items, stallsById = new Map()) {
    this.docs = items
      .filter((item) => !item.hidden && !item.deleted && !stallsById.get(String(item.stall_id))?.hidden)
      .map((item) => {
        const stall = stallsById.get(String(item.stall_id)) || null;
        const hashtags = item.hashtags || [];
        const keys = item.tag_keys?.length ? item.tag_keys : hashtags.map(tagKey);
        return {
          item,
          stall,
          keys: new Set(keys),
          causes: new Set((item.causes || []).map(tagKey)),
          created: Date.parse(item.created_at) || 0,
          fields: [tokens(item.title), tagWords(hashtags, item.tag_keys || []), tokens(stall?.name), tokens(item.description)],
        };
      });
  }

  /** @param {SearchOptions} options @returns {SearchHit[]} */
  search({ q = "", tags = [], causes = [], stallIds = [], states = ["available"], priceMin = null, priceMax = null, sort = "relevance", relaxed = false } = {}) {
    const words = queryWords(q, relaxed);
    const wantTags = tags.filter((t) => t.replace(/[#\s]/g, "")).map(tagKey);
    const wantCauses = causes.filter((c) => c.replace(/[#\s]/g, "")).map(tagKey);
    const wantStates = new Set(states.length ? states : ["available"]);
    const wantStalls = new Set(stallIds.map(String));
    /** @type {Map<string, number|null>[]} */
    const caches = words.map(() => new Map());
    const hits = [];
    for (const doc of this.docs) {
      const { item } = doc;
      if (!wantStates.has(item.state)) continue;
      if (wantStalls.size && !wantStalls.has(String(item.stall_id))) continue;
      if (!wantTags.every((t) => doc.keys.has(t))) continue;
      if (wantCauses.length && !wantCauses.some((c) => doc.causes.has(c))) continue;
      if (priceMin != null && item.price < priceMin) continue;
      if (priceMax != null && item.price > priceMax) continue;
      const found = [];
      for (const [i, word] of words.entries()) {
        const occ = occurrences(doc.fields, word, caches[i]);
        if (!occ.length) break;
        found.push(occ);
      }
      if (words.length && !found.length) continue;
      hits.push({ doc, item, stall: doc.stall, bucket: found.length, key: relevanceKey(found), created: doc.created,
        matched: new Set(found.flat().map((o) => o.term)) });
    }
    const bySort = SORTS[/** @type {keyof SORTS} */ (sort)] || SORTS.relevance;
    hits.sort((a, b) => b.bucket - a.bucket || compareKeys(a.key, b.key) || bySort(a, b) || b.created - a.created
      || String(a.item.id).localeCompare(String(b.item.id)));
    return hits.map(({ item, stall, bucket, key, matched }) => ({ item, stall, bucket, key, matched }));
  }

  /**
   * The strict search, and when it finds nothing the relaxed one, as the server answers
   * (search/relaxed.py): every hit, the true total, and what the relaxed pass corrected.
   * @param {SearchOptions} options @returns {Found}
   */
  find(options = {}) {
    const strict = this.search({ ...options, relaxed: false });
    const nothing = { hits: strict, total: strict.length, relaxed: false, corrections: {}, showingFor: "" };
    if (strict.length || !canRelax(queryWords(options.q || ""))) return nothing;
    const loose = this.search({ ...options, relaxed: true });
    if (!loose.length) return nothing;
    const words = queryWords(options.q || "", true);
    const fixes = corrections(words, loose[0].item, loose[0].stall);
    return { hits: loose, total: loose.length, relaxed: true, corrections: fixes,
      showingFor: words.map((w) => fixes[w.text] ?? w.text).join(" ") };
  }
}

/**
 * For each word matched only through a typo, the word of the item it was taken for: the item's
 * words in field order (title, hashtags, stall name, description), the first with the fewest
 * typos, a whole word before one the last word is only a prefix of (search/relaxed.py `corrections`). @param {QueryWord[]} words @param {any} item @param {any} stall
 */
export function corrections(words, item, stall) {
  const terms = [...tokens(item.title), ...tagWords(item.hashtags || [], item.tag_keys || []).filter((w) => w !== FILLER),
    ...tokens(stall?.name), ...tokens(item.description)];
  /** @type {Record<string, string>} */
  const fixes = {};
  for (const word of words) {
    /** @type {[number, number, string] | null} [typos, only as a prefix, term] */
    let best = null;
    for (const term of terms) {
      const whole = termTypos({ ...word, prefix: false }, term);
      const part = word.prefix && whole === null ? termTypos(word, term) : null;
      const typos = whole ?? part;
      if (typos === null) continue;
      const partOnly = whole === null ? 1 : 0;
      if (best === null || typos < best[0] || (typos === best[0] && partOnly < best[1])) best = [typos, partOnly, term];
    }
    if (best && best[0] > 0) fixes[word.text] = best[2];
  }
  return fixes;
}

/** [typos, proximity, attribute, inexact] of a document for the words it matched. */
function relevanceKey(/** @type {{field: number, position: number, typos: number, inexact: boolean}[][]} */ found) {
  let typos = 0;
  let attribute = 0;
  let inexact = 0;
  for (const occ of found) {
    let best = occ[0];
    for (const o of occ) {
      if (o.typos < best.typos || (o.typos === best.typos && (o.field < best.field || (o.field === best.field && !o.inexact && best.inexact)))) best = o;
    }
    typos += best.typos;
    attribute += best.field;
    inexact += best.inexact ? 1 : 0;
  }
  let proximity = 0;
  for (let i = 1; i < found.length; i++) proximity += pairCost(found[i - 1], found[i]);
  return [typos, proximity, attribute, inexact];
}

const compareKeys = (/** @type {number[]} */ a, /** @type {number[]} */ b) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};

/** Search once without keeping the index. @param {any[]} items @param {Map<string, any>} stallsById @param {SearchOptions} options */
export function searchItems(items, stallsById, options) {
  return new ItemIndex(items, stallsById).search(options);
}

/** Search once, with the relaxed second pass. @param {any[]} items @param {Map<string, any>} stallsById @param {SearchOptions} options */
export function findItems(items, stallsById, options) {
  return new ItemIndex(items, stallsById).find(options);
}

/** The title as safe HTML, with the words that matched wrapped in <mark>. @param {string} title @param {Set<string>} matched */
export function highlight(title, matched) {
  const text = String(title ?? "");
  let out = "";
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    const at = m.index ?? 0;
    out += escapeHtml(text.slice(last, at));
    const hit = normalizeWord(m[0]).some((w) => matched.has(w));
    out += hit ? `<mark>${escapeHtml(m[0])}</mark>` : escapeHtml(m[0]);
    last = at + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}
