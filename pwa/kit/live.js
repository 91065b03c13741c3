// @ts-check
// The one WebSocket client of both apps: it keeps itself open, reconnecting with back-off
// (doubling from 1 s up to one cap, with jitter), at once when the browser says the network is
// back, and closes when it says the network is gone (so no half-dead socket hides missed
// pokes). It pings every 25 s; on a socket whose server answers pings (`expectPong`: /api/live),
// a socket silent for 70 s is replaced rather than trusted. Frames are JSON objects.

const FIRST_DELAY = 1000;
export const MAX_DELAY = 30_000;
const PING_EVERY = 25_000;
const SILENT_AFTER = 70_000;

/**
 * @typedef {object} LiveOptions
 * @property {(frame: any) => void} [onFrame]
 * @property {(state: "connecting"|"live"|"offline") => void} [onState]
 * @property {() => (object|null|Promise<object|null>)} [firstFrame]  sent first on every connection (auth)
 * @property {(frame: any) => boolean} [isReady]  which frame means "live" (default: type "hello")
 * @property {(code: number) => void} [onClose]
 * @property {boolean} [expectPong]  the server answers pings: a silent socket is replaced
 */

/** @param {string} path */
export const wsUrl = (path) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

export class LiveSocket {
  /**
   * @param {string} path  e.g. `/api/events/<slug>/live`
   * @param {LiveOptions} opts
   */
  constructor(path, opts = {}) {
    this.path = path;
    this.opts = opts;
    /** @type {WebSocket|null} */
    this.socket = null;
    /** @type {string|undefined} */
    this.state = undefined;
    this.delay = FIRST_DELAY;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setInterval>|null} */
    this.pinger = null;
    this.stopped = true;
    this.lastFrame = 0;
    this._online = () => this.reconnectNow();
    this._offline = () => this._drop("offline");
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this._online);
    window.addEventListener("offline", this._offline);
    this._connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._online);
    window.removeEventListener("offline", this._offline);
    clearTimeout(this.timer);
    this._close();
  }

  reconnectNow() {
    if (this.stopped) return;
    this.delay = FIRST_DELAY;
    clearTimeout(this.timer);
    this._close();
    this._connect();
  }

  /** @param {object} frame */
  send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** @param {"connecting"|"live"|"offline"} state */
  _state(state) {
    this.state = state;
    this.opts.onState?.(state);
  }

  _connect() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this._retry(); // the `online` event brings us back at once; this is in case it never fires
      return;
    }
    this._state("connecting");
    let socket;
    try {
      socket = new WebSocket(wsUrl(this.path));
    } catch {
      this._retry();
      return;
    }
    this.socket = socket;
    socket.onopen = async () => {
      const first = await this.opts.firstFrame?.();
      if (this.socket !== socket || socket.readyState !== WebSocket.OPEN) return;
      if (first) socket.send(JSON.stringify(first));
      // Keep-alive: the server ignores (or answers) pings; a socket that stopped carrying
      // frames for a long time is replaced rather than trusted.
      this.lastFrame = Date.now();
      this.pinger = setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (this.opts.expectPong && Date.now() - this.lastFrame > SILENT_AFTER) {
          this.reconnectNow();
          return;
        }
        socket.send(JSON.stringify({ type: "ping" }));
      }, PING_EVERY);
    };
    socket.onmessage = (event) => {
      this.lastFrame = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (this.opts.isReady ? this.opts.isReady(frame) : frame.type === "hello") {
        this.delay = FIRST_DELAY;
        this._state("live");
      }
      this.opts.onFrame?.(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this._close();
      this.opts.onClose?.(event.code);
      this._retry();
    };
    socket.onerror = () => {};
  }

  _retry() {
    if (this.stopped) return;
    this._state(navigator.onLine === false ? "offline" : "connecting");
    clearTimeout(this.timer);
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.timer = setTimeout(() => this._connect(), wait);
  }

  /** @param {"offline"} state */
  _drop(state) {
    this._close();
    this._state(state);
  }

  _close() {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onopen = null;
      try {
        socket.close();
      } catch {
        /* already closed */
      }
    }
  }
}
