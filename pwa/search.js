// Client-side search over the replica, for when the server cannot be reached.
// Words match exactly, the last word also as a prefix (search as you type), and words of 5+
// letters with one typo (an edit or a swap of neighbours). "#honey" looks in hashtags only;
// "honey" looks everywhere, hashtags included. Every word must match.

export function fold(text) {
  return String(text || "").normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

export function tagKey(tag) {
  return fold(String(tag).normalize("NFKC")).replace(/^[#＃]+/, "");
}

function tokens(text) {
  return fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

// Optimal string alignment distance, stopping early past 1: all the typo rule needs.
export function withinOneEdit(a, b) {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // one substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // one swap
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.slice(i) === long.slice(i + 1); // one insertion or deletion
}

// How well query word `word` matches token `token`: 3 exact, 2 prefix, 1 typo, 0 none.
function wordScore(word, token, isLast) {
  if (token === word) return 3;
  if (isLast && token.startsWith(word)) return 2;
  if (word.length >= 5) {
    if (withinOneEdit(word, token)) return 1;
    if (isLast && token.length > word.length) {
      for (const n of [word.length - 1, word.length, word.length + 1]) {
        if (n >= 4 && withinOneEdit(word, token.slice(0, n))) return 1;
      }
    }
  }
  return 0;
}

export class ItemIndex {
  constructor(items, stallsById = new Map()) {
    this.docs = items.map((item) => {
      const stall = stallsById.get(item.stall_id);
      const tags = [...(item.hashtags || []).map(tagKey), ...(item.tag_keys || [])];
      return {
        item,
        title: tokens(item.title),
        text: [...tokens(item.description), ...tokens(stall?.name), ...tokens(stall?.store_tag)],
        tags: [...new Set(tags)],
        causes: (item.causes || []).map(tagKey),
      };
    });
  }

  search({ q = "", tag = "", cause = "", priceMin = null, priceMax = null, availableOnly = false, stallId = "", sort = "relevance" } = {}) {
    const typedOn = q.length > 0 && !/\s$/.test(q);
    const words = q.trim().split(/\s+/).filter(Boolean).map((raw) => ({ hashtag: /^[#＃]/.test(raw), text: tagKey(raw) }))
      .filter((w) => w.text);
    const wantTag = tag ? tagKey(tag) : "";
    const wantCause = cause ? tagKey(cause) : "";
    const hits = [];
    for (const doc of this.docs) {
      const { item } = doc;
      if (availableOnly && item.state !== "available") continue;
      if (stallId && item.stall_id !== stallId) continue;
      if (wantTag && !doc.tags.includes(wantTag)) continue;
      if (wantCause && !doc.causes.includes(wantCause) && !doc.tags.includes(wantCause)) continue;
      if (priceMin != null && item.price < priceMin) continue;
      if (priceMax != null && item.price > priceMax) continue;
      let score = 0;
      let matched = true;
      for (const [i, word] of words.entries()) {
        const isLast = typedOn && i === words.length - 1;
        let best = 0;
        for (const token of doc.tags) best = Math.max(best, wordScore(word.text, token, isLast));
        if (!word.hashtag) {
          for (const token of doc.title) best = Math.max(best, wordScore(word.text, token, isLast) * 2);
          for (const token of doc.text) best = Math.max(best, wordScore(word.text, token, isLast));
        }
        if (best === 0) {
          matched = false;
          break;
        }
        score += best;
      }
      if (matched) hits.push({ item, score });
    }
    const newest = (a, b) => String(b.item.created_at).localeCompare(String(a.item.created_at));
    const order = {
      relevance: (a, b) => b.score - a.score || newest(a, b),
      price_asc: (a, b) => a.item.price - b.item.price || b.score - a.score,
      price_desc: (a, b) => b.item.price - a.item.price || b.score - a.score,
      newest,
    }[sort] || ((a, b) => b.score - a.score);
    return hits.sort(order).map((h) => h.item);
  }
}
