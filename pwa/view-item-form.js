// Listing an item from the camera, or editing one: the photo is made small here, then kept
// with the queued mutation until it can be uploaded; only changed fields are sent on edit.
import { pendingMark } from "./cards.js";
import * as data from "./data.js";
import { field, h, photo, replace } from "./dom.js";
import { getIdentity } from "./identity.js";
import { formatMoney, minorDigits, parseMoney } from "./kit/money.js";
import { tagKey } from "./kit/search.js";
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

const SOCIAL_CAUSE = "socialcause";

/**
 * The event's causes as checkboxes: ticking one adds its hashtag, so the item's sales count for
 * it. A stall's default cause (a charity stall) counts for items that tick none. #SocialCause
 * typed with no cause named would credit nobody: the form says so, and asks once before saving.
 */
function causeChoices(causes, editing, stall) {
  const defaultCause = causes.find((c) => tagKey(c.tag) === (stall?.default_cause || "")) || null;
  const mine = new Set((editing?.causes || []).filter((key) => key !== stall?.default_cause));
  const boxes = causes.map((cause) => h("input", { type: "checkbox", name: "cause", value: cause.tag, checked: mine.has(tagKey(cause.tag)) }));
  const warning = h("p", { class: "note cause-warning", role: "status", hidden: true });
  const fieldset = causes.length ? h("fieldset", { class: "causes-choice" },
    h("legend", {}, "Raises money for"),
    defaultCause ? h("p", { class: "hint" }, `Counts for ${defaultCause.name} (${defaultCause.tag}), your stall's cause, unless you tick another.`) : null,
    causes.map((cause, i) => h("label", { class: "check" }, boxes[i], h("span", { dir: "auto" }, `${cause.name} `, h("span", { class: "meta", dir: "ltr" }, cause.tag)))),
    warning) : null;
  const chosen = () => causes.filter((_, i) => boxes[i].checked).map((c) => c.tag);
  /** true when the typed tags say #SocialCause but no cause will be credited. */
  const uncredited = (typed) => causes.length > 0 && !defaultCause && !chosen().length && typed.some((t) => tagKey(t) === SOCIAL_CAUSE);
  return { fieldset, boxes, warning, chosen, uncredited, keys: new Set(causes.map((c) => tagKey(c.tag))), defaultCause };
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
  const preview = h("div", { class: "preview" }, editing?.photos?.[0] ? photo(editing.photos[0], { width: 240, height: 180, cls: "detail", alt: "Current photo" }) : null);
  const camera = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 200, dir: "auto", value: editing?.title || "" });
  const price = h("input", { type: "text", name: "price", inputmode: "decimal", required: true, autocomplete: "off", value: editing ? priceText(editing.price, currency) : "" });
  const quantity = h("input", { type: "number", name: "quantity", min: 1, max: 100000, step: 1, value: String(editing?.quantity ?? 1) });
  const causes = (stall ? await replica.ofEvent(stall.event_id, "cause") : []).sort((a, b) => a.name.localeCompare(b.name));
  const choice = causeChoices(causes, editing, stall);
  // Cause tags are the checkboxes' business (and #SocialCause, which comes with them).
  const shownTags = (editing?.hashtags || []).filter((t) => !choice.keys.has(tagKey(t)) && !(editing.causes?.length && tagKey(t) === SOCIAL_CAUSE));
  const hashtags = h("input", { type: "text", name: "hashtags", autocomplete: "off", placeholder: "#honey #local", value: shownTags.join(" ") });
  const submit = h("button", { type: "submit", class: "primary" }, editing ? "Save changes" : "List this item");
  let warned = false;
  function checkCause() {
    const missing = choice.uncredited(tagsOf(hashtags.value));
    choice.warning.hidden = !missing;
    choice.warning.textContent = missing ? "#SocialCause on its own credits no cause: tick the cause this item raises money for." : "";
    if (!missing) {
      warned = false;
      submit.textContent = editing ? "Save changes" : "List this item";
    }
    return missing;
  }
  hashtags.addEventListener("input", checkCause);
  for (const box of choice.boxes) box.addEventListener("change", checkCause);
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
    choice.fieldset,
    field("Description", description),
    submit, status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const minor = parseMoney(price.value, currency);
    const count = Number.parseInt(quantity.value || "1", 10);
    if (!title.value.trim()) return fail(title, "Give the item a title.");
    if (minor == null) return fail(price, `Write the price as a number, like ${formatMoney(450, currency)}.`);
    if (!Number.isInteger(count) || count < 1) return fail(quantity, "How many must be 1 or more.");
    if (checkCause() && !warned) {
      warned = true;
      submit.textContent = editing ? "Save without a cause" : "List without a cause";
      status.textContent = "Which cause does this item raise money for? Tick it, or press again to save without one (the organizer will ask).";
      choice.boxes[0]?.focus();
      return undefined;
    }
    const typed = tagsOf(hashtags.value).filter((t) => !choice.keys.has(tagKey(t)));
    const tags = [...typed, ...choice.chosen()];
    const values = { title: title.value.trim(), price: minor, quantity: count, hashtags: tags, description: description.value.trim() };
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
