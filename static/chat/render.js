// DOM for messages. User text is only ever set as textContent; assistant HTML only
// ever comes out of markdown.js (DOMPurify).
import { decorateCodeBlocks, renderMarkdown, sanitize } from "./markdown.js";
import {
  STATUS_HINT,
  STATUS_TEXT,
  formatCost,
  formatDate,
  formatMs,
  formatTokens,
} from "./text.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function srOnly(text) {
  return el("span", "visually-hidden", text);
}

export function userMessage({ id, content, created }) {
  const item = el("li", "msg msg-user");
  if (id) item.dataset.id = id;
  const bubble = el("div", "msg-bubble");
  bubble.append(srOnly("You said: "), el("p", "msg-text", content));
  if (created) bubble.title = formatDate(created);
  item.append(bubble);
  return item;
}

const AVATAR_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.5l2.3 5.2 5.2 2.3-5.2 2.3L12 17.5l-2.3-5.2L4.5 10l5.2-2.3z" fill="currentColor"/><path d="M18.5 15.5l.9 2.1 2.1.9-2.1.9-.9 2.1-.9-2.1-2.1-.9 2.1-.9z" fill="currentColor"/></svg>';

/**
 * An assistant message; `streaming` shows a typing indicator until text arrives.
 * A continuation (`continues`: the id of the reply it carries on) is drawn as part
 * of that reply: no avatar of its own, directly below it.
 */
export function assistantMessage({ id, streaming, continues = null }) {
  const item = el("li", "msg msg-assistant");
  item.dataset.id = id;
  if (continues) {
    item.classList.add("msg-continuation");
    item.dataset.continues = continues;
  }
  const avatar = el("div", "msg-avatar");
  avatar.innerHTML = AVATAR_SVG; // a constant, no data
  const main = el("div", "msg-main");
  const content = el("div", "msg-content markdown");
  content.id = `msg-${id}`;
  const footer = el("div", "msg-footer");
  const said = continues ? "Assistant continued: " : "Assistant said: ";
  main.append(srOnly(said), content, footer);
  item.append(avatar, main);
  if (streaming) setStreaming(item, true);
  return item;
}

export function setStreaming(item, streaming) {
  item.classList.toggle("is-streaming", streaming);
  // aria-busy keeps screen readers from reading every partial render aloud.
  item.setAttribute("aria-busy", String(streaming));
  if (streaming && !item.querySelector(".msg-content").hasChildNodes()) {
    item.querySelector(".msg-content").append(typingIndicator());
  }
}

function typingIndicator() {
  const dots = el("span", "typing");
  dots.setAttribute("aria-label", "Writing");
  dots.append(el("span"), el("span"), el("span"));
  return dots;
}

/** While the reply waits for the provider: its place in the queue (0: starting). */
export function renderQueued(item, position) {
  const content = item.querySelector(".msg-content");
  if (position > 0) {
    const note = el("p", "msg-queued");
    const words = `Waiting for the model — position ${position}`;
    const dots = typingIndicator();
    dots.setAttribute("aria-hidden", "true");
    note.append(dots, el("span", "", words));
    content.replaceChildren(note);
  } else {
    content.replaceChildren(typingIndicator());
  }
}

/** While the provider keeps the reply waiting (no text yet): what is happening. */
export function renderStatus(item, words) {
  const note = el("p", "msg-queued");
  const dots = typingIndicator();
  dots.setAttribute("aria-hidden", "true");
  note.append(dots, el("span", "", words));
  item.querySelector(".msg-content").replaceChildren(note);
}

/** Re-render a streaming reply from its text so far, with a cursor at the end. */
export function renderPartial(item, text) {
  const content = item.querySelector(".msg-content");
  const fragment = renderMarkdown(text);
  content.replaceChildren(fragment);
  decorateCodeBlocks(content);
  let last = content.lastElementChild;
  while (last && ["UL", "OL", "LI", "BLOCKQUOTE"].includes(last.tagName)) {
    if (!last.lastElementChild) break;
    last = last.lastElementChild;
  }
  const host = last && !last.classList.contains("code-block") ? last : content;
  const cursor = el("span", "cursor");
  cursor.setAttribute("aria-hidden", "true");
  host.append(cursor);
}

