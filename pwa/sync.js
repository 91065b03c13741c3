// The pull loop: bring the replica up to date from the cursor (the kit's pullToHead: a `reset`,
// when the server no longer has our place in its log, is the whole snapshot, swapped in at once).
// Here: which identity pulls, where its cursor lives, and the wire format (kit/wire.js: format 2,
// expanded into records before they are applied).
// A first visit (no replica of the event yet) is staged: the pull names the stall the visitor
// scanned, so the first page holds it and its items; that page is applied and shown at once and
// the rest of the event streams in behind it.
import { emit } from "./bus.js";
import { activeIdentity, deviceIdentity, forgetIdentity } from "./identity.js";
import { HttpError, request } from "./kit/http.js";
import { folded, pullToHead } from "./kit/replica.js";
import { expandPage, FORMAT } from "./kit/wire.js";
import { all, applyPage } from "./replica.js";
import { kvGet, kvSet } from "./store.js";

const PAGE = 2000; // records a page (the most the server takes): fewer round trips on a slow link
const FIRST_PAGE = 200; // a staged first page: the scanned stall and its items, then a little more

// Pull now; calls made while a pull runs schedule exactly one more afterwards.
// `options.stall`: the code of the stall on screen, asked for first when this is a first visit.
export const pull = folded(pullOnce);

// A cursor belongs to whoever pulled with it: a visitor's cursor has skipped past conversations
// that were not theirs, which a vendor signing in on the same phone must still get in full.
const cursorKeyFor = (slug, identity) => `cursor:${slug}:${identity.account_id || identity.device_id || identity.kind}`;

// `whole`: no patches this time (a page of them did not fit the replica: kit/replica.js).
async function pullPage(slug, token, cursor, { stall, context, whole = false }) {
  const staged = Boolean(stall && !cursor);
  const json = { event: slug, cursor, limit: staged ? FIRST_PAGE : PAGE, format: FORMAT, patches: !whole };
  if (staged) json.stall = stall;
  const page = expandPage(await request("POST", "/api/sync/pull", { token, json }), context);
  // Later pages (deltas) carry no event record: they take its id and currency from here.
  const event = page.changes.find((c) => c.entity === "event" && c.data);
  if (event) Object.assign(context, { eventId: event.id, currency: event.data.currency });
  return page;
}

async function pullOnce(slug, { stall = null } = {}) {
  let identity = (await activeIdentity()) || (await deviceIdentity());
  const held = (await all("event")).find((e) => e.slug === slug) || null;
  const context = { eventId: held?.id ?? null, currency: held?.currency, origin: location.origin };
  for (let attempt = 0; ; attempt++) {
    const cursorKey = cursorKeyFor(slug, identity);
    try {
      await pullToHead({
        cursor: (await kvGet(cursorKey)) ?? null,
        progressive: !held, // a first visit: show the scanned stall as soon as its page is in
        fetchPage: (cursor, { whole = false } = {}) =>
          pullPage(slug, identity.token, cursor, { stall: held ? null : stall, context, whole }),
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
