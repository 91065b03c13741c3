// Quick replies: a vendor's saved answers, one tap in a conversation. Kept on the server
// (they need a connection to change) and copied here for offline use.
import { request } from "./kit/http.js";
import { empty } from "./cards.js";
import { field, h, replace, userText } from "./dom.js";
import { getIdentity } from "./identity.js";
import { kvGet, kvSet } from "./store.js";

export async function mount(main, route, app) {
  const vendor = await getIdentity("vendor");
  if (!vendor) {
    app.go("/app/#/vendor");
    return {};
  }
  const list = h("ul", { class: "replies" });
  const text = h("input", { type: "text", name: "text", maxlength: 500, dir: "auto", required: true });
  const status = h("p", { class: "meta", role: "status" });
  const form = h("form", { class: "card-form" }, field("New quick reply", text), h("button", { type: "submit", class: "primary" }, "Add"), status);
  const auth = { token: vendor.token };

  async function load() {
    let replies = (await kvGet("quick-replies")) || [];
    if (navigator.onLine) {
      try {
        replies = await request("GET", "/api/quick-replies", auth);
        await kvSet("quick-replies", replies);
      } catch (error) {
        status.textContent = error.message;
      }
    }
    replace(list, replies.length ? replies.map((r) => h("li", {}, userText("span", r.text),
      h("button", { type: "button", "aria-label": `Delete “${r.text}”`, onclick: () => remove(r.id) }, "Delete")))
      : h("li", {}, empty("None yet.")));
  }

  async function remove(id) {
    try {
      await request("DELETE", `/api/quick-replies/${id}`, auth);
      await load();
    } catch (error) {
      status.textContent = navigator.onLine ? error.message : "Changing quick replies needs a connection.";
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await request("POST", "/api/quick-replies", { ...auth, json: { text: text.value.trim() } });
      text.value = "";
      await load();
    } catch (error) {
      status.textContent = navigator.onLine ? error.message : "Changing quick replies needs a connection.";
    }
  });

  replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Quick replies"), list, form,
    h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  await load();
  return {};
}
