// One WebSocket per tab with automatic reconnection (docs/protocol.md, "Close codes").
// Waits grow exponentially from 1 s to a 30 s cap with "equal jitter" (half fixed,
// half random): a restarted server is not hit by every tab at the same instant,
// and no tab retries in a tight loop.

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_TOO_BIG = 1009;

export class ChatSocket {
  /**
   * handlers: onFrame(frame), onReady(hello), onClose(code),
   * onState({state, seconds}), onUnauthenticated()
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.retryAt = 0;
    this.timer = null;
    this.ticker = null;
    this.stopped = false;
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    // The network is gone: say so now rather than when the socket times out; the
    // reply in flight is joined again after the last chunk seen once it is back.
    window.addEventListener("offline", () => {
      if (this.ws) this.ws.close();
      else if (!this.ready) this.#wait();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.timer) this.reconnectNow();
    });
    // Leaving the page closes the socket; that is not a connection problem.
    window.addEventListener("pagehide", () => {
      this.stopped = true;
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        this.stopped = false;
        this.reconnectNow();
      }
    });
    this.#connect();
  }

  /** Send a frame; false when the socket is not open (nothing was sent). */
  send(frame) {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  reconnectNow() {
    if (this.ws || this.stopped) return;
    this.#clearTimers();
    this.#connect();
  }

  #connect() {
    this.#clearTimers();
    if (!navigator.onLine) {
      this.#emit("offline");
      return;
    }
    this.#emit("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame?.type === "hello") {
        this.attempt = 0;
        this.ready = true;
        this.#emit("connected");
        this.handlers.onReady(frame);
        return;
      }
      this.handlers.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      if (this.stopped) return;
      this.handlers.onClose(event.code);
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.#emit("offline");
        this.handlers.onUnauthenticated();
        return;
      }
      this.#wait();
    });
  }

  #wait() {
    this.#clearTimers();
    if (!navigator.onLine) {
      this.#emit("offline");
      return;
    }
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => this.#connect(), delay);
    const tick = () =>
      this.#emit("reconnecting", Math.max(1, Math.ceil((this.retryAt - Date.now()) / 1000)));
    tick();
    this.ticker = setInterval(tick, 250);
  }

  #clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.timer = null;
    this.ticker = null;
  }

  #emit(state, seconds = null) {
    this.handlers.onState({ state, seconds });
  }
}
