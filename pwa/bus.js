// Change notices between this page's modules, other tabs and the service worker.
// Listeners re-read IndexedDB; notices carry no data, so a missed one costs nothing.
const local = new EventTarget();
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("souk") : null;

export function emit(topic, detail = {}) {
  local.dispatchEvent(new CustomEvent(topic, { detail }));
  channel?.postMessage({ topic, detail });
}

export function on(topic, listener) {
  const handler = (event) => listener(event.detail || {});
  local.addEventListener(topic, handler);
  return () => local.removeEventListener(topic, handler);
}

/** Resolves with the next notice of `topic`. */
export function once(topic) {
  return new Promise((resolve) => {
    const stop = on(topic, (detail) => {
      stop();
      resolve(detail);
    });
  });
}

if (channel) {
  channel.onmessage = (event) => {
    const { topic, detail } = event.data || {};
    if (topic) local.dispatchEvent(new CustomEvent(topic, { detail: { ...detail, remote: true } }));
  };
}
