// Small helpers shared by the pages and the service worker.
import { lease, unlease } from "./lease.js";

export function uuid() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One holder at a time across tabs and the service worker: the Web Locks API, or else a
// lease in IndexedDB that lapses on its own if its holder dies.
export async function withLock(name, work) {
  if (globalThis.navigator?.locks?.request) return navigator.locks.request(name, () => work());
  for (;;) {
    const token = await lease(name);
    if (token) {
      try { return await work(); } finally { await unlease(name, token); }
    }
    await sleep(250);
  }
}
