// Bar charts drawn as SVG by hand: readable on a projector, no library.
// User text (stall and cause names) stays in HTML with dir="auto"; SVG carries bars and numbers.

import { h } from "/app/kit/dom.js";

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

/**
 * Vertical bars, one per entry (sales per hour).
 * @param data  [{label, value, title}]
 * @param opts  {format(value) -> string, label (accessible name), width, height}
 */
export function columnChart(data, { format = String, label = "Chart", width = 720, height = 300 } = {}) {
  const pad = { top: 34, right: 12, bottom: 40, left: 12 };
  const inner = { w: width - pad.left - pad.right, h: height - pad.top - pad.bottom };
  const top = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    class: "chart column-chart",
    preserveAspectRatio: "xMidYMid meet",
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
  const slot = inner.w / Math.max(data.length, 1);
  const barWidth = Math.max(4, Math.min(80, slot * 0.7));
  const labelEvery = Math.ceil(data.length / Math.max(1, Math.floor(inner.w / 70)));
  data.forEach((d, i) => {
    const barHeight = top ? (inner.h * d.value) / top : 0;
    const x = pad.left + slot * i + (slot - barWidth) / 2;
    const bar = s("rect", {
      x: x.toFixed(1),
      y: (baseline - barHeight).toFixed(1),
      width: barWidth.toFixed(1),
      height: Math.max(barHeight, d.value > 0 ? 2 : 0).toFixed(1),
      class: "bar",
      "data-value": d.value,
    });
    bar.append(s("title", {}, d.title || `${d.label}: ${format(d.value)}`));
    svg.append(bar);
    if (data.length <= 12 && d.value > 0) {
      svg.append(
        s("text", { x: (x + barWidth / 2).toFixed(1), y: (baseline - barHeight - 8).toFixed(1), "text-anchor": "middle", class: "value" }, format(d.value)),
      );
    }
    if (i % labelEvery === 0) {
      svg.append(s("text", { x: (x + barWidth / 2).toFixed(1), y: baseline + 28, "text-anchor": "middle", class: "axis" }, d.label));
    }
  });
  svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: baseline, y2: baseline, class: "baseline" }));
  return svg;
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
