// The pull loop: bring the replica up to date from the cursor (the kit's pullToHead: the first
// pull of an event, or a `reset` when the server no longer has our place in its log, is the
// whole snapshot, swapped in at once). Here: which identity pulls, and where its cursor lives.
import { emit } from "./bus.js";
import { activeIdentity, deviceIdentity, forgetIdentity } from "./identity.js";
import { HttpError, request } from "./kit/http.js";
import { folded, pullToHead } from "./kit/replica.js";
import { applyPage } from "./replica.js";
import { kvGet, kvSet } from "./store.js";

const PAGE = 500;

// Pull now; calls made while a pull runs schedule exactly one more afterwards.
export const pull = folded(pullOnce);

// A cursor belongs to whoever pulled with it: a visitor's cursor has skipped past conversations
// that were not theirs, which a vendor signing in on the same phone must still get in full.
const cursorKeyFor = (slug, identity) => `cursor:${slug}:${identity.account_id || identity.device_id || identity.kind}`;

const pullPage = (slug, token, cursor) =>
  request("POST", "/api/sync/pull", { token, json: { event: slug, cursor, limit: PAGE } });

async function pullOnce(slug) {
  let identity = (await activeIdentity()) || (await deviceIdentity());
  for (let attempt = 0; ; attempt++) {
    const cursorKey = cursorKeyFor(slug, identity);
    try {
      await pullToHead({
        cursor: (await kvGet(cursorKey)) ?? null,
        fetchPage: (cursor) => pullPage(slug, identity.token, cursor),
        apply: async (page, fresh) => {
          await applyPage(page.changes, { cursorKey, cursor: page.cursor, fresh });
          emit("pulled", { slug, snapshot: page.snapshot });
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 401) || attempt >= 3) throw error;
      identity = await expired(identity); // and start again from that identity's own cursor
    }
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
