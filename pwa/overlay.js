// Rebase for display: the replica holds the server's state; the still-queued outbox entries
// are replayed on top of it, in order, every time a view reads. A pull can therefore never
// overwrite a pending change, and once the server answers, its state simply shows through.

const photoUrls = new Map(); // outbox seq -> object URL of the photo waiting to upload

function localPhoto(entry) {
  if (!entry.photo) return null;
  if (!photoUrls.has(entry.seq)) photoUrls.set(entry.seq, URL.createObjectURL(entry.photo));
  const url = photoUrls.get(entry.seq);
  return { key: `local-${entry.seq}`, src: url, width: 0, height: 0, local: true }; // kit/wire.js photoUrl: src first
}

export function forgetPhotos(liveSeqs) {
  for (const [seq, url] of photoUrls) {
    if (!liveSeqs.has(seq)) {
      URL.revokeObjectURL(url);
      photoUrls.delete(seq);
    }
  }
}

const ITEM_FIELDS = ["title", "description", "price", "quantity", "hashtags"];

// Items (of one stall or the event) with queued creations, edits, sales and deletions applied.
export function overlayItems(items, entries, keep = () => true) {
  const byId = new Map(items.map((item) => [item.id, { ...item }]));
  for (const entry of entries) {
    const a = entry.args || {};
    const item = byId.get(a.id ?? a.item_id ?? entry.display?.item_id);
    switch (entry.name) {
      case "create_item":
        if (!item) {
          const created = {
            id: a.id, title: a.title, description: a.description || "", price: a.price, quantity: a.quantity ?? 1,
            hashtags: a.hashtags || [], causes: [], tag_keys: [], state: "available", version: 0,
            currency: entry.display?.currency || "", stall_id: entry.display?.stall_id, event_id: entry.display?.event_id,
            created_at: entry.created_at, updated_at: entry.created_at, photos: [],
          };
          if (keep(created)) byId.set(a.id, created);
        }
        break;
      case "update_item":
        if (item) for (const field of ITEM_FIELDS) if (a[field] !== undefined) item[field] = a[field];
        break;
      // Holds are per unit: the item reads "reserved" only while they cover every unit left.
      case "reserve_item":
      case "reserve_for_visitor":
        if (item && item.state !== "sold") {
          const already = entry.name === "reserve_for_visitor" ? (entry.display?.held_here || 0) : 0;
          item.held = Math.min(item.quantity, (item.held || 0) - already + (a.quantity || 1));
          item.state = holdState(item);
        }
        break;
      case "release_item":
      case "release_for_visitor":
        if (item && item.state !== "sold") {
          const named = a.hold_id || a.device_id || entry.name === "release_for_visitor";
          item.held = named ? Math.max(0, (item.held || 0) - (entry.display?.quantity || 1)) : 0;
          item.state = holdState(item);
        }
        break;
      case "sell_item":
        if (item && item.state !== "sold") {
          const n = a.quantity || 1;
          const free = Math.max(0, item.quantity - (item.held || 0));
          const fromHolds = a.hold_id || a.device_id || a.from_holds ? n : Math.max(0, n - free);
          item.held = Math.max(0, (item.held || 0) - fromHolds);
          item.quantity = Math.max(0, item.quantity - n);
          item.state = item.quantity === 0 ? "sold" : holdState(item);
        }
        break;
      case "undo_sale":
        if (item) {
          item.quantity += entry.display?.quantity || 0;
          if (item.state === "sold") item.state = "available";
          item.state = holdState(item);
        }
        break;
      case "delete_item":
        byId.delete(a.id);
        continue;
      default:
        continue;
    }
    const touched = byId.get(a.id ?? a.item_id ?? entry.display?.item_id);
    if (touched) {
      touched.pending = true;
      const photo = localPhoto(entry);
      if (photo) touched.photos = [photo, ...(touched.photos || [])];
    }
  }
  return [...byId.values()];
}

function holdState(item) {
  if (item.state === "sold") return "sold";
  return item.held > 0 && item.held >= item.quantity ? "reserved" : "available";
}

export function overlayStall(stall, entries) {
  if (!stall) return stall;
  let result = stall;
  for (const entry of entries) {
    if (entry.name !== "update_stall" || entry.args.code !== stall.code) continue;
    const { code: _code, ...changes } = entry.args;
    result = { ...result, ...changes, pending: true };
  }
  return result;
}

// Messages of one conversation: the server's, then the queued ones (not yet numbered).
export function overlayMessages(messages, entries, conversationId, mySide) {
  const known = new Set(messages.map((m) => m.id));
  const queued = entries
    .filter((e) => e.name === "send_message" && e.args.conversation_id === conversationId && !known.has(e.args.message_id))
    .map((e) => ({
      id: e.args.message_id, conversation_id: conversationId, seq: null, sender: mySide, body: e.args.body || "",
      item_id: e.args.item_id || null, item_card: null, photo: localPhoto(e), created_at: e.created_at,
      delivered_at: null, read_at: null, pending: true,
    }));
  return [...messages].sort((a, b) => a.seq - b.seq).concat(queued);
}

// Conversations, with ones opened offline (their first message still queued) added.
export function overlayConversations(conversations, entries, stallsByCode) {
  const byId = new Map(conversations.map((c) => [c.id, { ...c }]));
  for (const entry of entries) {
    if (entry.name !== "send_message") continue;
    const a = entry.args;
    let conversation = byId.get(a.conversation_id);
    if (!conversation) {
      const stall = stallsByCode.get(a.stall_code) || {};
      conversation = {
        id: a.conversation_id, stall_code: a.stall_code, stall_name: stall.name || entry.display?.stall_name || a.stall_code,
        stall_id: stall.id, item_id: a.item_id || null, last_seq: 0, unread: 0, seller_online: null, device_id: null,
        last_message_at: entry.created_at,
      };
      byId.set(a.conversation_id, conversation);
    }
    conversation.last_preview = a.body || "📷 Photo";
    conversation.last_message_at = entry.created_at;
    conversation.pending = true;
  }
  return [...byId.values()].sort((a, b) => (Date.parse(b.last_message_at) || 0) - (Date.parse(a.last_message_at) || 0));
}
