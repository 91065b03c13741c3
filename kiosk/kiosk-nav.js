// Moving between the screen's views (welcome, search, hashtags, stalls, one stall, one item),
// the back button, and the reset to the welcome screen when nobody has touched it for a while.
import { $, IDLE_SECONDS } from "./kiosk-config.js";
import { startFeatured, stopFeatured } from "./kiosk-featured.js";
import { resetSearch } from "./kiosk-search.js";
import { renderTags } from "./kiosk-tags.js";
import { renderStalls, views } from "./kiosk-views.js";

const VIEWS = ["welcome", "search", "tags", "stalls", "stall", "item"];

export const nav = {
  view: "welcome",
  history: [],
  idleTimer: null,
  updatePending: false, // a new build is installed: reload at the next idle reset
};

export function show(view, { push = true } = {}) {
  if (push && nav.view !== view) nav.history = [...nav.history, nav.view].slice(-20);
  nav.view = view;
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  document.body.dataset.view = view;
  for (const [id, v] of [["nav-home", "welcome"], ["nav-tags", "tags"], ["nav-stalls", "stalls"]]) {
    $(id).setAttribute("aria-current", v === view ? "page" : "false");
  }
  $("nav-back").hidden = view === "welcome" || !nav.history.length;
  if (view === "welcome") startFeatured();
  else stopFeatured();
  if (view === "tags") renderTags();
  if (view === "stalls") renderStalls();
  window.scrollTo(0, 0);
}

export function back() {
  const previous = nav.history.pop() || "welcome";
  show(previous, { push: false });
}

export function resetToWelcome() {
  if (nav.updatePending) {
    location.reload();
    return;
  }
  $("stall-filter").value = "";
  resetSearch();
  views.item = null;
  nav.history = [];
  document.activeElement?.blur?.();
  show("welcome", { push: false });
}

function touched() {
  clearTimeout(nav.idleTimer);
  nav.idleTimer = setTimeout(resetToWelcome, IDLE_SECONDS * 1000);
}

/** Any touch, key or scroll restarts the idle countdown; the top bar's buttons navigate. */
export function wireNavigation() {
  for (const type of ["pointerdown", "keydown", "input", "wheel", "touchstart"]) {
    window.addEventListener(type, touched, { capture: true, passive: true });
  }
  $("nav-home").addEventListener("click", resetToWelcome);
  $("nav-tags").addEventListener("click", () => show("tags"));
  $("nav-stalls").addEventListener("click", () => show("stalls"));
  $("nav-back").addEventListener("click", back);
}
