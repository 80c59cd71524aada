// What the page tells people outside the messages: one banner above the composer
// (with at most one countdown), screen-reader announcements and the connection
// pill. A banner about the connection clears by itself once the socket is back.
import { format, gettext } from "./i18n.js";
import { formatSeconds } from "./text.js";

/** The banner's words at `left` seconds before `retry` is allowed. */
export function countdownText(text, left) {
  if (left > 0) {
    return format(gettext("%(text)s Try again in %(time)s."), { text, time: formatSeconds(left) });
  }
  return format(gettext("%(text)s You can try again now."), { text });
}

export class Notices {
  /**
   * nodes: banner, bannerText, bannerClose, announcer, alerts, conn, connText,
   * connRetry. onLayout(update): runs a change that resizes the thread (so the
   * thread can keep its bottom in view and the banner never hides the last reply).
   */
  constructor(nodes, { onLayout = (update) => update(), onRetry = () => {} } = {}) {
    this.nodes = nodes;
    this.onLayout = onLayout;
    this.timer = 0;
    this.kind = null;
    this.lastConnection = null;
    nodes.bannerClose.addEventListener("click", () => this.hide());
    nodes.connRetry.addEventListener("click", onRetry);
  }

  /** Show `text`; `retryAfter` (s) adds a countdown; `kind` "connection" clears on
   * reconnect, "info" is news rather than a problem. */
  show(text, { retryAfter = null, kind = "error" } = {}) {
    const { banner, bannerText, alerts } = this.nodes;
    clearInterval(this.timer);
    this.kind = kind;
    this.onLayout(() => {
      banner.hidden = false;
      banner.dataset.tone = kind === "info" ? "info" : "error";
      if (retryAfter) {
        const until = Date.now() + retryAfter * 1000;
        const tick = () => {
          const left = (until - Date.now()) / 1000;
          bannerText.textContent = countdownText(text, left);
          if (left <= 0) {
            clearInterval(this.timer);
            banner.dataset.tone = "info";
          }
        };
        tick();
        this.timer = setInterval(tick, 1000);
      } else {
        bannerText.textContent = text;
      }
    });
    // Announced once; the visible countdown is not a live region.
    alerts.textContent = bannerText.textContent;
  }

  hide() {
    clearInterval(this.timer);
    this.kind = null;
    if (this.nodes.banner.hidden) return;
    this.onLayout(() => {
      this.nodes.banner.hidden = true;
    });
    this.nodes.alerts.textContent = "";
  }

  get visible() {
    return !this.nodes.banner.hidden;
  }

  announce(text) {
    this.nodes.announcer.textContent = text;
  }

  /** The connection pill; `seconds` until the next try while reconnecting. */
  connection({ state, seconds }) {
    const { conn, connText, connRetry } = this.nodes;
    const words = {
      connecting: gettext("Connecting…"),
      connected: gettext("Connected"),
      reconnecting: format(gettext("Reconnecting in %(seconds)s s"), { seconds }),
      offline: gettext("Offline"),
    };
    const text = words[state];
    if (connText.textContent !== text) connText.textContent = text;
    conn.dataset.state = state;
    connRetry.hidden = state !== "reconnecting";
    const last = this.lastConnection;
    if (state === last) return;
    if (state === "reconnecting" && last === "connected") {
      this.announce(gettext("Connection lost. Reconnecting…"));
    }
    if (state === "offline") this.announce(gettext("You are offline."));
    if (state === "connected") {
      if (last) this.announce(gettext("Connected."));
      if (this.kind === "connection") this.hide();
    }
    this.lastConnection = state;
  }
}
