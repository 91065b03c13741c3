// @ts-check
// Sync wire format 2 (spec: sync/FORMAT.md; the pull answers `format: 2`), in one place for both apps.
//
// The server sends what a record must carry and nothing derivable: no id/version/event_id inside
// the data (they live in the envelope or the context), no photo URLs (a photo is a key into the
// page's `photos` table of [key, width, height]), no tag_keys, no field at its default, and ids and
// photo keys in base64url (`canonicalId` and `canonicalKey` give back the UUID string and the hex
// key the apps use, and accept those as they are). This module turns such a page into the
// records the apps work with (`expandPage`), and turns any record — pulled, or handed back by a
// push or a live frame in the REST shape — into the lean form the apps store (`compact`), which
// `expand` reads back. Views never see URLs in records: they ask `photoUrl(photo, size)`.
//
// The app's record shape (what `expand` returns) is the REST view minus the URLs:
// item {id, event_id, stall_id, title, description, price, currency, quantity, hashtags, causes,
//       photos: [{key, width, height}], state, reserved_until, version, created_at, updated_at,
//       held, tag_keys}; a stall gets its `url` back (origin + /s/ + code); a message's photo is
// {key, width, height}.

import { tagKey } from "./search.js";

/**
 * @typedef {{key: string, width: number, height: number}} Photo
 * @typedef {{entity: string, id: string, op: string, version: number, data: any}} Change
 * @typedef {{eventId?: string|null, currency?: string, origin?: string, photos?: any[]}} Context
 * @typedef {{changes: Change[], cursor: string|null, has_more: boolean, reset: boolean, snapshot: boolean}} Page
 */

export const FORMAT = 2;

const SIZES = { thumb: "320", detail: "960", original: "original" };

/**
 * The URL of a photo at one size ("thumb" ~320 px, "detail" ~960 px, "original"). A photo that is
 * not on the server yet (a local Blob waiting in the outbox) carries its own `src`.
 * @param {any} photo @param {"thumb"|"detail"|"original"} [size]
 * @returns {string|null}
 */
export function photoUrl(photo, size = "thumb") {
  if (!photo) return null;
  if (typeof photo === "string") return photo; // already a URL (a search hit's thumbnail)
  if (photo.src) return photo.src;
  if (!photo.key) return null;
  return `/photos/${encodeURIComponent(photo.key)}/${SIZES[size] || SIZES.thumb}`;
}

const SHORT_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * An id as the apps use it, the canonical UUID string ("4dec4060-9c1e-4f7a-…"), from the wire's
 * 22-character base64url of its 16 bytes; anything else (an id already canonical, from a stored
 * record, a REST answer or a format-1 page) is returned as it is. The only place a short id is read.
 * @param {any} id @returns {string}
 */
