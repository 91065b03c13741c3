// @ts-check
// The replica core shared by the app and the kiosk: what a pulled record does to the stored one,
// and the pull loop. Storage stays with each app (IndexedDB records with indexes in the app; maps
// in memory, saved to IndexedDB, in the kiosk); both apply changes with `applyChange` and pull
// with `pullToHead`, so they agree on every rule:
//
// - Records are state, not operations: {entity, id, op: "upsert"|"delete", version, data}.
//   A change replaces the stored record unless the stored one is newer (`version`): applying a
//   record twice, or an old one late, leaves the same replica, so retries are safe.
// - A delete removes the record but leaves a tombstone, {key, version, deleted: true}, which
//   remembers the version, so an older copy arriving later cannot bring the record back. A
//   tombstone has no entity, event or parent, so no IndexedDB index ever lists it.
// - Receipts only move forward: an older copy of a message never clears delivered_at/read_at.
// - A patch (op "patch": an item's changed fields, sync/FORMAT.md) lays over the stored record
//   only if that one is at the patch's `base` version or newer; otherwise applying throws
//   MissingBase and the pull loop asks for the same page again in whole records.
// - The first pull of an event, and a `reset` (the server no longer has our place in its log),
//   is a snapshot of several pages: it is gathered whole and swapped in with one write, so a
//   connection lost half-way never leaves half a market. A first visit may instead ask for the
//   snapshot `progressive`ly (nothing held to keep showing): the first page, which holds the stall
//   the visitor scanned, is applied at once and the rest streams in behind it, page by page,
//   each with the snapshot cursor that resumes it.

import { patched } from "./wire.js";

/**
 * @typedef {{entity: string, id: string, op?: string, version?: number, data?: any, base?: number, patch?: any}} Change
 * @typedef {{key: string, entity: string, id: string, version: number, event_id: string|null,
 *   parent: string|null, data: any}} LiveRecord
 * @typedef {{key: string, version: number, deleted: true}} Tombstone
 * @typedef {LiveRecord | Tombstone} StoredRecord
 * @typedef {{changes: Change[], cursor: string|null, has_more: boolean, reset?: boolean, snapshot?: boolean}} Page
 */

/** @param {string} entity @param {string|number} id */
export const recordKey = (entity, id) => `${entity}:${id}`;

/** @param {StoredRecord | null | undefined} record @returns {record is Tombstone} */
export const isTombstone = (record) => Boolean(record && "deleted" in record && record.deleted);

/** The stored shape of a pulled record (indexed by entity, event and parent). @param {Change} change @returns {LiveRecord} */
export function toRecord({ entity, id, version, data }) {
  const eventId = entity === "event" || entity === "totals" ? String(id) : data?.event_id ?? null;
  const parent = entity === "message" ? data?.conversation_id ?? null : data?.stall_id ?? null;
  return { key: recordKey(entity, id), entity, id: String(id), version: version ?? data?.version ?? 1, event_id: eventId, parent, data };
}

/** Receipts only move forward. @param {LiveRecord} existing @param {LiveRecord} incoming */
function keepReceipts(existing, incoming) {
  if (incoming.entity !== "message") return incoming;
  const data = { ...incoming.data };
  for (const field of ["delivered_at", "read_at"]) data[field] = data[field] || existing.data?.[field] || null;
  return { ...incoming, data };
}

/** A patch arrived for a record not held at its base version: the page is needed whole. */
export class MissingBase extends Error {
  /** @param {Change} change */
  constructor(change) {
    super(`no ${change.entity} ${change.id} at version ${change.base} to patch`);
    this.name = "MissingBase";
  }
}

/**
 * What to store after applying `change` over `existing`: a record, a tombstone, or null when the
 * stored one is newer (nothing to write). Throws MissingBase for a patch it cannot lay over.
 * @param {StoredRecord | null | undefined} existing
 * @param {Change} change
 * @returns {StoredRecord | null}
 */
export function applyChange(existing, change) {
  const version = change.version ?? change.data?.version ?? 1;
  if (existing && version < existing.version) return null;
  if (change.op === "delete") return { key: recordKey(change.entity, change.id), version, deleted: true };
  if (change.op === "patch") {
    if (!existing || isTombstone(existing) || existing.version < (change.base ?? Infinity)) throw new MissingBase(change);
    const data = patched(change.entity, change.id, version, existing.data, change.patch, { eventId: existing.event_id });
    return toRecord({ entity: change.entity, id: change.id, version, data });
  }
  const incoming = toRecord({ ...change, version });
  return existing && !isTombstone(existing) ? keepReceipts(existing, incoming) : incoming;
}

