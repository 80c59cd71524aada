// The chat page: conversations, the composer and streamed replies over one socket
// (docs/protocol.md). Configuration comes from data- attributes on <body>; the CSP
// allows no inline script or style.
import * as api from "./api.js";
import {
  assistantMessage,
  renderFinal,
  renderPartial,
  renderQueued,
  renderStatus,
  replyActions,
  userMessage,
} from "./render.js";
import { CLOSE_TOO_BIG, ChatSocket } from "./socket.js";
import { STATUS_TEXT, errorText, formatCost, formatSeconds, formatTokens } from "./text.js";

const config = document.body.dataset;
const $ = (id) => document.getElementById(id);
const dom = {
  thread: $("thread"),
  messages: $("messages"),
  emptyState: $("empty-state"),
  composer: $("composer"),
  prompt: $("prompt"),
  send: $("send"),
  stop: $("stop"),
  banner: $("banner"),
  bannerText: $("banner-text"),
  bannerClose: $("banner-close"),
  conn: $("conn"),
  connText: $("conn-text"),
  connRetry: $("conn-retry"),
  list: $("conversation-list"),
  listEmpty: $("conversation-empty"),
  newChat: $("new-chat"),
  usageToday: $("usage-today"),
  usageMonth: $("usage-month"),
  usageBudgets: $("usage-budgets"),
  sidebar: $("sidebar"),
  sidebarToggle: $("sidebar-toggle"),
  backdrop: $("sidebar-backdrop"),
  deleteDialog: $("delete-dialog"),
  deleteText: $("delete-text"),
  announcer: $("announcer"),
  alerts: $("alerts"),
};

const state = {
  conversation: null, // the open conversation's id; null for a new chat
  conversations: [], // [{id, title, updated}], newest first
  // A send, regenerate or continue waiting for its start frame:
  // {frame, attempts, conversation} (the conversation it was made in).
  pending: null,
  // The reply streaming: {id, conversation, seq, text, item, stopping, joining, raf,
  // queued} (queued: its place in the provider's queue, null when not waiting).
  reply: null,
  loads: 0, // bumped per history load, so a slow response cannot overwrite a newer one
};
const replySource = new WeakMap(); // assistant <li> -> its Markdown, for "Copy reply"

const socket = new ChatSocket(socketUrl(), {
  onReady,
  onFrame,
  onClose,
  onState: showConnection,
  onUnauthenticated: () => window.location.assign(api.loginUrl()),
});

