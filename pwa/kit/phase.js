// @ts-check
// The event's clock, shared by the app, the kiosk and the dashboard: whether the market is still
// to come, on, or over ("ended" still lets people browse and chat: vendors keep selling after),
// which calendar day "today" is in the event's time zone, and one way of writing times: the
// locale's own (Intl.DateTimeFormat, so its hour cycle: "15:30" in en-GB, "3:30 PM" in en-US),
// always in the event's time zone, never a mix of "03:58 AM" here and "until 04:28" there.

/** @typedef {{starts_at: string, ends_at: string, time_zone?: string}} EventTimes */
/** @typedef {"before" | "on" | "ended"} Phase */

/** The locale times and amounts are written in: the browser's (the visitor reads them). */
export function displayLocale() {
  return globalThis.navigator?.language || "en";
}

/** @type {string | undefined} */
let currentZone;

/** The time zone of the event being shown (the app sets it once it knows the event). @param {string | undefined} zone */
export function setEventZone(zone) {
  currentZone = zone || undefined;
}

/** The event's time zone, if known (else times are shown in the device's own). */
export function eventZone() {
  return currentZone;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/**
 * A cached Intl.DateTimeFormat in `zone` (undefined: the device's own zone).
 * @param {string | undefined} zone
 * @param {Intl.DateTimeFormatOptions} options
 */
function format(zone, options) {
  const key = `${displayLocale()}|${zone || ""}|${JSON.stringify(options)}`;
  let found = formats.get(key);
  if (!found) {
    try {
      found = new Intl.DateTimeFormat(displayLocale(), { ...options, timeZone: zone });
    } catch {
      found = new Intl.DateTimeFormat(displayLocale(), options); // an unknown zone: the device's
    }
    formats.set(key, found);
  }
  return found;
}

/** @param {Date | string | number} when */
const asDate = (when) => (when instanceof Date ? when : new Date(when));

/** "15:30" / "3:30 PM": the time of day, the locale's hour cycle. @param {Date|string|number} when @param {string} [zone] */
export function formatTime(when, zone) {
  const date = asDate(when);
  return Number.isNaN(date.getTime()) ? "" : format(zone, { timeStyle: "short" }).format(date);
}

/** "9 Jan 2027, 15:30": a day and a time. @param {Date|string|number} when @param {string} [zone] */
export function formatDateTime(when, zone) {
  const date = asDate(when);
  return Number.isNaN(date.getTime()) ? "" : format(zone, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/**
 * "Sat 9 Jan" (or "9 Jan" with `weekday: false`): a short day.
 * @param {Date|string|number} when @param {string} [zone] @param {{weekday?: boolean}} [opts]
 */
export function formatDay(when, zone, { weekday = true } = {}) {
  const date = asDate(when);
  if (Number.isNaN(date.getTime())) return "";
  return format(zone, weekday ? { weekday: "short", day: "numeric", month: "short" } : { day: "numeric", month: "short" }).format(date);
}

/** The hour only ("15" / "3 PM"), for chart axes. @param {Date|string|number} when @param {string} [zone] */
export function formatHour(when, zone) {
  const date = asDate(when);
  return Number.isNaN(date.getTime()) ? "" : format(zone, { hour: "numeric" }).format(date);
}

/** A time today as a time, another day as a day and a time. @param {Date|string|number} when @param {string} [zone] */
export function formatWhen(when, zone, now = new Date()) {
  const date = asDate(when);
  if (Number.isNaN(date.getTime())) return "";
  return dayKey(date, zone) === dayKey(now, zone) ? formatTime(date, zone) : formatDateTime(date, zone);
}

/** The calendar day ("2027-01-09") of `when` in `zone`. @param {Date|string|number} when @param {string} [zone] */
export function dayKey(when, zone) {
  const parts = format(zone, { year: "numeric", month: "2-digit", day: "2-digit", calendar: "iso8601", numberingSystem: "latn" })
    .formatToParts(asDate(when));
  const part = (/** @type {string} */ type) => parts.find((p) => p.type === type)?.value || "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/**
 * Where the event is in its life at `now` (ms or a Date).
 * @param {EventTimes | null | undefined} event
 * @param {number | Date} [now]
 * @returns {Phase | null}
 */
export function eventPhase(event, now = Date.now()) {
  if (!event) return null;
  const start = Date.parse(event.starts_at);
  const end = Date.parse(event.ends_at);
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  const t = now instanceof Date ? now.getTime() : now;
  if (t >= end) return "ended";
  return t < start ? "before" : "on";
}

/**
 * What a person is told of an event that is over ("" while it is not).
 * @param {EventTimes | null | undefined} event
 * @param {number | Date} [now]
 */
export function endedNote(event, now = Date.now()) {
  if (!event || eventPhase(event, now) !== "ended") return "";
  return `This market ended on ${formatDay(event.ends_at, event.time_zone)} at ${formatTime(event.ends_at, event.time_zone)}. `
    + "You can still browse the stalls and message the sellers.";
}

/**
 * Call `fn` whenever the event's phase changes from what it is now (checked every `everyMs`):
 * a screen left open turns "ended" on its own. Returns a stop function.
 * @param {() => EventTimes | null | undefined} getEvent
 * @param {(phase: Phase | null) => void} fn
 */
export function watchPhase(getEvent, fn, everyMs = 30_000) {
  let last = eventPhase(getEvent());
  const look = () => {
    const phase = eventPhase(getEvent());
    if (phase !== last) {
      last = phase;
      fn(phase);
    }
  };
  const timer = setInterval(look, everyMs);
  return () => clearInterval(timer);
}
