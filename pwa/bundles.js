// Items on disk: one IndexedDB record per stall ("items:<stall id>"), not one per item
// (database version 4, store.js).
//
// Why: Chromium keeps every IndexedDB record under two LevelDB keys (the record and its
// "exists" entry, each carrying the UTF-16 primary key), plus one per index, and compresses a
// value only when it is large. A market's 2,100 small item records took 3.4 MB on disk until
// LevelDB happened to compact its log, 1.6 MB after; the same items as 84 stall records take
// about 1.0 MB either way (bench/bench_pwa.py prints the replica's size).
//
// A bundle is {key, event_id, items: {<item id>: {version, data} | {version, deleted: true}}}.
// Callers keep working with item records in the stored shape (stored.js: {key: "item:<id>",
// version, event_id, parent: <stall id>, data}); `Bundles` maps them in and out. An item never
// changes stall, so an item with data is looked for in its stall's bundle only; one known by id
// alone (a tombstone, a patch, a live frame) in the bundle this tab last saw it in, else in all.
// Item tombstones whose stall is unknown (kept from an older database) live in the bundle
// "items:" with no stall.
import { getAll, promisify } from "./kit/idb.js";

const PREFIX = "items:";

/** The key of a stall's bundle. @param {string|null|undefined} stallId */
export const bundleKey = (stallId) => `${PREFIX}${stallId ?? ""}`;

/** Every bundle's key (a range: built when asked, so a worker can import this module). */
export const bundleRange = () => IDBKeyRange.bound(PREFIX, `${PREFIX}\uffff`);

const stallOf = (bundle) => bundle.key.slice(PREFIX.length);

// Where this tab last saw each item: a hint that saves reading every bundle.
const seenIn = new Map();

/** Item `id` of `bundle` as a stored record (or tombstone). */
function itemRecord(bundle, id) {
  const held = bundle.items[id];
  return held.deleted
    ? { key: `item:${id}`, version: held.version, deleted: true }
    : { key: `item:${id}`, version: held.version, event_id: bundle.event_id, parent: stallOf(bundle) || null, data: held.data };
}

/** The stored item records (tombstones too) a bundle holds. */
export function unpack(bundle) {
  return Object.keys(bundle.items).map((id) => itemRecord(bundle, id));
}

/** A fresh bundle holding `stored` (item records of one stall, any order; its event from theirs). */
export function pack(stallId, stored) {
  const bundle = { key: bundleKey(stallId), event_id: null, items: {} };
  for (const record of stored) place(bundle, record);
  return bundle;
}

function place(bundle, record) {
  const id = record.key.slice("item:".length);
  bundle.items[id] = record.deleted ? { version: record.version, deleted: true } : { version: record.version, data: record.data };
  if (!record.deleted && record.event_id) bundle.event_id = record.event_id;
}

/** The bundles of `records` (an open transaction's store) holding items `ids`, read. @param {any} records @param {string[]} ids */
export async function holding(records, ids) {
  const items = new Bundles(records);
  await items.locate(ids.map((id) => ({ id })));
  return items;
}

/**
 * The bundles one transaction reads and writes: item records are got and put one at a time,
 * and every bundle they touched is written once, by `flush()`.
 */
export class Bundles {
  /** @param {IDBObjectStore} records the "records" store of an open transaction */
  constructor(records) {
    this.records = records;
    this.byStall = new Map();
    this.where = new Map(); // item id -> stall id ("" for the stall-less bundle)
    this.touched = new Set();
    this.complete = false;
  }

  add(bundle) {
    const stall = stallOf(bundle);
    if (this.byStall.has(stall)) return;
    this.byStall.set(stall, bundle);
    for (const id of Object.keys(bundle.items)) {
      this.where.set(id, stall);
      seenIn.set(id, stall);
    }
  }

  /** Read the bundles of `stallIds`, or every bundle. @param {Iterable<string>|null} stallIds */
  async load(stallIds = null) {
    if (this.complete) return;
    if (stallIds === null) {
      for (const bundle of await getAll(this.records, bundleRange())) this.add(bundle);
      this.complete = true;
      return;
    }
    const wanted = [...new Set(stallIds)].filter((stall) => !this.byStall.has(stall));
    const found = await Promise.all(wanted.map((stall) => promisify(this.records.get(bundleKey(stall)))));
    for (const bundle of found) if (bundle) this.add(bundle);
  }

  /**
   * Make sure the items `wanted` ({id, stall}: stall when the caller knows it) are found if held:
   * their stalls' bundles, then the hinted ones, then, for any still missing, all of them.
   * @param {{id: string, stall?: string|null}[]} wanted
   */
  async locate(wanted) {
    if (!wanted.length) return;
    const hinted = wanted.map((w) => w.stall ?? seenIn.get(w.id)).filter((stall) => stall !== undefined);
    await this.load(["", ...hinted]); // "": tombstones an older database kept without their stall
    if (wanted.some((w) => !w.stall && !this.where.has(w.id))) await this.load(null);
  }

  /** The stored record of item `id`, if this transaction has read its bundle. */
  get(id) {
    const stall = this.where.get(id);
    return stall === undefined ? undefined : itemRecord(this.byStall.get(stall), id);
  }

  /** Store an item record (or tombstone) in its stall's bundle. */
  put(record) {
    const id = record.key.slice("item:".length);
    const was = this.where.get(id);
    const stall = record.deleted ? was ?? "" : record.parent ?? was ?? "";
    if (was !== undefined && was !== stall) this.remove(id);
    if (!this.byStall.has(stall)) this.byStall.set(stall, pack(stall, []));
    place(this.byStall.get(stall), record);
    this.where.set(id, stall);
    seenIn.set(id, stall);
    this.touched.add(stall);
  }

  /** Forget item `id` altogether (no tombstone). */
  remove(id) {
    const stall = this.where.get(id);
    if (stall === undefined) return;
    delete this.byStall.get(stall).items[id];
    this.where.delete(id);
    this.touched.add(stall);
  }

  /** Write every bundle this transaction changed (an emptied one is deleted). */
  flush() {
    for (const stall of this.touched) {
      const bundle = this.byStall.get(stall);
      if (Object.keys(bundle.items).length) this.records.put(bundle);
      else this.records.delete(bundle.key);
    }
    this.touched.clear();
  }
}
