// The sidebar: the list of conversations (newest first), the drawer on small
// screens, and the usage and budget panel. It owns the list's data; opening,
// deleting and starting chats are app.js's business (handlers).
import { format, gettext } from "./i18n.js";
import { formatCost, formatTokens } from "./text.js";

const TRASH_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 7h14M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

export class Sidebar {
  /**
   * nodes: sidebar, toggle, backdrop, list, listEmpty, newChat, usageToday,
   * usageMonth, usageBudgets, search; handlers: onOpen(id), onDelete(id), onNew().
   */
  constructor(nodes, { onOpen, onDelete, onNew }) {
    this.nodes = nodes;
    this.conversations = []; // [{id, title, updated}], newest first
    this.active = null;
    this.filter = "";
    nodes.list.addEventListener("click", (event) => {
      const item = event.target.closest("li.conversation");
      if (!item) return;
      if (event.target.closest('[data-action="delete"]')) {
        onDelete(item.dataset.id);
        return;
      }
      const link = event.target.closest("a");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.close();
      if (item.dataset.id !== this.active) onOpen(item.dataset.id);
    });
    nodes.newChat.addEventListener("click", onNew);
    nodes.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    nodes.backdrop.addEventListener("click", () => this.close());
    nodes.search?.addEventListener("input", () => {
      this.filter = nodes.search.value.trim().toLowerCase();
      this.render();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen) {
        this.close();
        nodes.toggle.focus();
      }
    });
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
    if (!this.nodes.search) return;
    if (getComputedStyle(this.nodes.sidebar).visibility === "hidden") this.open();
    this.nodes.search.focus();
    this.nodes.search.select();
  }

  find(id) {
    return this.conversations.find((c) => c.id === id) || null;
  }

  setAll(conversations) {
    this.conversations = conversations;
    this.render();
  }

  failed() {
    this.nodes.listEmpty.hidden = false;
    this.nodes.listEmpty.textContent = gettext("Could not load your conversations.");
  }

  upsert(conversation) {
    const rest = this.conversations.filter((c) => c.id !== conversation.id);
    this.conversations = [conversation, ...rest];
    this.render();
  }

  remove(id) {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.render();
  }

  setActive(id) {
    this.active = id;
    for (const item of this.nodes.list.children) {
      const link = item.querySelector("a");
      if (item.dataset.id === id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  render() {
    const shown = this.filter
      ? this.conversations.filter((c) => (c.title || "").toLowerCase().includes(this.filter))
      : this.conversations;
    const items = shown.map((conversation) => {
      const title = conversation.title || gettext("Untitled");
      const item = document.createElement("li");
      item.className = "conversation";
      item.dataset.id = conversation.id;
      const link = document.createElement("a");
      link.className = "conversation-link";
      link.href = `?c=${encodeURIComponent(conversation.id)}`;
      link.textContent = title;
      link.title = title;
      link.dir = "auto";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-icon btn-tiny conversation-delete";
      remove.dataset.action = "delete";
      remove.setAttribute("aria-label", format(gettext("Delete “%(title)s”"), { title }));
      remove.title = gettext("Delete");
      remove.innerHTML = TRASH_SVG; // a constant
      item.append(link, remove);
      return item;
    });
    this.nodes.list.replaceChildren(...items);
    this.nodes.listEmpty.hidden = items.length > 0;
    this.nodes.listEmpty.textContent = this.filter
      ? gettext("No conversation matches.")
      : gettext("No conversations yet.");
    this.setActive(this.active);
  }

  /** The usage panel: today's and this month's totals, what is left of each budget. */
  showUsage(usage) {
    showTotals(this.nodes.usageToday, usage.today);
    showTotals(this.nodes.usageMonth, usage.month);
    showBudgets(this.nodes.usageBudgets, usage.budgets || []);
  }
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
