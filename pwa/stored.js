// How the app's replica records sit on disk (IndexedDB "records", database version 3), and back.
//
// A record in memory is {key, entity, id, version, event_id, parent, data} with data in the lean
// wire shape (kit/wire.js `compact`). On disk it drops what it repeats: the entity and id are the
// key's two halves ("item:<id>"), an item's stall is its parent, and a photo key is kept as its
// 43 base64url characters, not 64 hex digits (kit/wire.js `canonicalKey` reads either). Of a
// market's replica those were a fifth of the bytes (bench/bench_pwa.py prints the store's size).
import { compact, shortKey } from "./kit/wire.js";

/** The entity and id of a stored key ("item:<id>"). @param {string} key @returns {[string, string]} */
export function keyParts(key) {
  const at = key.indexOf(":");
  return [key.slice(0, at), key.slice(at + 1)];
}

// A market's items share a few hundred photos: each key is shortened once, not once per item.
const shortened = new Map();
function short(key) {
  if (!shortened.has(key)) {
    if (shortened.size > 5000) shortened.clear();
    shortened.set(key, shortKey(key));
  }
  return shortened.get(key);
}

/** A record (any shape since database version 1: REST, lean, or stored) as it goes to disk. */
export function toStored(record) {
  if (!record || record.deleted || !record.data) return record;
  const entity = record.entity ?? keyParts(record.key)[0];
  if (entity === "item" && !("stall" in record.data) && !("stall_id" in record.data)) return record; // stored already
  const data = { ...compact(entity, record.data) };
  if (entity === "item") {
    if (data.stall === record.parent) delete data.stall;
    if (data.photos) data.photos = data.photos.map(([key, width, height]) => [short(key), width, height]);
  }
  return { key: record.key, version: record.version, event_id: record.event_id, parent: record.parent, data };
}

/** A stored record as the app works with it: entity, id and an item's stall put back (lean data). */
export function fromStored(record) {
  if (!record || record.deleted || !record.data) return record;
  const [entity, id] = keyParts(record.key);
  const data = entity === "item" && !("stall" in record.data) ? { ...record.data, stall: record.parent } : record.data;
  return { ...record, entity, id, data };
}
