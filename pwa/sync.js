// The pull loop: bring the replica up to date from the cursor; the first pull of an event is a
// snapshot of all of it (paged by the server). `reset: true` means the server no longer has
// our place in its log: the snapshot again, swapped in whole.
import { ApiError, request } from "./api.js";
import { emit } from "./bus.js";
import { activeIdentity, deviceIdentity, forgetIdentity } from "./identity.js";
import { applyPage } from "./replica.js";
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

const pullPage = (slug, token, cursor) =>
  request("POST", "/api/sync/pull", { token, json: { event: slug, cursor, limit: PAGE } });

async function pullOnce(slug) {
  let identity = (await activeIdentity()) || (await deviceIdentity());
  let cursorKey = cursorKeyFor(slug, identity);
  let cursor = (await kvGet(cursorKey)) ?? null;
  let resets = 0;
  for (let page = 0; page < 1000; page++) {
    let answer;
    try {
      answer = await pullPage(slug, identity.token, cursor);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        identity = await expired(identity);
        cursorKey = cursorKeyFor(slug, identity);
        cursor = (await kvGet(cursorKey)) ?? null;
        continue;
      }
      throw error;
    }
    let fresh = cursor === null;
    if (answer.reset) {
      if (++resets > 3) throw new Error("The server keeps asking to start over; try again later");
      answer = await wholeSnapshot(slug, identity.token);
      if (!answer) continue; // reset again half-way: ask again
      fresh = true;
    }
    await applyPage(answer.changes, { cursorKey, cursor: answer.cursor, fresh });
    cursor = answer.cursor;
    emit("pulled", { slug, snapshot: answer.snapshot });
    if (!answer.has_more) break;
  }
  await kvSet(`synced:${slug}`, new Date().toISOString());
  emit("synced", { slug });
}

// The server no longer has our place in its log (it was compacted): take the snapshot again, all
// of it, and swap it in with one transaction, so the replica we have stays whole and usable
// offline until every page of the new one is here. Null if the server resets us again mid-way.
async function wholeSnapshot(slug, token) {
  const changes = [];
  let cursor = null;
  for (;;) {
    const answer = await pullPage(slug, token, cursor);
    if (answer.reset) return null;
    changes.push(...answer.changes);
    cursor = answer.cursor;
    if (!answer.snapshot || !answer.has_more) return { changes, cursor, has_more: answer.has_more, snapshot: true };
  }
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
