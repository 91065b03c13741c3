// The kiosk's local copy of one event, kept in IndexedDB and in memory, filled and kept up to
// date with the sync protocol (POST /api/sync/pull with an anonymous device token).
//
// Records are state: {entity, id, op, version, data}. A record is applied only when its
// version is at least the stored one (newer wins); op "delete" leaves a tombstone so an older
// upsert arriving later cannot bring the entity back. A first pull (or a `reset`) is a
// snapshot of several pages: it is gathered whole and then swapped in with one transaction,
// so a connection lost half-way never leaves the kiosk with half a market.

import { openDB, transact, done } from "./idb.js";
import { request, HttpError, bearer } from "./util.js";

const ENTITIES = new Set(["event", "stall", "cause", "item", "totals"]);
const PAGE = 500;
const DEVICE_KEY = "souk.kiosk.device";

export class Replica {
  static async open(slug) {
    const replica = new Replica(slug);
    await replica._load();
    return replica;
  }

  constructor(slug) {
    this.slug = slug;
    this.db = null;
    this.maps = Object.fromEntries([...ENTITIES].map((e) => [e, new Map()]));
    this.cursor = null;
    this.complete = false; // a snapshot has been taken and followed to the log head at least once
    this.syncedAt = null;
    this.listeners = new Set();
    this.pulling = null;
    this.again = false;
  }

  async _load() {
    try {
      this.db = await openDB(`souk-kiosk-${this.slug}`, 1, (db) => {
        db.createObjectStore("records", { keyPath: "key" });
        db.createObjectStore("meta");
      });
    } catch (err) {
      console.warn("kiosk: IndexedDB unavailable, keeping the replica in memory only", err);
      return;
    }
    const [records, meta] = await transact(this.db, ["records", "meta"], "readonly", (s) => [
      done(s.records.getAll()),
      done(s.meta.get("state")),
    ]).then((pending) => Promise.all(pending));
    for (const rec of records) this.maps[rec.entity]?.set(rec.id, rec);
    this.cursor = meta?.cursor ?? null;
    this.complete = Boolean(meta?.complete);
    this.syncedAt = meta?.syncedAt ? new Date(meta.syncedAt) : null;
  }

  // ---- reading ---------------------------------------------------------------------------

  live(entity) {
    const out = [];
    for (const rec of this.maps[entity].values()) if (!rec.deleted) out.push(rec.data);
    return out;
  }

  get(entity, id) {
    const rec = this.maps[entity].get(String(id));
    return rec && !rec.deleted ? rec.data : null;
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

  /** Apply records (state, not operations); returns the set of entities that changed. */
  _merge(changes, into = this.maps) {
    const touched = new Set();
    const written = [];
    for (const change of changes) {
      if (!ENTITIES.has(change.entity)) continue;
      const id = String(change.id);
      const current = into[change.entity].get(id);
      if (current && current.version > change.version) continue;
      const rec = {
        key: `${change.entity}:${id}`,
        entity: change.entity,
        id,
        version: change.version,
        deleted: change.op === "delete",
        data: change.op === "delete" ? null : change.data,
      };
      into[change.entity].set(id, rec);
      written.push(rec);
      touched.add(change.entity);
    }
    return { touched, written };
  }

  /** Seed from data fetched some other way (the kiosk set-up call), with the same version rule. */
  async seed(changes) {
    const { touched, written } = this._merge(changes);
    if (this.db && written.length) {
      await transact(this.db, ["records"], "readwrite", (s) => written.forEach((r) => s.records.put(r)));
    }
    if (touched.size) this._emit(touched);
  }

  async _persist(written, state, replaceAll) {
    if (!this.db) return;
    await transact(this.db, ["records", "meta"], "readwrite", (s) => {
      if (replaceAll) s.records.clear();
      for (const rec of written) s.records.put(rec);
      s.meta.put(state, "state");
    });
  }

  // ---- pulling ---------------------------------------------------------------------------

  async _deviceToken(renew = false) {
    let token = localStorage.getItem(DEVICE_KEY);
    if (!token || renew) {
      token = (await request("/api/devices", { method: "POST" })).token;
      localStorage.setItem(DEVICE_KEY, token);
    }
    return token;
  }

  /** Pull until caught up. Calls while a pull runs are folded into one more pull after it. */
  pull() {
    if (this.pulling) {
      this.again = true;
      return this.pulling;
    }
    this.pulling = (async () => {
      try {
        do {
          this.again = false;
          await this._pullAll();
        } while (this.again);
      } finally {
        this.pulling = null;
      }
    })();
    return this.pulling;
  }

  async _call(cursor) {
    let token = await this._deviceToken();
    const body = { event: this.slug, cursor, limit: PAGE };
    try {
      return await request("/api/sync/pull", { method: "POST", body, headers: bearer(token), timeout: 20_000 });
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 401)) throw err;
      token = await this._deviceToken(true);
      return request("/api/sync/pull", { method: "POST", body, headers: bearer(token), timeout: 20_000 });
    }
  }

  async _pullAll() {
    if (!this.cursor) {
      await this._snapshot();
      return;
    }
    for (;;) {
      const page = await this._call(this.cursor);
      if (page.reset) {
        await this._snapshot();
        return;
      }
      const { touched, written } = this._merge(page.changes);
      this.cursor = page.cursor;
      this.syncedAt = new Date();
      await this._persist(written, this._state(), false);
      if (touched.size) this._emit(touched);
      if (!page.has_more) break;
    }
    this._emit(new Set(["sync"]));
  }

  async _snapshot() {
    const fresh = Object.fromEntries([...ENTITIES].map((e) => [e, new Map()]));
    let cursor = null;
    for (;;) {
      const page = await this._call(cursor);
      if (page.reset) {
        // The server forgot where we were mid-snapshot (compaction): begin again.
        for (const map of Object.values(fresh)) map.clear();
        cursor = null;
        continue;
      }
      this._merge(page.changes, fresh);
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    this.maps = fresh;
    this.cursor = cursor;
    this.complete = true;
    this.syncedAt = new Date();
    const all = Object.values(fresh).flatMap((m) => [...m.values()]);
    await this._persist(all, this._state(), true);
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
