// The kiosk's local copy of one event: in memory for drawing, saved to IndexedDB for the next
// start, filled and kept up to date with the sync protocol (POST /api/sync/pull with an
// anonymous device token). The rules (newer version wins, tombstones, the whole snapshot
// swapped in at once) and the pull loop are the kit's (/app/kit/replica.js), the app's too, and
// so is the wire format (/app/kit/wire.js): pulled as format 2, expanded into records, kept
// expanded in memory and stored lean in IndexedDB (database version 2; version 1 held the REST
// shape and is converted in place when the kiosk first opens it).

import { HttpError, request } from "/app/kit/http.js";
import { openDB, promisify, transact } from "/app/kit/idb.js";
import { applyChange, folded, isTombstone, pullToHead, recordKey } from "/app/kit/replica.js";
import { compact, expand, expandPage, FORMAT } from "/app/kit/wire.js";

const ENTITIES = new Set(["event", "stall", "cause", "item", "totals"]);
const PAGE = 1000;
const DEVICE_KEY = "souk.kiosk.device";

const emptyMaps = () => Object.fromEntries([...ENTITIES].map((e) => [e, new Map()]));

// A record as stored (data lean) and as held in memory (data expanded).
const lean = (rec) => (isTombstone(rec) ? rec : { ...rec, data: compact(rec.entity, rec.data) });
const expanded = (rec) => ({ ...rec, data: expand(rec.entity, rec.id, rec.version, rec.data, { eventId: rec.event_id }) });

// The database's versions: 1 stored the REST shape, 2 stores records lean.
function upgrade(db, oldVersion, tx) {
  if (oldVersion < 1) {
    db.createObjectStore("records", { keyPath: "key" });
    db.createObjectStore("meta");
    return;
  }
  if (oldVersion < 2) {
    const walk = tx.objectStore("records").openCursor();
    walk.onsuccess = () => {
      const cursor = walk.result;
      if (!cursor) return;
      if (!isTombstone(cursor.value)) cursor.update(lean(cursor.value));
      cursor.continue();
    };
  }
}

export class Replica {
  static async open(slug) {
    const replica = new Replica(slug);
    await replica._load();
    return replica;
  }

  constructor(slug) {
    this.slug = slug;
    this.db = null;
    this.maps = emptyMaps(); // entity -> id -> record
    this.tombstones = new Map(); // key -> tombstone
    this.cursor = null;
    this.complete = false; // a snapshot has been taken and followed to the log head at least once
    this.syncedAt = null;
    this.listeners = new Set();
    this.context = null; // the wire context of pulled pages (kit/wire.js): event id, currency, origin
    this.pull = folded(() => this._pullAll());
  }

  async _load() {
    try {
      this.db = await openDB(`souk-kiosk-${this.slug}`, 2, upgrade);
    } catch (err) {
      console.warn("kiosk: IndexedDB unavailable, keeping the replica in memory only", err);
      return;
    }
    const [records, meta] = await transact(this.db, ["records", "meta"], "readonly", (s) =>
      Promise.all([promisify(s.records.getAll()), promisify(s.meta.get("state"))]));
    for (const rec of records) {
      if (isTombstone(rec)) this.tombstones.set(rec.key, rec);
      else this.maps[rec.entity]?.set(rec.id, expanded(rec));
    }
    this.cursor = meta?.cursor ?? null;
    this.complete = Boolean(meta?.complete);
    this.syncedAt = meta?.syncedAt ? new Date(meta.syncedAt) : null;
  }

  // ---- reading ---------------------------------------------------------------------------

  live(entity) {
    return [...this.maps[entity].values()].map((rec) => rec.data);
  }

  get(entity, id) {
    return this.maps[entity].get(String(id))?.data ?? null;
  }

  /** Whether the server deleted it (a tombstone remembers that). */
  isDeleted(entity, id) {
    return this.tombstones.has(recordKey(entity, String(id)));
  }

  get hasData() {
    return this.live("event").length > 0;
  }

  event() {
    return this.live("event")[0] || null;
  }

  totals() {
    return this.live("totals")[0] || null;
  }

  items() {
    return this.live("item");
  }

  stalls() {
    return this.live("stall").sort(byNumber);
  }

  causes() {
    return this.live("cause");
  }

