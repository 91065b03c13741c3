// Who this browser is to the server: an anonymous visitor device (always), and a vendor
// while one is signed in. Tokens live in IndexedDB so the service worker can use them too.
// Each identity has its own outbox client (client id + next mutation number) in "client:<kind>".
import { hasIdentity, noteIdentity, takeDevice } from "./first-visit.js";
import { request } from "./kit/http.js";
import { getAll, promisify } from "./kit/idb.js";
import { kvGet, kvSet, tx } from "./store.js";
import { uuid, withLock } from "./util.js";

export async function getIdentity(kind) {
  const identity = await kvGet(`identity:${kind}`);
  if (identity && !hasIdentity()) noteIdentity();
  return identity;
}

// The visitor's device identity, created on first use (needs the network once).
export async function deviceIdentity() {
  const known = await getIdentity("device");
  if (known) return known;
  return withLock("souk-identity", async () => {
    const again = await getIdentity("device");
    if (again) return again;
    const answer = (await takeDevice()) ?? (await request("POST", "/api/devices"));
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
    noteIdentity();
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

// ---- the visitor's name in chats ---------------------------------------------------------------
// Both sides call the visitor the same: the first name they chose, else "Visitor A64B" (the
// first four characters of the device id, as the server words it). The chosen name is kept on
// this phone at once ("name:device") and reaches the server through the outbox, so it is set
// offline just the same.

export const FIRST_NAME_MAX = 30;
// Control characters, bidi embeddings/overrides/isolates, zero-width and filler characters:
// the same the server refuses (server/domain/validate.py).
const REFUSED = /[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e\ufff9-\ufffb\u115f\u1160\u3164\uffa0<>@/\\]/u;
const isControl = (ch) => { const code = ch.codePointAt(0); return code < 0x20 || (code >= 0x7f && code <= 0x9f); };

export function defaultVisitorName(deviceId) {
  return `Visitor ${String(deviceId || "").slice(0, 4).toUpperCase()}`;
}

/** What is wrong with `name` as a first name, or "" if nothing. */
export function firstNameProblem(name) {
  const trimmed = name.normalize("NFC").trim();
  if (trimmed.length > FIRST_NAME_MAX) return `At most ${FIRST_NAME_MAX} characters, please.`;
  if (REFUSED.test(trimmed) || [...trimmed].some(isControl)) return "A first name only, please: letters, spaces, hyphens — no links or hidden characters.";
  return "";
}

/** The name this phone's visitor has chosen ("" for none), as last set here or by the server. */
export async function chosenFirstName() {
  return (await kvGet("name:device"))?.first_name ?? null;
}

/** Choose the visitor's first name ("" to go back to "Visitor A64B"): kept here, queued for the server. */
export async function setFirstName(app, name) {
  const problem = firstNameProblem(name);
  if (problem) throw new Error(problem);
  const first_name = name.normalize("NFC").trim();
  await kvSet("name:device", { first_name });
  await app.enqueue("device", "set_first_name", { first_name });
  return first_name;
}
