// The open conversation's messages: an ordered list (<ol>, list semantics kept)
// that follows the bottom while a reply streams only when the reader is there,
// with a jump-to-bottom button when they scrolled up. Message DOM comes from
// render.js; this module places it.
// Closer than this to the bottom counts as "at the bottom".
const BOTTOM_SLACK_PX = 80;

export class Thread {
  /** nodes: thread (the scroller), messages (the <ol>), emptyState, jump. */
  constructor(nodes) {
    this.nodes = nodes;
    this.wasAtBottom = true;
    nodes.thread.addEventListener(
      "scroll",
      () => {
        this.wasAtBottom = this.atBottom;
        this.#updateJump();
      },
      { passive: true },
    );
    // The composer growing, a banner or the keyboard opening shrink the thread:
    // whoever was reading the end keeps it in view.
    new ResizeObserver(() => {
      if (this.wasAtBottom) this.scrollToBottom();
    }).observe(nodes.thread);
    nodes.jump.addEventListener("click", () => {
      this.scrollToBottom();
      nodes.jump.blur();
    });
    new ResizeObserver(() => this.#updateJump()).observe(nodes.messages);
  }

  get atBottom() {
    const t = this.nodes.thread;
    return t.scrollHeight - t.scrollTop - t.clientHeight < BOTTOM_SLACK_PX;
  }

  get last() {
    return this.nodes.messages.lastElementChild;
  }

  get items() {
    return [...this.nodes.messages.children];
  }

  find(id) {
    return this.items.find((item) => item.dataset.id === id) || null;
  }

  /** Bring a message into view and mark it a moment (a search result's). */
  reveal(item) {
    item.scrollIntoView({ block: "center" });
    this.wasAtBottom = this.atBottom;
    item.classList.add("is-found");
    setTimeout(() => item.classList.remove("is-found"), 4000);
  }

  clear() {
    this.nodes.messages.replaceChildren();
    this.nodes.emptyState.hidden = false;
  }

  setEmpty(empty) {
    this.nodes.emptyState.hidden = !empty;
  }

  setBusy(busy) {
    if (busy) this.nodes.thread.setAttribute("aria-busy", "true");
    else this.nodes.thread.removeAttribute("aria-busy");
  }

  append(...items) {
    this.nodes.emptyState.hidden = true;
    this.nodes.messages.append(...items);
  }

  /** A loaded history replaces the list; it is not news, so it is not read aloud. */
  replaceAll(items) {
    const list = this.nodes.messages;
    list.setAttribute("aria-live", "off");
    list.replaceChildren(...items);
    requestAnimationFrame(() => list.removeAttribute("aria-live"));
    this.nodes.emptyState.hidden = items.length > 0;
    this.scrollToBottom();
  }

  /** Regenerate: the new reply streams where the old one began. A reply made of
   * continuations is superseded whole, as the server does. */
  supersede(old, item) {
    const parts = [old];
    for (let part = old; part.dataset.continues; ) {
      part = this.find(part.dataset.continues);
      if (!part) break;
      parts.push(part);
    }
    parts.pop().replaceWith(item);
    for (const part of parts) part.remove();
  }

  /** Edit: the edited message and everything after it leave the list (the new
   * version and its reply take their place). */
  truncateFrom(item) {
    while (item.nextElementSibling) item.nextElementSibling.remove();
    item.remove();
  }

  scrollToBottom() {
    const t = this.nodes.thread;
    t.scrollTop = t.scrollHeight;
    this.wasAtBottom = true;
    this.#updateJump();
  }

  /** Run a DOM update, following the bottom only if the reader was already there. */
  keepScrolled(update) {
    const atBottom = this.atBottom;
    const result = update();
    if (atBottom) this.scrollToBottom();
    else this.#updateJump();
    return result;
  }

  #updateJump() {
    const { jump, thread } = this.nodes;
    const hidden = this.atBottom || thread.scrollHeight <= thread.clientHeight;
    if (jump.hidden !== hidden) jump.hidden = hidden;
  }
}
