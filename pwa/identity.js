// Who this browser is to the server: an anonymous visitor device (always), and a vendor
// while one is signed in. Tokens live in IndexedDB so the service worker can use them too.
// Each identity has its own outbox client (client id + next mutation number) in "client:<kind>".
import { request } from "./kit/http.js";
import { getAll, promisify } from "./kit/idb.js";
import { kvGet, tx } from "./store.js";
import { uuid, withLock } from "./util.js";

export function getIdentity(kind) {
  return kvGet(`identity:${kind}`);
}

// The visitor's device identity, created on first use (needs the network once).
export async function deviceIdentity() {
  const known = await getIdentity("device");
  if (known) return known;
  return withLock("souk-identity", async () => {
    const again = await getIdentity("device");
    if (again) return again;
    const answer = await request("POST", "/api/devices");
    const identity = { kind: "device", token: answer.token, device_id: answer.device_id };
    await saveIdentity(identity);
    return identity;
  });
}

// The vendor if signed in, else the visitor device (if it exists yet).
export async function activeIdentity() {
  return (await getIdentity("vendor")) || getIdentity("device");
}

// A new identity gets a new outbox client (the server binds a client id to one caller); what
// that kind of identity still had queued moves over to it, numbered from 1 again.
export function saveIdentity(identity) {
  return tx(["kv", "outbox"], "readwrite", async ({ kv, outbox }) => {
    const key = `identity:${identity.kind}`;
    const before = await promisify(kv.get(key));
    kv.put(identity, key);
    if (!before || before.token !== identity.token) await newClient(kv, outbox, identity.kind);
  });
}

// Give `owner` a fresh client id and renumber its queued entries 1..n (in their order), inside
// the caller's transaction on "kv" and "outbox".
export async function newClient(kv, outbox, owner) {
  const mine = (await getAll(outbox)).filter((e) => e.owner === owner).sort((a, b) => a.mid - b.mid);
  for (const [i, entry] of mine.entries()) outbox.put({ ...entry, mid: -1 - i }); // free the unique index first
  for (const [i, entry] of mine.entries()) outbox.put({ ...entry, mid: i + 1 });
  kv.put({ client_id: uuid(), next_mid: mine.length + 1 }, `client:${owner}`);
}

export function updateIdentity(kind, changes) {
  return tx("kv", "readwrite", async ({ kv }) => {
    const current = await promisify(kv.get(`identity:${kind}`));
    if (current) kv.put({ ...current, ...changes }, `identity:${kind}`);
  });
}

export function forgetIdentity(kind) {
  return tx("kv", "readwrite", ({ kv }) => {
    kv.delete(`identity:${kind}`);
  });
}
