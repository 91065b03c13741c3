// The realtime socket (/api/live): the first frame authenticates; then pokes ask for a pull,
// messages, receipts, typing and item changes arrive as they happen. It reconnects with
// backoff while the browser is online and pings every 30 s (which also keeps presence fresh).
import { request } from "./api.js";
import { emit } from "./bus.js";
import { applyData, markReceipt, patchItem } from "./replica.js";

const PING_MS = 30000;

export class Live {
  constructor({ identity, slug, onPoke }) {
    this.identity = identity; // async () => identity or null
    this.slug = slug; // () => event slug or null
    this.onPoke = onPoke;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    addEventListener("online", () => this.connect(true));
    addEventListener("offline", () => this.socket?.close());
  }

  async connect(now = false) {
    if (now) this.attempt = 0;
    clearTimeout(this.timer);
    if (this.stopped || !navigator.onLine || (this.socket && this.socket.readyState <= 1)) return;
    const identity = await this.identity();
    if (!identity) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.side = identity.kind === "vendor" ? "vendor" : "visitor";
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: identity.token, event: this.slug() || undefined }));
    socket.onmessage = (event) => this.frame(event.data);
    socket.onclose = (event) => {
      clearInterval(this.pinger);
      if (this.socket === socket) this.socket = null;
      emit("live", { connected: false });
      if (event.code === 4401) this.onPoke(); // token refused: a pull takes a new one, then we reconnect
      if (!this.stopped && navigator.onLine) {
        this.attempt += 1;
        const delay = Math.min(60000, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
        this.timer = setTimeout(() => this.connect(), delay);
      }
    };
  }

  restart() {
    const old = this.socket;
    this.socket = null;
    old?.close();
    this.connect(true);
  }

  send(frame) {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(frame));
  }

  // Tell the sender their message reached this phone ("delivered"; "read" waits for the thread).
  async delivered(message) {
    const identity = await this.identity();
    if (!identity) return;
    request("POST", `/api/conversations/${message.conversation_id}/read`, {
      token: identity.token, json: { up_to_seq: message.seq, delivered_only: true },
    }).catch(() => {});
  }

  async frame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    switch (frame.type) {
      case "ready":
        this.attempt = 0;
        clearInterval(this.pinger);
        this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
        emit("live", { connected: true });
        this.onPoke();
        break;
      case "poke":
        this.onPoke();
        break;
      case "message":
        await applyData("message", frame.message);
        if (frame.message.sender !== this.side) this.delivered(frame.message);
        this.onPoke(); // the conversation's preview and unread count come with the next pull
        break;
      case "receipt":
        if (frame.by !== this.side) await markReceipt(frame.conversation_id, frame.up_to_seq, frame.status, this.side);
        break;
      case "typing":
        if (frame.by !== this.side) emit("typing", { conversation_id: frame.conversation_id, by: frame.by });
        break;
      case "item":
        await patchItem(frame.item_id, frame);
        break;
      default:
        break;
    }
  }
}
