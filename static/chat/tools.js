// Tool calls of a reply (docs/protocol.md, "Tool frames"): the pure step list
// that tool frames build (unit-tested with node), and its DOM: one collapsible
// block per call (name, arguments, result or error, running state) above the
// reply's text, while it streams and after a reload. Everything a tool or the
// model produced is set as textContent, never as HTML.
import { format, gettext } from "./i18n.js";

export const TOOL_FRAMES = new Set(["tool_start", "tool_args", "tool_result", "tool_error"]);

/**
 * The steps after one tool frame; frames are numbered (`n`) per reply, so a
 * frame at or below `seen` (replayed on a join or resume) changes nothing.
 * Returns a new {steps, seen}, or `tools` itself when the frame changes nothing.
 */
export function applyToolFrame(tools, frame) {
  const { steps, seen } = tools;
  if (!TOOL_FRAMES.has(frame.type) || frame.n <= seen) return tools;
  const next = steps.slice();
  let index = next.findIndex((step) => step.call === frame.call);
  if (index < 0) {
    next.push({ call: frame.call, name: frame.name || "", arguments: "", state: "running" });
    index = next.length - 1;
  }
  const step = { ...next[index] };
  if (frame.name) step.name = frame.name;
  if (frame.type === "tool_args") step.arguments += frame.delta;
  if (frame.type === "tool_result") {
    Object.assign(step, {
      state: "done",
      result: frame.result,
      truncated: frame.truncated,
      flagged: frame.flagged,
      artefacts: frame.artefacts || [],
    });
  }
  if (frame.type === "tool_error") {
    Object.assign(step, { state: "error", code: frame.code, error: frame.error });
  }
  next[index] = step;
  return { steps: next, seen: frame.n };
}

/** Arguments as the model sent them, pretty-printed once they are whole JSON. */
export function formatArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The one-line state of a step, for its summary and for screen readers. */
export function stepLabel(step) {
  if (step.state === "running") return gettext("running…");
  if (step.state === "error") {
    return step.code === "cancelled"
      ? gettext("stopped")
      : format(gettext("failed: %(code)s"), { code: step.code || "error" });
  }
  return step.flagged ? gettext("done (flagged as untrusted)") : gettext("done");
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function section(label, text, className) {
  const box = el("div", `tool-section ${className}`);
  box.append(el("div", "tool-section-label", label), el("pre", "tool-pre", text));
  return box;
}

function stepBody(step) {
  const body = el("div", "tool-body");
  if (step.arguments) {
    const more = step.arguments_truncated ? "\n…" : "";
    body.append(section(gettext("Arguments"), formatArguments(step.arguments) + more, "tool-args"));
  }
  if (step.state === "done") {
    const more = step.truncated ? `\n… ${gettext("(cut for display)")}` : "";
    body.append(section(gettext("Result"), (step.result || "") + more, "tool-result"));
    if (step.flagged) {
      body.append(
        el(
          "p",
          "tool-warning",
          gettext("This result looked like instructions; the model was told to treat it as data."),
        ),
      );
    }
    for (const file of step.artefacts || []) {
      const link = el("a", "tool-artefact", file.name);
      link.href = file.url;
      link.setAttribute("download", file.name);
      body.append(link);
    }
  } else if (step.state === "error") {
    const error = section(gettext("Error"), step.error || step.code || "", "tool-error");
    error.setAttribute("role", "note");
    body.append(error);
  }
  return body;
}

function stepBlock(step, open) {
  const block = el("details", `tool-step tool-${step.state}`);
  block.dataset.call = step.call;
  block.open = open;
  const summary = el("summary", "tool-summary");
  const icon = el("span", "tool-icon");
  icon.setAttribute("aria-hidden", "true");
  summary.append(
    icon,
    el("span", "tool-name", step.name || gettext("tool")),
    el("span", "tool-state", stepLabel(step)),
  );
  block.append(summary, stepBody(step));
  return block;
}

/** Show a reply's tool steps above its text, keeping each block's open state. */
export function renderToolSteps(item, steps) {
  if (!item || !steps?.length) return;
  const main = item.querySelector(".msg-main");
  let list = main.querySelector(".msg-tools");
  if (!list) {
    list = el("div", "msg-tools");
    list.setAttribute("role", "group");
    list.setAttribute("aria-label", gettext("Tool calls"));
    main.querySelector(".msg-content").before(list);
  }
  const open = new Map(
    [...list.children].map((block) => [block.dataset.call, block.open]),
  );
  list.replaceChildren(...steps.map((step) => stepBlock(step, open.get(step.call) ?? false)));
}

/**
 * The conversation's tool switches (GET/PATCH /api/conversations/<id>/tools/):
 * a checkbox per tool the server offers; hidden when it offers none.
 */
export class ToolSwitches {
  constructor(box, { load, save, onError }) {
    this.box = box;
    this.load = load;
    this.save = save;
    this.onError = onError;
    this.conversation = null;
  }

  async show(conversation) {
    this.conversation = conversation;
    this.box.hidden = true;
    if (!conversation) return;
    try {
      const data = await this.load(conversation);
      if (this.conversation === conversation) this.#render(data.tools);
    } catch {
      // No switches is the safe default: the server decides anyway.
    }
  }

  #render(tools) {
    const list = this.box.querySelector(".tool-switch-list");
    list.replaceChildren();
    for (const tool of tools) {
      const label = el("label", "tool-switch");
      const box = el("input");
      box.type = "checkbox";
      box.checked = tool.on;
      box.value = tool.name;
      box.addEventListener("change", () => this.#changed());
      label.append(box, el("span", "", tool.name));
      list.append(label);
    }
    this.box.hidden = tools.length === 0;
  }

  async #changed() {
    const boxes = [...this.box.querySelectorAll("input[type=checkbox]")];
    const off = boxes.filter((b) => !b.checked).map((b) => b.value);
    try {
      const data = await this.save(this.conversation, off);
      this.#render(data.tools);
    } catch (error) {
      this.onError(error);
      this.show(this.conversation);
    }
  }
}
