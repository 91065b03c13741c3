// One conversation: messages with their marks (waiting to send / sent / delivered / read),
// "typing…", "the seller is away", and a composer whose messages go through the outbox, so
// they are written offline just the same and delivered once, in order, when the network returns.
import { request } from "./kit/http.js";
import { on } from "./bus.js";
import { pendingMark } from "./cards.js";
import * as data from "./data.js";
import { h, photo, replace, userText, when } from "./dom.js";
import { kvGet, kvSet } from "./store.js";
import { formatMoney } from "./kit/money.js";
import { resizePhoto } from "./photo.js";
import { notifyButton } from "./push.js";
import * as replica from "./replica.js";
import { askHoldLength, HOLD_CHOICES } from "./holds.js";
import { uuid } from "./util.js";
import { visitorName } from "./view-conversations.js";
import { chosenFirstName, defaultVisitorName, FIRST_NAME_MAX, firstNameProblem, setFirstName } from "./identity.js";

const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 3000;

// The prefilled first message, worded like the server's (GET /api/stalls/{code}/intro).
function localIntro(stallName, eventName, itemTitle) {
  return itemTitle
    ? `Hello ${stallName}! I'm at ${eventName} and I'm interested in “${itemTitle}”.`
    : `Hello ${stallName}! I'm at ${eventName} and I'd like to ask about your stall.`;
}

