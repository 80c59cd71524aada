// The model picker, presets and a conversation's settings (docs/protocol.md:
// `hello`'s models, `send`'s model and preset, GET /api/presets/, PATCH
// /api/conversations/<id>/settings/). The pure helpers at the top are unit-tested;
// ModelPicker holds the controls above the composer and the settings dialog.
import { format, gettext } from "./i18n.js";
import { formatNumber, formatTokens } from "./text.js";

const CAPABILITY_WORDS = {
  vision: gettext("images"),
  tools: gettext("tools"),
  json_mode: gettext("JSON"),
};

/** "$0.15": a price per million tokens from its decimal string. */
export function formatPrice(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return gettext("free");
  // Cents shown as cents ("$0.60", "$10"); finer prices as the operator set them.
  const decimals = (String(value).split(".")[1] || "").length;
  return decimals <= 2 ? `$${n.toFixed(2).replace(/\.00$/, "")}` : `$${n}`;
}

/** The option's words: its name, marked when it is the default or the demo. */
export function optionLabel(model) {
  const marks = [];
  if (model.default) marks.push(gettext("default"));
  if (model.demo) marks.push(gettext("demo"));
  return marks.length ? `${model.name} (${marks.join(", ")})` : model.name;
}

/** One line about a model: window, prices per million tokens, capabilities. */
export function modelSummary(model) {
  const parts = [
    format(gettext("%(tokens)s-token window"), { tokens: formatTokens(model.context_window) }),
  ];
  const { input, output } = model.prices || {};
  if (Number(input) === 0 && Number(output) === 0) {
    parts.push(gettext("free"));
  } else {
    parts.push(
      format(gettext("%(input)s in, %(output)s out per million tokens"), {
        input: formatPrice(input),
        output: formatPrice(output),
      }),
    );
  }
  const can = Object.entries(model.capabilities || {})
    .filter(([name, yes]) => yes && CAPABILITY_WORDS[name])
    .map(([name]) => CAPABILITY_WORDS[name]);
  if (can.length) parts.push(can.join(", "));
  if (model.demo) parts.push(gettext("canned replies, not a real model"));
  return parts.join(" · ");
}

/** What to tell people when the default model changed under the page (the local
 * model joined after the demo served), or null. */
export function newDefaultNote(before, after) {
  const was = before.find((m) => m.default);
  const now = after.find((m) => m.default);
  if (!now || !was || now.key === was.key) return null;
  return format(gettext("%(name)s is now the default model: new chats use it."), { name: now.name });
}

/** The model a view shows: the conversation's if the user may still pick it,
 * else the default (the server falls back the same way), else the first. */
export function shownModel(models, key) {
  return (
    models.find((m) => m.key === key) || models.find((m) => m.default) || models[0] || null
  );
}

/**
 * What a send adds to its frame: `model` when the person picked one for this
 * view (a conversation keeps its own otherwise), `preset` for a new chat.
 */
export function sendFields({ picked, isNew, preset }) {
  const fields = {};
  if (picked) fields.model = picked;
  if (isNew && preset) fields.preset = Number(preset);
  return fields;
}

/** The settings dialog's values as a PATCH body: blanks reset to the model's
 * defaults (null). Returns {body} or {error}. */
export function settingsBody({ systemPrompt, temperature, maxTokens }, model) {
  const body = { system_prompt: systemPrompt.trim() };
  body.temperature = temperature.trim() === "" ? null : Number(temperature);
  body.max_output_tokens = maxTokens.trim() === "" ? null : Number(maxTokens);
  const bounds = model?.temperature;
  if (body.temperature !== null) {
    if (!Number.isFinite(body.temperature) || (bounds && (body.temperature < bounds.min || body.temperature > bounds.max))) {
      return {
        error: format(gettext("The temperature must be between %(min)s and %(max)s."), {
          min: bounds?.min ?? 0,
          max: bounds?.max ?? 2,
        }),
      };
    }
  }
  if (body.max_output_tokens !== null) {
    const most = model?.max_output_tokens ?? Infinity;
    if (!Number.isInteger(body.max_output_tokens) || body.max_output_tokens < 1 || body.max_output_tokens > most) {
      return {
        error: format(gettext("The longest reply must be 1 to %(most)s tokens."), {
          most: formatNumber(most),
        }),
      };
    }
  }
  return { body };
}

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

