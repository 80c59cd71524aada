// DOM for messages. User text is only ever set as textContent; assistant HTML only
// ever comes out of sanitize.js (DOMPurify). Code and math are finished by
// blocks.js. A message is an <li> of the #messages list; later parts of a message
// (versions, tool calls) go in its .msg-main, above the footer.
import { decorate } from "./blocks.js";
import { format, gettext } from "./i18n.js";
import { renderMarkdown, sanitize } from "./sanitize.js";
import {
  STATUS_HINT,
  STATUS_TEXT,
  TRUNCATED_HINT,
  cachedText,
  formatCost,
  formatDate,
  formatMs,
  formatTime,
  formatTokens,
} from "./text.js";

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function srOnly(text) {
  return el("span", "visually-hidden", text);
}

function timestamp(iso) {
  const time = el("time", "msg-time", formatTime(iso));
  time.dateTime = iso;
  time.title = formatDate(iso);
  return time;
}

/** Labels for code blocks, in the page's language. */
const CODE_LABELS = {
  code: gettext("code"),
  copy: gettext("Copy"),
  copyCode: (lang) =>
    lang ? format(gettext("Copy %(language)s code"), { language: lang }) : gettext("Copy code"),
};

/** Decorate a message body's code and math (see blocks.js). */
export function finishBlocks(content) {
  return decorate(content, { labels: CODE_LABELS });
}

export function userMessage({ id, content, created }) {
  const item = el("li", "msg msg-user");
  if (id) item.dataset.id = id;
  const bubble = el("div", "msg-bubble");
  const text = el("p", "msg-text", content);
  text.dir = "auto";
  bubble.append(srOnly(gettext("You said: ")), text);
  item.append(bubble);
  if (created) item.append(timestamp(created));
  return item;
}

const AVATAR_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.5l2.3 5.2 5.2 2.3-5.2 2.3L12 17.5l-2.3-5.2L4.5 10l5.2-2.3z" fill="currentColor"/><path d="M18.5 15.5l.9 2.1 2.1.9-2.1.9-.9 2.1-.9-2.1-2.1-.9 2.1-.9z" fill="currentColor"/></svg>';

/**
 * An assistant message; `streaming` shows a typing indicator until text arrives.
 * A continuation (`continues`: the id of the reply it carries on) is drawn as part
 * of that reply: no avatar of its own, directly below it.
 */
export function assistantMessage({ id, streaming, continues = null, created = null }) {
  const item = el("li", "msg msg-assistant");
  item.dataset.id = id;
  if (created) item.dataset.created = created;
  if (continues) {
    item.classList.add("msg-continuation");
    item.dataset.continues = continues;
  }
  const avatar = el("div", "msg-avatar");
  avatar.innerHTML = AVATAR_SVG; // a constant, no data
  const main = el("div", "msg-main");
  const content = el("div", "msg-content markdown");
  content.id = `msg-${id}`;
  content.dir = "auto";
  const footer = el("div", "msg-footer");
  const said = continues ? gettext("Assistant continued: ") : gettext("Assistant said: ");
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
  dots.setAttribute("role", "img");
  dots.setAttribute("aria-label", gettext("Writing"));
  dots.append(el("span"), el("span"), el("span"));
  return dots;
}

/** While the reply waits for the provider: its place in the queue (0: starting). */
export function renderQueued(item, position) {
  const content = item.querySelector(".msg-content");
  if (position > 0) {
    const note = el("p", "msg-queued");
    const words = format(gettext("Waiting for the model — position %(position)s"), {
      position,
    });
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
  content.replaceChildren(renderMarkdown(text));
  const done = finishBlocks(content);
  let last = content.lastElementChild;
  while (last && ["UL", "OL", "LI", "BLOCKQUOTE"].includes(last.tagName)) {
    if (!last.lastElementChild) break;
    last = last.lastElementChild;
  }
  const host =
    last && !last.classList.contains("code-block") && !last.classList.contains("math")
      ? last
      : content;
  const cursor = el("span", "cursor");
  cursor.setAttribute("aria-hidden", "true");
  host.append(cursor);
  return done;
}

/**
 * Show a reply's final text and footer. `final` comes from reply-state.js's
 * finalText: the server's HTML (sanitised again), or Markdown rendered here when
 * the page keeps a longer text than the server stored.
 */
export function renderFinal(item, reply, final = { content: reply.content, html: reply.html }) {
  const content = item.querySelector(".msg-content");
  if (final.html) {
    content.replaceChildren(sanitize(final.html));
  } else {
    content.replaceChildren(renderMarkdown(final.content || ""));
  }
  const done = finishBlocks(content);
  setStreaming(item, false);
  if (!content.hasChildNodes() || content.textContent.trim() === "") {
    content.replaceChildren(el("p", "msg-empty", gettext("(no text)")));
  }
  item.dataset.status = reply.status;
  item.dataset.truncated = String(Boolean(reply.truncated));
  item.classList.toggle("is-kept", Boolean(final.kept));
  renderFooter(item, reply);
  return done;
}

function renderFooter(item, reply) {
  const footer = item.querySelector(".msg-footer");
  footer.replaceChildren();
  const created = reply.created || item.dataset.created;
  if (created) footer.append(timestamp(created));
  const label = STATUS_TEXT[reply.status];
  if (label && reply.status !== "complete") {
    const status = el("span", `msg-status status-${reply.status}`, label);
    if (STATUS_HINT[reply.status]) status.title = STATUS_HINT[reply.status];
    footer.append(status);
  }
  if (reply.truncated) {
    const mark = el("span", "msg-status status-truncated", gettext("Cut at the length limit"));
    mark.title = TRUNCATED_HINT;
    footer.append(mark);
  }
  if (reply.cached) {
    const mark = el("span", "msg-cached", cachedText(reply.saved));
    mark.title = gettext("Served from the response cache: no model call was made.");
    footer.append(mark);
  }
  const copy = el("button", "btn btn-icon btn-tiny");
  copy.type = "button";
  copy.dataset.action = "copy-message";
  copy.setAttribute("aria-label", gettext("Copy reply"));
  copy.title = gettext("Copy reply");
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
    group.append(
      actionButton(
        "continue",
        gettext("Continue"),
        gettext("Continue reply"),
        gettext("Carry on writing this reply"),
        CONTINUE_SVG,
      ),
    );
  }
  group.append(
    actionButton(
      "regenerate",
      gettext("Regenerate"),
      gettext("Regenerate reply"),
      gettext("Write a new reply in place of this one"),
      REGENERATE_SVG,
    ),
  );
  return group;
}

