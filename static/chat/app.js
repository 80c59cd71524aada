// The chat page: wiring only. Conversations (sidebar.js), the composer
// (composer.js), the messages (thread.js, render.js), notices (notices.js) and
// one socket (socket.js, docs/protocol.md); the turn in flight is the pure state
// machine of reply-state.js, whose effects are carried out here. Configuration
// comes from data- attributes on <body>; the CSP allows no inline script or style.
import * as api from "./api.js";
import { loadLibraries } from "./blocks.js";
import { Composer } from "./composer.js";
import { rate } from "./feedback.js";
import { format, gettext } from "./i18n.js";
import { ModelPicker } from "./models.js";
import { Notices } from "./notices.js";
import {
  assistantMessage,
  messageEditor,
  renderFinal,
  renderModelNote,
  renderPartial,
  renderQueued,
  renderStatus,
  replyActions,
  userMessage,
  userTools,
  versionSwitcher,
} from "./render.js";
import {
  FINAL_STATUSES,
  canContinue,
  finalText,
  initialState,
  isBusy,
  step,
} from "./reply-state.js";
import { ShareDialog } from "./share.js";
import { installShortcuts } from "./shortcuts.js";
import { Sidebar } from "./sidebar.js";
import { ChatSocket } from "./socket.js";
import { NOTICE_TEXT, STATUS_TEXT, errorText } from "./text.js";
import { installTheme } from "./theme.js";
import { Thread } from "./thread.js";
import { ToolSwitches, renderToolSteps } from "./tools.js";
import { branchChanges, editorKey, versionInfo, withNewVersion } from "./versions.js";

const config = document.body.dataset;
const maxChars = Number(config.maxChars) || null;
const $ = (id) => document.getElementById(id);

let state = initialState();
let conversation = null; // the open conversation's id; null for a new chat
let loads = 0; // bumped per history load, so a slow response cannot overwrite a newer one
let raf = 0; // the pending re-render of the streaming reply
const items = new Map(); // reply id -> its <li> while it streams in view
const replySource = new WeakMap(); // assistant <li> -> its Markdown, for "Copy reply"

