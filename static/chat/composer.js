// The message box: Enter sends, Shift+Enter breaks the line (Esc stops a reply:
// shortcuts.js).
// It grows with its text, counts characters near the server's limit
// (CHAT_MAX_MESSAGE_CHARS, from <body data-max-chars>) and says why a message
// waits while a reply is written. What a send does is app.js's business.
import { gettext } from "./i18n.js";
import { formatNumber } from "./text.js";

// The counter shows from this share of the limit on.
const COUNTER_FROM = 0.8;

/** Characters as the server counts them (code points, NFC, trimmed). */
export function countChars(text) {
  return [...text.normalize("NFC").trim()].length;
}

/** The counter's state for `length` of `max`: hidden, near or over. */
export function counterState(length, max) {
  if (!max || length < max * COUNTER_FROM) return { visible: false, over: false };
  return { visible: true, over: length > max, text: `${formatNumber(length)} / ${formatNumber(max)}` };
}

export class Composer {
  /**
   * nodes: form, prompt, send, stop, counter, hint; handlers: onSubmit(content),
   * onStop(), onTooLong() (the text stays in the box).
   */
  constructor(nodes, { maxChars, onSubmit, onStop, onTooLong }) {
    this.nodes = nodes;
    this.maxChars = maxChars;
    this.busy = false;
    this.pending = false;
    this.stopping = false;
    this.streaming = false;
    this.hintTimer = 0;
    this.defaultHint = nodes.hint.querySelector(".hint-keys").textContent;
    this.growsByItself = window.CSS?.supports?.("field-sizing", "content");
    nodes.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit(onSubmit, onTooLong);
    });
    nodes.prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
        event.preventDefault();
        this.#submit(onSubmit, onTooLong);
      }
    });
    nodes.prompt.addEventListener("input", () => {
      this.#grow();
      this.update();
    });
    nodes.stop.addEventListener("click", onStop);
  }

  get value() {
    return this.nodes.prompt.value.trim();
  }

  set value(text) {
    this.nodes.prompt.value = text;
    this.#grow();
    this.update();
  }

  focus() {
    this.nodes.prompt.focus();
  }

  /** busy: a turn is in flight; pending: waiting for its start; streaming; stopping. */
  setState({ busy, pending, streaming, stopping }) {
    Object.assign(this, { busy, pending, streaming, stopping });
    if (!busy) this.#hint(null);
    this.update();
  }

  update() {
    const { form, send, prompt, stop, counter } = this.nodes;
    const length = countChars(prompt.value);
    const count = counterState(length, this.maxChars);
    counter.hidden = !count.visible;
    counter.textContent = count.text || "";
    counter.classList.toggle("is-over", count.over);
    form.classList.toggle("is-busy", this.busy);
    form.classList.toggle("is-over", count.over);
    send.setAttribute("aria-disabled", String(this.busy || length === 0 || count.over));
    send.title = this.busy ? gettext("Wait for the reply to finish") : gettext("Send (Enter)");
    prompt.readOnly = this.pending;
    stop.hidden = !this.streaming;
    stop.disabled = this.stopping;
    stop.querySelector("span").textContent = this.stopping ? gettext("Stopping…") : gettext("Stop");
  }

  /** Say for a few seconds, next to the box, why a message waits. */
  explainWait(text) {
    this.#hint(text);
    clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(() => this.#hint(null), 4000);
  }

  #hint(text) {
    const { hint } = this.nodes;
    hint.classList.toggle("is-notice", Boolean(text));
    hint.querySelector(".hint-keys").textContent = text || this.defaultHint;
  }

  #submit(onSubmit, onTooLong) {
    const content = this.value;
    if (!content) return;
    if (this.maxChars && countChars(content) > this.maxChars) onTooLong();
    else onSubmit(content);
  }

  #grow() {
    if (this.growsByItself) return;
    // Setting a CSSOM property is allowed by the CSP; style attributes are not.
    const { prompt } = this.nodes;
    prompt.style.height = "auto";
    prompt.style.height = `${prompt.scrollHeight}px`;
  }
}
