// "Notify me": Web Push, subscribed only when the person taps the button (never on load).
import { request } from "./kit/http.js";
import { h } from "./dom.js";
import { worker } from "./install.js";
import { kvGet, kvSet } from "./store.js";

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

export function pushSupported() {
  return "Notification" in globalThis && "PushManager" in globalThis && Boolean(worker.registration);
}

// How long the browser may take to answer before the person is told (a browser with no push
// service never answers pushManager.subscribe at all).
export const PUSH_TIMEOUT_MS = 10_000;
const NO_ANSWER = "Your browser did not answer: it may have no notification service (some browsers and privacy "
  + "settings turn it off). You can try again, or keep Souk open to see replies.";

function withTimeout(promise, ms) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(NO_ANSWER)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function subscribe(identity) {
  const registration = worker.registration;
  if (!pushSupported()) throw new Error("This browser cannot show notifications from Souk");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for Souk; allow them in the browser's site settings");
  const { public_key: key } = await request("GET", "/api/push/key");
  const subscription = (await registration.pushManager.getSubscription())
    || (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  await request("POST", "/api/push/subscriptions", { token: identity.token, json: subscription.toJSON() });
  await kvSet(`push:${identity.kind}`, subscription.endpoint);
}

export function notifyButton(app) {
  if (!pushSupported()) return null;
  const status = h("p", { class: "meta", role: "status" });
  const button = h("button", { type: "button", class: "secondary" }, "Notify me about replies");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    status.textContent = "Asking…";
    try {
      await withTimeout(app.identity({ create: true }).then(subscribe), PUSH_TIMEOUT_MS);
      status.textContent = "Done: replies will reach you even when Souk is closed.";
      button.hidden = true;
    } catch (error) {
      status.textContent = error.message || NO_ANSWER;
      button.textContent = "Try again: notify me about replies";
      button.disabled = false;
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
  app.identity().then(async (identity) => {
    if (identity && (await kvGet(`push:${identity.kind}`)) && Notification.permission === "granted") {
      button.hidden = true;
      status.textContent = "Notifications are on.";
    }
  });
  return h("div", { class: "notify" }, button, status);
}