export function canonicalId(id) {
  const text = String(id);
  if (!SHORT_ID.test(text)) return text;
  const hex = hexOf(text);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const SHORT_KEY = /^[A-Za-z0-9_-]{43}$/;

/**
 * A photo key as the apps use it (64 hex digits, what its URLs are made of), from the wire's
 * 43-character base64url of its 32 bytes; a key already hex is returned as it is.
 * @param {any} key @returns {string}
 */
export function canonicalKey(key) {
  const text = String(key);
  return SHORT_KEY.test(text) ? hexOf(text) : text;
}

/**
 * A photo key (64 hex digits) as the wire sends it: its 32 bytes in base64url, 43 characters
 * (`canonicalKey` turns it back). Anything else is returned as it is.
 * @param {any} key @returns {string}
 */
export function shortKey(key) {
  const text = String(key);
  if (!/^[0-9a-f]{64}$/.test(text)) return text;
  let bytes = "";
  for (let i = 0; i < 64; i += 2) bytes += String.fromCharCode(parseInt(text.slice(i, i + 2), 16));
  return btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of unpadded base64url as lower-case hex. */
function hexOf(/** @type {string} */ text) {
  const bytes = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += bytes.charCodeAt(i).toString(16).padStart(2, "0");
  return hex;
}

/** A nullable id field: null stays null. */
const idOrNull = (/** @type {any} */ id) => (id === null || id === undefined ? null : canonicalId(id));

/** The id fields inside records other than an item's (format 2 sends them short too). */
const ID_FIELDS = /** @type {Record<string, string[]>} */ ({
  conversation: ["stall_id", "device_id", "item_id"], message: ["conversation_id", "item_id"],
});

/** A photo in any shape we meet (page index, [key, w, h], {key, width, height, …urls}) as {key, width, height}. */
function photoOf(/** @type {any} */ p, /** @type {any[]} */ table = []) {
  if (typeof p === "number") p = table[p];
  if (!p) return null;
  if (Array.isArray(p)) return { key: canonicalKey(p[0]), width: Number(p[1]) || 0, height: Number(p[2]) || 0 };
  if (typeof p === "object" && p.key) return { key: canonicalKey(p.key), width: Number(p.width) || 0, height: Number(p.height) || 0 };
  return null;
}

/** Photos stored lean: [key, width, height]. */
const photoTuple = (/** @type {any} */ p) => {
  const photo = photoOf(p);
  return photo ? [photo.key, photo.width, photo.height] : null;
};

const tagKeysOf = (/** @type {string[]} */ tags) => tags.map((t) => tagKey(t)); // aligned with the tags (kiosk-tags.js)

/** Drop the keys whose value is the default (so neither the wire nor the store carries them). */
function withoutDefaults(/** @type {Record<string, any>} */ data, /** @type {Record<string, any>} */ defaults) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined) continue;
    if (k in defaults) {
      const d = defaults[k];
      if (v === d || v === null && d === null) continue;
      if (Array.isArray(v) && Array.isArray(d) && v.length === 0) continue;
    }
    out[k] = v;
  }
  return out;
}

const ITEM_DEFAULTS = { desc: "", causes: [], photos: [], state: "available", held: 0, until: null };

/**
 * Expand one record's data (wire or stored form) into the app's record.
 * @param {string} entity @param {string} id @param {number} version @param {any} data @param {Context} [ctx]
 * @returns {any}
 */
export function expand(entity, id, version, data, ctx = {}) {
  if (!data) return data;
  id = canonicalId(id);
  const eventId = ctx.eventId ?? null;
  switch (entity) {
    case "item": {
      if (!("stall" in data) && "stall_id" in data) return expandRest(entity, id, version, data, ctx); // already REST-shaped
      const tags = data.tags || [];
      return {
        id, event_id: data.event_id ?? eventId, stall_id: idOrNull(data.stall), title: data.title ?? "", description: data.desc ?? "",
        price: data.price, currency: data.cur ?? ctx.currency ?? "", quantity: data.qty ?? 0, hashtags: tags,
        causes: data.causes || [], photos: (data.photos || []).map((/** @type {any} */ p) => photoOf(p, ctx.photos)).filter(Boolean),
        state: data.state || "available", reserved_until: data.until ?? null, version,
        created_at: data.created ?? null, updated_at: data.updated ?? data.created ?? null, held: data.held ?? 0,
        tag_keys: tagKeysOf(tags),
      };
    }
    default:
      return expandRest(entity, id, version, data, ctx);
  }
}

/** The entities whose wire shape is the REST view minus id/version/event_id (and URLs). */
function expandRest(/** @type {string} */ entity, /** @type {string} */ id, /** @type {number} */ version, /** @type {any} */ data, /** @type {Context} */ ctx) {
  const out = { ...data, version };
  if (entity !== "totals") out.id = id;
  for (const name of ID_FIELDS[entity] || []) if (name in data) out[name] = idOrNull(data[name]);
  switch (entity) {
    case "stall":
      out.event_id = data.event_id ?? ctx.eventId ?? null;
      out.hidden = Boolean(data.hidden);
      out.default_cause = data.default_cause || "";
      out.url = `${ctx.origin ?? globalThis.location?.origin ?? ""}/s/${encodeURIComponent(data.code)}`;
      break;
    case "cause":
    case "conversation":
      out.event_id = data.event_id ?? ctx.eventId ?? null;
      break;
    case "item":
      out.event_id = data.event_id ?? ctx.eventId ?? null;
      out.photos = (data.photos || []).map((/** @type {any} */ p) => photoOf(p, ctx.photos)).filter(Boolean);
      out.tag_keys = tagKeysOf(data.hashtags || []);
      delete out.deleted;
      break;
    case "message":
      out.photo = photoOf(data.photo, ctx.photos);
      break;
    default:
      break;
  }
  return out;
}

