// What the views show: the replica with the outbox laid over it (overlay.js), read fresh
// from IndexedDB each time, so every tab and the service worker agree.
import { emit } from "./bus.js";
import { getAll, promisify } from "./kit/idb.js";
import { pending } from "./outbox.js";
import { forgetPhotos, overlayConversations, overlayItems, overlayMessages, overlayStall } from "./overlay.js";
import * as replica from "./replica.js";
import { tx } from "./store.js";

async function queued() {
  const entries = (await pending()).sort((a, b) => a.seq - b.seq);
  forgetPhotos(new Set(entries.map((e) => e.seq)));
  return entries;
}

export async function eventBySlug(slug) {
  return (await replica.all("event")).find((e) => e.slug === slug) || null;
}

export async function stalls(eventId) {
  const [list, entries] = await Promise.all([replica.ofEvent(eventId, "stall"), queued()]);
  return list.map((s) => overlayStall(s, entries))
    .sort((a, b) => a.number.localeCompare(b.number, undefined, { numeric: true }) || a.name.localeCompare(b.name));
}

export async function stallByCode(code) {
  const stall = (await replica.all("stall")).find((s) => s.code === code);
  return stall ? overlayStall(stall, await queued()) : null;
}

export async function items(eventId, { stallId = null } = {}) {
  const [list, entries] = await Promise.all([
    stallId ? replica.children(stallId, "item") : replica.ofEvent(eventId, "item"), queued()]);
  return overlayItems(list, entries, (created) => (stallId ? created.stall_id === stallId : created.event_id === eventId));
}

export async function item(id) {
  const [stored, entries] = await Promise.all([replica.get("item", id), queued()]);
  return overlayItems(stored ? [stored] : [], entries, (created) => created.id === id).find((i) => i.id === id) || null;
}

// A visitor sees their own conversations; a vendor the inbox of their stall.
export async function conversations(identity) {
  const [list, entries, allStalls] = await Promise.all([replica.all("conversation"), queued(), replica.all("stall")]);
  const mine = entries.filter((e) => e.owner === (identity?.kind || "device"));
  const byCode = new Map(allStalls.map((s) => [s.code, s]));
  return overlayConversations(list, mine, byCode).filter((c) =>
    identity?.kind === "vendor" ? c.stall_code === identity.stall_code : !identity?.device_id || !c.device_id || c.device_id === identity.device_id);
}

export async function messages(conversationId, side) {
  const [list, entries] = await Promise.all([replica.children(conversationId, "message"), queued()]);
  return overlayMessages(list, entries, conversationId, side);
}

export async function queuedEntries() {
  return queued();
}

export async function favouriteIds() {
  const list = await tx("favourites", "readonly", ({ favourites }) => getAll(favourites));
  return new Set(list.map((f) => f.id));
}

export async function toggleFavourite(id) {
  const saved = await tx("favourites", "readwrite", async ({ favourites }) => {
    if (await promisify(favourites.get(id))) {
      favourites.delete(id);
      return false;
    }
    favourites.put({ id, added_at: new Date().toISOString() });
    return true;
  });
  emit("favourites");
  return saved;
}
