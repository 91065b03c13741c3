"""The JavaScript bench_pwa.py runs in the page: its marks, reading them, and the storage survey."""

from __future__ import annotations

# Runs in every document before its own scripts: records, in ms since navigation start, when the
# stall page became usable, when the app started, drew the stall from its replica and synced.
# "Usable": the whole item list, every price in the phone's locale's form (never the server's
# "4.50 GBP"), and a visible, enabled "Message the seller" link drawn by the app's stylesheet (a
# button, not a bare inline link). Once a stall page links no render-blocking file, nothing else
# guarantees those at parse time, so they are checked. "dom_painted" is the end of the frame
# after that: the list painted, not only parsed.
MARKS_SCRIPT = """(() => {
  if (window !== window.top || !location.pathname.startsWith("/s/")) return;
  const marks = (window.__bench = {});
  const now = () => performance.now();
  const usable = (section) => {
    const heading = [...section.querySelectorAll("h2")].find((h) => /^Items \\(\\d+\\)$/.test(h.textContent.trim()));
    const rows = section.querySelectorAll("ul.items > li").length;
    if (!heading || rows === 0 || rows !== Number(heading.textContent.match(/\\d+/)[0])) return false;
    const link = [...section.querySelectorAll(".actions a, .actions button")]
      .find((el) => el.textContent.trim() === "Message the seller");
    if (!link || link.disabled || link.getAttribute("aria-disabled") === "true") return false;
    if ([...section.querySelectorAll(".price")].some((p) => /\\d [A-Z]{3}$/.test(p.textContent.trim()))) return false;
    const box = link.getBoundingClientRect();
    const style = getComputedStyle(link);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.pointerEvents !== "none"
      && style.display !== "inline";
  };
  const check = () => {
    const section = document.querySelector("main section.stall");
    if (marks.dom === undefined && section && usable(section)) {
      marks.dom = now();
      requestAnimationFrame(() => setTimeout(() => { marks.dom_painted = now(); }, 0));
    }
    if (marks.app === undefined && document.body?.dataset.view) marks.app = now();
    if (marks.app_view === undefined && section && !section.dataset.event && usable(section)) marks.app_view = now();
    if (marks.synced === undefined && document.body?.dataset.synced === "yes") marks.synced = now();
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-view", "data-synced"],
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.name === "first-contentful-paint") marks.fcp = entry.startTime;
  }).observe({ type: "paint", buffered: true });
})();"""
READ_MARKS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 1.5e7; i++) x += i % 7;
  return { ...window.__bench, html: nav.responseEnd, calibration: performance.now() - t0 + (x < 0 ? 1 : 0) };
}"""
STORAGE_SCRIPT = """async () => {
  const estimate = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : null;
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("souk");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const encoder = new TextEncoder();
  const stores = {};
  const entities = {};
  for (const name of db.objectStoreNames) {
    const values = await new Promise((resolve, reject) => {
      const all = db.transaction(name).objectStore(name).getAll();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error);
    });
    let bytes = 0;
    for (const value of values) {
      const size = encoder.encode(JSON.stringify(value) ?? "").length;
      bytes += size;
      if (name === "records") {
        // Stored records (v3 on) keep their entity in the key; items (v4) sit one record per stall.
        const kind = value.entity ?? String(value.key).split(":")[0];
        const entity = (entities[kind === "items" ? "item (in stall records)" : kind] ??= { count: 0, bytes: 0 });
        entity.count += kind === "items" ? Object.keys(value.items).length : 1;
        entity.bytes += size;
      }
    }
    stores[name] = { count: values.length, bytes };
  }
  db.close();
  const cached = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    let count = 0;
    let bytes = 0;
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      bytes += (await response.arrayBuffer()).byteLength;
      count += 1;
    }
    cached[name] = { count, bytes };
  }
  return {
    usage: estimate.usage, quota: estimate.quota, details: estimate.usageDetails || {}, persisted,
    stores, entities, caches: cached,
  };
}"""