/**
 * The lean form a record is stored in: the wire's shape (what format 2 sends for it), with
 * photos inline as [key, width, height] and an item's currency kept (a stored record must read
 * back without the event at hand). Accepts the app's record or a REST view (URLs, tag_keys,
 * event_id and friends are dropped; they are derived again by `expand`).
 * @param {string} entity @param {any} data @returns {any}
 */
export function compact(entity, data) {
  if (!data) return data;
  if (entity === "item") {
    if ("stall" in data && !("stall_id" in data)) return data; // already lean
    return withoutDefaults({
      stall: data.stall_id, title: data.title, price: data.price, cur: data.currency, qty: data.quantity,
      tags: data.hashtags || [], created: data.created_at, desc: data.description, causes: data.causes || [],
      photos: (data.photos || []).map(photoTuple).filter(Boolean), state: data.state, held: data.held || 0,
      until: data.reserved_until ?? null, updated: data.updated_at === data.created_at ? undefined : data.updated_at,
    }, ITEM_DEFAULTS);
  }
  const { id: _id, version: _version, event_id: _event, url: _url, ...rest } = data;
  if (entity === "conversation" || entity === "message") {
    // A conversation keeps its event (it is read across events); a message has none.
    if (entity === "conversation" && _event) rest.event_id = _event;
    if (entity === "message") rest.photo = photoTuple(data.photo);
    return rest;
  }
  if (entity === "stall") {
    if (!rest.hidden) delete rest.hidden;
    if (!rest.default_cause) delete rest.default_cause;
  }
  return rest;
}

/**
 * An item patch (sync/FORMAT.md, "Patches") laid over the record held at `base` or newer: the held
 * record made lean, the patch's keys over it (the patch spells out defaults), expanded again.
 * @param {string} entity @param {string} id @param {number} version @param {any} held @param {any} patch @param {Context} [ctx]
 */
export function patched(entity, id, version, held, patch, ctx = {}) {
  return expand(entity, id, version, { ...compact(entity, held), ...patch }, ctx);
}

/**
 * A format-2 pull answer as the kit's page: changes expanded into the app's records.
 * `ctx.eventId`/`ctx.currency` come from the page's own event record when it has one.
 * A format-1 answer (an older server) passes through with its records made URL-free too.
 * @param {any} answer @param {Context} [ctx] @returns {Page}
 */
export function expandPage(answer, ctx = {}) {
  const base = { cursor: answer.cursor ?? null, reset: Boolean(answer.reset), snapshot: Boolean(answer.snapshot) };
  if (answer.format !== FORMAT) {
    const changes = (answer.changes || []).map((/** @type {any} */ c) => ({
      entity: c.entity, id: String(c.id), op: c.op, version: c.version,
      data: c.op === "delete" || !c.data ? null : expand(c.entity, String(c.id), c.version, compact(c.entity, c.data), ctx),
    }));
    return { ...base, has_more: Boolean(answer.has_more), changes };
  }
  const rows = answer.changes || [];
  const event = rows.find((/** @type {any[]} */ r) => r[0] === "event" && r[3]);
  const context = {
    // The page's photo table, its keys made canonical once (items refer to it by index).
    ...ctx, photos: (answer.photos || []).map((/** @type {any} */ p) => photoOf(p)),
    eventId: event ? canonicalId(event[1]) : ctx.eventId, currency: event ? event[3].currency : ctx.currency,
  };
  const changes = rows.map((/** @type {any[]} */ [entity, short, version, data, base]) => {
    const id = canonicalId(short);
    if (base !== undefined) {
      // A patch: its photos (indices into this page's table) made lean, so it lays over a stored record.
      const patch = { ...data };
      if (patch.photos) patch.photos = patch.photos.map((/** @type {any} */ p) => photoTuple(photoOf(p, context.photos))).filter(Boolean);
      return { entity, id, version, op: "patch", base, patch, data: null };
    }
    return {
      entity, id, version, op: data === null ? "delete" : "upsert",
      data: data === null ? null : expand(entity, id, version, data, context),
    };
  });
  return { ...base, has_more: Boolean(answer.more), changes };
}
