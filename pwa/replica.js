// The replica: the server's state of the event, as pulled (state-based records, not operations).
// A record replaces the stored one unless the stored one is newer (`version`); a delete removes
// it. Applying a record twice, or an old one late, leaves the same replica: retries are safe.
// Local pending changes are never written here; views lay the outbox over it (overlay.js).
import { emit } from "./bus.js";
import { getAll, promisify } from "./idb.js";
import { tx } from "./store.js";

const EVENT_ENTITIES = new Set(["event", "cause", "stall", "item", "totals"]);

export const recordKey = (entity, id) => `${entity}:${id}`;

function toRecord(entity, id, version, data) {
  const event_id = entity === "event" || entity === "totals" ? id : data?.event_id ?? null;
  const parent = entity === "message" ? data.conversation_id : data?.stall_id ?? null;
  return { key: recordKey(entity, id), entity, id, version: version ?? data?.version ?? 1, event_id, parent, data };
}

// Receipts only ever move forward, even if an older copy of a message arrives later.
function merged(existing, incoming) {
  if (!existing) return incoming;
  if (incoming.version < existing.version) return existing;
  if (incoming.entity === "message") {
    const data = { ...incoming.data };
    for (const field of ["delivered_at", "read_at"]) data[field] = data[field] || existing.data[field] || null;
    return { ...incoming, data };
  }
  return incoming;
}

// Apply pulled changes inside an open transaction on "records".
async function applyInto(records, changes) {
  const keys = changes.map((c) => recordKey(c.entity, c.id));
  const stored = new Map();
  const found = await Promise.all([...new Set(keys)].map((k) => promisify(records.get(k))));
  for (const record of found) if (record) stored.set(record.key, record);
  for (const change of changes) {
    const key = recordKey(change.entity, change.id);
    const existing = stored.get(key);
    if (change.op === "delete") {
      if (!existing || change.version >= existing.version) {
        records.delete(key);
        stored.delete(key);
      }
      continue;
    }
    const next = merged(existing, toRecord(change.entity, change.id, change.version, change.data));
    if (next !== existing) {
      records.put(next);
      stored.set(key, next);
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
    if (!record || version <= record.version) return false;
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