export class ModelPicker {
  /**
   * nodes: bar, select, info, presetField, presetSelect, settingsOpen, dialog,
   * form, system, temperature, temperatureHelp, maxTokens, maxTokensHelp, error,
   * badges (the page's model badge, its demo labels and the message box).
   * handlers: conversation() (the open one's id, or null), api (api.js's
   * getModels, getPresets, getConversation, saveSettings), onSaved(text),
   * onChanged(text): the default model changed.
   */
  constructor(nodes, { conversation, api, onSaved = () => {}, onChanged = () => {} }) {
    this.nodes = nodes;
    this.api = api;
    this.onChanged = onChanged;
    this.conversation = conversation;
    this.onSaved = onSaved;
    this.models = [];
    this.presets = [];
    this.key = null; // the conversation's own model (null: the default)
    this.picked = null; // a model picked here for the next send
    this.settings = null; // the open conversation's settings
    nodes.select.addEventListener("change", () => {
      this.picked = nodes.select.value;
      this.#describe();
    });
    nodes.presetSelect.addEventListener("change", () => this.#presetChosen());
    nodes.settingsOpen.addEventListener("click", () => this.openSettings());
    nodes.form.addEventListener("submit", (event) => this.#save(event));
  }

  /** `hello`'s models (absent from an older server: the bar stays hidden). */
  setModels(hello) {
    if (!Array.isArray(hello.models)) return;
    const note = this.models.length ? newDefaultNote(this.models, hello.models) : null;
    this.models = hello.models;
    if (note) this.onChanged(note);
    this.nodes.select.replaceChildren(...this.models.map((m) => option(m.key, optionLabel(m))));
    this.nodes.bar.hidden = this.models.length === 0;
    this.#show();
  }

  /** Ask for the list again (GET /api/models/): the catalogue may have changed. */
  async refresh() {
    try {
      this.setModels(await this.api.getModels());
    } catch {
      // The next hello brings it.
    }
  }

  /** While the demo is the default, a real model may join (make run's local
   * model): look again now and then, so the page says so when it does. */
  watchForJoins(every = 30000) {
    setInterval(() => {
      const current = this.models.find((m) => m.default);
      if (current?.demo && document.visibilityState === "visible") this.refresh();
    }, every);
  }

  /** The presets a new chat may start from. */
  async loadPresets() {
    try {
      this.presets = (await this.api.getPresets()).presets;
    } catch {
      this.presets = []; // the picker works without them
    }
    const { presetSelect } = this.nodes;
    presetSelect.replaceChildren(
      option("", gettext("No preset")),
      ...this.presets.map((p) => option(String(p.id), p.name)),
    );
    this.#updateFields();
  }

  /** A new chat: the default model, a preset may be chosen. */
  newChat() {
    this.key = null;
    this.picked = null;
    this.settings = null;
    this.nodes.presetSelect.value = "";
    this.#show();
  }

  /** An opened conversation: its model and settings. */
  showConversation(settings) {
    this.settings = settings || null;
    this.key = settings?.model || null;
    this.picked = null;
    this.#show();
  }

  /** The fields this send adds to its frame. */
  sendFields() {
    return sendFields({
      picked: this.picked,
      isNew: !this.conversation(),
      preset: this.nodes.presetSelect.value,
    });
  }

  /** A start frame: the conversation now runs on the model that answered (unless
   * it stood in for one no longer available, which the conversation keeps). */
  started(frame) {
    const startedNew = !this.settings;
    if (frame.model_key && !this.models.some((m) => m.key === frame.model_key)) {
      this.refresh(); // a model this page does not know answered
    }
    if (!frame.model_note && frame.model_key) this.key = frame.model_key;
    this.picked = null;
    if (startedNew) {
      this.settings = null;
      this.nodes.presetSelect.value = "";
      this.#refreshSettings(frame.conversation);
    }
    this.#show();
  }

  async openSettings() {
    const { dialog, system, temperature, maxTokens, error } = this.nodes;
    const id = this.conversation();
    if (!id) return;
    if (!this.settings) await this.#refreshSettings(id);
    const settings = this.settings || {};
    const model = this.#current();
    system.value = settings.system_prompt || "";
    temperature.value = settings.temperature ?? "";
    maxTokens.value = settings.max_output_tokens ?? "";
    this.#bounds(model);
    error.hidden = true;
    dialog.returnValue = "";
    dialog.showModal();
  }

  #current() {
    return shownModel(this.models, this.picked || this.key);
  }

  #show() {
    const model = this.#current();
    if (model) this.nodes.select.value = model.key;
    this.#describe();
    this.#updateFields();
  }

