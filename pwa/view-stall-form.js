// The stall's profile: name, hashtag, number, place, description (changed fields only).
import * as data from "./data.js";
import { field, h, replace } from "./dom.js";
import { getIdentity } from "./identity.js";

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
  const form = h("form", { class: "card-form" },
    FIELDS.map(([name, label]) => field(label, controls[name])),
    h("button", { type: "submit", class: "primary" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const changes = { code: stall.code };
    for (const [name] of FIELDS) if (controls[name].value.trim() !== (stall[name] || "")) changes[name] = controls[name].value.trim();
    if (Object.keys(changes).length > 1) await app.enqueue("vendor", "update_stall", changes, { display: { title: stall.name } });
    app.go("/app/#/vendor");
  });
  replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Stall profile"), form,
    h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  return {};
}