export async function mount(main, route, app) {
  let identity = await app.identity();
  const side = identity?.kind === "vendor" ? "vendor" : "visitor";
  let conversationId = route.name === "thread" ? route.params.id : null;
  let stallCode = route.name === "chat" ? route.params.code : null;
  let itemId = route.query.get("item") || null;
  if (!conversationId && stallCode) {
    const existing = (await data.conversations(identity)).find((c) => c.stall_code === stallCode);
    if (existing) {
      conversationId = existing.id;
      history.replaceState(history.state, "", `/app/#/conversations/${conversationId}`);
    }
  }

  // A new conversation starts with the prefilled introduction (worked out before the form shows).
  let intro = null;
  if (!conversationId && stallCode && side === "visitor") {
    const stall = await data.stallByCode(stallCode);
    const event = stall ? await replica.get("event", stall.event_id) : null;
    const item = itemId ? await data.item(itemId) : null;
    intro = { stallName: stall?.name || "Message the seller", text: localIntro(stall?.name || "there", event?.name || "the market", item?.title) };
  }

  const title = h("h1", { id: "page-title" }, "Conversation");
  const away = h("p", { class: "note", hidden: true }, "The seller is away; your message will wait for them.");
  const typing = h("p", { class: "typing meta", "aria-live": "polite" });
  const list = h("ol", { class: "messages", "aria-label": "Messages" });
  const body = h("textarea", { id: "compose", name: "body", rows: 3, maxlength: 2000, dir: "auto", autocomplete: "off" });
  const status = h("p", { class: "meta", role: "status" });
  const replies = h("div", { class: "quick", hidden: true });
  const extra = h("div", { class: "actions" });
  // A photo with the message: made small here (photo.js), queued with it; the outbox uploads it first.
  const camera = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment", hidden: true, "aria-label": "Photo to send" });
  const addPhoto = h("button", { type: "button", onclick: () => camera.click() }, "Add photo");
  const attached = h("div", { class: "actions", hidden: true });
  const form = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); send(); } },
    h("label", { for: "compose" }, "Message"), body, replies,
    h("div", { class: "actions" }, addPhoto, camera), attached,
    h("button", { type: "submit", class: "primary" }, "Send"), status);
  const youAre = side === "visitor" ? nameLine() : null;
  replace(main, h("section", { class: "thread wrap" }, title, youAre?.line, youAre?.form, away, list, typing, form, extra, notifyButton(app)));

  body.addEventListener("input", () => {
    body.dataset.touched = "1";
    sendTyping();
  });
  if (intro) {
    body.value = intro.text;
    title.replaceChildren(userText("span", intro.stallName));
    if (navigator.onLine) {
      const query = itemId ? `?item=${encodeURIComponent(itemId)}` : "";
      request("GET", `/api/stalls/${encodeURIComponent(stallCode)}/intro${query}`, { timeout: 4000 })
        .then((answer) => { if (!body.dataset.touched) body.value = answer.text; }).catch(() => {});
    }
  }

  let photoBlob = null;
  let photoUrl = null;
  let preparing = null;
  camera.addEventListener("change", () => {
    const file = camera.files?.[0];
    camera.value = ""; // the same photo can be chosen again after "Remove"
    if (!file) return;
    status.textContent = "Preparing the photo…";
    preparing = resizePhoto(file).then((blob) => {
      setPhoto(blob);
      status.textContent = "";
    }, (error) => {
      setPhoto(null);
      status.textContent = error.message || "Could not read this photo";
    }).finally(() => { preparing = null; });
  });

  function setPhoto(blob) {
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    photoBlob = blob;
    photoUrl = blob ? URL.createObjectURL(blob) : null;
    attached.hidden = !blob;
    addPhoto.textContent = blob ? "Change photo" : "Add photo";
    replace(attached, blob ? [
      photo(photoUrl, { width: 240, height: 180, cls: "msg-photo", alt: "Photo to send", eager: true }),
      h("button", { type: "button", onclick: () => { setPhoto(null); addPhoto.focus(); } }, "Remove photo"),
    ] : null);
  }

  let lastTyping = 0;
  function sendTyping() {
    if (!conversationId || Date.now() - lastTyping < TYPING_SENT_EVERY_MS) return;
    lastTyping = Date.now();
    app.live?.send({ type: "typing", conversation_id: conversationId });
  }

  let typingTimer = null;
  const stopTyping = on("typing", (frame) => {
    if (frame.conversation_id !== conversationId) return;
    typing.textContent = frame.by === "vendor" ? "The seller is typing…" : "The visitor is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typing.textContent = ""; }, TYPING_SHOWN_MS);
  });

  async function send() {
    const text = body.value.trim();
    if (preparing) await preparing;
    if (!text && !photoBlob) {
      status.textContent = "Write a message or add a photo first.";
      body.focus();
      return;
    }
    identity = await app.identity({ create: true }).catch(() => null);
    if (!identity) {
      status.textContent = "Connect to the internet once so Souk can set up this phone; then messages work offline too.";
      return;
    }
    const first = !conversationId;
    conversationId ||= uuid();
    const args = { conversation_id: conversationId, message_id: uuid(), body: text };
    if (side === "visitor" && stallCode) args.stall_code = stallCode;
    if (first && itemId) args.item_id = itemId;
    const stall = stallCode ? await data.stallByCode(stallCode) : null;
    await app.enqueue(identity.kind, "send_message", args, { photo: photoBlob, display: { stall_name: stall?.name, text: text || "Photo" } });
    body.value = "";
    setPhoto(null);
    delete body.dataset.touched;
    status.textContent = navigator.onLine ? "" : "Saved on this phone; it will be sent when there is a connection.";
    if (first) history.replaceState(history.state, "", `/app/#/conversations/${conversationId}`);
    await update();
  }

  // "You are Visitor A64B": the visitor sees the name the seller sees, and may choose a first
  // name instead (kept on this phone at once, sent through the outbox like a message).
  function nameLine() {
    const shownName = h("strong", { dir: "auto", class: "you-name" });
    const change = h("button", { type: "button", class: "link", "aria-expanded": "false", "aria-controls": "name-form" }, "Change name");
    const line = h("p", { class: "you-are meta" }, "You are ", shownName, " to the seller. ", change);
    const input = h("input", { id: "first-name", name: "first_name", maxlength: FIRST_NAME_MAX, autocomplete: "given-name", dir: "auto", enterkeyhint: "done" });
    const problem = h("p", { class: "form-error", id: "first-name-problem", role: "alert" });
    const nameForm = h("form", { class: "name-form", id: "name-form", hidden: true, onsubmit: async (e) => {
      e.preventDefault();
      identity = await app.identity({ create: true }).catch(() => null);
      if (!identity) {
        problem.textContent = "Connect to the internet once so Souk can set up this phone.";
        return;
      }
      try {
        await setFirstName(app, input.value);
      } catch (error) {
        problem.textContent = error.message;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      problem.textContent = "";
      input.removeAttribute("aria-invalid");
      nameForm.hidden = true;
      change.setAttribute("aria-expanded", "false");
      await showName();
      change.focus();
    } },
    h("label", { for: "first-name" }, "Your first name, as the seller will see it"),
    input,
    h("p", { class: "meta" }, "Leave it empty to stay “", defaultVisitorName(identity?.device_id), "”."),
    problem,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save name"),
      h("button", { type: "button", onclick: () => { nameForm.hidden = true; change.setAttribute("aria-expanded", "false"); change.focus(); } }, "Cancel")));
    input.setAttribute("aria-describedby", "first-name-problem");
    input.addEventListener("input", () => { problem.textContent = firstNameProblem(input.value); });
    change.addEventListener("click", async () => {
      nameForm.hidden = !nameForm.hidden;
      change.setAttribute("aria-expanded", String(!nameForm.hidden));
      if (!nameForm.hidden) {
        input.value = (await chosenFirstName()) || "";
        input.focus();
      }
    });
    let conversationName = "";
    async function showName(fromConversation) {
      if (fromConversation !== undefined) conversationName = fromConversation;
      const chosen = await chosenFirstName();
      const deviceId = identity?.kind === "device" ? identity.device_id : null;
      shownName.textContent = chosen || (chosen === null && conversationName) || defaultVisitorName(deviceId);
      line.hidden = !deviceId && !conversationName && !chosen;
    }
    showName();
    return { line, form: nameForm, showName };
  }

  let shown = "";
  async function update() {
    if (!conversationId) return;
    const conversation = (await data.conversations(identity)).find((c) => c.id === conversationId)
      || (await replica.get("conversation", conversationId));
    if (conversation) {
      await youAre?.showName(conversation.visitor_name || "");
      stallCode ||= conversation.stall_code;
      title.replaceChildren(userText("span", side === "vendor" ? visitorName(conversation) : conversation.stall_name));
      away.hidden = !(side === "visitor" && conversation.seller_online === false);
      await vendorTools(conversation);
    }
    const messages = await data.messages(conversationId, side);
    const signature = JSON.stringify(messages);
    if (signature !== shown) {
      shown = signature;
      const atEnd = list.lastElementChild ? list.getBoundingClientRect().bottom <= innerHeight + 40 : true;
      replace(list, messages.map((m) => bubble(m, side)));
      if (atEnd) list.lastElementChild?.scrollIntoView({ block: "nearest" });
    }
    await markRead(conversation, messages);
  }

  // Read receipts go through the outbox too (mark_read), once per new message seen.
  async function markRead(conversation, messages) {
    if (!conversation?.unread || document.visibilityState !== "visible") return;
    const upTo = Math.max(0, ...messages.filter((m) => m.sender !== side && m.seq).map((m) => m.seq));
    if (!upTo) return;
    const queued = (await data.queuedEntries()).some((e) =>
      e.name === "mark_read" && e.args.conversation_id === conversationId && e.args.up_to_seq >= upTo);
    if (!queued) await app.enqueue(identity.kind, "mark_read", { conversation_id: conversationId, up_to_seq: upTo });
  }

  let toolsFor = null;
  async function vendorTools(conversation) {
    if (side !== "vendor" || toolsFor === conversation.id) return;
    toolsFor = conversation.id;
    const texts = (await kvGet("quick-replies")) || [];
    if (navigator.onLine) {
      request("GET", "/api/quick-replies", { token: identity.token }).then(async (answer) => {
        await kvSet("quick-replies", answer);
        fillReplies(answer);
      }).catch(() => {});
    }
    fillReplies(texts);
    const tools = [blockButton(conversation)];
    if (conversation.item_id) {
      tools.unshift(await holdButton(conversation));
    }
    replace(extra, tools);
  }

  // Hold one unit of the conversation's item for this visitor, for as long as the vendor
  // chooses; once held, the same button releases it. Both go through the outbox (offline too),
  // and the server tells the visitor in the chat.
  async function holdButton(conversation) {
    const itemId = conversation.item_id;
    const itemTitle = (await replica.get("item", itemId))?.title || "item";
    let held = await heldForVisitor(conversation);
    const button = h("button", { type: "button" });
    const show = () => {
      button.textContent = held ? "Release the hold for this visitor" : "Hold one for this visitor…";
    };
    button.addEventListener("click", async () => {
      if (held) {
        await app.enqueue("vendor", "release_for_visitor", { conversation_id: conversation.id, item_id: itemId },
          { display: { title: itemTitle, item_id: itemId } });
        held = false;
        status.textContent = "Hold released; the visitor is told.";
      } else {
        const length = await askHoldLength(itemTitle, button, "this visitor");
        if (!length) return;
        await app.enqueue("vendor", "reserve_for_visitor", { conversation_id: conversation.id, item_id: itemId, hold_id: uuid(), ...length },
          { display: { title: itemTitle, item_id: itemId } });
        held = true;
        const choice = HOLD_CHOICES.find((c) => JSON.stringify(c.args) === JSON.stringify(length));
        status.textContent = `On hold for this visitor (${choice?.label.toLowerCase() || "as chosen"}); they are told.`;
      }
      show();
      button.focus();
    });
    show();
    return button;
  }

  // Whether this visitor holds the item: a queued hold or release says so; otherwise the server.
  async function heldForVisitor(conversation) {
    const queued = (await data.queuedEntries()).filter((e) =>
      ["reserve_for_visitor", "release_for_visitor"].includes(e.name) && e.args.conversation_id === conversation.id);
    if (queued.length) return queued.at(-1).name === "reserve_for_visitor";
    if (!navigator.onLine || !conversation.device_id) return false;
    try {
      const holds = await request("GET", `/api/items/${conversation.item_id}/holds`, { token: identity.token });
      return holds.some((hold) => hold.device_id === conversation.device_id);
    } catch {
      return false;
    }
  }

  // A vendor being harassed blocks the visitor from their stall; the organizer sees every block
  // and can lift it. Online only: a block must take effect now, not when the phone next syncs.
  function blockButton(conversation) {
    let blocked = false;
    const button = h("button", { type: "button", class: "danger" }, "Block this visitor");
    button.addEventListener("click", async () => {
      if (!blocked && !confirm("Block this visitor from writing to your stall? The organizer can see and lift blocks.")) return;
      try {
        await request("POST", `/api/conversations/${conversation.id}/block`, { token: identity.token, json: { blocked: !blocked } });
        blocked = !blocked;
        button.textContent = blocked ? "Unblock this visitor" : "Block this visitor";
        status.textContent = blocked ? "Blocked: this visitor can no longer write to your stall." : "Unblocked.";
      } catch (error) {
        status.textContent = `Could not change the block: ${error.message}`;
      }
    });
    return button;
  }

  function fillReplies(list2) {
    replies.hidden = !list2.length;
    replace(replies, list2.length ? h("p", { class: "meta" }, "Quick replies:") : null, list2.map((r) =>
      h("button", { type: "button", class: "chip", dir: "auto", onclick: () => { body.value = r.text; body.focus(); } }, r.text)));
  }

  const visible = () => update();
  document.addEventListener("visibilitychange", visible);
  await update();
  return {
    update,
    destroy() {
      stopTyping();
      clearTimeout(typingTimer);
      document.removeEventListener("visibilitychange", visible);
      if (photoUrl) URL.revokeObjectURL(photoUrl);
    },
  };
}