  stallByCode(code) {
    return this.stalls().find((s) => s.code === code) || null;
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  _emit(entities) {
    for (const fn of this.listeners) {
      try {
        fn(entities);
      } catch (err) {
        console.error(err);
      }
    }
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Apply records into `maps`/`tombstones`; returns the entities that changed and what to save. */
  _merge(changes, maps = this.maps, tombstones = this.tombstones) {
    const touched = new Set();
    const written = [];
    for (const change of changes) {
      if (!ENTITIES.has(change.entity)) continue;
      const id = String(change.id);
      const key = recordKey(change.entity, id);
      const next = applyChange(maps[change.entity].get(id) ?? tombstones.get(key), change);
      if (!next) continue;
      if (isTombstone(next)) {
        maps[change.entity].delete(id);
        tombstones.set(key, next);
      } else {
        tombstones.delete(key);
        maps[change.entity].set(id, next);
      }
      written.push(next);
      touched.add(change.entity);
    }
    return { touched, written };
  }

  /** Seed from data fetched some other way (the kiosk set-up call: REST shapes), with the same version rule. */
  async seed(changes) {
    const { touched, written } = this._merge(changes.map((c) => ({
      ...c, data: c.data && expand(c.entity, String(c.id), c.version, compact(c.entity, c.data), { eventId: c.data.event_id ?? null }),
    })));
    if (this.db && written.length) {
      await transact(this.db, ["records"], "readwrite", (s) => written.forEach((r) => s.records.put(lean(r))));
    }
    if (touched.size) this._emit(touched);
  }

  async _persist(written, replaceAll) {
    if (!this.db) return;
    await transact(this.db, ["records", "meta"], "readwrite", (s) => {
      if (replaceAll) s.records.clear();
      for (const rec of written) s.records.put(lean(rec));
      s.meta.put(this._state(), "state");
    });
  }

  // ---- pulling ---------------------------------------------------------------------------

  async _deviceToken(renew = false) {
    let token = localStorage.getItem(DEVICE_KEY);
    if (!token || renew) {
      token = (await request("POST", "/api/devices")).token;
      localStorage.setItem(DEVICE_KEY, token);
    }
    return token;
  }

  // `whole`: no patches this time (a page of them did not fit the replica: kit/replica.js).
  async _call(cursor, { whole = false } = {}) {
    const json = { event: this.slug, cursor, limit: PAGE, format: FORMAT, patches: !whole };
    let answer;
    try {
      answer = await request("POST", "/api/sync/pull", { json, token: await this._deviceToken() });
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 401)) throw err;
      answer = await request("POST", "/api/sync/pull", { json, token: await this._deviceToken(true) });
    }
    // Pages after the first carry no event record: its id and currency come from the last one seen.
    const held = this.event();
    this.context ||= { eventId: held?.id ?? null, currency: held?.currency, origin: location.origin };
    const page = expandPage(answer, this.context);
    const event = page.changes.find((c) => c.entity === "event" && c.data);
    if (event) Object.assign(this.context, { eventId: event.id, currency: event.data.currency });
    return page;
  }

  /** Pull until caught up (calls while a pull runs are folded into one more pull after it). */
  async _pullAll() {
    await pullToHead({
      cursor: this.cursor,
      fetchPage: (cursor, options) => this._call(cursor, options),
      apply: (page, fresh) => (fresh ? this._swap(page) : this._apply(page)),
    });
    this._emit(new Set(["sync"]));
  }

  async _apply(page) {
    const { touched, written } = this._merge(page.changes);
    this.cursor = page.cursor;
    this.syncedAt = new Date();
    await this._persist(written, false);
    if (touched.size) this._emit(touched);
  }

  /** A whole snapshot: a fresh copy built aside, then swapped in (memory and disk) at once. */
  async _swap(page) {
    const maps = emptyMaps();
    const tombstones = new Map();
    this._merge(page.changes, maps, tombstones);
    this.maps = maps;
    this.tombstones = tombstones;
    this.cursor = page.cursor;
    this.complete = true;
    this.syncedAt = new Date();
    const all = [...Object.values(maps).flatMap((m) => [...m.values()]), ...tombstones.values()];
    await this._persist(all, true);
    this._emit(new Set([...ENTITIES, "sync"]));
  }

  _state() {
    return { cursor: this.cursor, complete: this.complete, syncedAt: this.syncedAt?.toISOString() ?? null };
  }
}

export function byNumber(a, b) {
  return String(a.number).localeCompare(String(b.number), undefined, { numeric: true }) ||
    String(a.name).localeCompare(String(b.name));
}
