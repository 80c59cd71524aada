// The model picker's pure helpers: what a model's option and summary say, which
// model a view shows, what a send adds, the settings dialog's body, reply marks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  formatPrice,
  modelSummary,
  newDefaultNote,
  optionLabel,
  sendFields,
  settingsBody,
  shownModel,
} from "../../static/chat/models.js";
import { canContinue } from "../../static/chat/reply-state.js";
import { cachedText } from "../../static/chat/text.js";

const MINI = {
  key: "mini",
  name: "GPT-4o mini",
  context_window: 128000,
  max_output_tokens: 16384,
  prices: { input: "0.15", cached_input: "0.075", output: "0.6" },
  capabilities: { streaming_usage: true, vision: true, tools: true, json_mode: false },
  temperature: { default: 0.7, min: 0, max: 1.5 },
  demo: false,
  default: true,
};
const DEMO = {
  ...MINI,
  key: "demo",
  name: "Demo model",
  context_window: 8192,
  prices: { input: "0", cached_input: "0", output: "0" },
  capabilities: {},
  demo: true,
  default: false,
};

describe("a model in the picker", () => {
  it("marks the default and the demo in its option", () => {
    assert.equal(optionLabel(MINI), "GPT-4o mini (default)");
    assert.equal(optionLabel(DEMO), "Demo model (demo)");
    assert.equal(optionLabel({ ...MINI, default: false }), "GPT-4o mini");
  });

  it("says its window, prices per million tokens and capabilities", () => {
    assert.equal(
      modelSummary(MINI),
      "128K-token window · $0.15 in, $0.60 out per million tokens · images, tools",
    );
    assert.equal(
      modelSummary(DEMO),
      "8,192-token window · free · canned replies, not a real model",
    );
  });

  it("prices keep their digits", () => {
    assert.equal(formatPrice("2.5"), "$2.50");
    assert.equal(formatPrice("10"), "$10");
    assert.equal(formatPrice("0.075"), "$0.075");
    assert.equal(formatPrice("0.0025"), "$0.0025");
    assert.equal(formatPrice("0"), "free");
  });
});

describe("which model a view shows", () => {
  it("the conversation's, else the default (as the server falls back)", () => {
    assert.equal(shownModel([DEMO, MINI], "demo").key, "demo");
    assert.equal(shownModel([DEMO, MINI], "gone").key, "mini");
    assert.equal(shownModel([DEMO, MINI], null).key, "mini");
    assert.equal(shownModel([DEMO], null).key, "demo");
    assert.equal(shownModel([], null), null);
  });
});

describe("what a send adds", () => {
  it("names a model only when one was picked, a preset only for a new chat", () => {
    assert.deepEqual(sendFields({ picked: null, isNew: false, preset: "" }), {});
    assert.deepEqual(sendFields({ picked: "mini", isNew: false, preset: "3" }), { model: "mini" });
    assert.deepEqual(sendFields({ picked: null, isNew: true, preset: "3" }), { preset: 3 });
  });
});

describe("the settings dialog", () => {
  const values = (v) => ({ systemPrompt: " Be brief. ", temperature: "", maxTokens: "", ...v });

  it("blanks reset to the model's defaults", () => {
    assert.deepEqual(settingsBody(values({}), MINI), {
      body: { system_prompt: "Be brief.", temperature: null, max_output_tokens: null },
    });
    assert.deepEqual(settingsBody(values({ temperature: "0.2", maxTokens: "500" }), MINI).body, {
      system_prompt: "Be brief.",
      temperature: 0.2,
      max_output_tokens: 500,
    });
  });

  it("refuses values outside the model's bounds, naming them", () => {
    assert.equal(
      settingsBody(values({ temperature: "1.8" }), MINI).error,
      "The temperature must be between 0 and 1.5.",
    );
    assert.equal(
      settingsBody(values({ maxTokens: "20000" }), MINI).error,
      "The longest reply must be 1 to 16,384 tokens.",
    );
    assert.match(settingsBody(values({ maxTokens: "2.5" }), MINI).error, /longest reply/);
  });
});

describe("reply marks", () => {
  it("Continue carries on a reply cut short or stopped by the length limit", () => {
    assert.equal(canContinue("complete", true), true);
    assert.equal(canContinue("complete", false), false);
    assert.equal(canContinue("cancelled", false), true);
    assert.equal(canContinue("failed", true), false);
  });

  it("a cached reply says what it saved", () => {
    const saved = { input_tokens: 1000, output_tokens: 1000, cost: "0.003" };
    assert.equal(cachedText(saved), "Cached · saved 2,000 tokens, $0.003");
    assert.equal(cachedText(undefined), "Cached");
  });
});

describe("a model joining the catalogue", () => {
  it("is news when it becomes the default, not otherwise", () => {
    const local = { ...MINI, key: "local", name: "SmolLM2", default: true };
    const before = [{ ...DEMO, default: true }];
    assert.equal(
      newDefaultNote(before, [local, { ...DEMO, default: false }]),
      "SmolLM2 is now the default model: new chats use it.",
    );
    assert.equal(newDefaultNote(before, before), null);
    assert.equal(newDefaultNote([], [local]), null);
  });
});
