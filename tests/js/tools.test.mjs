// Tool steps from tool frames (static/chat/tools.js), and the reply state
// machine's handling of them on a join or resume.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { initialState, step } from "../../static/chat/reply-state.js";
import { applyToolFrame, formatArguments, stepLabel } from "../../static/chat/tools.js";

const M = "m1";
const FRAMES = [
  { type: "tool_start", message: M, n: 1, call: "a", name: "python" },
  { type: "tool_args", message: M, n: 2, call: "a", delta: '{"code": ' },
  { type: "tool_start", message: M, n: 3, call: "b", name: "web_fetch" },
  { type: "tool_args", message: M, n: 4, call: "a", delta: '"print(1)"}' },
  { type: "tool_result", message: M, n: 5, call: "a", name: "python", result: "1", truncated: false, flagged: false, artefacts: [] },
  { type: "tool_error", message: M, n: 6, call: "b", name: "web_fetch", code: "forbidden_address", error: "Not public." },
];

const build = (frames, from = { steps: [], seen: 0 }) => frames.reduce(applyToolFrame, from);

describe("tool steps", () => {
  it("builds one step per call, in the order calls started", () => {
    const { steps, seen } = build(FRAMES);
    assert.equal(seen, 6);
    assert.deepEqual(
      steps.map((s) => [s.call, s.name, s.state]),
      [
        ["a", "python", "done"],
        ["b", "web_fetch", "error"],
      ],
    );
    assert.equal(steps[0].arguments, '{"code": "print(1)"}');
    assert.equal(steps[0].result, "1");
    assert.equal(steps[1].code, "forbidden_address");
  });

  it("skips frames replayed by a join, so arguments are not doubled", () => {
    const halfway = build(FRAMES.slice(0, 4));
    const replayed = build(FRAMES, halfway);
    assert.deepEqual(replayed, build(FRAMES));
    assert.equal(build(FRAMES.slice(0, 2), replayed), replayed);
  });

  it("pretty-prints whole JSON arguments and leaves partial ones as sent", () => {
    assert.equal(formatArguments('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(formatArguments('{"a":'), '{"a":');
  });

  it("labels each state", () => {
    assert.equal(stepLabel({ state: "running" }), "running…");
    assert.equal(stepLabel({ state: "error", code: "timeout" }), "failed: timeout");
    assert.equal(stepLabel({ state: "error", code: "cancelled" }), "stopped");
    assert.match(stepLabel({ state: "done", flagged: true }), /untrusted/);
  });
});

describe("the reply state machine", () => {
  function streaming() {
    let state = initialState();
    const send = { type: "send", id: "c1", conversation: null, content: "hi" };
    [state] = step(state, { type: "submit", frame: send, conversation: null, online: true });
    [state] = step(state, { type: "frame", frame: { type: "start", id: "c1", message: M, conversation: "k" } });
    return state;
  }

  it("renders each new tool frame and ignores repeats after a rejoin", () => {
    let state = streaming();
    let effects;
    for (const frame of FRAMES.slice(0, 3)) {
      [state, effects] = step(state, { type: "frame", frame });
      assert.deepEqual(effects.map((e) => e.type), ["tools"]);
    }
    [state, effects] = step(state, { type: "ready" });
    assert.deepEqual(effects[0].frame, { type: "join", message: M, after: 0 });
    for (const frame of FRAMES) {
      [state, effects] = step(state, { type: "frame", frame });
      assert.equal(effects.length, frame.n <= 3 ? 0 : 1);
    }
    assert.equal(state.reply.tools.steps[0].arguments, '{"code": "print(1)"}');
  });

  it("ignores tool frames of another reply", () => {
    const state = streaming();
    const [next, effects] = step(state, { type: "frame", frame: { ...FRAMES[0], message: "other" } });
    assert.equal(next, state);
    assert.deepEqual(effects, []);
  });
});
