// The app's replica: the server's state of the event, as pulled, in the IndexedDB "records" store
// (indexed by entity, event and parent). The rules (newer version wins, tombstones, receipts
// that only move forward) are the kit's (kit/replica.js), shared with the kiosk.
// Local pending changes are never written here; views lay the outbox over it (overlay.js).
import { emit } from "./bus.js";
import { getAll, promisify } from "./kit/idb.js";
import { applyChange, isTombstone, recordKey } from "./kit/replica.js";
import { tx } from "./store.js";

const EVENT_ENTITIES = new Set(["event", "cause", "stall", "item", "totals"]);

export { recordKey };

// Apply pulled changes inside an open transaction on "records" (the rules: kit/replica.js).
async function applyInto(records, changes) {
  const keys = [...new Set(changes.map((c) => recordKey(c.entity, c.id)))];
  const stored = new Map();
  for (const record of await Promise.all(keys.map((k) => promisify(records.get(k))))) if (record) stored.set(record.key, record);
  for (const change of changes) {
    const next = applyChange(stored.get(recordKey(change.entity, change.id)), change);
    if (next) {
      records.put(next);
      stored.set(next.key, next);
    }
  }
}

// One page of a pull: the data and the cursor that covers it commit together, or neither does.
// `fresh` (a snapshot from no cursor) first drops what the replica held of that event.
export async function applyPage(changes, { cursorKey, cursor, fresh = false }) {
  await tx(["records", "kv"], "readwrite", async ({ records, kv }) => {
    if (fresh) {
      const eventId = changes.find((c) => c.entity === "event")?.id;
      if (eventId) {
        const old = await getAll(records.index("event"), eventId);
        for (const record of old) if (EVENT_ENTITIES.has(record.entity)) records.delete(record.key);
      }
    }
    await applyInto(records, changes);
    kv.put(cursor, cursorKey);
  });
  emit("replica");
}

// A record the server handed back outside a pull (a push result, a live message).
export async function applyData(entity, data) {
  if (!data?.id) return;
  await tx("records", "readwrite", ({ records }) =>
    applyInto(records, [{ entity, id: data.id, op: "upsert", version: data.version ?? 1, data }]));
  emit("replica");
}

export { applyInto };

// A live "item" frame: state and quantity at a version.
export async function patchItem(id, { state, quantity, version }) {
  const changed = await tx("records", "readwrite", async ({ records }) => {
    const record = await promisify(records.get(recordKey("item", id)));
    if (!record || isTombstone(record) || version <= record.version) return false;
    records.put({ ...record, version, data: { ...record.data, state, quantity, version } });
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
      if (record.entity !== "message" || m.sender !== mySide || m.seq > upToSeq) continue;
      const data = { ...m, delivered_at: m.delivered_at || now };
      if (status === "read") data.read_at = m.read_at || now;
      records.put({ ...record, data });
    }
  });
  emit("replica");
}

export async function get(entity, id) {
  const record = await tx("records", "readonly", ({ records }) => promisify(records.get(recordKey(entity, id))));
  return record?.data ?? null;
}

export async function all(entity) {
  const list = await tx("records", "readonly", ({ records }) => getAll(records.index("entity"), entity));
  return list.map((r) => r.data);
}

export async function ofEvent(eventId, entity) {
  const list = await tx("records", "readonly", ({ records }) => getAll(records.index("event"), eventId));
  return list.filter((r) => r.entity === entity).map((r) => r.data);
}

export async function children(parentId, entity) {
  const list = await tx("records", "readonly", ({ records }) => getAll(records.index("parent"), parentId));
  return list.filter((r) => r.entity === entity).map((r) => r.data);
}

// Conversations belong to whoever pulled them: drop them when the signed-in person changes.
export async function clearConversations() {
  await tx(["records", "kv"], "readwrite", async ({ records, kv }) => {
    for (const entity of ["conversation", "message"]) {
      for (const key of await promisify(records.index("entity").getAllKeys(entity))) records.delete(key);
    }
    for (const key of await promisify(kv.getAllKeys())) if (String(key).startsWith("cursor:")) kv.delete(key);
  });
  emit("replica");
}