function bubble(message, side) {
  const mine = message.sender === side;
  const card = message.item_card;
  return h("li", { class: `msg ${message.sender === "system" ? "system" : mine ? "mine" : "theirs"}`, dataset: { message: message.id } },
    message.sender === "system" ? h("span", { class: "visually-hidden" }, "Souk: ") : null,
    card ? h("a", { class: "card", href: `/app/#/i/${card.id}` }, userText("span", card.title, { class: "title" }), " ",
      h("span", { class: "price" }, formatMoney(card.price, card.currency))) : null,
    message.photo ? photo(message.photo, { width: 240, height: 180, cls: "msg-photo", alt: "Photo" }) : null,
    message.body ? userText("p", message.body, { class: "body" }) : null,
    h("p", { class: "meta" }, when(message.created_at), " ", mine ? mark(message) : null));
}

function mark(message) {
  if (message.pending) return pendingMark();
  if (message.read_at) return h("span", { class: "mark read" }, h("span", { "aria-hidden": "true" }, "✓✓ "), "Read");
  if (message.delivered_at) return h("span", { class: "mark delivered" }, h("span", { "aria-hidden": "true" }, "✓✓ "), "Delivered");
  return h("span", { class: "mark sent" }, h("span", { "aria-hidden": "true" }, "✓ "), "Sent");
}
