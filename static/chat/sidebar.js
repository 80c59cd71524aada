// The sidebar: the list of conversations (pinned, then by date: Today, Yesterday,
// Previous 7 days, then by month), loaded a page at a time as it scrolls; the
// Archived view; rename, pin and archive; search over titles and messages; the
// drawer on small screens; the usage and budget panel. It owns the list's data;
// opening, deleting and starting chats are app.js's business (handlers).
import * as api from "./api.js";
import { dateGroup } from "./dates.js";
import { format, gettext, language } from "./i18n.js";
import { formatCost, formatTokens } from "./text.js";

const svg = (path) =>
  `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${path}" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
const ICONS = {
  delete: svg("M5 7h14M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"),
  rename: svg("M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4"),
  pin: svg("M9 4h6l-1 6 3 3H7l3-3-1-6zM12 13v7"),
  archive: svg("M4 5h16v4H4zM6 9v10h12V9M10 13h4"),
};
const SEARCH_DELAY_MS = 250;

export class Sidebar {
  /**
   * nodes: sidebar, toggle, backdrop, heading, list, listEmpty, more, archived,
   * newChat, usageToday, usageMonth, usageBudgets, search; handlers: onOpen(id,
   * messageId), onDelete(id), onNew(), onRenamed(id, title), onError(text).
   */
  constructor(nodes, handlers) {
    this.nodes = nodes;
    this.handlers = handlers;
    this.conversations = []; // this view's, as the server orders them
    this.results = null; // search results while a search is shown
    this.active = null;
    this.archived = false; // showing the Archived view
    this.next = null; // the cursor of the next page; null: all loaded
    this.loading = null;
    this.searchTimer = 0;
    this.searches = 0;
    nodes.list.addEventListener("click", (event) => this.onClick(event));
    nodes.newChat.addEventListener("click", handlers.onNew);
    nodes.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    nodes.backdrop.addEventListener("click", () => this.close());
    nodes.archived.addEventListener("click", () => this.showArchived(!this.archived));
    nodes.search.addEventListener("input", () => this.searchSoon());
    nodes.search.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && nodes.search.value) {
        event.preventDefault();
        nodes.search.value = "";
        this.searchSoon();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen && !event.defaultPrevented) {
        this.close();
        nodes.toggle.focus();
      }
    });
    // The next page loads as the end of the list comes into view.
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { root: nodes.more.parentElement }).observe(nodes.more);
  }

  get isOpen() {
    return document.body.classList.contains("sidebar-open");
  }

  open() {
    document.body.classList.add("sidebar-open");
    this.nodes.toggle.setAttribute("aria-expanded", "true");
    this.nodes.backdrop.hidden = false;
    this.nodes.newChat.focus();
  }

  close() {
    if (!this.isOpen) return;
    document.body.classList.remove("sidebar-open");
    this.nodes.toggle.setAttribute("aria-expanded", "false");
    this.nodes.backdrop.hidden = true;
  }

  /** Focus the conversation search (opening the drawer on small screens). */
  focusSearch() {
    if (getComputedStyle(this.nodes.sidebar).visibility === "hidden") this.open();
    this.nodes.search.focus();
    this.nodes.search.select();
  }

  find(id) {
    return this.conversations.find((c) => c.id === id) || null;
  }

  /** A row of the list, or of the search results shown. */
  row(id) {
    return this.find(id) || this.results?.find((r) => r.id === id) || null;
  }

  // --- Pages -----------------------------------------------------------------------

  /** The first page of this view (the list, or the archived ones). */
  async load() {
    this.conversations = [];
    this.next = null;
    this.loading = null;
    await this.loadMore({ first: true });
  }

  async loadMore({ first = false } = {}) {
    if (this.loading || this.results || (!first && !this.next)) return;
    const archived = this.archived;
    const request = api.listConversations({ cursor: this.next, archived });
    this.loading = request;
    let page;
    try {
      page = await request;
    } catch {
      if (this.loading === request) {
        this.loading = null;
        this.failed();
      }
      return;
    }
    if (this.loading !== request || archived !== this.archived) return;
    this.loading = null;
    const known = new Set(this.conversations.map((c) => c.id));
    this.conversations.push(...page.conversations.filter((c) => !known.has(c.id)));
    this.next = page.next;
    this.render();
    // A short page may leave the end of the list in view: keep going.
    if (this.next && isVisible(this.nodes.more)) this.loadMore();
  }

  failed() {
    this.nodes.listEmpty.hidden = false;
    this.nodes.listEmpty.textContent = gettext("Could not load your conversations.");
  }

  async showArchived(archived) {
    this.archived = archived;
    this.nodes.archived.setAttribute("aria-pressed", String(archived));
    this.nodes.heading.textContent = archived ? gettext("Archived") : gettext("Recent");
    this.nodes.search.value = "";
    this.results = null;
    this.render();
    await this.load();
  }

  /** A conversation started or answered: to the top of the list (after pins). */
  upsert(conversation) {
    const old = this.find(conversation.id);
    const merged = { pinned: false, archived: false, ...old, ...conversation };
    if (merged.archived !== this.archived) return;
    this.conversations = [merged, ...this.conversations.filter((c) => c.id !== merged.id)];
    this.render();
  }

  remove(id) {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    if (this.results) this.results = this.results.filter((r) => r.id !== id);
    this.render();
  }

  /** A new title from the model or another tab (a `title` frame). */
  retitle(id, title) {
    for (const row of [...this.conversations, ...(this.results || [])]) {
      if (row.id === id) row.title = title;
    }
    this.render();
  }

  setActive(id) {
    this.active = id;
    for (const link of this.nodes.list.querySelectorAll("a[data-id]")) {
      if (link.dataset.id === id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  // --- Search ----------------------------------------------------------------------

  searchSoon() {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.search(this.nodes.search.value.trim()), SEARCH_DELAY_MS);
  }

  async search(query) {
    const mine = ++this.searches;
    if (!query) {
      this.results = null;
      this.nodes.heading.textContent = this.archived ? gettext("Archived") : gettext("Recent");
      this.render();
      return;
    }
    try {
      const data = await api.searchConversations(query);
      if (mine !== this.searches) return;
      this.results = data.results;
      this.nodes.heading.textContent = gettext("Search results");
      this.render();
    } catch (error) {
      if (mine === this.searches) this.handlers.onError(error.message);
    }
  }

  // --- Actions ---------------------------------------------------------------------

  onClick(event) {
    const item = event.target.closest("li.conversation");
    if (!item) return;
    const id = item.dataset.id;
    const action = event.target.closest("button[data-action]")?.dataset.action;
    if (action === "delete") this.handlers.onDelete(id);
    else if (action === "rename") this.startRename(item);
    else if (action === "pin") this.change(id, { pinned: !this.row(id)?.pinned });
    else if (action === "archive") this.change(id, { archived: !this.row(id)?.archived });
    if (action) return;
    const link = event.target.closest("a");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    this.close();
    this.handlers.onOpen(id, link.dataset.message || null);
  }

  async change(id, changes) {
    let updated;
    try {
      updated = await api.updateConversation(id, changes);
    } catch (error) {
      this.handlers.onError(error.message);
      return;
    }
    for (const row of this.results || []) {
      if (row.id === id) Object.assign(row, { title: updated.title, pinned: updated.pinned, archived: updated.archived });
    }
    if ("archived" in changes) {
      this.conversations = this.conversations.filter((c) => c.id !== id);
    } else {
      const row = this.find(id);
      if (row) Object.assign(row, updated);
      if ("pinned" in changes) this.conversations.sort(byListOrder);
    }
    this.render();
    if ("title" in changes) this.handlers.onRenamed(id, updated.title);
  }

  startRename(item) {
    const link = item.querySelector("a");
    const row = this.row(item.dataset.id);
    const input = document.createElement("input");
    input.className = "conversation-rename";
    input.value = row?.title || "";
    input.maxLength = 200;
    input.setAttribute("aria-label", gettext("New title"));
    input.dir = "auto";
    link.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (save && title && title !== row?.title) this.change(item.dataset.id, { title });
      else this.render();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") finish(true);
      if (event.key === "Escape") {
        event.preventDefault();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  }

  // --- Rendering -------------------------------------------------------------------

  render() {
    const items = this.results ? this.results.map((r) => this.resultItem(r)) : this.listItems();
    this.nodes.list.replaceChildren(...items);
    const empty = items.length === 0;
    this.nodes.listEmpty.hidden = !empty || (this.loading !== null && !this.results);
    this.nodes.listEmpty.textContent = this.results
      ? gettext("No conversation matches.")
      : this.archived
        ? gettext("No archived conversations.")
        : gettext("No conversations yet.");
    this.nodes.more.hidden = Boolean(this.results) || !this.next;
    this.setActive(this.active);
  }

  listItems() {
    const items = [];
    let group = null;
    const now = new Date();
    for (const conversation of this.conversations) {
      const key = conversation.pinned ? "pinned" : dateGroup(conversation.updated, now);
      if (key !== group) {
        group = key;
        items.push(groupHeading(key));
      }
      items.push(this.item(conversation));
    }
    return items;
  }

  item(conversation, { messageId = null, snippet = null } = {}) {
    const title = conversation.title || gettext("Untitled");
    const item = document.createElement("li");
    item.className = "conversation";
    item.dataset.id = conversation.id;
    const link = document.createElement("a");
    link.className = "conversation-link";
    link.dataset.id = conversation.id;
    const params = new URLSearchParams({ c: conversation.id });
    if (messageId) {
      link.dataset.message = messageId;
      params.set("m", messageId);
    }
    link.href = `?${params}`;
    link.title = title;
    link.dir = "auto";
    const name = document.createElement("span");
    name.className = "conversation-title";
    name.textContent = title;
    link.append(name);
    if (snippet !== null) {
      const text = document.createElement("span");
      text.className = "conversation-snippet";
      text.dir = "auto";
      // The server escapes the text, then adds <mark>s: nothing else is markup.
      text.append(...markedNodes(snippet));
      link.append(text);
    }
    const actions = document.createElement("span");
    actions.className = "conversation-actions";
    actions.append(
      actionButton("rename", format(gettext("Rename “%(title)s”"), { title }), gettext("Rename")),
      actionButton(
        "pin",
        format(conversation.pinned ? gettext("Unpin “%(title)s”") : gettext("Pin “%(title)s”"), { title }),
        conversation.pinned ? gettext("Unpin") : gettext("Pin"),
        conversation.pinned,
      ),
      actionButton(
        "archive",
        format(conversation.archived ? gettext("Unarchive “%(title)s”") : gettext("Archive “%(title)s”"), { title }),
        conversation.archived ? gettext("Unarchive") : gettext("Archive"),
      ),
      actionButton("delete", format(gettext("Delete “%(title)s”"), { title }), gettext("Delete")),
    );
    item.append(link, actions);
    return item;
  }

  resultItem(result) {
    const item = this.item(result, { messageId: result.message, snippet: result.snippet });
    item.classList.add("conversation-result");
    return item;
  }

  /** The usage panel: today's and this month's totals, what is left of each budget. */
  showUsage(usage) {
    showTotals(this.nodes.usageToday, usage.today);
    showTotals(this.nodes.usageMonth, usage.month);
    showBudgets(this.nodes.usageBudgets, usage.budgets || []);
  }
}

function byListOrder(a, b) {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
  return a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0;
}

function isVisible(node) {
  if (node.hidden) return false;
  const box = node.getBoundingClientRect();
  const root = node.parentElement.getBoundingClientRect();
  return box.top < root.bottom && box.bottom > root.top;
}

function actionButton(action, label, tooltip, pressed = null) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `btn btn-icon btn-tiny conversation-${action}`;
  button.dataset.action = action;
  button.setAttribute("aria-label", label);
  if (pressed !== null) button.setAttribute("aria-pressed", String(pressed));
  button.title = tooltip;
  button.innerHTML = ICONS[action]; // a constant
  return button;
}

function groupHeading(key) {
  const item = document.createElement("li");
  item.className = "conversation-group";
  const heading = document.createElement("h3");
  heading.className = "conversation-group-title";
  heading.textContent = groupLabel(key);
  item.append(heading);
  return item;
}

function groupLabel(key) {
  if (key === "pinned") return gettext("Pinned");
  if (key === "today") return gettext("Today");
  if (key === "yesterday") return gettext("Yesterday");
  if (key === "week") return gettext("Previous 7 days");
  const [year, month] = key.split("-").map(Number);
  const sameYear = year === new Date().getFullYear();
  return new Intl.DateTimeFormat(language(), {
    month: "long",
    ...(sameYear ? {} : { year: "numeric" }),
  }).format(new Date(year, month - 1, 1));
}

/** The server's snippet ("&lt;escaped&gt; text with <mark>words</mark>") as text
 * nodes and <mark> elements, built without parsing HTML. */
function markedNodes(snippet) {
  const nodes = [];
  const decode = (text) => new DOMParser().parseFromString(`<p>${text}`, "text/html").body.textContent;
  for (const [index, part] of snippet.split(/<\/?mark>/).entries()) {
    if (!part) continue;
    if (index % 2 === 1) {
      const mark = document.createElement("mark");
      mark.textContent = decode(part);
      nodes.push(mark);
    } else {
      nodes.push(document.createTextNode(decode(part)));
    }
  }
  return nodes;
}

function showTotals(node, totals) {
  if (!totals) return;
  const tokens = (Number(totals.input_tokens) || 0) + (Number(totals.output_tokens) || 0);
  node.textContent = format(gettext("%(tokens)s tokens · %(cost)s"), {
    tokens: formatTokens(tokens),
    cost: formatCost(totals.cost),
  });
  node.title = format(gettext("%(input)s in, %(output)s out"), {
    input: formatTokens(totals.input_tokens),
    output: formatTokens(totals.output_tokens),
  });
}

function budgetPeriod(period) {
  if (period === "day") return gettext("Left today");
  if (period === "month") return gettext("Left this month");
  return format(gettext("Left this %(period)s"), { period });
}

function showBudgets(node, budgets) {
  const rows = budgets.flatMap((budget) => {
    const left = [];
    const used = [];
    let spent = false;
    if (budget.tokens_limit != null) {
      left.push(format(gettext("%(tokens)s tokens"), { tokens: formatTokens(budget.tokens_left) }));
      used.push(
        format(gettext("%(used)s of %(limit)s tokens"), {
          used: formatTokens(budget.tokens_used),
          limit: formatTokens(budget.tokens_limit),
        }),
      );
      spent ||= budget.tokens_left === 0;
    }
    if (budget.cost_limit != null) {
      left.push(formatCost(budget.cost_left));
      used.push(
        format(gettext("%(used)s of %(limit)s"), {
          used: formatCost(budget.cost_used),
          limit: formatCost(budget.cost_limit),
        }),
      );
      spent ||= Number(budget.cost_left) === 0;
    }
    const name = document.createElement("dt");
    name.textContent = budgetPeriod(budget.period);
    const value = document.createElement("dd");
    value.textContent = left.join(" · ");
    value.title = format(gettext("Used %(amounts)s"), { amounts: used.join(gettext(" and ")) });
    value.classList.toggle("is-spent", spent);
    const reset = document.createElement("dd");
    reset.className = "usage-reset";
    reset.textContent = budget.resets;
    return [name, value, reset];
  });
  node.replaceChildren(...rows);
  node.hidden = rows.length === 0;
}
