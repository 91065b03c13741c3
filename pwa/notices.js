// The strip under the header: offline state, changes waiting to be sent, changes the server
// refused (with its reason, until dismissed), a new version to switch to, and installing.
import { on } from "./bus.js";
import { h, replace } from "./dom.js";
import { flushState, kick } from "./flusher.js";
import { applyUpdate, promptInstall, worker } from "./install.js";
import { dismissRejection, pending, rejections } from "./outbox.js";

const LABELS = {
  create_item: "New item", update_item: "Change to", delete_item: "Deleting", reserve_item: "Reserving",
  release_item: "Releasing", sell_item: "Sale of", update_stall: "Stall profile change", send_message: "Message",
  mark_read: "Read receipt", undo_sale: "Undoing the sale of", reserve_for_visitor: "Holding",
  release_for_visitor: "Releasing the hold on",
};

function describe(entry) {
  const what = entry.display?.title || entry.args?.title || entry.display?.text || entry.args?.body || "";
  return `${LABELS[entry.name] || entry.name}${what ? ` “${what.length > 60 ? `${what.slice(0, 60)}…` : what}”` : ""}`;
}

export function startNotices() {
  const box = document.getElementById("notices");
  const net = document.getElementById("net");
  const install = document.getElementById("install");
  if (!box) return;
  install?.addEventListener("click", () => promptInstall());
  let signedOut = null;

  async function draw() {
    const online = navigator.onLine;
    if (net) {
      net.textContent = online ? "Online" : "Offline · saved data";
      net.classList.toggle("offline", !online);
    }
    document.body.classList.toggle("is-offline", !online);
    const [queued, refused] = await Promise.all([pending(), rejections()]);
    const waiting = queued.filter((e) => e.name !== "mark_read").length;
    const state = flushState();
    const parts = [];
    if (worker.waiting) {
      parts.push(h("div", { class: "notice update", role: "alert" },
        h("p", {}, "A new version of Souk is ready."),
        h("button", { type: "button", class: "primary", onclick: () => applyUpdate() }, "Update now")));
    }
    if (install) install.hidden = !worker.installPrompt;
    if (waiting) {
      parts.push(h("div", { class: "notice pending-count", dataset: { pending: String(waiting) } },
        h("p", {}, `${waiting} ${waiting === 1 ? "change is" : "changes are"} saved on this phone and will be sent ${online ? "now" : "when there is a connection"}.`),
        online && !state.running ? h("button", { type: "button", onclick: () => kick() }, "Send now") : null));
    }
    if (state.error) parts.push(h("div", { class: "notice error", role: "alert" }, h("p", {}, `Could not send changes: ${state.error}`)));
    if (signedOut) parts.push(h("div", { class: "notice error", role: "alert" }, h("p", {}, signedOut)));
    for (const r of refused.sort((a, b) => a.id - b.id)) {
      parts.push(h("div", { class: "notice rejected", role: "alert", dataset: { rejection: String(r.id) } },
        h("p", {}, h("strong", {}, `Not saved: ${describe(r)}. `), h("span", { class: "reason", dir: "auto" }, r.reason)),
        h("button", { type: "button", "aria-label": `Dismiss: ${describe(r)}`, onclick: () => dismissRejection(r.id) }, "OK")));
    }
    replace(box, parts);
  }

  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(draw, 50);
  };
  for (const topic of ["outbox", "flush-state", "update-ready", "installable"]) on(topic, soon);
  on("signed-out", ({ kind }) => {
    if (kind === "vendor") signedOut = "Your vendor session has ended: sign in again to send your changes.";
    soon();
  });
  addEventListener("online", soon);
  addEventListener("offline", soon);
  draw();
}