  #describe() {
    const model = shownModel(this.models, this.nodes.select.value);
    this.nodes.info.textContent = model ? modelSummary(model) : "";
    const { badge, demoBadges, prompt } = this.nodes.badges;
    if (!model) return;
    if (badge) badge.textContent = model.name;
    prompt.placeholder = format(gettext("Message %(model)s…"), { model: model.name });
    for (const node of demoBadges) node.hidden = !model.demo;
  }

  #updateFields() {
    const isNew = !this.conversation();
    const { presetField, settingsOpen } = this.nodes;
    presetField.hidden = !isNew || this.presets.length === 0;
    // A new chat has no settings yet: a preset, or a first message, makes them.
    settingsOpen.setAttribute("aria-disabled", String(isNew));
    settingsOpen.title = isNew
      ? gettext("Send a first message (or start from a preset) to set this conversation's settings")
      : gettext("System prompt, temperature and reply length for this conversation");
  }

  #presetChosen() {
    const preset = this.presets.find((p) => String(p.id) === this.nodes.presetSelect.value);
    this.picked = null;
    this.key = preset?.model || null;
    this.#show();
  }

  #bounds(model) {
    const { temperature, temperatureHelp, maxTokens, maxTokensHelp } = this.nodes;
    const t = model?.temperature || { default: 0.7, min: 0, max: 2 };
    temperature.min = t.min;
    temperature.max = t.max;
    temperature.placeholder = String(t.default);
    temperatureHelp.textContent = format(
      gettext("%(min)s to %(max)s; blank: the model's default (%(default)s)."),
      t,
    );
    maxTokens.max = model?.max_output_tokens ?? "";
    maxTokens.placeholder = "";
    maxTokensHelp.textContent = model
      ? format(gettext("1 to %(most)s; blank: the model's default."), {
          most: formatNumber(model.max_output_tokens),
        })
      : "";
  }

  async #refreshSettings(id) {
    try {
      const data = await this.api.getConversation(id);
      if (this.conversation() === id) this.settings = data.settings || null;
    } catch {
      // The dialog reads them again when it opens.
    }
  }

  async #save(event) {
    const { dialog, system, temperature, maxTokens, error } = this.nodes;
    if (event.submitter?.value !== "save") return; // Cancel closes the dialog
    event.preventDefault();
    const model = this.#current();
    const parsed = settingsBody(
      { systemPrompt: system.value, temperature: temperature.value, maxTokens: maxTokens.value },
      model,
    );
    const body = parsed.body;
    if (body && this.picked) body.model = this.picked;
    if (parsed.error) {
      error.textContent = parsed.error;
      error.hidden = false;
      return;
    }
    try {
      const saved = await this.api.saveSettings(this.conversation(), body);
      this.settings = saved;
      this.key = saved.model;
      this.picked = null;
      dialog.close("saved");
      this.#show();
      this.onSaved(gettext("Conversation settings saved."));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  }
}