/**
 * Fold calls: while `run` runs, further calls schedule exactly one more run after it. The folded
 * function's `join(...args)` instead only waits for a run under way (or starts one): for a caller
 * that knows nothing new has happened since that run began (the app taking over the first pull
 * its boot module started).
 * @template {any[]} A
 * @param {(...args: A) => Promise<void>} run
 * @returns {((...args: A) => Promise<void>) & {join: (...args: A) => Promise<void>}}
 */
export function folded(run) {
  /** @type {Promise<void>|null} */
  let running = null;
  let again = false;
  /** @param {A} args */
  const call = (...args) => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run(...args);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  /** @param {A} args */
  const join = (...args) => running ?? call(...args);
  return Object.assign(call, { join });
}

/**
 * The whole snapshot, all its pages, or null if the server reset us again half-way.
 * @param {(cursor: string|null) => Promise<Page>} fetchPage
 * @returns {Promise<Page|null>}
 */
export async function wholeSnapshot(fetchPage) {
  /** @type {Change[]} */
  const changes = [];
  /** @type {string|null} */
  let cursor = null;
  for (;;) {
    const answer = await fetchPage(cursor);
    if (answer.reset) return null;
    changes.push(...answer.changes);
    cursor = answer.cursor;
    if (!answer.snapshot || !answer.has_more) return { changes, cursor, has_more: answer.has_more, snapshot: true };
  }
}

/**
 * Pull from `cursor` to the head of the log. Each page is handed to `apply(page, fresh)` with
 * the cursor that covers it (the app stores both together); `fresh` pages are whole snapshots
 * to swap in. With `progressive`, a first pull (no cursor) instead applies its first snapshot page
 * as it arrives (`fresh`: drop what was held of the event) and the later ones as plain pages
 * (a reset is still gathered whole and swapped). Resolves with the last cursor.
 * A page whose patches do not fit what is held (MissingBase) is fetched again from the same cursor
 * with `{whole: true}` (the fetcher then asks for whole records) and applied instead.
 * @param {{cursor: string|null, fetchPage: (cursor: string|null, options?: {whole?: boolean}) => Promise<Page>,
 *   apply: (page: Page, fresh: boolean) => Promise<void>, maxResets?: number, progressive?: boolean}} options
 */
export async function pullToHead({ cursor, fetchPage, apply, maxResets = 3, progressive = false }) {
  let resets = 0;
  /** @type {{cursor: string|null, page: Promise<Page>}|null} */
  let ahead = null; // the next snapshot page, asked for while this one is applied
  /** @param {string|null} from */
  const fetchAhead = (from) => {
    const page = fetchPage(from);
    page.catch(() => {}); // a failure surfaces when the page is awaited, if it ever is
    return { cursor: from, page };
  };
  for (let pages = 0; pages < 1000; pages++) {
    let fresh = cursor === null;
    if (fresh && progressive && pages === 0) {
      // A first visit (nothing held to keep showing): each snapshot page is applied as it comes,
      // with the snapshot cursor that continues it, so the first page (the scanned stall) shows at
      // once and a lost connection resumes where it stopped. The next page is already on its way
      // while one is written: on a slow link and a slow phone the two overlap.
      const first = await fetchPage(null);
      if (!first.reset) {
        ahead = first.has_more ? fetchAhead(first.cursor) : null;
        await apply(first, true);
        cursor = first.cursor;
        if (!first.has_more) break;
        continue;
      }
    }
    const early = ahead && ahead.cursor === cursor ? ahead.page : null;
    ahead = null;
    let answer = fresh ? null : await (early ?? fetchPage(cursor));
    if (progressive && answer?.snapshot && answer.has_more && !answer.reset) ahead = fetchAhead(answer.cursor);
    if (answer?.reset) fresh = true;
    if (fresh) {
      if (answer?.reset && ++resets > maxResets) throw new Error("The server keeps asking to start over; try again later");
      answer = await wholeSnapshot(fetchPage);
      if (!answer) {
        if (++resets > maxResets) throw new Error("The server keeps asking to start over; try again later");
        continue;
      }
    }
    let page = /** @type {Page} */ (answer);
    try {
      await apply(page, fresh);
    } catch (error) {
      if (!(error instanceof MissingBase) || fresh) throw error;
      page = await fetchPage(cursor, { whole: true });
      if (page.reset) continue; // the next round starts over, as for any reset
      await apply(page, false);
    }
    cursor = page.cursor;
    if (!page.has_more) break;
  }
  return cursor;
}
