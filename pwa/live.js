// The app's realtime channel (/api/live) over the kit's socket (kit/live.js: back-off, pings,
// a silent socket replaced): the first frame authenticates; then pokes ask for a pull, and
// messages, receipts, typing and item changes arrive as they happen.
import { emit } from "./bus.js";
import { request } from "./kit/http.js";
import { LiveSocket } from "./kit/live.js";
import { applyData, markReceipt, patchItem } from "./replica.js";

export class Live {
  constructor({ identity, slug, onPoke }) {
    this.identity = identity; // async () => identity or null
    this.slug = slug; // () => event slug or null
    this.onPoke = onPoke;
    this.current = null; // the identity the socket authenticates with
    this.socket = new LiveSocket("/api/live", {
      expectPong: true,
      firstFrame: async () => {
        this.current = (await this.identity()) || this.current; // a refused token may have been renewed since
        return this.current ? { type: "auth", token: this.current.token, event: this.slug() || undefined } : null;
      },
      isReady: (frame) => frame.type === "ready",
      onState: (state) => emit("live", { connected: state === "live" }),
      onFrame: (frame) => this.frame(frame),
      onClose: (code) => {
        if (code === 4401) this.onPoke(); // token refused: a pull takes a new one, then we reconnect
      },
    });
  }

  get side() {
    return this.current?.kind === "vendor" ? "vendor" : "visitor";
  }

  // Open the socket as whoever is signed in now (nothing to open without an identity).
  async connect() {
    this.current = await this.identity();
    if (this.current) this.socket.start();
  }

  // Someone else signed in (or out): a new socket with their identity.
  restart() {
    this.socket.stop();
    this.connect();
  }

  send(frame) {
    this.socket.send(frame);
  }

  // Tell the sender their message reached this phone ("delivered"; "read" waits for the thread).
  async delivered(message) {
    const identity = await this.identity();
    if (!identity) return;
    request("POST", `/api/conversations/${message.conversation_id}/read`, {
      token: identity.token, json: { up_to_seq: message.seq, delivered_only: true },
    }).catch(() => {});
  }

  async frame(frame) {
    switch (frame.type) {
      case "ready":
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