const notices = new Notices(
  {
    banner: $("banner"),
    bannerText: $("banner-text"),
    bannerClose: $("banner-close"),
    announcer: $("announcer"),
    alerts: $("alerts"),
    conn: $("conn"),
    connText: $("conn-text"),
    connRetry: $("conn-retry"),
  },
  {
    onLayout: (update) => thread.keepScrolled(update),
    onRetry: () => socket.reconnectNow(),
  },
);
const thread = new Thread({
  thread: $("thread"),
  messages: $("messages"),
  emptyState: $("empty-state"),
  jump: $("jump-bottom"),
});
const composer = new Composer(
  {
    form: $("composer"),
    prompt: $("prompt"),
    send: $("send"),
    stop: $("stop"),
    counter: $("char-counter"),
    hint: $("composer-hint"),
  },
  {
    maxChars,
    onSubmit: (content) =>
      dispatch({
        type: "submit",
        frame: { type: "send", id: uuid(), conversation, content, ...picker.sendFields() },
        conversation,
        online: socket.ready,
      }),
    onStop: stop,
    onTooLong: () => notices.show(errorText({ code: "too_long" }, { maxChars })),
  },
);
const toolSwitches = new ToolSwitches($("tool-switches"), {
  load: api.getTools,
  save: api.setToolsOff,
  onError: (error) => notices.show(error.message),
});
const sidebar = new Sidebar(
  {
    sidebar: $("sidebar"),
    toggle: $("sidebar-toggle"),
    backdrop: $("sidebar-backdrop"),
    heading: $("history-heading"),
    list: $("conversation-list"),
    listEmpty: $("conversation-empty"),
    more: $("conversation-more"),
    archived: $("show-archived"),
    newChat: $("new-chat"),
    search: $("conversation-search"),
    usageToday: $("usage-today"),
    usageMonth: $("usage-month"),
    usageBudgets: $("usage-budgets"),
  },
  {
    onOpen: (id, message) => openConversation(id, { push: true, message }),
    onDelete: confirmDelete,
    onNew: () => newChat(),
    onRenamed: (id, title) => {
      if (id === conversation) setTitle(title);
    },
    onError: (text) => notices.show(text),
  },
);
const picker = new ModelPicker(
  {
    bar: $("model-bar"),
    select: $("model-select"),
    info: $("model-info"),
    presetField: $("preset-field"),
    presetSelect: $("preset-select"),
    settingsOpen: $("settings-open"),
    dialog: $("settings-dialog"),
    form: $("settings-form"),
    system: $("settings-system"),
    temperature: $("settings-temperature"),
    temperatureHelp: $("settings-temperature-help"),
    maxTokens: $("settings-max-tokens"),
    maxTokensHelp: $("settings-max-tokens-help"),
    error: $("settings-error"),
    badges: {
      badge: document.querySelector(".badge-model"),
      demoBadges: document.querySelectorAll(".badge-demo"),
      prompt: $("prompt"),
    },
  },
  {
    conversation: () => conversation,
    api,
    onSaved: (text) => notices.announce(text),
    onChanged: (text) => notices.show(text, { kind: "info" }),
  },
);
const shareDialog = new ShareDialog(
  {
    opener: $("share-open"),
    dialog: $("share-dialog"),
    state: $("share-state"),
    showName: $("share-show-name"),
    link: $("share-link"),
    url: $("share-url"),
    copy: $("share-copy"),
    create: $("share-create"),
    revoke: $("share-revoke"),
  },
  { announce: (text) => notices.announce(text), copyText },
);
const socket = new ChatSocket(socketUrl(), {
  onReady: (hello) => {
    picker.setModels(hello);
    dispatch({ type: "ready" });
  },
  onFrame: (frame) => (frame.type === "title" ? retitled(frame) : dispatch({ type: "frame", frame })),
  onClose: (code) => dispatch({ type: "closed", code }),
  onState: (connection) => notices.connection(connection),
  onUnauthenticated: () => window.location.assign(api.loginUrl()),
});

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${config.wsPath}`;
}

// --- The turn in flight ----------------------------------------------------------

function dispatch(event) {
  const [next, effects] = step(state, event);
  state = next;
  for (const effect of effects) run(effect);
}

function run(effect) {
  switch (effect.type) {
    case "send":
      socket.send(effect.frame);
      break;
    case "notice":
      if (effect.notice === "wait") composer.explainWait(NOTICE_TEXT.wait);
      else notices.show(NOTICE_TEXT[effect.notice], { kind: "connection" });
      break;
    case "clear-notice":
      notices.hide();
      break;
    case "error":
      notices.show(errorText(effect.frame, { maxChars }), { retryAfter: effect.frame.retry_after });
      break;
    case "started":
      started(effect);
      break;
    case "queued":
      queued(effect);
      break;
    case "status": {
      const item = items.get(effect.reply.id);
      if (item) renderStatus(item, effect.text);
      break;
    }
    case "text":
      scheduleRender(effect.reply);
      break;
    case "tools": {
      const item = items.get(effect.reply.id);
      if (item) thread.keepScrolled(() => renderToolSteps(item, effect.reply.tools.steps));
      break;
    }
    case "ended":
      ended(effect);
      break;
    case "reload":
      if (conversation === effect.conversation) openConversation(conversation);
      break;
    case "refresh-usage":
      refreshUsage();
      break;
    case "changed":
      updateControls();
      break;
    case "branch":
      if (branchChanges(effect.frame, { conversation, lastId: thread.last?.dataset.id })) {
        openConversation(conversation);
      }
      break;
    default:
      throw new Error(`unknown effect ${effect.type}`);
  }
}

function started({ frame, request, madeIn }) {
  sidebar.upsert({ id: frame.conversation, title: frame.title, updated: frame.created });
  const isSend = request.type === "send";
  if (isSend && composer.value === request.content) composer.value = "";
  if (conversation !== madeIn) return; // the person moved on; it streams unseen
  if (conversation !== frame.conversation) {
    conversation = frame.conversation;
    toolSwitches.show(conversation);
    setUrl(conversation, { push: false });
    sidebar.setActive(conversation);
    setTitle(frame.title);
  }
  if (isSend) picker.started(frame);
  const continues = frame.continues || null;
  const item = assistantMessage({
    id: frame.message,
    streaming: true,
    continues,
    created: frame.created,
  });
  items.set(frame.message, item);
  if (frame.model_note) {
    renderModelNote(item, frame.model_note);
    notices.announce(frame.model_note);
  }
  const superseded = frame.replaces ? thread.find(frame.replaces) : null;
  const edited = frame.edits ? thread.find(frame.edits) : null;
  if (superseded) {
    setVersions(item, withNewVersion(versionsOf(superseded), frame.replaces, frame.message));
    thread.supersede(superseded, item);
  } else if (request.type === "edit") {
    // The new version replaces the edited message and everything after it.
    const question = userMessage({
      id: frame.user_message,
      content: request.content,
      created: frame.created,
    });
    const versions = edited ? versionsOf(edited) : null;
    setVersions(question, withNewVersion(versions, frame.edits, frame.user_message));
    if (edited) thread.truncateFrom(edited);
    addUserTools(question);
    thread.append(question, item);
  } else if (isSend) {
    const question = userMessage({
      id: frame.user_message,
      content: request.content,
      created: frame.created,
    });
    addUserTools(question);
    thread.append(question, item);
  } else {
    thread.append(item);
  }
  // Continue: the new text reads as the rest of the reply it carries on.
  if (continues) thread.find(continues)?.classList.add("is-continued");
  thread.scrollToBottom();
}

function queued({ reply, first }) {
  const item = items.get(reply.id);
  if (item) renderQueued(item, reply.queued);
  // Said once per reply; the visible position updates quietly (the reply is aria-busy).
  if (first && reply.queued > 0) {
    notices.announce(
      format(gettext("Waiting for the model — position %(position)s."), { position: reply.queued }),
    );
  }
}

/** Re-rendering Markdown per frame is wasted work: once per display frame is enough. */
function scheduleRender() {
  if (raf) return;
  raf = requestAnimationFrame(() => {
    raf = 0;
    const reply = state.reply;
    const item = reply && items.get(reply.id);
    if (item?.isConnected && reply.text) {
      thread.keepScrolled(() => renderPartial(item, reply.text));
    }
  });
}

function ended({ frame, final, mine, conversation: replyConversation }) {
  cancelAnimationFrame(raf);
  raf = 0;
  const item = items.get(frame.message) || thread.find(frame.message);
  items.delete(frame.message);
  if (item?.isConnected) {
    replySource.set(item, final.content);
    thread.keepScrolled(() => {
      renderFinal(item, frame, final);
      addReplyVersions(item);
    });
    renderToolSteps(item, frame.tools);
  }
  if (!mine) return;
  const label =
    frame.status === "complete" ? gettext("finished") : (STATUS_TEXT[frame.status] || frame.status);
  notices.announce(format(gettext("Reply %(status)s."), { status: label.toLowerCase() }));
  const owner = sidebar.find(replyConversation);
  if (owner) sidebar.upsert({ ...owner, updated: new Date().toISOString() });
}

function stop() {
  dispatch({ type: "stop", online: socket.ready });
}

function redo(type, messageId) {
  if (!conversation) return;
  const frame = { type, id: uuid(), message: messageId };
  dispatch({ type: "submit", frame, conversation, online: socket.ready });
}

function updateControls() {
  composer.setState({
    busy: isBusy(state),
    pending: Boolean(state.pending),
    streaming: Boolean(state.reply),
    stopping: Boolean(state.reply?.stopping),
  });
  updateReplyActions();
  for (const button of $("messages").querySelectorAll('[data-action="edit"]')) {
    button.setAttribute("aria-disabled", String(isBusy(state)));
  }
}

// --- Versions and edits ------------------------------------------------------------

const versionsOf = (item) => (item.dataset.versions ? JSON.parse(item.dataset.versions) : null);

function setVersions(item, versions) {
  if (versions?.length) item.dataset.versions = JSON.stringify(versions);
}

function addUserTools(item) {
  item.querySelector(".msg-tools")?.remove();
  const tools = userTools(versionInfo(versionsOf(item), item.dataset.id));
  item.querySelector(".msg-bubble").after(tools);
}

/** A reply's ‹ n/N ›, first in its footer (renderFinal rebuilds the footer). */
function addReplyVersions(item) {
  const switcher = versionSwitcher(versionInfo(versionsOf(item), item.dataset.id));
  if (switcher) item.querySelector(".msg-footer").prepend(switcher);
}

/** Show another version: the server makes its branch the one shown (in every tab,
 * through a `branch` frame), then this tab loads it. */
async function showVersion(messageId) {
  if (!conversation) return;
  const id = conversation;
  try {
    await api.showVersion(id, messageId);
  } catch (error) {
    notices.show(error.status === 404 ? NOTICE_TEXT.gone : NOTICE_TEXT["load-failed"]);
    return;
  }
  if (conversation === id) {
    await openConversation(id);
    const shown = thread.find(messageId);
    shown?.querySelector('[data-action="version"]:not([disabled])')?.focus();
  }
}

function openEditor(item) {
  if (item.querySelector(".msg-editor")) return;
  const bubble = item.querySelector(".msg-bubble");
  const tools = item.querySelector(".msg-tools");
  const editor = messageEditor(bubble.querySelector(".msg-text").textContent);
  const area = editor.querySelector("textarea");
  const close = () => {
    editor.remove();
    bubble.hidden = false;
    if (tools) tools.hidden = false;
    tools?.querySelector('[data-action="edit"]')?.focus();
  };
  const save = () => {
    const content = area.value;
    if (!content.trim()) {
      area.focus();
      return;
    }
    const frame = { type: "edit", id: uuid(), message: item.dataset.id, content, conversation };
    dispatch({ type: "submit", frame, conversation, online: socket.ready });
  };
  editor.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  editor.querySelector('[data-action="edit-cancel"]').addEventListener("click", close);
  area.addEventListener("keydown", (event) => {
    const action = editorKey(event);
    if (!action) return;
    event.preventDefault();
    if (action === "save") save();
    else close();
  });
  bubble.hidden = true;
  if (tools) tools.hidden = true;
  bubble.after(editor);
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
}

/** Regenerate and Continue sit on the thread's last reply once it has ended, and
 * wait (disabled) while any reply is being written. */
function updateReplyActions() {
  const last = thread.last;
  const ended = last?.classList.contains("msg-assistant") && FINAL_STATUSES.has(last.dataset.status);
  const target = ended ? last : null;
  for (const group of $("messages").querySelectorAll(".msg-actions")) {
    if (target?.contains(group)) continue;
    const hadFocus = group.contains(document.activeElement);
    group.remove();
    if (hadFocus) composer.focus();
  }
  if (!target) return;
  let group = target.querySelector(".msg-actions");
  if (!group) {
    const text = (replySource.get(target) ?? "").trim();
    const can = canContinue(target.dataset.status, target.dataset.truncated === "true");
    group = replyActions({ canContinue: can && text !== "" });
    target.querySelector(".msg-footer").append(group);
  }
  const busy = isBusy(state);
  for (const button of group.querySelectorAll("button")) {
    button.setAttribute("aria-disabled", String(busy));
  }
}

// --- Conversations -------------------------------------------------------------------

const UUID = /^[0-9a-f-]{36}$/i;

function conversationFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const id = params.get("c") || window.location.hash.slice(1);
  return UUID.test(id) ? id : null;
}

/** The message a search result opened the conversation at (`?m=`). */
function messageFromUrl() {
  const id = new URLSearchParams(window.location.search).get("m");
  return UUID.test(id || "") ? id : null;
}

/** A conversation's new title: the model's, or a rename in another tab. */
function retitled(frame) {
  sidebar.retitle(frame.conversation, frame.title);
  if (frame.conversation === conversation) setTitle(frame.title);
}

function setUrl(id, { push, message = null }) {
  shareDialog.setConversation(id);
  const url = new URL(window.location.href);
  url.hash = "";
  if (id) url.searchParams.set("c", id);
  else url.searchParams.delete("c");
  if (message) url.searchParams.set("m", message);
  else url.searchParams.delete("m");
  if (url.href === window.location.href) return;
  window.history[push ? "pushState" : "replaceState"]({ c: id }, "", url);
}

function setTitle(title) {
  document.title = title ? `${title} · djchat` : `${gettext("Chat")} · djchat`;
}

function clearThread() {
  cancelAnimationFrame(raf);
  raf = 0;
  items.clear(); // a reply keeps streaming; re-attached if its chat reopens
  thread.clear();
}

function newChat({ push = true } = {}) {
  loads += 1;
  conversation = null;
  toolSwitches.show(null);
  setUrl(null, { push });
  setTitle(null);
  clearThread();
  sidebar.setActive(null);
  sidebar.close();
  picker.newChat();
  composer.focus();
  updateControls();
}

async function openConversation(id, { push = false, message = null } = {}) {
  const load = ++loads;
  conversation = id;
  toolSwitches.show(id);
  setUrl(id, { push, message });
  sidebar.setActive(id);
  clearThread();
  thread.setEmpty(false);
  thread.setBusy(true);
  let data;
  try {
    data = await api.getConversation(id);
  } catch (error) {
    if (load !== loads) return;
    thread.setBusy(false);
    if (error.status === 404) {
      sidebar.remove(id);
      newChat({ push: false });
      notices.show(NOTICE_TEXT.gone);
    } else {
      thread.setEmpty(true);
      notices.show(NOTICE_TEXT["load-failed"], { kind: "connection" });
    }
    return;
  }
  if (load !== loads) return;
  thread.setBusy(false);
  setTitle(data.title);
  picker.showConversation(data.settings);
  renderHistory(data);
  const found = message && thread.find(message);
  if (found) thread.reveal(found);
}

function renderHistory(data) {
  const list = [];
  const follow = [];
  for (const message of data.messages) {
    if (message.role === "user") {
      const question = userMessage(message);
      setVersions(question, message.versions);
      addUserTools(question);
      list.push(question);
      continue;
    }
    if (message.role !== "assistant") continue;
    const streaming = message.status === "streaming";
    const item = assistantMessage({
      id: message.id,
      streaming,
      continues: message.continues,
      created: message.created,
    });
    setVersions(item, message.versions);
    const continued = message.continues && list.find((i) => i.dataset.id === message.continues);
    if (continued) continued.classList.add("is-continued");
    list.push(item);
    const reply = state.reply;
    if (!streaming) {
      // Never shorter than what this page showed of it (a cut-off reply).
      const final = finalText(message, state.shown[message.id]);
      replySource.set(item, final.content);
      renderFinal(item, message, final);
      renderToolSteps(item, message.tools);
      addReplyVersions(item);
    } else if (reply?.id === message.id) {
      // Still following it on this socket: show what arrived so far.
      items.set(message.id, item);
      if (reply.text) renderPartial(item, reply.text);
      else if (reply.queued !== null) renderQueued(item, reply.queued);
    } else if (!isBusy(state)) {
      // Streaming from before a reload, or from another tab: follow it from the start.
      items.set(message.id, item);
      follow.push(message.id);
    } else {
      // Another reply holds this tab's attention: show the text stored so far.
      replySource.set(item, message.content);
      renderFinal(item, message);
      renderToolSteps(item, message.tools);
    }
  }
  thread.replaceAll(list);
  for (const id of follow.slice(0, 1)) dispatch({ type: "follow", id, conversation: data.id });
  updateReplyActions();
}

async function confirmDelete(id) {
  const found = sidebar.find(id);
  if (!found) return;
  const dialog = $("delete-dialog");
  $("delete-text").textContent = format(gettext("“%(title)s” will be deleted for good."), {
    title: found.title || gettext("Untitled"),
  });
  dialog.returnValue = "";
  dialog.showModal();
  const choice = await new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
  });
  if (choice !== "delete") return;
  dispatch({ type: "abandon", conversation: id });
  try {
    await api.deleteConversation(id);
  } catch (error) {
    if (error.status !== 404) {
      notices.show(NOTICE_TEXT["delete-failed"]);
      return;
    }
  }
  sidebar.remove(id);
  if (conversation === id) newChat({ push: false });
  notices.announce(gettext("Conversation deleted."));
}

window.addEventListener("popstate", () => {
  const id = conversationFromUrl();
  if (id === conversation) return;
  if (id) openConversation(id, { message: messageFromUrl() });
  else newChat({ push: false });
});

// --- Message buttons -------------------------------------------------------------------

$("messages").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  if (action === "rate") {
    rate(button, {
      announce: (text) => notices.announce(text),
      onError: (error) => notices.show(error.message),
    });
    return;
  }
  if (action === "version") {
    showVersion(button.dataset.target);
    return;
  }
  if (action === "edit") {
    if (button.getAttribute("aria-disabled") !== "true") openEditor(button.closest(".msg"));
    else composer.explainWait(NOTICE_TEXT.wait);
    return;
  }
  if (action === "regenerate" || action === "continue") {
    if (button.getAttribute("aria-disabled") !== "true") {
      redo(action, button.closest(".msg").dataset.id);
    } else {
      composer.explainWait(NOTICE_TEXT.wait);
    }
    return;
  }
  let text = null;
  if (action === "copy-code") {
    text = button.closest(".code-block")?.querySelector("pre")?.textContent;
  } else if (action === "copy-message") {
    text = replyText(button.closest(".msg"));
  }
  if (text == null) return;
  const ok = await copyText(text);
  button.classList.add(ok ? "is-copied" : "is-failed");
  if (action === "copy-code") button.textContent = ok ? gettext("Copied") : gettext("Copy failed");
  notices.announce(ok ? gettext("Copied to the clipboard.") : gettext("Could not copy."));
  setTimeout(() => {
    button.classList.remove("is-copied", "is-failed");
    if (action === "copy-code") button.textContent = gettext("Copy");
  }, 1500);
});

// An open details popover closes on a click elsewhere, like a menu.
document.addEventListener("click", (event) => {
  for (const open of $("messages").querySelectorAll(".msg-meta[open]")) {
    if (!open.contains(event.target)) open.open = false;
  }
});

/** A reply's Markdown; a continuation's includes the reply it carries on. */
function replyText(item) {
  // biome-ignore lint/performance/useDomNodeTextContent: the text as read, line breaks included
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

async function refreshUsage() {
  try {
    sidebar.showUsage(await api.getUsage());
  } catch {
    // Not worth a banner; the numbers refresh after the next reply.
  }
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- Start -------------------------------------------------------------------------------

function init() {
  installTheme({ toggle: $("theme-toggle") });
  installShortcuts({
    dialog: $("shortcuts-dialog"),
    opener: $("shortcuts-open"),
    actions: {
      newChat: () => newChat(),
      search: () => sidebar.focusSearch(),
      stop,
      focusComposer: () => composer.focus(),
    },
  });
  updateControls();
  const id = conversationFromUrl();
  if (id) openConversation(id, { message: messageFromUrl() });
  else setUrl(null, { push: false });
  sidebar.load();
  refreshUsage();
  picker.loadPresets();
  picker.watchForJoins();
  socket.start();
  // highlight.js and KaTeX load once the page is idle, before the first reply needs them.
  (window.requestIdleCallback || setTimeout)(() => loadLibraries());
  // The installable app's worker caches the page shell and an offline screen.
  if ("serviceWorker" in navigator && config.serviceWorker) {
    navigator.serviceWorker.register(config.serviceWorker).catch(() => {});
  }
}

init();
