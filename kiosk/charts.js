// Bar charts drawn as SVG by hand: readable on a projector, no library.
// User text (stall and cause names) stays in HTML with dir="auto"; SVG carries bars and numbers.

import { h } from "/app/kit/dom.js";
import { dayKey, formatDay, formatTime } from "/app/kit/phase.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, value);
  for (const child of children) if (child != null) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** A "nice" top for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** About how wide a label of `text` is at `fontPx` (system-ui digits and letters ~0.6 em). */
const textWidth = (text, fontPx) => String(text).length * fontPx * 0.6;

export const AXIS_FONT_PX = 13; // never smaller on a phone: the SVG is drawn at its real pixel width
const VALUE_FONT_PX = 12;

/**
 * Vertical bars, one per entry (sales per hour), drawn at `width` CSS pixels so text keeps its
 * size. Axis labels are thinned to what fits (never overlapping); a bar's value is written over
 * it only where it fits too. Entries with `gap: true` are breaks (a jump of days or hours),
 * drawn as a narrow dashed divider; `day` on an entry starts a new day label under the axis.
 * @param data  [{label, value, title, day?, dayShort?, gap?, start?}]
 * @param opts  {format(value) -> string, label (accessible name), width, height}
 */
export function columnChart(data, { format = String, label = "Chart", width = 720, height = 300 } = {}) {
  width = Math.max(200, Math.round(width));
  const days = data.some((d) => d.day);
  const pad = { top: 26, right: 10, bottom: days ? 50 : 30, left: 10 };
  const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  const top = niceMax(Math.max(0, ...data.map((d) => d.value || 0)));
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    class: "chart column-chart",
    preserveAspectRatio: "xMinYMin meet",
  });
  svg.append(s("title", {}, label));
  const baseline = pad.top + inner.h;
  for (const frac of [0.5, 1]) {
    const y = baseline - inner.h * frac;
    svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "gridline" }));
  }
  if (!data.length) {
    svg.append(s("text", { x: width / 2, y: pad.top + inner.h / 2, "text-anchor": "middle", class: "empty" }, "No sales yet"));
  }
  // A break takes half a slot; every bar one.
  const units = data.reduce((n, d) => n + (d.gap ? 0.5 : 1), 0) || 1;
  const slot = inner.w / units;
  const barWidth = Math.max(2, Math.min(80, slot * 0.7));
  const widest = Math.max(0, ...data.filter((d) => !d.gap).map((d) => textWidth(d.label, AXIS_FONT_PX)));
  const labelEvery = Math.max(1, Math.ceil((widest + 10) / slot));
  const valuesFit = data.every((d) => d.gap || !d.value || textWidth(format(d.value), VALUE_FONT_PX) + 4 <= slot);
  let x0 = pad.left;
  let sinceLabel = labelEvery; // the first bar of a run is labelled
  let lastLabelEnd = -Infinity;
  const dayStarts = [];
  for (const d of data) {
    if (d.gap) {
      const mid = x0 + slot / 4;
      svg.append(s("line", { x1: mid, x2: mid, y1: pad.top, y2: baseline + 4, class: "day-break", "data-gap": d.label || "" }));
      x0 += slot / 2;
      sinceLabel = labelEvery;
      continue;
    }
    const barHeight = top ? (inner.h * d.value) / top : 0;
    const x = x0 + (slot - barWidth) / 2;
    const centre = x + barWidth / 2;
    const bar = s("rect", {
      x: x.toFixed(1),
      y: (baseline - barHeight).toFixed(1),
      width: barWidth.toFixed(1),
      height: Math.max(barHeight, d.value > 0 ? 2 : 0).toFixed(1),
      class: "bar",
      "data-value": d.value,
      "data-start": d.start || null,
    });
    bar.append(s("title", {}, d.title || `${d.label}: ${format(d.value)}`));
    svg.append(bar);
    if (valuesFit && d.value > 0) {
      svg.append(s("text", { x: centre.toFixed(1), y: (baseline - barHeight - 6).toFixed(1), "text-anchor": "middle", class: "value" }, format(d.value)));
    }
    const half = textWidth(d.label, AXIS_FONT_PX) / 2;
    if (sinceLabel >= labelEvery && centre - half >= lastLabelEnd + 6 && centre + half <= width) {
      svg.append(s("text", { x: centre.toFixed(1), y: baseline + 20, "text-anchor": "middle", class: "axis" }, d.label));
      lastLabelEnd = centre + half;
      sinceLabel = 0;
    }
    sinceLabel += 1;
    if (d.day) dayStarts.push({ x: x0, long: d.day, short: d.dayShort || d.day });
    x0 += slot;
  }
  // Each day written under its first bar (pulled back from the right edge if need be): all in
  // the long form ("Wed 13 Jan") if they fit, else all short ("13 Jan"), else as many as fit.
  const placeDays = (form) => {
    let end = -Infinity;
    return dayStarts.map((d) => {
      const text = d[form];
      const w = textWidth(text, AXIS_FONT_PX);
      const start = Math.min(Math.max(d.x, end + 8), width - 2 - w);
      if (start < end + 8) return null;
      end = start + w;
      return { text, x: start };
    });
  };
  let placed = placeDays("long");
  if (placed.includes(null)) placed = placeDays("short");
  for (const p of placed) {
    if (p) svg.append(s("text", { x: p.x.toFixed(1), y: baseline + 42, "text-anchor": "start", class: "axis day" }, p.text));
  }
  svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: baseline, y2: baseline, class: "baseline" }));
  return svg;
}

