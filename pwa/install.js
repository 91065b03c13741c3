// The service worker's registration, the "update available" offer (a new version waits until
// the person agrees, then takes over and the page reloads once), and the install prompt.
import { emit } from "./bus.js";

export const worker = { registration: null, waiting: null, accepted: false, installPrompt: null };

export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  let registration;
  try {
    registration = await navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/", updateViaCache: "none" });
  } catch (error) {
    console.warn("Souk works without offline support here:", error);
    return null;
  }
  worker.registration = registration;
  const offer = (waiting) => {
    worker.waiting = waiting;
    emit("update-ready");
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const installing = registration.installing;
    installing?.addEventListener("statechange", () => {
      // Only an *update* is offered; the very first install simply starts working.
      if (installing.state === "installed" && navigator.serviceWorker.controller) offer(installing);
    });
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (worker.accepted) location.reload();
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "navigate") emit("navigate", { url: event.data.url });
    if (event.data?.type === "pushed") emit("pushed");
  });
  setInterval(() => registration.update().catch(() => {}), 60 * 60 * 1000);
  return registration;
}

export function applyUpdate() {
  if (!worker.waiting) return;
  worker.accepted = true;
  worker.waiting.postMessage({ type: "skip-waiting" });
}

export async function requestBackgroundSync() {
  try {
    await worker.registration?.sync?.register("souk-outbox");
  } catch {
    // No Background Sync (Safari, Firefox): the page flushes on online/focus/start instead.
  }
}

addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  worker.installPrompt = event;
  emit("installable");
});

addEventListener("appinstalled", () => {
  worker.installPrompt = null;
  emit("installable");
});

export async function promptInstall() {
  const prompt = worker.installPrompt;
  if (!prompt) return;
  worker.installPrompt = null;
  prompt.prompt();
  await prompt.userChoice.catch(() => null);
  emit("installable");
}
