// The event's phase on the organizer's dashboard and the entrance kiosk: "Today" means today in
// the event's time zone (not the whole event), the hours chart is drawn on the event's clock at
// the screen's own width, and once the market is over both say so — while everything stays
// browsable (vendors keep selling and chatting after the market).
import { h } from "/app/kit/dom.js";
import { request } from "/app/kit/http.js";
import { dayKey, endedNote, eventPhase, formatDay, watchPhase } from "/app/kit/phase.js";
import { renderHourChart } from "./charts.js";

const $ = (id) => document.getElementById(id);

/** Today's figures if the totals know them for today in the event's zone (zero if a day has turned since). */
function todayOf(totals, event) {
  const today = dayKey(new Date(), event?.time_zone);
  if (totals?.today && totals.today.date === today) return totals.today;
  return { date: today, amount: 0, sales: 0 };
}

/** A banner at the top of `parent` saying the market has ended (removed when it has not). */
function endedBanner(parent, event, before = parent.firstChild) {
  let banner = $("ended-banner");
  const note = endedNote(event);
  document.body.dataset.phase = eventPhase(event) || "";
  if (!note) {
    banner?.remove();
    return;
  }
  if (!banner) {
    banner = h("p", { id: "ended-banner", class: "ended-banner", role: "status" });
    parent.insertBefore(banner, before);
  }
  banner.textContent = note;
}

// ---- the dashboard ---------------------------------------------------------------------------

const dash = { event: null, loading: null, totals: null, money: String, stop: null };

function dashboardEvent(slug) {
  const saved = JSON.parse(localStorage.getItem(`souk.dashboard.event:${slug}`) || "null");
  if (saved) dash.event = saved;
  dash.loading ||= request("GET", `/api/events/${encodeURIComponent(slug)}`)
    .then((event) => {
      dash.event = event;
      drawDashboard();
    })
    .catch(() => {
      dash.loading = null; // offline: asked again with the next totals
    });
  return dash.event;
}

function drawDashboard() {
  const event = dash.event;
  const totals = dash.totals;
  if (!totals) return;
  const money = dash.money;
  const zone = event?.time_zone;
  const phase = eventPhase(event);
  if ($("hours-chart")) renderHourChart($("hours-chart"), totals.hours || [], { format: money, zone });
  const title = $("figures-title");
  if (title && event) {
    let whole = $("figures-whole");
    if (!whole) {
      whole = h("p", { id: "figures-whole", class: "note" });
      title.parentElement?.querySelector(".figures")?.after(whole);
    }
    if (phase === "ended") {
      title.textContent = "Whole market";
      $("total-amount").textContent = money(totals.amount);
      $("total-sales").textContent = String(totals.sales);
      whole.textContent = `Ended ${formatDay(event.ends_at, zone)}.`;
    } else {
      const today = todayOf(totals, event);
      title.textContent = `Today, ${formatDay(new Date(), zone)}`;
      $("total-amount").textContent = money(today.amount);
      $("total-sales").textContent = String(today.sales);
      whole.textContent = `Whole market so far: ${money(totals.amount)} from ${totals.sales} ${totals.sales === 1 ? "sale" : "sales"}.`;
    }
  }
  const dashboard = $("dashboard");
  if (dashboard && event) endedBanner(dashboard, event);
}

/** The dashboard's hook, called after each totals render: `money(amount)` writes an amount. */
export function dashboardPhase(slug, totals, money) {
  dash.totals = totals;
  dash.money = money;
  dashboardEvent(slug);
  drawDashboard();
  dash.stop ||= watchPhase(() => dash.event, () => drawDashboard());
}

// ---- the kiosk -------------------------------------------------------------------------------

let kioskStop = null;

/** The kiosk's hook: `replica` is the kiosk's replica (event and totals), `money(amount)` writes an amount. */
export function kioskPhase(replica, money) {
  const event = replica?.event();
  const totals = replica?.totals();
  if (!event) return;
  const screen = $("screen");
  if (screen) endedBanner(screen, event, $("main"));
  const title = $("totals-title");
  if (title && totals) {
    if (eventPhase(event) === "ended") {
      title.textContent = "Sold at the market";
      $("total-amount").textContent = money(totals.amount);
      $("total-sales").textContent = `${totals.sales} ${totals.sales === 1 ? "sale" : "sales"}`;
    } else {
      const today = todayOf(totals, event);
      title.textContent = "Sold at the market today";
      $("total-amount").textContent = money(today.amount);
      $("total-sales").textContent = `${today.sales} ${today.sales === 1 ? "sale" : "sales"}`;
    }
    // The whole market's figure too, when it is not the same as today's.
    let all = $("total-all");
    const differs = eventPhase(event) !== "ended" && todayOf(totals, event).sales !== totals.sales;
    if (differs && !all) {
      all = h("p", { id: "total-all", class: "meta" });
      $("total-sales")?.after(all);
    }
    if (all) {
      all.hidden = !differs;
      all.textContent = `${money(totals.amount)} since the market opened`;
    }
  }
  kioskStop ||= watchPhase(() => replica.event(), () => kioskPhase(replica, money));
}
