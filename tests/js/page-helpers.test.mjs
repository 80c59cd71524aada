// Small pure helpers of the page: words, counters, shortcuts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { countChars, counterState } from "../../static/chat/composer.js";
import { countdownText } from "../../static/chat/notices.js";
import { shortcutFor } from "../../static/chat/shortcuts.js";
import { errorText, formatCost, formatSeconds } from "../../static/chat/text.js";

describe("the banner", () => {
  it("counts down once, then says the person can try again", () => {
    const text = errorText({ code: "provider_unavailable", retry_after: 90 });
    const shown = countdownText(text, 90);
    assert.equal(shown, "The model is unavailable right now. Try again in 1\u00a0min 30\u00a0s.");
    assert.equal(shown.match(/Try again/g).length, 1);
    assert.match(countdownText(text, 0), /You can try again now\.$/);
  });

  it("without a retry time, says to try again in a moment", () => {
    assert.match(errorText({ code: "provider_unavailable" }), /Try again in a moment\.$/);
  });

  it("names the limit when a message is too long", () => {
    assert.match(errorText({ code: "too_long" }, { maxChars: 8000 }), /8,000 characters/);
  });
});

describe("the character counter", () => {
  it("counts code points after trimming, as the server does", () => {
    assert.equal(countChars("  h\u00e9llo 👋  "), 7);
  });

  it("shows from 80 % of the limit and marks the excess", () => {
    assert.equal(counterState(79, 100).visible, false);
    assert.deepEqual(counterState(80, 100), { visible: true, over: false, text: "80 / 100" });
    assert.equal(counterState(101, 100).over, true);
    assert.equal(counterState(5000, null).visible, false);
  });
});

describe("formatting", () => {
  it("seconds never wrap away from their unit", () => {
    assert.equal(formatSeconds(12.2), "13\u00a0s");
    assert.equal(formatSeconds(3600), "1\u00a0h");
  });

  it("tiny costs keep significant digits", () => {
    assert.equal(formatCost("0.00042"), "$0.00042");
    assert.equal(formatCost("1.5"), "$1.50");
    assert.equal(formatCost("0"), "$0.00");
  });
});

describe("keyboard shortcuts", () => {
  const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });
  it("maps the documented keys", () => {
    assert.equal(shortcutFor(key("O", { ctrlKey: true, shiftKey: true })), "newChat");
    assert.equal(shortcutFor(key("k", { metaKey: true })), "search");
    assert.equal(shortcutFor(key("Escape")), "stop");
    assert.equal(shortcutFor(key("Escape", { shiftKey: true })), "focusComposer");
    assert.equal(shortcutFor(key("/", { ctrlKey: true })), "help");
    assert.equal(shortcutFor(key("k")), null);
  });
});
