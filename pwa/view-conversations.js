// A visitor's conversations, or a vendor's inbox: newest first, unread counts, queued marks.
import { empty, pendingMark } from "./cards.js";
import * as data from "./data.js";
import { h, replace, userText, when } from "./dom.js";
import { defaultVisitorName } from "./identity.js";
import { notifyButton } from "./push.js";

// How the visitor is called, the same on both sides: their chosen first name or "Visitor A64B".
export function visitorName(conversation) {
  return conversation.visitor_name || defaultVisitorName(conversation.device_id || conversation.id);
}

export async function mount(main, route, app) {
  const identity = await app.identity();
  const vendor = identity?.kind === "vendor";
  const list = h("ul", { class: "convs" });
  replace(main, h("section", { class: "wrap" },
    h("h1", { id: "page-title" }, vendor ? "Inbox" : "Messages"),
    vendor ? h("p", { class: "meta" }, "Questions from visitors about your stall.") : null,
    notifyButton(app), list,
    vendor ? null : h("p", {}, h("a", { class: "inline", href: "/app/#/resume" }, "Move conversations to or from another phone"))));
  let shown = "";

  async function update() {
    const conversations = await data.conversations(identity);
    const signature = JSON.stringify(conversations);
    if (signature === shown) return;
    shown = signature;
    replace(list, conversations.length ? conversations.map((c) => h("li", {},
      h("a", { class: "conv-link", href: `/app/#/conversations/${c.id}` },
        userText("span", vendor ? visitorName(c) : c.stall_name, { class: "title" }),
        c.unread ? h("span", { class: "badge", "aria-label": `${c.unread} unread` }, String(c.unread)) : null,
        userText("span", c.last_preview || "", { class: "preview" }),
        h("span", { class: "meta" }, when(c.last_message_at)),
        c.pending ? pendingMark() : null)))
      : h("li", {}, empty(vendor ? "No messages yet." : "No conversations yet: open a stall and tap “Message the seller”.")));
  }

  await update();
  return { update };
}
