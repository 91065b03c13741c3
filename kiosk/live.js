// A WebSocket that keeps itself open: reconnects with backoff, at once when the browser says
// the network is back, and closes when it says the network is gone (so no half-dead socket
// hides missed pokes). Pokes carry no data; the page pulls when one arrives.

export const wsUrl = (path) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

export class LiveSocket {
  /**
   * @param {string} path  e.g. `/api/events/<slug>/live`
   * @param {object} opts  onFrame(frame), onState("connecting"|"live"|"offline"), firstFrame() -> object|null,
   *                       isReady(frame) -> bool (which frame means "live"), onClose(code)
   */
  constructor(path, opts = {}) {
    this.path = path;
    this.opts = opts;
    this.socket = null;
    this.delay = 1000;
    this.timer = null;
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
    this.delay = 1000;
    clearTimeout(this.timer);
    this._close();
    this._connect();
  }

  send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

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
    socket.onopen = () => {
      const first = this.opts.firstFrame?.();
      if (first) socket.send(JSON.stringify(first));
      // Keep-alive: the server ignores (or answers) pings; a socket that stopped carrying
      // frames for a long time is replaced rather than trusted.
      this.lastFrame = Date.now();
      this.pinger = setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (this.opts.expectPong && Date.now() - this.lastFrame > 70_000) {
          this.reconnectNow();
          return;
        }
        socket.send(JSON.stringify({ type: "ping" }));
      }, 25_000);
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
        this.delay = 1000;
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
    this.delay = Math.min(this.delay * 2, 15_000);
    this.timer = setTimeout(() => this._connect(), wait);
  }

  _drop(state) {
    this._close();
    this._state(state);
  }

  _close() {
    clearInterval(this.pinger);
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