// --- Socket frames -----------------------------------------------------------------

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${config.wsPath}`;
}

// A send whose socket keeps dying before its start frame is given up after this
// many tries (a frame that crashes the server must not loop for ever).
const MAX_SEND_ATTEMPTS = 3;

function onReady() {
  // A send that got no answer is sent again with the same id: the server never
  // makes a second turn for it. A reply in flight is joined where it left off.
  const pending = state.pending;
  if (pending && pending.attempts >= MAX_SEND_ATTEMPTS) {
    state.pending = null;
    updateComposer();
    showBanner(
      pending.frame.type === "send"
        ? "Your message could not be sent: the connection keeps dropping. It is kept here; try again."
        : "The reply could not be redone: the connection keeps dropping. Try again.",
    );
  } else if (pending) {
    pending.attempts += 1;
    socket.send(pending.frame);
  }
  const reply = state.reply;
  if (reply) {
    reply.joining = true;
    socket.send({ type: "join", message: reply.id, after: reply.seq });
    if (reply.stopping) socket.send({ type: "stop", message: reply.id });
  }
}

function onClose(code) {
  if (code === CLOSE_TOO_BIG && state.pending) {
    // Resending would close the socket again; the text stays in the box.
    state.pending = null;
    updateComposer();
    showBanner("That message is too large to send. Shorten it and try again.");
  }
}

function onFrame(frame) {
  switch (frame.type) {
    case "start":
      return onStart(frame);
    case "delta":
      return onDelta(frame);
    case "queued":
      return onQueued(frame);
    case "status":
      return onStatus(frame);
    case "end":
      return onEnd(frame);
    case "error":
      return onError(frame);
    default:
      return undefined; // a newer server's frame this page does not know
  }
}

function onStart(frame) {
  const pending = state.pending;
  if (!pending || pending.frame.id !== frame.id) return;
  state.pending = null;
  const inView = state.conversation === pending.conversation;
  upsertConversation({ id: frame.conversation, title: frame.title, updated: frame.created });
  const isSend = pending.frame.type === "send";
  if (isSend && dom.prompt.value.trim() === pending.frame.content) setPrompt("");
  let item = null;
  if (inView) {
    if (state.conversation !== frame.conversation) {
      state.conversation = frame.conversation;
      setUrl(frame.conversation, { push: false });
      markActive();
      setTitle(frame.title);
    }
    const continues = frame.continues || null;
    item = assistantMessage({ id: frame.message, streaming: true, continues });
    dom.emptyState.hidden = true;
    const superseded = frame.replaces ? findMessage(frame.replaces) : null;
    if (superseded) {
      supersede(superseded, item);
    } else if (isSend) {
      const question = userMessage({ id: frame.user_message, content: pending.frame.content });
      dom.messages.append(question, item);
    } else {
      dom.messages.append(item);
    }
    // Continue: the new text reads as the rest of the reply it carries on.
    if (continues) findMessage(continues)?.classList.add("is-continued");
    scrollToBottom();
  }
  state.reply = {
    id: frame.message,
    conversation: frame.conversation,
    seq: 0,
    text: "",
    item,
    stopping: false,
    joining: false,
    raf: 0,
    queued: null,
  };
  updateComposer();
}

/** Regenerate: the new reply streams where the old one began. A reply made of
 * continuations is superseded whole, as the server does. */
function supersede(old, item) {
  const parts = [old];
  for (let part = old; part.dataset.continues; ) {
    part = findMessage(part.dataset.continues);
    if (!part) break;
    parts.push(part);
  }
  parts.pop().replaceWith(item);
  for (const part of parts) part.remove();
}

function onQueued(frame) {
  const reply = state.reply;
  // Once text streams, the queue is behind it (a late frame must not hide the text).
  if (!reply || frame.message !== reply.id || reply.text) return;
  reply.joining = false;
  const first = reply.queued === null;
  reply.queued = frame.position;
  if (reply.item) renderQueued(reply.item, frame.position);
  // Said once per reply; the visible position updates quietly (the reply is aria-busy).
  if (first && frame.position > 0) announce(`Waiting for the model — position ${frame.position}.`);
}

function onStatus(frame) {
  const reply = state.reply;
  // Once text streams, it says enough: a pause shows as the cursor waiting.
  if (!reply || frame.message !== reply.id || reply.text) return;
  reply.joining = false;
  if (reply.item) renderStatus(reply.item, frame.text);
}

function onDelta(frame) {
  const reply = state.reply;
  if (!reply || frame.message !== reply.id) return;
  reply.joining = false;
  if (frame.seq <= reply.seq) return; // already seen (a replay after a resend)
  reply.seq = frame.seq;
  reply.text += frame.text;
  // Re-rendering Markdown per frame is wasted work: once per display frame is enough.
  if (!reply.raf) {
    reply.raf = requestAnimationFrame(() => {
      reply.raf = 0;
      if (reply.item && state.reply === reply) {
        keepScrolled(() => renderPartial(reply.item, reply.text));
      }
    });
  }
}

const FINAL_STATUSES = new Set(["complete", "cancelled", "interrupted", "filtered", "failed"]);

function onEnd(frame) {
  // An end frame is final whatever it says: a stored row still marked "streaming"
  // (its generator died with a restart) is shown as interrupted.
  if (!FINAL_STATUSES.has(frame.status)) frame = { ...frame, status: "interrupted" };
  const reply = state.reply;
  if (reply && frame.message === reply.id) {
    cancelAnimationFrame(reply.raf);
    state.reply = null;
    if (reply.item) finishReply(reply.item, frame);
    const label = frame.status === "complete" ? "finished" : STATUS_TEXT[frame.status] || frame.status;
    announce(`Reply ${label.toLowerCase()}.`);
    updateComposer();
    const conversation = state.conversations.find((c) => c.id === reply.conversation);
    if (conversation) upsertConversation({ ...conversation, updated: new Date().toISOString() });
  } else {
    // A reply followed by another tab, or an end after a failed join.
    const item = findMessage(frame.message);
    if (item) finishReply(item, frame);
    updateReplyActions();
  }
  refreshUsage();
}

function onError(frame) {
  const reply = state.reply;
  if (state.pending && frame.id === state.pending.frame.id) {
    // The send was refused: its text is still in the box, ready to retry.
    state.pending = null;
    updateComposer();
  } else if (reply?.joining && !frame.id && !frame.message_id) {
    // The reply could not be joined (it is gone): show what the server stored.
    state.reply = null;
    updateComposer();
    if (state.conversation === reply.conversation) openConversation(reply.conversation);
    return;
  }
  showBanner(errorText(frame), { retryAfter: frame.retry_after });
}

function finishReply(item, frame) {
  replySource.set(item, frame.content ?? "");
  keepScrolled(() => renderFinal(item, frame));
}

// --- Composer ---------------------------------------------------------------------

function submit() {
  const content = dom.prompt.value.trim();
  if (!content || state.pending || state.reply) return;
  const frame = { type: "send", id: uuid(), conversation: state.conversation, content };
  if (!socket.send(frame)) {
    showBanner("You are offline, so nothing was sent. Your message is kept; send it again once reconnected.");
    return;
  }
  state.pending = { frame, attempts: 1, conversation: state.conversation };
  hideBanner();
  updateComposer();
}

/** Regenerate or continue the conversation's last reply (`type` is the frame type). */
function redo(type, messageId) {
  if (state.pending || state.reply || !state.conversation) return;
  const frame = { type, id: uuid(), message: messageId };
  if (!socket.send(frame)) {
    showBanner("You are offline, so nothing was sent. Try again once reconnected.");
    return;
  }
  state.pending = { frame, attempts: 1, conversation: state.conversation };
  hideBanner();
  updateComposer();
}

function stop() {
  const reply = state.reply;
  if (!reply || reply.stopping) return;
  if (!socket.send({ type: "stop", message: reply.id })) {
    showBanner("You are offline: the reply cannot be stopped until the connection is back.");
    return;
  }
  reply.stopping = true;
  updateComposer();
}

function updateComposer() {
  const busy = Boolean(state.pending || state.reply);
  const empty = dom.prompt.value.trim() === "";
  dom.composer.classList.toggle("is-busy", busy);
  dom.send.setAttribute("aria-disabled", String(busy || empty));
  dom.send.title = busy ? "Wait for the reply to finish" : "Send (Enter)";
  dom.prompt.readOnly = Boolean(state.pending);
  dom.stop.hidden = !state.reply;
  dom.stop.disabled = Boolean(state.reply?.stopping);
  dom.stop.querySelector("span").textContent = state.reply?.stopping ? "Stopping…" : "Stop";
  updateReplyActions();
}

const CAN_CONTINUE = new Set(["interrupted", "cancelled"]);

/** Regenerate and Continue sit on the thread's last reply once it has ended, and
 * wait (disabled) while any reply is being written. */
function updateReplyActions() {
  const last = dom.messages.lastElementChild;
  const ended = last?.classList.contains("msg-assistant") && FINAL_STATUSES.has(last.dataset.status);
  const target = ended ? last : null;
  for (const group of dom.messages.querySelectorAll(".msg-actions")) {
    if (target?.contains(group)) continue;
    const hadFocus = group.contains(document.activeElement);
    group.remove();
    if (hadFocus) dom.prompt.focus();
  }
  if (!target) return;
  let group = target.querySelector(".msg-actions");
  if (!group) {
    const text = (replySource.get(target) ?? "").trim();
    group = replyActions({ canContinue: CAN_CONTINUE.has(target.dataset.status) && text !== "" });
    target.querySelector(".msg-footer").append(group);
  }
  const busy = Boolean(state.pending || state.reply);
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-disabled", String(busy));
  }
}

function setPrompt(text) {
  dom.prompt.value = text;
  growPrompt();
  updateComposer();
}

const growsByItself = window.CSS?.supports?.("field-sizing", "content");
function growPrompt() {
  if (growsByItself) return;
  // Setting a CSSOM property is allowed by the CSP; style attributes are not.
  dom.prompt.style.height = "auto";
  dom.prompt.style.height = `${dom.prompt.scrollHeight}px`;
}

dom.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
dom.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
    event.preventDefault();
    submit();
  } else if (event.key === "Escape" && state.reply) {
    stop();
  }
});
dom.prompt.addEventListener("input", () => {
  growPrompt();
  updateComposer();
});
dom.stop.addEventListener("click", stop);

// --- Banner and announcements -------------------------------------------------------

let bannerTimer = 0;

function showBanner(text, { retryAfter = null } = {}) {
  clearInterval(bannerTimer);
  dom.banner.hidden = false;
  dom.banner.dataset.tone = "error";
  if (retryAfter) {
    const until = Date.now() + retryAfter * 1000;
    const tick = () => {
      const left = (until - Date.now()) / 1000;
      if (left > 0) {
        dom.bannerText.textContent = `${text} Try again in ${formatSeconds(left)}.`;
      } else {
        clearInterval(bannerTimer);
        dom.bannerText.textContent = `${text} You can try again now.`;
        dom.banner.dataset.tone = "info";
      }
    };
    tick();
    bannerTimer = setInterval(tick, 1000);
  } else {
    dom.bannerText.textContent = text;
  }
  // Announced once; the visible countdown is not a live region.
  dom.alerts.textContent = dom.bannerText.textContent;
}

function hideBanner() {
  clearInterval(bannerTimer);
  dom.banner.hidden = true;
  dom.alerts.textContent = "";
}

dom.bannerClose.addEventListener("click", () => {
  hideBanner();
  dom.prompt.focus();
});

function announce(text) {
  dom.announcer.textContent = text;
}

// --- Connection state ---------------------------------------------------------------

const CONNECTION_TEXT = {
  connecting: () => "Connecting…",
  connected: () => "Connected",
  reconnecting: (seconds) => `Reconnecting in ${seconds} s`,
  offline: () => "Offline",
};
let lastConnection = null;

function showConnection({ state: name, seconds }) {
  const text = CONNECTION_TEXT[name](seconds);
  if (dom.connText.textContent !== text) dom.connText.textContent = text;
  dom.conn.dataset.state = name;
  dom.connRetry.hidden = name !== "reconnecting";
  if (name !== lastConnection) {
    if (name === "reconnecting" && lastConnection === "connected") announce("Connection lost. Reconnecting…");
    if (name === "offline") announce("You are offline.");
    if (name === "connected" && lastConnection) announce("Connected.");
    lastConnection = name;
  }
}

dom.connRetry.addEventListener("click", () => socket.reconnectNow());

// --- Conversations ------------------------------------------------------------------

function conversationFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const id = params.get("c") || window.location.hash.slice(1);
  return /^[0-9a-f-]{36}$/i.test(id) ? id : null;
}

function setUrl(id, { push }) {
  const url = new URL(window.location.href);
  url.hash = "";
  if (id) url.searchParams.set("c", id);
  else url.searchParams.delete("c");
  if (url.href === window.location.href) return;
  window.history[push ? "pushState" : "replaceState"]({ c: id }, "", url);
}

function setTitle(title) {
  document.title = title ? `${title} · djchat` : "Chat · djchat";
}

function clearThread() {
  if (state.reply) {
    cancelAnimationFrame(state.reply.raf);
    state.reply.raf = 0;
    state.reply.item = null; // it keeps streaming; re-attached if its chat reopens
  }
  dom.messages.replaceChildren();
  dom.emptyState.hidden = false;
}

function newChat({ push = true } = {}) {
  state.loads += 1;
  state.conversation = null;
  setUrl(null, { push });
  setTitle(null);
  clearThread();
  markActive();
  closeSidebar();
  dom.prompt.focus();
}

async function openConversation(id, { push = false } = {}) {
  const load = ++state.loads;
  state.conversation = id;
  setUrl(id, { push });
  markActive();
  clearThread();
  dom.emptyState.hidden = true;
  dom.thread.setAttribute("aria-busy", "true");
  let data;
  try {
    data = await api.getConversation(id);
  } catch (error) {
    if (load !== state.loads) return;
    dom.thread.removeAttribute("aria-busy");
    if (error.status === 404) {
      removeConversation(id);
      newChat({ push: false });
      showBanner("That conversation no longer exists.");
    } else {
      dom.emptyState.hidden = false;
      showBanner("Could not load this conversation. Check your connection and try again.");
    }
    return;
  }
  if (load !== state.loads) return;
  dom.thread.removeAttribute("aria-busy");
  setTitle(data.title);
  renderHistory(data);
}

function renderHistory(data) {
  const items = [];
  for (const message of data.messages) {
    if (message.role === "user") {
      items.push(userMessage(message));
      continue;
    }
    if (message.role !== "assistant") continue;
    const streaming = message.status === "streaming";
    const item = assistantMessage({ id: message.id, streaming, continues: message.continues });
    const continued = message.continues && items.find((i) => i.dataset.id === message.continues);
    if (continued) continued.classList.add("is-continued");
    items.push(item);
    if (!streaming) {
      replySource.set(item, message.content);
      renderFinal(item, message);
    } else if (state.reply?.id === message.id) {
      // Still following it on this socket: show what arrived so far.
      state.reply.item = item;
      if (state.reply.text) renderPartial(item, state.reply.text);
      else if (state.reply.queued !== null) renderQueued(item, state.reply.queued);
    } else if (!state.reply && !state.pending) {
      // Streaming from before a reload, or from another tab: follow it from the start.
      state.reply = {
        id: message.id,
        conversation: data.id,
        seq: 0,
        text: "",
        item,
        stopping: false,
        joining: true,
        raf: 0,
        queued: null,
      };
      socket.send({ type: "join", message: message.id, after: 0 });
      updateComposer();
    } else {
      // Another reply holds this tab's attention: show the text stored so far.
      replySource.set(item, message.content);
      renderFinal(item, message);
    }
  }
  // A loaded history is not news: keep the log from reading all of it aloud.
  dom.messages.setAttribute("aria-live", "off");
  dom.messages.replaceChildren(...items);
  requestAnimationFrame(() => dom.messages.setAttribute("aria-live", "polite"));
  dom.emptyState.hidden = items.length > 0;
  updateReplyActions();
  scrollToBottom();
}

function findMessage(id) {
  return [...dom.messages.children].find((item) => item.dataset.id === id) || null;
}

async function loadConversations() {
  try {
    const data = await api.listConversations();
    state.conversations = data.conversations;
    renderConversations();
  } catch {
    dom.listEmpty.hidden = false;
    dom.listEmpty.textContent = "Could not load your conversations.";
  }
}

function upsertConversation(conversation) {
  const rest = state.conversations.filter((c) => c.id !== conversation.id);
  state.conversations = [conversation, ...rest];
  renderConversations();
}

function removeConversation(id) {
  state.conversations = state.conversations.filter((c) => c.id !== id);
  renderConversations();
}

const TRASH_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 7h14M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

function renderConversations() {
  const items = state.conversations.map((conversation) => {
    const title = conversation.title || "Untitled";
    const item = document.createElement("li");
    item.className = "conversation";
    item.dataset.id = conversation.id;
    const link = document.createElement("a");
    link.className = "conversation-link";
    link.href = `?c=${encodeURIComponent(conversation.id)}`;
    link.textContent = title;
    link.title = title;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-icon btn-tiny conversation-delete";
    remove.dataset.action = "delete";
    remove.setAttribute("aria-label", `Delete “${title}”`);
    remove.title = "Delete";
    remove.innerHTML = TRASH_SVG; // a constant
    item.append(link, remove);
    return item;
  });
  dom.list.replaceChildren(...items);
  dom.listEmpty.hidden = items.length > 0;
  dom.listEmpty.textContent = "No conversations yet.";
  markActive();
}

function markActive() {
  for (const item of dom.list.children) {
    const link = item.querySelector("a");
    if (item.dataset.id === state.conversation) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

dom.list.addEventListener("click", (event) => {
  const item = event.target.closest("li.conversation");
  if (!item) return;
  if (event.target.closest('[data-action="delete"]')) {
    confirmDelete(item.dataset.id);
    return;
  }
  const link = event.target.closest("a");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  closeSidebar();
  if (item.dataset.id !== state.conversation) openConversation(item.dataset.id, { push: true });
});

dom.newChat.addEventListener("click", () => newChat());

async function confirmDelete(id) {
  const conversation = state.conversations.find((c) => c.id === id);
  if (!conversation) return;
  dom.deleteText.textContent = `“${conversation.title || "Untitled"}” will be deleted for good.`;
  dom.deleteDialog.returnValue = "";
  dom.deleteDialog.showModal();
  const choice = await new Promise((resolve) => {
    dom.deleteDialog.addEventListener("close", () => resolve(dom.deleteDialog.returnValue), {
      once: true,
    });
  });
  if (choice !== "delete") return;
  if (state.reply?.conversation === id) {
    socket.send({ type: "stop", message: state.reply.id });
    state.reply = null;
    updateComposer();
  }
  try {
    await api.deleteConversation(id);
  } catch (error) {
    if (error.status !== 404) {
      showBanner("Could not delete the conversation. Try again.");
      return;
    }
  }
  removeConversation(id);
  if (state.conversation === id) newChat({ push: false });
  announce("Conversation deleted.");
}

window.addEventListener("popstate", () => {
  const id = conversationFromUrl();
  if (id === state.conversation) return;
  if (id) openConversation(id);
  else newChat({ push: false });
});

// --- Message buttons ----------------------------------------------------------------

dom.messages.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  if (action === "regenerate" || action === "continue") {
    if (button.getAttribute("aria-disabled") !== "true") {
      redo(action, button.closest(".msg").dataset.id);
    }
    return;
  }
  let text = null;
  if (button.dataset.action === "copy-code") {
    text = button.closest(".code-block")?.querySelector("pre")?.textContent;
  } else if (button.dataset.action === "copy-message") {
    text = replyText(button.closest(".msg"));
  }
  if (text == null) return;
  const ok = await copyText(text);
  button.classList.add(ok ? "is-copied" : "is-failed");
  if (button.dataset.action === "copy-code") button.textContent = ok ? "Copied" : "Copy failed";
  announce(ok ? "Copied to the clipboard." : "Could not copy.");
  setTimeout(() => {
    button.classList.remove("is-copied", "is-failed");
    if (button.dataset.action === "copy-code") button.textContent = "Copy";
  }, 1500);
});

// An open details popover closes on a click elsewhere, like a menu.
document.addEventListener("click", (event) => {
  for (const open of dom.messages.querySelectorAll(".msg-meta[open]")) {
    if (!open.contains(event.target)) open.open = false;
  }
});

/** A reply's Markdown; a continuation's includes the reply it carries on. */
function replyText(item) {
  const own = replySource.get(item) || item.querySelector(".msg-content").innerText;
  const before = item.previousElementSibling;
  return before?.classList.contains("is-continued") ? replyText(before) + own : own;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API outside secure contexts: the old way.
    const area = document.createElement("textarea");
    area.className = "offscreen";
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

// --- Usage --------------------------------------------------------------------------

async function refreshUsage() {
  try {
    const usage = await api.getUsage();
    showUsage(dom.usageToday, usage.today);
    showUsage(dom.usageMonth, usage.month);
    showBudgets(usage.budgets || []);
  } catch {
    // Not worth a banner; the numbers refresh after the next reply.
  }
}

function showUsage(node, totals) {
  if (!totals) return;
  const tokens = (Number(totals.input_tokens) || 0) + (Number(totals.output_tokens) || 0);
  node.textContent = `${formatTokens(tokens)} tokens · ${formatCost(totals.cost)}`;
  node.title = `${formatTokens(totals.input_tokens)} in, ${formatTokens(totals.output_tokens)} out`;
}

const BUDGET_PERIOD = { day: "Left today", month: "Left this month" };

/** What is left of each budget and when it resets; nothing when none is set. */
function showBudgets(budgets) {
  const rows = budgets.flatMap((budget) => {
    const left = [];
    const used = [];
    let spent = false;
    if (budget.tokens_limit != null) {
      left.push(`${formatTokens(budget.tokens_left)} tokens`);
      used.push(`${formatTokens(budget.tokens_used)} of ${formatTokens(budget.tokens_limit)} tokens`);
      spent ||= budget.tokens_left === 0;
    }
    if (budget.cost_limit != null) {
      left.push(formatCost(budget.cost_left));
      used.push(`${formatCost(budget.cost_used)} of ${formatCost(budget.cost_limit)}`);
      spent ||= Number(budget.cost_left) === 0;
    }
    const name = document.createElement("dt");
    name.textContent = BUDGET_PERIOD[budget.period] || `Left this ${budget.period}`;
    const value = document.createElement("dd");
    value.textContent = left.join(" · ");
    value.title = `Used ${used.join(" and ")}`;
    value.classList.toggle("is-spent", spent);
    const reset = document.createElement("dd");
    reset.className = "usage-reset";
    reset.textContent = budget.resets;
    return [name, value, reset];
  });
  dom.usageBudgets.replaceChildren(...rows);
  dom.usageBudgets.hidden = rows.length === 0;
}

// --- Layout -------------------------------------------------------------------------

function openSidebar() {
  document.body.classList.add("sidebar-open");
  dom.sidebarToggle.setAttribute("aria-expanded", "true");
  dom.backdrop.hidden = false;
  dom.newChat.focus();
}

function closeSidebar() {
  if (!document.body.classList.contains("sidebar-open")) return;
  document.body.classList.remove("sidebar-open");
  dom.sidebarToggle.setAttribute("aria-expanded", "false");
  dom.backdrop.hidden = true;
}

dom.sidebarToggle.addEventListener("click", () => {
  if (document.body.classList.contains("sidebar-open")) closeSidebar();
  else openSidebar();
});
dom.backdrop.addEventListener("click", closeSidebar);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.classList.contains("sidebar-open")) {
    closeSidebar();
    dom.sidebarToggle.focus();
  }
});

function scrollToBottom() {
  dom.thread.scrollTop = dom.thread.scrollHeight;
}

/** Run a DOM update, following the bottom only if the reader was already there. */
function keepScrolled(update) {
  const t = dom.thread;
  const atBottom = t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  update();
  if (atBottom) scrollToBottom();
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- Start --------------------------------------------------------------------------

function init() {
  updateComposer();
  growPrompt();
  const id = conversationFromUrl();
  if (id) openConversation(id);
  else setUrl(null, { push: false });
  loadConversations();
  refreshUsage();
  socket.start();
}

init();
