// The app's replica: the server's state of the event, as pulled, in the IndexedDB "records" store
// (indexed by parent; items kept one record per stall, bundles.js). The rules (newer version wins, tombstones, receipts
// that only move forward) are the kit's (kit/replica.js), shared with the kiosk.
// Local pending changes are never written here; views lay the outbox over it (overlay.js).
// Records are stored lean (kit/wire.js `compact`: the wire's shape, no URLs, nothing derivable;
// stored.js: no entity, id or stall twice) and read back expanded (`expand`): what the views get
// is the same whichever way it arrived.
import { emit } from "./bus.js";
import { getAll, promisify } from "./kit/idb.js";
import { applyChange, isTombstone, recordKey } from "./kit/replica.js";
import { compact, expand } from "./kit/wire.js";
import { bundleKey, bundleRange, Bundles, holding, unpack } from "./bundles.js";
import { fromStored, keyParts, toStored } from "./stored.js";
import { entityRange, tx } from "./store.js";

const EVENT_ENTITIES = new Set(["event", "cause", "stall", "totals"]); // and the items' bundles

export { recordKey };

// A stored record as the views read it.
export function readRecord(stored) {
  const record = fromStored(stored);
  return expand(record.entity, record.id, record.version, record.data, { eventId: record.event_id });
}

// A record in the server's REST shape (a push answer, a live frame) as a change to apply.
export function restChange(entity, data, op = "upsert") {
  const id = String(data.id);
  const version = data.version ?? 1;
  return { entity, id, op, version, data: op === "delete" ? null : expand(entity, id, version, compact(entity, data), { eventId: data.event_id ?? null }) };
}

// What the replica holds of the non-item records `changes` touch, by key. Many of one entity (a
// snapshot page) are read with one range read rather than one request each: on a phone's CPU,
// two thousand separate reads cost more than writing the page.
const BULK = 50;
async function heldFor(records, changes) {
  const byEntity = new Map();
  for (const c of changes) {
    if (!byEntity.has(c.entity)) byEntity.set(c.entity, new Set());
    byEntity.get(c.entity).add(recordKey(c.entity, c.id));
  }
  const held = new Map();
  await Promise.all([...byEntity].map(async ([entity, keys]) => {
    const found = keys.size > BULK
      ? (await getAll(records, entityRange(entity))).filter((r) => keys.has(r.key))
      : await Promise.all([...keys].map((k) => promisify(records.get(k))));
    for (const record of found) if (record) held.set(record.key, fromStored(record));
  }));
  return held;
}

// Apply pulled changes (data expanded: kit/wire.js) inside an open transaction on "records"
// (the rules: kit/replica.js). Items go to their stall's bundle (bundles.js), written once each.
async function applyInto(records, changes) {
  const items = new Bundles(records);
  const [stored] = await Promise.all([
    heldFor(records, changes.filter((c) => c.entity !== "item")),
    items.locate(changes.filter((c) => c.entity === "item").map((c) => ({ id: String(c.id), stall: c.data?.stall_id ?? null }))),
  ]);
  for (const change of changes) {
    const isItem = change.entity === "item";
    const key = recordKey(change.entity, change.id);
    const next = applyChange(isItem ? fromStored(items.get(String(change.id))) : stored.get(key), change);
    if (!next) continue;
    if (isItem) items.put(toStored(next));
    else {
      records.put(toStored(next));
      stored.set(next.key, next);
    }
  }
  items.flush();
}

// One page of a pull: the data and the cursor that covers it commit together, or neither does.
// `fresh` (a snapshot from no cursor) first drops what the replica held of that event.
export async function applyPage(changes, { cursorKey, cursor, fresh = false }) {
  await tx(["records", "kv"], "readwrite", async ({ records, kv }) => {
    if (fresh) {
      const eventId = changes.find((c) => c.entity === "event")?.id;
      if (eventId) {
        for (const entity of EVENT_ENTITIES) {
          for (const record of await getAll(records, entityRange(entity))) if (record.event_id === eventId) records.delete(record.key);
        }
        for (const bundle of await getAll(records, bundleRange())) if (bundle.event_id === eventId) records.delete(bundle.key);
      }
    }
    await applyInto(records, changes);
    kv.put(cursor, cursorKey);
  }, "relaxed"); // a page the phone can pull again: no wait for the disk
  emit("replica");
}

