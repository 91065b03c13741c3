// The outbox: every change a person makes (online or not) is a mutation queued in IndexedDB,
// numbered 1, 2, 3… per outbox client, and pushed to /api/sync/push in order.
//
// - An entry is deleted only after the server's answer for it, in the same transaction that
//   stores the server's resulting state (so a crash mid-request leaves it queued; the server
//   deduplicates the retry by its number and the UUIDs inside).
// - One flusher at a time across tabs and the service worker (Web Locks, or an IndexedDB lease).
// - Network trouble, 5xx and 429 leave everything queued (the caller retries with backoff);
//   a "rejected" answer moves the entry to the rejections list, shown with its reason.
// - Photos travel with their entry as a Blob and are uploaded first; the mutation then names
//   the stored photo's key.
import { HttpError, request } from "./kit/http.js";
import { emit } from "./bus.js";
import { getAll, promisify } from "./kit/idb.js";
import { forgetIdentity, getIdentity, newClient } from "./identity.js";
import { applyInto, forgetItem, restChange } from "./replica.js";
import { tx } from "./store.js";
import { uuid, withLock } from "./util.js";

const LOCK = "souk-outbox";
const BATCH = 50;

export async function enqueue(owner, name, args, { photo = null, display = {} } = {}) {
  const entry = await tx(["kv", "outbox"], "readwrite", async ({ kv, outbox }) => {
    const key = `client:${owner}`;
    const client = (await promisify(kv.get(key))) || { client_id: uuid(), next_mid: 1 };
    kv.put({ ...client, next_mid: client.next_mid + 1 }, key);
    const row = {
      owner, mid: client.next_mid, name, args, photo, photo_key: null, photo_error: null,
      display, created_at: new Date().toISOString(),
    };
    row.seq = await promisify(outbox.add(row));
    return row;
  });
  emit("outbox");
  return entry;
}

export async function pending() {
  return tx("outbox", "readonly", ({ outbox }) => getAll(outbox));
}

export async function rejections() {
  return tx("rejections", "readonly", ({ rejections }) => getAll(rejections));
}

export async function dismissRejection(id) {
  await tx("rejections", "readwrite", ({ rejections }) => promisify(rejections.delete(id)));
  emit("outbox");
}

// Push everything queued. Resolves with {sent}; rejects with the error that stopped it
// (`error.retryable` says whether to try again later). Calls made while one is waiting for
// the lock share it.
let queued = null;
export function flush() {
  if (!queued) {
    queued = withLock(LOCK, () => {
      queued = null;
      return drain();
    });
  }
  return queued;
}

async function drain() {
  let sent = 0;
  for (let round = 0; round < 200; round++) {
    const batch = await nextBatch();
    if (!batch) break;
    const { owner, entries, identity, client } = batch;
    await uploadPhotos(entries, identity.token);
    let answer;
    try {
      answer = await request("POST", "/api/sync/push", {
        token: identity.token,
        json: { client_id: client.client_id, mutations: entries.map((e) => ({ id: e.mid, name: e.name, args: e.args })) },
      });
    } catch (error) {
      // A gap, or a client id the server binds to someone else: the numbering is broken, so
      // carry the queued entries over to a new client (they are idempotent by their UUIDs).
      const broken = error instanceof HttpError && (error.status === 409 || error.status === 403
        || (error.status === 422 && error.field === "mutations"));
      if (broken && round < 5) {
        await renumber(owner);
        continue;
      }
      if (error instanceof HttpError && error.status === 401 && owner === "vendor") {
        // The vendor's session ended: their entries wait for the next sign-in; others go on.
        await forgetIdentity("vendor");
        emit("signed-out", { kind: "vendor" });
        continue;
      }
      throw error;
    }
    await settle(entries, answer.results || []);
    sent += answer.results?.length || 0;
  }
  return { sent };
}

// The first queued entries of one owner whose identity can still send, in mutation order.
async function nextBatch() {
  const all = await pending();
  const owners = [...new Set(all.sort((a, b) => a.seq - b.seq).map((e) => e.owner))];
  for (const owner of owners) {
    const identity = await getIdentity(owner);
    if (!identity?.token) continue;
    const client = await tx("kv", "readonly", ({ kv }) => promisify(kv.get(`client:${owner}`)));
    const entries = all.filter((e) => e.owner === owner).sort((a, b) => a.mid - b.mid).slice(0, BATCH);
    return { owner, entries, identity, client };
  }
  return null;
}

async function uploadPhotos(entries, token) {
  for (const entry of entries) {
    if (!entry.photo || entry.photo_key || entry.photo_error) continue;
    const form = new FormData();
    form.append("file", entry.photo, "photo.jpg");
    try {
      const answer = await request("POST", "/api/photos", { token, form, timeout: 120000 });
      entry.photo_key = answer.photo.key;
    } catch (error) {
      if (!(error instanceof HttpError) || error.retryable) throw error;
      entry.photo_error = error.message; // this photo will never be accepted: send without it
    }
    entry.args = withPhoto(entry.name, entry.args, entry.photo_key);
    await tx("outbox", "readwrite", ({ outbox }) => promisify(outbox.put(entry)));
  }
}

function withPhoto(name, args, key) {
  if (!key) return args;
  if (name === "send_message") return { ...args, photo_key: key };
  return { ...args, photo_keys: [key, ...(args.photo_keys || []).filter((k) => k !== key)] };
}

// Where a mutation's result lands in the replica.
function resultRecord(name, data) {
  if (!data) return null;
  if (name === "sell_item" || name === "undo_sale") return data.item ? ["item", data.item] : null;
  if (name === "send_message") return ["message", data];
  if (name === "mark_read") return ["conversation", data];
  if (name === "update_stall") return ["stall", data];
  if (data.event_id && data.stall_id && "state" in data) return ["item", data];
  return null;
}

// The server's answers: drop answered entries, keep rejections, store the server's state.
async function settle(entries, results) {
  await tx(["outbox", "rejections", "records"], "readwrite", async ({ outbox, rejections, records }) => {
    const changes = [];
    for (const result of results) {
      const entry = entries.find((e) => e.mid === result.id);
      if (!entry) continue;
      outbox.delete(entry.seq);
      const base = { owner: entry.owner, name: entry.name, args: entry.args, display: entry.display, at: new Date().toISOString() };
      if (result.status !== "applied") {
        rejections.add({ ...base, reason: result.reason || "The server refused this change", field: result.field || null });
      }
      if (entry.photo_error) rejections.add({ ...base, reason: `The photo was not accepted: ${entry.photo_error}`, field: "photo" });
      const target = resultRecord(entry.name, result.data);
      if (target) {
        const [entity, data] = target;
        const gone = entity === "item" && (data.deleted || data.hidden);
        changes.push(restChange(entity, data, gone ? "delete" : "upsert"));
      } else if (entry.name === "delete_item" && result.status === "applied") {
        await forgetItem(records, entry.args.id);
      }
    }
    await applyInto(records, changes);
  });
  emit("outbox");
  emit("replica");
}

// Move an owner's queued entries to a fresh outbox client, numbered 1..n in their order.
function renumber(owner) {
  return tx(["kv", "outbox"], "readwrite", ({ kv, outbox }) => newClient(kv, outbox, owner));
}
