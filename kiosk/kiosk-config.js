// What every part of the kiosk screen shares: the address it was opened with, its settings,
// and the two long-lived objects (the event's replica and the live socket).
import { pathSlug, readParams } from "./util.js";

export const $ = (id) => document.getElementById(id);

const positive = (value, fallback) => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export const slug = pathSlug();
const params = readParams();
export const IDLE_SECONDS = positive(params.get("idle"), 90);
export const FEATURE_SECONDS = positive(params.get("feature"), 8);
export const SEARCH_STATES = ["available", "reserved"];

export const kiosk = {
  replica: null, // Replica of the event (replica.js)
  live: null, // LiveSocket of the event (/app/kit/live.js)
  blocked: false, // the token was refused: nothing runs any more
};