// A record the server handed back outside a pull (a push result, a live message).
export async function applyData(entity, data) {
  if (!data?.id) return;
  await tx("records", "readwrite", ({ records }) => applyInto(records, [restChange(entity, data)]));
  emit("replica");
}

export { applyInto };

// Drop an item from the replica, tombstone and all (the server confirmed deleting it), inside an
// open transaction on "records".
export async function forgetItem(records, id) {
  const items = await holding(records, [id]);
  items.remove(id);
  items.flush();
}

// A live "item" frame: state and quantity at a version.
export async function patchItem(id, { state, quantity, version }) {
  const changed = await tx("records", "readwrite", async ({ records }) => {
    const items = await holding(records, [id]);
    const record = items.get(id);
    if (!record || isTombstone(record) || version <= record.version) return false;
    items.put({ ...record, version, data: { ...record.data, state, qty: quantity } });
    items.flush();
    return true;
  });
  if (changed) emit("replica");
}

// A live receipt: my messages up to `seq` were delivered (or read).
export async function markReceipt(conversationId, upToSeq, status, mySide) {
  const now = new Date().toISOString();
  await tx("records", "readwrite", async ({ records }) => {
    for (const record of await getAll(records.index("parent"), conversationId)) {
      const m = record.data;
      if (keyParts(record.key)[0] !== "message" || m.sender !== mySide || m.seq > upToSeq) continue;
      const data = { ...m, delivered_at: m.delivered_at || now };
      if (status === "read") data.read_at = m.read_at || now;
      records.put({ ...record, data });
    }
  });
  emit("replica");
}

// Stored records of `entity`, tombstones included; items unpacked from the bundles of the stalls
// `stallIds` (null: every bundle).
async function storedOf(records, entity, stallIds = null) {
  if (entity !== "item") return getAll(records, entityRange(entity));
  const bundles = stallIds === null
    ? await getAll(records, bundleRange())
    : await Promise.all(stallIds.map((stall) => promisify(records.get(bundleKey(stall)))));
  return bundles.filter(Boolean).flatMap(unpack);
}

export async function get(entity, id) {
  const record = await tx("records", "readonly", async ({ records }) => {
    if (entity !== "item") return promisify(records.get(recordKey(entity, id)));
    return (await holding(records, [String(id)])).get(String(id));
  });
  return record && !isTombstone(record) ? readRecord(record) : null;
}

export async function all(entity) {
  const list = await tx("records", "readonly", ({ records }) => storedOf(records, entity));
  return list.filter((r) => !isTombstone(r)).map(readRecord);
}

export async function ofEvent(eventId, entity) {
  const list = await tx("records", "readonly", ({ records }) => storedOf(records, entity));
  return list.filter((r) => r.event_id === eventId).map(readRecord);
}

export async function children(parentId, entity) {
  const list = await tx("records", "readonly", ({ records }) =>
    entity === "item" ? storedOf(records, "item", [parentId]) : getAll(records.index("parent"), parentId));
  return list.filter((r) => !isTombstone(r) && keyParts(r.key)[0] === entity).map(readRecord);
}

// Conversations belong to whoever pulled them: drop them when the signed-in person changes.
export async function clearConversations() {
  await tx(["records", "kv"], "readwrite", async ({ records, kv }) => {
    for (const entity of ["conversation", "message"]) {
      records.delete(entityRange(entity));
    }
    for (const key of await promisify(kv.getAllKeys())) if (String(key).startsWith("cursor:")) kv.delete(key);
  });
  emit("replica");
}
