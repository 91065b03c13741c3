// A tiny promise wrapper over IndexedDB, in the spirit of jakearchibald/idb.
// Only IndexedDB requests may be awaited inside `transact` (a foreign await lets the
// transaction commit early); work that needs the network happens between transactions.

export function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDB(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction);
  return promisify(request);
}

// Resolves once the transaction has committed (data is durable), rejects if it aborted.
export function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("Transaction aborted", "AbortError"));
  });
}

// Runs `work({store: IDBObjectStore, ...}, tx)` in one transaction; resolves with its result
// after the commit. A throw inside `work` aborts the whole transaction.
export async function transact(db, names, mode, work) {
  const list = Array.isArray(names) ? names : [names];
  const tx = db.transaction(list, mode, { durability: "strict" });
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
export function getAll(source, query) {
  return promisify(source.getAll(query));
}
