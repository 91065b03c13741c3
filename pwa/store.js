// Souk's IndexedDB: the replica of the event, the outbox, and small settings.
// Shared by the pages and the service worker (no window/document here).
//
// Versions: 1 stored records in the REST shape (photo URLs, tag_keys, event_id in every record)
// with three indexes (entity, event, parent). 2 stores them lean (kit/wire.js `compact`) with one
// index, `parent` (an item's stall, a message's conversation): an entity's records are a range of
// keys ("item:…"), and a phone holds one or two events, so records of an event are those of the
// entity with that event_id. 3 stores them without what they repeat (stored.js: the entity and
// id are the key's halves, an item's stall its parent, photo keys in base64url). 4 keeps items
// one record per stall (bundles.js: a third of the bytes on disk). Upgrading converts the
// replica in place (offline too): cursors, the outbox and favourites are kept as they are, so
// queued changes are sent exactly once.
import { pack } from "./bundles.js";
import { openDB, promisify, transact } from "./kit/idb.js";
import { toStored } from "./stored.js";

const NAME = "souk";
const VERSION = 4;
let opening = null;

function upgrade(db, oldVersion, transaction) {
  if (oldVersion < 1) {
    db.createObjectStore("kv"); // settings: identities, cursors, current event
    const records = db.createObjectStore("records", { keyPath: "key" }); // the replica
    records.createIndex("parent", "parent"); // an item's stall, a message's conversation
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("owner", ["owner", "mid"], { unique: true });
    db.createObjectStore("rejections", { keyPath: "id", autoIncrement: true });
    db.createObjectStore("favourites", { keyPath: "id" });
    return;
  }
  const records = transaction.objectStore("records");
  if (oldVersion < 2) {
    for (const name of ["entity", "event"]) if (records.indexNames.contains(name)) records.deleteIndex(name);
  }
  if (oldVersion < 4) {
    // One walk takes a record of any earlier version (REST-shaped or lean) to the stored form,
    // and gathers the items into their stalls' bundles, written when the walk ends.
    const stalls = new Map();
    const walk = records.openCursor();
    walk.onsuccess = () => {
      const cursor = walk.result;
      if (!cursor) {
        for (const [stall, items] of stalls) records.put(pack(stall, items));
        return;
      }
      const record = cursor.value.data ? toStored(cursor.value) : cursor.value;
      if (String(record.key).startsWith("item:")) {
        const stall = record.deleted ? "" : record.parent ?? "";
        if (!stalls.has(stall)) stalls.set(stall, []);
        stalls.get(stall).push(record);
        cursor.delete();
      } else if (oldVersion < 3 && cursor.value.data) cursor.update(record);
      cursor.continue();
    };
  }
}

// The key range of one entity's records (tombstones of it included: callers skip them).
export const entityRange = (entity) => IDBKeyRange.bound(`${entity}:`, `${entity}:\uffff`);

export function db() {
  if (!opening) {
    opening = openDB(NAME, VERSION, upgrade).then((opened) => {
      // Another tab wants a newer schema: step aside, reopen on next use.
      opened.onversionchange = () => { opened.close(); opening = null; };
      opened.onclose = () => { opening = null; };
      return opened;
    }, (error) => { opening = null; throw error; });
  }
  return opening;
}

export async function tx(names, mode, work, durability = "strict") {
  return transact(await db(), names, mode, work, durability);
}

export async function kvGet(key) {
  return tx("kv", "readonly", ({ kv }) => promisify(kv.get(key)));
}

export async function kvSet(key, value) {
  return tx("kv", "readwrite", ({ kv }) => promisify(kv.put(value, key)));
}

export async function kvDelete(key) {
  return tx("kv", "readwrite", ({ kv }) => promisify(kv.delete(key)));
}
