// The fallback lock where the Web Locks API is missing: a lease row in IndexedDB, taken in a
// readwrite transaction (so two takers cannot both win) and lapsing after LEASE_MS, so a tab
// or worker killed while holding it cannot block everyone forever.
import { promisify } from "./kit/idb.js";
import { tx } from "./store.js";

const LEASE_MS = 30000;

export function lease(name) {
  const token = `${Date.now()}-${Math.random()}`;
  return tx("kv", "readwrite", async ({ kv }) => {
    const held = await promisify(kv.get(`lease:${name}`));
    if (held && held.until > Date.now()) return null;
    kv.put({ token, until: Date.now() + LEASE_MS }, `lease:${name}`);
    return token;
  });
}

export function unlease(name, token) {
  return tx("kv", "readwrite", async ({ kv }) => {
    const held = await promisify(kv.get(`lease:${name}`));
    if (held?.token === token) kv.delete(`lease:${name}`);
  });
}
