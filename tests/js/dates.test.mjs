// The sidebar's date groups, in local time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { dateGroup } from "../../static/chat/dates.js";

describe("the sidebar's date groups", () => {
  const now = new Date(2026, 11, 2, 9, 30); // 2 December 2026, 09:30 local

  it("puts this day's conversations under Today, even just after midnight", () => {
    assert.equal(dateGroup(new Date(2026, 11, 2, 0, 5), now), "today");
    assert.equal(dateGroup(new Date(2026, 11, 2, 9, 29).toISOString(), now), "today");
  });

  it("counts calendar days, not 24-hour spans", () => {
    assert.equal(dateGroup(new Date(2026, 11, 1, 23, 59), now), "yesterday");
    assert.equal(dateGroup(new Date(2026, 11, 1, 0, 1), now), "yesterday");
    assert.equal(dateGroup(new Date(2026, 10, 30, 12), now), "week");
    assert.equal(dateGroup(new Date(2026, 10, 26, 12), now), "week");
  });

  it("groups older ones by month", () => {
    assert.equal(dateGroup(new Date(2026, 10, 25, 12), now), "2026-11");
    assert.equal(dateGroup(new Date(2025, 0, 3), now), "2025-01");
  });

  it("treats a clock running ahead as today", () => {
    assert.equal(dateGroup(new Date(2026, 11, 2, 11), now), "today");
  });
});
