// The network line at the top ("● Live", "Connecting…", "Offline — showing saved data"), the
// pulls that keep the replica fresh, and whether the screen is ready to run offline.
import { photoUrl } from "/app/kit/wire.js";
import { timeLabel } from "./util.js";
import { $, kiosk } from "./kiosk-config.js";

const status = { net: "connecting", worker: null, warmed: false };
const THUMBS_WARMED = 600;

export function setNet(net) {
  status.net = navigator.onLine === false ? "offline" : net;
  renderNet();
}

export function renderNet() {
  const el = $("net-status");
  const synced = kiosk.replica?.syncedAt ? ` · saved ${timeLabel(kiosk.replica.syncedAt)}` : "";
  const text = {
    live: "● Live",
    connecting: "Connecting…",
    offline: `Offline — showing saved data${synced}`,
  }[status.net];
  el.textContent = text || status.net;
  el.dataset.net = status.net;
  document.body.dataset.net = status.net;
}

export async function pull() {
  if (kiosk.blocked) return;
  try {
    await kiosk.replica.pull();
  } catch (err) {
    console.warn("kiosk: pull failed", err);
    if (navigator.onLine === false) setNet("offline");
  }
  renderNet();
  updateOfflineReady();
}

/** The service worker's registration, once it is known. */
export function workerReady(registration) {
  status.worker = registration;
  updateOfflineReady();
}

function updateOfflineReady() {
  const ready = Boolean(status.worker?.active) && kiosk.replica?.complete;
  document.body.dataset.offlineReady = ready ? "yes" : "no";
  if (ready && !status.warmed) {
    status.warmed = true;
    // Keep every stall's QR code in the worker's cache, so the directory works offline too, and
    // the thumbnails of items still for sale (at most THUMBS_WARMED: the worker's cache is bounded).
    const thumbs = kiosk.replica.items()
      .filter((item) => item.state !== "sold" && item.photos?.length)
      .slice(0, THUMBS_WARMED)
      .map((item) => photoUrl(item.photos[0], "thumb"));
    status.worker.active.postMessage({
      type: "warm",
      urls: [...kiosk.replica.stalls().map((s) => `/s/${encodeURIComponent(s.code)}/qr.svg`), ...thumbs],
    });
  }
}
