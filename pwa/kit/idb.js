// @ts-check
// A tiny promise wrapper over IndexedDB, in the spirit of jakearchibald/idb.
// Only IndexedDB requests may be awaited inside `transact` (a foreign await lets the
// transaction commit early); work that needs the network happens between transactions.

/** @template T @param {IDBRequest<T>} request @returns {Promise<T>} */
export function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Open (and create or upgrade) a database.
 * @param {string} name
 * @param {number} version
 * @param {(db: IDBDatabase, oldVersion: number, tx: IDBTransaction | null) => void} upgrade
 * @returns {Promise<IDBDatabase>}
 */
export function openDB(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction);
  return promisify(request);
}

// Resolves once the transaction has committed (data is durable), rejects if it aborted.
/** @param {IDBTransaction} tx @returns {Promise<void>} */
export function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("Transaction aborted", "AbortError"));
  });
}

// Runs `work({store: IDBObjectStore, ...}, tx)` in one transaction; resolves with its result
// after the commit. A throw inside `work` aborts the whole transaction. Commits are "strict" (on
// disk before they resolve: a queued message must survive a flat battery) unless the caller
// passes "relaxed" for data it can fetch again (a pulled page and its cursor commit together
// either way; a page lost to a power cut is pulled again).
/**
 * @template T
 * @param {IDBDatabase} db
 * @param {string | string[]} names
 * @param {IDBTransactionMode} mode
 * @param {(stores: Record<string, IDBObjectStore>, tx: IDBTransaction) => T | Promise<T>} work
 * @param {"strict"|"relaxed"} [durability]
 * @returns {Promise<T>}
 */
export async function transact(db, names, mode, work, durability = "strict") {
  const list = Array.isArray(names) ? names : [names];
  const tx = db.transaction(list, mode, { durability });
  const stores = Object.fromEntries(list.map((name) => [name, tx.objectStore(name)]));
  const done = committed(tx);
  let result;
  try {
    result = await work(stores, tx);
  } catch (error) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return result;
}

// All values of a store or index, optionally within a key range.
/** @param {IDBObjectStore | IDBIndex} source @param {IDBValidKey | IDBKeyRange} [query] @returns {Promise<any[]>} */
export function getAll(source, query) {
  return promisify(source.getAll(query));
}
