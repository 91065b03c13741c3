// Moving a visitor's conversations to another phone or browser. They belong to this browser's
// anonymous device token, so: "Show my code" asks the server for a short single-use code for
// this device (POST /api/devices/resume-code); "I have a code" spends one typed here
// (POST /api/devices/resume) and makes this browser that same visitor device. Both need a
// connection; nothing here goes through the outbox.
import { request } from "./kit/http.js";
import * as data from "./data.js";
import { field, h, replace, when } from "./dom.js";
import { deviceIdentity, getIdentity, saveIdentity } from "./identity.js";
import { flush } from "./outbox.js";
import * as replica from "./replica.js";

const OFFLINE = "This needs a connection: try again when you are online.";
const NEEDS = (what) => `${what} needs a connection: try again when you are online.`;

export async function mount(main, route, app) {
  const offline = h("p", { class: "note", hidden: navigator.onLine }, OFFLINE);

  // "Show my code"
  const showButton = h("button", { type: "button", class: "primary" }, "Show my code");
  const codeBox = h("div", { class: "resume-shown", "aria-live": "polite" });
  const showError = h("p", { class: "error", role: "alert" });
  showButton.addEventListener("click", showCode);

  // "I have a code"
  const input = h("input", {
    name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", maxlength: 16,
  });
  const replaces = h("p", { class: "hint", hidden: true });
  const useError = h("p", { class: "error", role: "alert" });
  const useStatus = h("p", { class: "meta", role: "status" });
  const submit = h("button", { type: "submit", class: "primary" }, "Use this code");
  const form = h("form", { class: "card-form", onsubmit: (e) => { e.preventDefault(); useCode(); } },
    h("h2", {}, "I have a code"),
    field("Code from your other phone", input, "Ten letters and digits, like ABCDE-23456."),
    replaces, useError, h("div", { class: "actions" }, submit), useStatus);

  replace(main, h("section", { class: "wrap resume" },
    h("h1", { id: "page-title" }, "Move your conversations"),
    h("p", {}, "Your messages with sellers belong to this phone or browser. To carry them to another one, "
      + "show your code here and type it in there, under “I have a code”."),
    offline,
    h("div", { class: "card-form" }, h("h2", {}, "Show my code"),
      h("p", { class: "meta" }, "A new code each time; it works once and for one day."),
      h("div", { class: "actions" }, showButton), showError, codeBox),
    form,
    h("p", {}, h("a", { class: "inline", href: "/app/#/conversations" }, "Back to my messages"))));

  // Conversations this browser has now are replaced by the other phone's: say so before.
  if (!app.vendor) {
    const own = (await data.conversations(await getIdentity("device"))).length;
    if (own) {
      replaces.hidden = false;
      replaces.textContent = own === 1
        ? "The conversation on this phone now will be replaced by the other phone’s."
        : `The ${own} conversations on this phone now will be replaced by the other phone’s.`;
    }
  }

  const connection = () => { offline.hidden = navigator.onLine; };
  addEventListener("online", connection);
  addEventListener("offline", connection);

  async function showCode() {
    showError.textContent = "";
    if (!navigator.onLine) {
      showError.textContent = NEEDS("Showing a code");
      return;
    }
    showButton.disabled = true;
    try {
      const device = await deviceIdentity();
      const answer = await request("POST", "/api/devices/resume-code", { token: device.token });
      replace(codeBox,
        h("p", { class: "resume-code" }, answer.code),
        h("p", {}, `Type it on your other phone or browser to move your conversations there (this one then starts afresh). Valid once, until ${when(answer.expires_at)}.`),
        h("p", { class: "meta" }, "Keep it to yourself: whoever types it can read and send your messages."));
    } catch (error) {
      replace(codeBox);
      showError.textContent = `Could not get a code: ${error.message}`;
    } finally {
      showButton.disabled = false;
    }
  }

  async function useCode() {
    useError.textContent = "";
    useStatus.textContent = "";
    const code = input.value.trim();
    if (!code) {
      useError.textContent = "Type the code shown on your other phone first.";
      input.focus();
      return;
    }
    if (!navigator.onLine) {
      useError.textContent = NEEDS("Using a code");
      return;
    }
    submit.disabled = true;
    input.setAttribute("aria-invalid", "false");
    try {
      // What this phone still has queued would be sent as the other phone's identity (and its
      // replies to this phone's own conversations refused): send it now, or keep the code for later.
      await flush().catch(() => {});
      const waiting = (await data.queuedEntries()).filter((e) => e.owner === "device").length;
      if (waiting) {
        useError.textContent = `${waiting === 1 ? "A message from this phone is" : `${waiting} messages from this phone are`} `
          + "still waiting to be sent; try again once they have gone (your code has not been used).";
        return;
      }
      useStatus.textContent = "Checking the code…";
      const answer = await request("POST", "/api/devices/resume", { json: { code } });
      await switchDevice(answer);
      useStatus.textContent = "Done: your conversations are on this phone now.";
      input.value = "";
      if (!app.vendor) app.go("/app/#/conversations");
    } catch (error) {
      useStatus.textContent = "";
      input.setAttribute("aria-invalid", "true");
      useError.textContent = `That code did not work: ${error.message}`;
      input.focus();
    } finally {
      submit.disabled = false;
    }
  }

  // Become the other phone's device: its token (a new outbox client), the replica's conversations
  // dropped (they were this device's), the socket and a pull as the new device.
  async function switchDevice(answer) {
    const identity = { kind: "device", token: answer.token, device_id: answer.device_id };
    await saveIdentity(identity);
    app.live?.restart();
    if (app.vendor) return; // the replica holds the vendor's inbox; the visitor's shows after sign-out
    await app.pull(); // let a pull already under way (with the old token) finish first
    await replica.clearConversations();
    if (!(await moveToConversationsEvent(identity))) await app.pull();
  }

  // A browser that never opened this market (or another one): follow the conversations.
  async function moveToConversationsEvent(identity) {
    let conversations;
    try {
      conversations = await request("GET", "/api/conversations", { token: identity.token });
    } catch {
      return false;
    }
    const current = app.slug ? await data.eventBySlug(app.slug) : null;
    if (!conversations.length || conversations.some((c) => c.event_id === current?.id)) return false;
    const newest = [...conversations].sort((a, b) => (Date.parse(b.last_message_at) || 0) - (Date.parse(a.last_message_at) || 0))[0];
    const event = await request("GET", `/api/events/${encodeURIComponent(newest.event_id)}`).catch(() => null);
    if (!event?.slug || event.slug === app.slug) return false;
    await app.setEvent(event.slug);
    await app.pull();
    return true;
  }

  return {
    destroy() {
      removeEventListener("online", connection);
      removeEventListener("offline", connection);
    },
  };
}
