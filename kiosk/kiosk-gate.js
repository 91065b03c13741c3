// The kiosk token: taken from the link once, kept on the screen, checked with the server at
// start and every few minutes; a refused token closes the screen with a message saying why.
import { request, HttpError } from "/app/kit/http.js";
import { $, kiosk, slug } from "./kiosk-config.js";
import { stopFeatured } from "./kiosk-featured.js";

const TOKEN_KEY = `souk.kiosk.token:${slug}`;
const VERIFIED_KEY = `souk.kiosk.verified:${slug}`;

const BLOCKS = {
  missing: [
    "This screen needs a kiosk token from the organizer",
    "Ask the organizer to create a kiosk link in their dashboard (Kiosk screens) and open it on this screen.",
  ],
  401: [
    "This screen needs a kiosk token from the organizer",
    "The token this screen has is not known to the market. Ask the organizer for a new kiosk link.",
  ],
  403: [
    "This kiosk token belongs to another event",
    "This screen was set up for a different event. Ask the organizer for this event's kiosk link.",
  ],
  404: ["There is no event at this address", "Check the kiosk link with the organizer."],
  waiting: [
    "Waiting for the network…",
    "This screen starts as soon as it can reach the market server. It keeps trying on its own.",
  ],
};

export function takeToken() {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromLink = hash.get("token");
  if (fromLink) {
    localStorage.setItem(TOKEN_KEY, fromLink);
    hash.delete("token");
    const rest = hash.toString();
    // Keep the token off the screen and out of the history.
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return localStorage.getItem(TOKEN_KEY);
}

/** Resolves once a token is there: from a link opened in this tab (only the hash changes, so the
 * page is not reloaded), from another tab of this screen (a storage event), or on a return to
 * the tab (pageshow/focus), whichever comes first; `refused` (a token the server said no to)
 * does not count. */
export function whenTokenArrives(refused = null) {
  return new Promise((resolve) => {
    const events = ["hashchange", "storage", "pageshow", "focus"];
    const look = () => {
      const token = takeToken();
      if (!token || token === refused) return;
      for (const name of events) window.removeEventListener(name, look);
      resolve(undefined);
    };
    for (const name of events) window.addEventListener(name, look);
  });
}

/** Whether this token was accepted before (then the screen may run on saved data offline). */
export const verifiedBefore = (token) => localStorage.getItem(VERIFIED_KEY) === token;

export function block(kind) {
  const [title, detail] = BLOCKS[kind] || BLOCKS[401];
  $("blocked-title").textContent = title;
  $("blocked-detail").textContent = detail;
  $("blocked").hidden = false;
  $("screen").hidden = true;
  document.body.dataset.blocked = String(kind);
  document.title = title;
  if (kind !== "waiting") {
    kiosk.blocked = true;
    kiosk.live?.stop();
    stopFeatured();
  }
}

export function unblock() {
  $("blocked").hidden = true;
  $("screen").hidden = false;
  delete document.body.dataset.blocked;
}

/** Ask the server whether the token opens this event: the setup data, "offline", or null (refused). */
export async function verify(token, { once = false } = {}) {
  for (;;) {
    try {
      const setup = await request("GET", `/api/kiosk/${encodeURIComponent(slug)}`, { headers: { token }, timeout: 8000 });
      localStorage.setItem(VERIFIED_KEY, token);
      return setup;
    } catch (err) {
      if (err instanceof HttpError && [401, 403, 404].includes(err.status)) {
        localStorage.removeItem(VERIFIED_KEY); // revoked: no running on saved data offline either
        block(err.status);
        return null;
      }
      // No network (or a server hiccup): a screen that was verified before runs on its saved data.
      if (verifiedBefore(token) && kiosk.replica.hasData) return "offline";
      if (once) return "offline";
      block("waiting");
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        window.addEventListener("online", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}

/** The set-up answer (event, stalls, causes, totals) into the replica, with the version rule. */
export function seedFromSetup(setup) {
  const up = (entity, data, version) => ({ entity, id: String(data.id), op: "upsert", version, data });
  return kiosk.replica.seed([
    up("event", setup.event, setup.event.version),
    ...setup.stalls.map((s) => up("stall", s, s.version)),
    ...setup.causes.map((c) => up("cause", c, c.version)),
    { entity: "totals", id: String(setup.event.id), op: "upsert", version: setup.totals.sales, data: setup.totals },
  ]);
}

/** Check the token again (a revoked one closes the screen); fresh set-up data is seeded. */
export async function recheck(token) {
  const setup = await verify(token, { once: true });
  if (setup && setup !== "offline") await seedFromSetup(setup);
}
