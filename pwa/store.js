// Souk's IndexedDB: the replica of the event, the outbox, and small settings.
// Shared by the pages and the service worker (no window/document here).
import { openDB, promisify, transact } from "./kit/idb.js";

const NAME = "souk";
const VERSION = 1;
let opening = null;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore("kv"); // settings: identities, cursors, current event
    const records = db.createObjectStore("records", { keyPath: "key" }); // the replica
    records.createIndex("entity", "entity");
    records.createIndex("event", "event_id");
    records.createIndex("parent", "parent"); // an item's stall, a message's conversation
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("owner", ["owner", "mid"], { unique: true });
    db.createObjectStore("rejections", { keyPath: "id", autoIncrement: true });
    db.createObjectStore("favourites", { keyPath: "id" });
  }
}

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

export async function tx(names, mode, work) {
  return transact(await db(), names, mode, work);
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