const HOUR_MS = 3_600_000;
const FILL_UP_TO_HOURS = 6; // quiet hours shown as empty bars; a longer pause becomes a break

/** An hour's first instant in ms, from `starts_at` or (older saved totals) its "YYYY-MM-DD HH:00". */
function hourStart(x) {
  const parsed = Date.parse(x.starts_at || "");
  return Number.isNaN(parsed) ? Date.parse(`${x.hour.slice(0, 10)}T${x.hour.slice(11, 13)}:00:00Z`) : parsed;
}

/**
 * The bars of "sales per hour": hours on the event's clock (`zone`), quiet hours inside a run
 * as empty bars, a new day or a long pause as a break with the day written under it — so a sale
 * days after the event is never drawn next to the event's last hour.
 * @param hours  the totals' hours [{hour, amount, sales, starts_at, day}]
 * @param opts   {format(amount) -> string, zone}
 */
export function hourBars(hours, { format = String, zone = undefined } = {}) {
  const sorted = [...hours].sort((a, b) => hourStart(a) - hourStart(b));
  const bars = [];
  let previous = null;
  let previousDay = null;
  const bar = (t, found) => {
    const day = dayKey(t, zone);
    const entry = {
      label: formatTime(t, zone),
      value: found?.amount || 0,
      start: new Date(t).toISOString(),
      title: `${formatDay(t, zone)} ${formatTime(t, zone)}: ${format(found?.amount || 0)} (${found?.sales || 0} ${found?.sales === 1 ? "sale" : "sales"})`,
      day: day !== previousDay ? formatDay(t, zone) : "",
      dayShort: day !== previousDay ? formatDay(t, zone, { weekday: false }) : "",
    };
    previousDay = day;
    return entry;
  };
  for (const x of sorted) {
    const t = hourStart(x);
    if (previous !== null) {
      const quiet = (t - previous) / HOUR_MS - 1;
      const sameDay = dayKey(t, zone) === dayKey(previous, zone);
      if (quiet > 0 && quiet <= FILL_UP_TO_HOURS && sameDay) {
        for (let q = previous + HOUR_MS; q < t; q += HOUR_MS) bars.push(bar(q, null));
      } else if (quiet > 0 || !sameDay) {
        bars.push({ gap: true, label: `${Math.round(quiet + 1)} h later`, value: 0 });
      }
    }
    bars.push(bar(t, x));
    previous = t;
  }
  return bars;
}

/**
 * Draw the hours chart into `container` at its own width, and again when that width changes
 * (a phone turned, a window resized), so labels never shrink to unreadable or overlap.
 * @param container  an element
 * @param hours      the totals' hours
 * @param opts       {format, zone, label}
 */
export function renderHourChart(container, hours, { format = String, zone = undefined, label = "Amount sold per hour" } = {}) {
  const draw = () => {
    const width = container.clientWidth || container.getBoundingClientRect().width || 720;
    const height = width < 500 ? 220 : 300;
    container.replaceChildren(columnChart(hourBars(hours, { format, zone }), { format, label, width, height }));
    container.dataset.drawnWidth = String(Math.round(width));
  };
  draw();
  container.hourChartRedraw = draw;
  if (!container.hourChartObserver && "ResizeObserver" in globalThis) {
    let lastWidth = container.clientWidth;
    container.hourChartObserver = new ResizeObserver(() => {
      if (Math.abs(container.clientWidth - lastWidth) < 8) return;
      lastWidth = container.clientWidth;
      container.hourChartRedraw?.();
    });
    container.hourChartObserver.observe(container);
  }
}

/** One horizontal bar: value against `max`, with a goal marker when there is a goal. */
export function progressBar(value, max, { goal = null, label = "", width = 400, height = 28 } = {}) {
  const scale = Math.max(max, goal || 0, 1);
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart progress",
    role: "img",
    "aria-label": label,
    preserveAspectRatio: "none",
  });
  svg.append(s("rect", { x: 0, y: 0, width, height, class: "track" }));
  const w = Math.min(width, (width * value) / scale);
  const bar = s("rect", { x: 0, y: 0, width: w.toFixed(1), height, class: goal && value >= goal ? "bar reached" : "bar", "data-value": value });
  bar.append(s("title", {}, label));
  svg.append(bar);
  if (goal) {
    const gx = Math.min(width - 2, (width * goal) / scale);
    svg.append(s("rect", { x: gx.toFixed(1), y: 0, width: 3, height, class: "goal" }));
  }
  return svg;
}

/**
 * Labelled horizontal bars (top stalls, causes): an HTML list so names can be any script.
 * @param rows  [{label, sublabel, value, goal}]
 */
export function barList(rows, { format = String, label = "Chart", showGoal = false } = {}) {
  const max = Math.max(0, ...rows.map((r) => r.value));
  return h(
    "ol",
    { class: "bar-list", "aria-label": label },
    rows.map((r) => {
      const goalText = showGoal && r.goal ? ` of ${format(r.goal)}` : "";
      const pct = showGoal && r.goal ? ` (${Math.floor((100 * r.value) / r.goal)}%)` : "";
      return h(
        "li",
        {},
        h("span", { class: "bar-label" }, h("span", { dir: "auto" }, r.label), r.sublabel ? h("small", { dir: "auto" }, ` ${r.sublabel}`) : null),
        // With goals, each bar shows progress towards its own goal; otherwise bars compare rows.
        progressBar(r.value, showGoal && r.goal ? r.goal : max, { goal: showGoal ? r.goal : null, label: `${r.label}: ${format(r.value)}${goalText}` }),
        h("span", { class: "bar-value" }, `${format(r.value)}${goalText}${pct}`),
      );
    }),
  );
}
