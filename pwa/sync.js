// The pull loop: bring the replica up to date from the cursor; the first pull of an event is a
// snapshot of all of it (paged by the server). `reset: true` means the server no longer has
// our place in its log: clear the replica and pull from scratch.
import { ApiError, request } from "./api.js";
import { emit } from "./bus.js";
import { activeIdentity, deviceIdentity, forgetIdentity } from "./identity.js";
import { applyPage, clearAll } from "./replica.js";
import { kvGet, kvSet } from "./store.js";

const PAGE = 500;
let running = null;
let again = false;

// Pull now; calls made while a pull runs schedule exactly one more afterwards.
export function pull(slug) {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        await pullOnce(slug);
      } while (again);
    } finally {
      running = null;
    }
  })();
  return running;
}

// A cursor belongs to whoever pulled with it: a visitor's cursor has skipped past conversations
// that were not theirs, which a vendor signing in on the same phone must still get in full.
const cursorKeyFor = (slug, identity) => `cursor:${slug}:${identity.account_id || identity.device_id || identity.kind}`;

async function pullOnce(slug) {
  let identity = (await activeIdentity()) || (await deviceIdentity());
  let cursorKey = cursorKeyFor(slug, identity);
  let cursor = (await kvGet(cursorKey)) ?? null;
  let resets = 0;
  for (let page = 0; page < 1000; page++) {
    let answer;
    try {
      answer = await request("POST", "/api/sync/pull", { token: identity.token, json: { event: slug, cursor, limit: PAGE } });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        identity = await expired(identity);
        cursorKey = cursorKeyFor(slug, identity);
        cursor = (await kvGet(cursorKey)) ?? null;
        continue;
      }
      throw error;
    }
    if (answer.reset) {
      if (++resets > 3) throw new Error("The server keeps asking to start over; try again later");
      await clearAll();
      cursor = null;
      continue;
    }
    await applyPage(answer.changes, { cursorKey, cursor: answer.cursor, fresh: cursor === null });
    cursor = answer.cursor;
    emit("pulled", { slug, snapshot: answer.snapshot });
    if (!answer.has_more) break;
  }
  await kvSet(`synced:${slug}`, new Date().toISOString());
  emit("synced", { slug });
}

// A token the server no longer knows: a vendor must sign in again; a visitor gets a new device.
async function expired(identity) {
  await forgetIdentity(identity.kind);
  emit("signed-out", { kind: identity.kind });
  if (identity.kind === "vendor") {
    const device = await activeIdentity();
    if (device) return device;
  }
  return deviceIdentity();
}
