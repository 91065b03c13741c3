// When the page pushes its outbox: at start, on `online`, when the page comes back into view,
// right after something is queued, and after a failure with growing, jittered delays. (The
// service worker's Background Sync is one more trigger where the browser has it.)
import { emit } from "./bus.js";
import { flush } from "./outbox.js";

const state = { attempt: 0, timer: null, error: null, running: false };

export function flushState() {
  return { error: state.error, waiting: Boolean(state.timer), running: state.running };
}

export async function kick() {
  clearTimeout(state.timer);
  state.timer = null;
  if (!navigator.onLine) return; // the `online` event brings us back
  state.running = true;
  try {
    const { sent } = await flush();
    state.attempt = 0;
    state.error = null;
    if (sent) emit("flushed", { sent });
  } catch (error) {
    if (error.retryable) {
      state.error = null;
      state.attempt += 1;
      const backoff = Math.min(60000, 1000 * 2 ** state.attempt) * (0.5 + Math.random() / 2);
      const delay = Math.max(backoff, (error.retryAfter || 0) * 1000); // a 429 says how long
      state.timer = setTimeout(kick, delay);
    } else {
      state.error = error.message || String(error);
    }
  } finally {
    state.running = false;
    emit("flush-state");
  }
}

export function startFlusher() {
  addEventListener("online", () => {
    state.attempt = 0;
    kick();
  });
  addEventListener("focus", () => kick());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") kick();
  });
  kick();
}
