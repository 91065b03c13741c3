// The hashtags of the event as chips (the server's list, or counted from the replica offline),
// on the welcome screen and in the hashtags view.
import { h, replace } from "/app/kit/dom.js";
import { request } from "/app/kit/http.js";
import { $, kiosk, slug } from "./kiosk-config.js";
import { searchTag } from "./kiosk-search.js";

const fromServer = { list: null, at: 0 };

function localTags() {
  const counts = new Map();
  for (const item of kiosk.replica.items()) {
    (item.tag_keys || []).forEach((key, i) => {
      const entry = counts.get(key) || { key, tag: item.hashtags?.[i] || `#${key}`, items: 0 };
      entry.items += 1;
      counts.set(key, entry);
    });
  }
  return [...counts.values()].sort((a, b) => b.items - a.items || a.key.localeCompare(b.key));
}

async function tags() {
  const fresh = Date.now() - fromServer.at < 60_000;
  if (!fresh && navigator.onLine !== false) {
    try {
      fromServer.list = await request("GET", `/api/events/${encodeURIComponent(slug)}/hashtags`, { timeout: 3000 });
      fromServer.at = Date.now();
    } catch {
      /* use the replica's */
    }
  }
  const list = fresh || fromServer.at ? fromServer.list : null;
  const eventKey = (kiosk.replica.event()?.hashtag || "").replace(/^#/, "").toLowerCase();
  return (list && list.length ? list : localTags()).filter((t) => t.key !== eventKey);
}

function tagChip(t) {
  return h(
    "button",
    { type: "button", class: "chip", dir: "auto", onclick: () => searchTag(t) },
    t.tag,
    h("span", { class: "count" }, ` ${t.items}`),
  );
}

export async function renderWelcomeTags() {
  const list = await tags();
  replace($("welcome-tags"), list.slice(0, 12).map(tagChip));
}

export async function renderTags() {
  const list = await tags();
  replace($("all-tags"), list.length ? list.map(tagChip) : h("p", { class: "note" }, "No hashtags yet."));
}
