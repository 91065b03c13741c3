// The stall's profile: name, hashtag, number, place, description (changed fields only).
import * as data from "./data.js";
import { field, h, replace } from "./dom.js";
import { getIdentity } from "./identity.js";
import { tagKey } from "./kit/search.js";
import * as replica from "./replica.js";

const FIELDS = [
  ["name", "Stall name", "input"], ["store_tag", "Store hashtag", "input"], ["number", "Stall number", "input"],
  ["location", "Where at the market", "input"], ["description", "Description", "textarea"],
];

export async function mount(main, route, app) {
  const vendor = await getIdentity("vendor");
  const stall = vendor ? await data.stallByCode(vendor.stall_code) : null;
  if (!stall) {
    app.go("/app/#/vendor");
    return {};
  }
  const controls = Object.fromEntries(FIELDS.map(([name, , kind]) => [name, kind === "textarea"
    ? h("textarea", { name, rows: 4, dir: "auto", maxlength: 2000 }, stall[name] || "")
    : h("input", { type: "text", name, dir: "auto", value: stall[name] || "" })]));
  // A charity stall raises money for one cause: every item that names no cause counts for it.
  const causes = (await replica.ofEvent(stall.event_id, "cause")).sort((a, b) => a.name.localeCompare(b.name));
  const currentCause = causes.find((c) => tagKey(c.tag) === tagKey(stall.default_cause || ""))?.tag || "";
  const defaultCause = h("select", { name: "default_cause" },
    h("option", { value: "" }, "None: each item names its own"),
    causes.map((c) => h("option", { value: c.tag, selected: c.tag === currentCause }, `${c.name} (${c.tag})`)));
  const form = h("form", { class: "card-form" },
    FIELDS.map(([name, label]) => field(label, controls[name])),
    causes.length ? field("Cause for all my items", defaultCause, "For a charity stall: items that name no cause count for this one.") : null,
    h("button", { type: "submit", class: "primary" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const changes = { code: stall.code };
    for (const [name] of FIELDS) if (controls[name].value.trim() !== (stall[name] || "")) changes[name] = controls[name].value.trim();
    if (causes.length && defaultCause.value !== currentCause) changes.default_cause = defaultCause.value;
    if (Object.keys(changes).length > 1) await app.enqueue("vendor", "update_stall", changes, { display: { title: stall.name } });
    app.go("/app/#/vendor");
  });
  replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Stall profile"), form,
    h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  return {};
}
