// Listing an item from the camera, or editing one: the photo is made small here, then kept
// with the queued mutation until it can be uploaded; only changed fields are sent on edit.
import { pendingMark } from "./cards.js";
import * as data from "./data.js";
import { field, h, photo, replace } from "./dom.js";
import { getIdentity } from "./identity.js";
import { formatMoney, minorDigits, parseMoney } from "./kit/money.js";
import { resizePhoto } from "./photo.js";
import * as replica from "./replica.js";
import { uuid } from "./util.js";

function priceText(minor, currency) {
  const digits = minorDigits(currency);
  return digits ? (minor / 10 ** digits).toFixed(digits) : String(minor);
}

function tagsOf(text) {
  return text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean).map((t) => (t.startsWith("#") ? t : `#${t}`));
}

export async function mount(main, route, app) {
  const vendor = await getIdentity("vendor");
  if (!vendor) {
    app.go("/app/#/vendor");
    return {};
  }
  const editing = route.name === "item-edit" ? await data.item(route.params.id) : null;
  const stall = await data.stallByCode(vendor.stall_code);
  const event = stall ? await replica.get("event", stall.event_id) : null;
  const currency = editing?.currency || event?.currency || "GBP";
  if (route.name === "item-edit" && !editing) {
    replace(main, h("section", { class: "wrap" }, h("h1", { id: "page-title" }, "Item not found"), h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall")));
    return {};
  }

  let photoBlob = null;
  const status = h("p", { class: "error", role: "alert" });
  const preview = h("div", { class: "preview" }, editing?.photos?.[0] ? photo(editing.photos[0].thumb, { width: 240, height: 180, cls: "detail", alt: "Current photo" }) : null);
  const camera = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 200, dir: "auto", value: editing?.title || "" });
  const price = h("input", { type: "text", name: "price", inputmode: "decimal", required: true, autocomplete: "off", value: editing ? priceText(editing.price, currency) : "" });
  const quantity = h("input", { type: "number", name: "quantity", min: 1, max: 100000, step: 1, value: String(editing?.quantity ?? 1) });
  const hashtags = h("input", { type: "text", name: "hashtags", autocomplete: "off", placeholder: "#honey #local", value: (editing?.hashtags || []).join(" ") });
  const description = h("textarea", { name: "description", rows: 3, maxlength: 2000, dir: "auto" }, editing?.description || "");

  camera.addEventListener("change", async () => {
    const file = camera.files?.[0];
    if (!file) return;
    status.textContent = "";
    try {
      photoBlob = await resizePhoto(file);
      replace(preview, photo(URL.createObjectURL(photoBlob), { width: 240, height: 180, cls: "detail", alt: "New photo" }));
    } catch (error) {
      photoBlob = null;
      status.textContent = error.message || "Could not read this photo";
    }
  });

  const form = h("form", { class: "card-form", novalidate: true },
    field(editing ? "Replace the photo" : "Photo", camera, "Opens the camera on a phone."), preview,
    field("Title", title), field(`Price (${currency})`, price), field("How many", quantity),
    field("Hashtags", hashtags, "Words that help visitors find it, like #honey #local."),
    field("Description", description),
    h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "List this item"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const minor = parseMoney(price.value, currency);
    const count = Number.parseInt(quantity.value || "1", 10);
    if (!title.value.trim()) return fail(title, "Give the item a title.");
    if (minor == null) return fail(price, `Write the price as a number, like ${formatMoney(450, currency)}.`);
    if (!Number.isInteger(count) || count < 1) return fail(quantity, "How many must be 1 or more.");
    const values = { title: title.value.trim(), price: minor, quantity: count, hashtags: tagsOf(hashtags.value), description: description.value.trim() };
    const display = { stall_id: stall?.id, event_id: stall?.event_id, currency, title: values.title };
    if (editing) {
      const changed = { id: editing.id };
      for (const [key, value] of Object.entries(values)) if (JSON.stringify(value) !== JSON.stringify(editing[key])) changed[key] = value;
      if (photoBlob) changed.photo_keys = (editing.photos || []).filter((p) => !p.local).map((p) => p.key);
      if (Object.keys(changed).length > 1) await app.enqueue("vendor", "update_item", changed, { photo: photoBlob, display });
    } else {
      await app.enqueue("vendor", "create_item", { stall_code: vendor.stall_code, id: uuid(), ...values, photo_keys: [] }, { photo: photoBlob, display });
    }
    app.go("/app/#/vendor");
  });

  function fail(control, message) {
    status.textContent = message;
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }

  const remove = editing && editing.state !== "sold" ? h("button", { type: "button", class: "danger" }, "Delete this item") : null;
  remove?.addEventListener("click", async () => {
    if (!confirm(`Delete “${editing.title}”? Visitors will no longer see it.`)) return;
    await app.enqueue("vendor", "delete_item", { id: editing.id }, { display: { title: editing.title } });
    app.go("/app/#/vendor");
  });

  replace(main, h("section", { class: "wrap" },
    h("h1", { id: "page-title" }, editing ? "Edit item" : "List an item"),
    editing?.pending ? h("p", {}, pendingMark("Earlier changes are waiting to send")) : null,
    editing?.state === "sold" ? h("p", { class: "note" }, "This item is sold; a sale is final, so it cannot be changed.") : form,
    remove, h("p", {}, h("a", { class: "button", href: "/app/#/vendor" }, "Back to my stall"))));
  return {};
}