/** Replace a reply with the server's final HTML (sanitised again) and its footer. */
export function renderFinal(item, reply) {
  const content = item.querySelector(".msg-content");
  if (reply.html) {
    content.replaceChildren(sanitize(reply.html));
  } else {
    content.replaceChildren(renderMarkdown(reply.content || ""));
  }
  decorateCodeBlocks(content);
  setStreaming(item, false);
  if (!content.hasChildNodes() || content.textContent.trim() === "") {
    content.replaceChildren(el("p", "msg-empty", "(no text)"));
  }
  item.dataset.status = reply.status;
  renderFooter(item, reply);
}

function renderFooter(item, reply) {
  const footer = item.querySelector(".msg-footer");
  footer.replaceChildren();
  const label = STATUS_TEXT[reply.status];
  if (label && reply.status !== "complete") {
    const status = el("span", `msg-status status-${reply.status}`, label);
    if (STATUS_HINT[reply.status]) status.title = STATUS_HINT[reply.status];
    footer.append(status);
  }
  const copy = el("button", "btn btn-icon btn-tiny");
  copy.type = "button";
  copy.dataset.action = "copy-message";
  copy.setAttribute("aria-label", "Copy reply");
  copy.title = "Copy reply";
  copy.innerHTML =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="8" y="8" width="12" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>';
  footer.append(copy);
  footer.append(details(reply));
}

const REGENERATE_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M20 12a8 8 0 1 1-2.34-5.66M20 4v5h-5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const CONTINUE_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 12h13M13 6l6 6-6 6" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

function actionButton(action, label, name, hint, svg) {
  const button = el("button", "btn btn-small btn-ghost msg-action");
  button.type = "button";
  button.dataset.action = action;
  button.setAttribute("aria-label", name);
  button.title = hint;
  button.innerHTML = svg; // a constant
  button.append(label);
  return button;
}

/** Regenerate (and, for a cut-off reply with text, Continue) for the last reply. */
export function replyActions({ canContinue }) {
  const group = el("span", "msg-actions");
  if (canContinue) {
    const hint = "Carry on writing this reply";
    group.append(actionButton("continue", "Continue", "Continue reply", hint, CONTINUE_SVG));
  }
  const hint = "Write a new reply in place of this one";
  group.append(actionButton("regenerate", "Regenerate", "Regenerate reply", hint, REGENERATE_SVG));
  return group;
}

/** The "i" toggle: tokens, cost and timings of one reply. */
function details(reply) {
  const box = el("details", "msg-meta");
  const summary = el("summary", "msg-meta-toggle");
  summary.title = "Tokens, cost and timing";
  summary.append(el("span", "msg-meta-icon", "i"), srOnly("Details"));
  const list = el("dl", "msg-meta-list");
  const usage = reply.usage || null;
  const estimated = usage?.estimated ? " (estimated)" : "";
  const rows = [];
  if (usage) {
    rows.push(["Input tokens", `${formatTokens(usage.input_tokens)}${estimated}`]);
    if (usage.cached_input_tokens) {
      rows.push(["Cached input", formatTokens(usage.cached_input_tokens)]);
    }
    rows.push(["Output tokens", `${formatTokens(usage.output_tokens)}${estimated}`]);
  } else {
    rows.push(["Tokens", "not recorded"]);
  }
  rows.push(["Cost", reply.cost == null ? "—" : `${formatCost(reply.cost)} (USD)`]);
  rows.push(["First token", formatMs(reply.ttft_ms)]);
  if (reply.duration_ms != null) rows.push(["Duration", formatMs(reply.duration_ms)]);
  if (reply.model) rows.push(["Model", reply.model]);
  for (const [name, value] of rows) list.append(el("dt", "", name), el("dd", "", value));
  box.append(summary, list);
  box.addEventListener("toggle", () => {
    if (box.open) list.scrollIntoView({ block: "nearest" });
  });
  return box;
}