const EDIT_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

/** ‹ 2/3 ›: which version of a message is shown; the arrows show the neighbours
 * (versions.js's versionInfo). Nothing when there is only one. */
export function versionSwitcher(info) {
  if (info.count < 2) return null;
  const box = el("span", "msg-versions");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", gettext("Versions"));
  const arrow = (target, text, name) => {
    const button = el("button", "btn btn-icon btn-tiny", text);
    button.type = "button";
    button.dataset.action = "version";
    button.setAttribute("aria-label", name);
    button.title = name;
    if (target) button.dataset.target = target;
    else button.disabled = true;
    return button;
  };
  const label = el("span", "msg-versions-label", `${info.index + 1}/${info.count}`);
  label.setAttribute("aria-hidden", "true");
  const spoken = format(gettext("Version %(index)s of %(count)s"), {
    index: info.index + 1,
    count: info.count,
  });
  box.append(
    arrow(info.prev, "‹", gettext("Previous version")),
    label,
    srOnly(spoken),
    arrow(info.next, "›", gettext("Next version")),
  );
  return box;
}

/** Under a user message: its version switcher and the Edit button. */
export function userTools(info) {
  const tools = el("div", "msg-tools");
  const switcher = versionSwitcher(info);
  if (switcher) tools.append(switcher);
  const edit = actionButton(
    "edit",
    gettext("Edit"),
    gettext("Edit message"),
    gettext("Change this message and send it again as a new version"),
    EDIT_SVG,
  );
  tools.append(edit);
  return tools;
}

/** The inline editor of a user message: its text, Save and Cancel. */
export function messageEditor(content) {
  const form = el("form", "msg-editor");
  const label = el("label", "visually-hidden", gettext("Edit your message"));
  const area = el("textarea", "msg-editor-text");
  area.id = `edit-${crypto.randomUUID?.() ?? Date.now()}`;
  label.htmlFor = area.id;
  area.value = content;
  area.rows = Math.min(Math.max(content.split("\n").length, 2), 12);
  area.dir = "auto";
  const buttons = el("div", "msg-editor-buttons");
  const cancel = el("button", "btn btn-small btn-ghost", gettext("Cancel"));
  cancel.type = "button";
  cancel.dataset.action = "edit-cancel";
  const save = el("button", "btn btn-small btn-primary", gettext("Save and send"));
  save.type = "submit";
  buttons.append(cancel, save);
  form.append(label, area, buttons);
  return form;
}

/** The "i" toggle: tokens, cost and timings of one reply. */
function details(reply) {
  const box = el("details", "msg-meta");
  const summary = el("summary", "msg-meta-toggle");
  summary.title = gettext("Tokens, cost and timing");
  summary.append(el("span", "msg-meta-icon", "i"), srOnly(gettext("Details")));
  const list = el("dl", "msg-meta-list");
  const usage = reply.usage || null;
  const estimated = usage?.estimated ? ` ${gettext("(estimated)")}` : "";
  const rows = [];
  if (usage) {
    rows.push([gettext("Input tokens"), `${formatTokens(usage.input_tokens)}${estimated}`]);
    if (usage.cached_input_tokens) {
      rows.push([gettext("Cached input"), formatTokens(usage.cached_input_tokens)]);
    }
    rows.push([gettext("Output tokens"), `${formatTokens(usage.output_tokens)}${estimated}`]);
  } else {
    rows.push([gettext("Tokens"), gettext("not recorded")]);
  }
  rows.push([gettext("Cost"), reply.cost == null ? "—" : `${formatCost(reply.cost)} (USD)`]);
  rows.push([gettext("First token"), formatMs(reply.ttft_ms)]);
  if (reply.duration_ms != null) rows.push([gettext("Duration"), formatMs(reply.duration_ms)]);
  if (reply.model) rows.push([gettext("Model"), reply.model]);
  for (const [name, value] of rows) list.append(el("dt", "", name), el("dd", "", value));
  box.append(summary, list);
  box.addEventListener("toggle", () => {
    if (box.open) list.scrollIntoView({ block: "nearest" });
  });
  return box;
}

/** Why a reply answers on another model than its conversation's (start's
 * `model_note`): shown above the reply. */
export function renderModelNote(item, text) {
  const note = el("p", "msg-note", text);
  note.setAttribute("role", "note");
  item.querySelector(".msg-main").prepend(note);
}
