// A few promise wrappers around IndexedDB; nothing more is needed by the replica.

export const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

export function openDB(name, version, upgrade) {
  const req = indexedDB.open(name, version);
  req.onupgradeneeded = () => upgrade(req.result, req.transaction);
  return done(req);
}

/** Run `fn(stores)` in one transaction; resolves with its result once the transaction commits. */
export function transact(db, names, mode, fn) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
    try {
      result = fn(stores);
    } catch (err) {
      tx.abort();
      reject(err);
    }
  });
}
