// The reply state machine (static/chat/reply-state.js), event by event.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  MAX_SEND_ATTEMPTS,
  finalText,
  initialState,
  isBusy,
  step,
} from "../../static/chat/reply-state.js";

const send = { type: "send", id: "s1", conversation: null, content: "Hi" };

/** Run events in order; the final state and every effect. */
function run(events, state = initialState()) {
  const effects = [];
  for (const event of events) {
    const [next, out] = step(state, event);
    state = next;
    effects.push(...out);
  }
  return [state, effects];
}

const submitted = [{ type: "submit", frame: send, conversation: null, online: true }];
const startFrame = { type: "start", id: "s1", message: "m1", conversation: "c1", title: "Hi" };
const started = [...submitted, { type: "frame", frame: startFrame }];
const delta = (seq, text) => ({ type: "frame", frame: { type: "delta", message: "m1", seq, text } });
const end = (fields) => ({ type: "frame", frame: { type: "end", message: "m1", ...fields } });

describe("submit", () => {
  it("sends the frame and waits for its start", () => {
    const [state, effects] = run(submitted);
    assert.deepEqual(state.pending, { frame: send, attempts: 1, conversation: null });
    assert.deepEqual(effects[0], { type: "send", frame: send });
    assert.ok(isBusy(state));
  });

  it("offline: sends nothing and says so", () => {
    const [state, effects] = run([{ type: "submit", frame: send, conversation: null, online: false }]);
    assert.equal(state.pending, null);
    assert.deepEqual(effects, [{ type: "notice", notice: "offline-send" }]);
  });

  it("while a reply streams: sends nothing and explains the wait", () => {
    const again = { type: "submit", frame: { ...send, id: "s2" }, conversation: "c1", online: true };
    const [state, effects] = run([...started, again]);
    assert.equal(state.reply.id, "m1");
    assert.deepEqual(effects.at(-1), { type: "notice", notice: "wait" });
    assert.ok(!effects.some((e) => e.type === "send" && e.frame.id === "s2"));
  });
});

describe("reconnecting", () => {
  it("resends an unanswered send with the same id", () => {
    const [state, effects] = run([...submitted, { type: "ready" }]);
    assert.equal(state.pending.attempts, 2);
    const sends = effects.filter((e) => e.type === "send").map((e) => e.frame.id);
    assert.deepEqual(sends, ["s1", "s1"]);
  });

  it(`gives up after ${MAX_SEND_ATTEMPTS} attempts`, () => {
    const ready = Array.from({ length: MAX_SEND_ATTEMPTS }, () => ({ type: "ready" }));
    const [state, effects] = run([...submitted, ...ready]);
    assert.equal(state.pending, null);
    assert.ok(effects.some((e) => e.type === "notice" && e.notice === "send-gave-up"));
  });

  it("rejoins a streaming reply after the last seq seen, and repeats a stop", () => {
    const [state, effects] = run([
      ...started,
      delta(3, "Hel"),
      { type: "stop", online: true },
      { type: "ready" },
    ]);
    assert.ok(state.reply.joining);
    const frames = effects.filter((e) => e.type === "send").map((e) => e.frame);
    assert.deepEqual(frames.slice(-2), [
      { type: "join", message: "m1", after: 3 },
      { type: "stop", message: "m1" },
    ]);
  });

  it("a message too big for the socket is not resent", () => {
    const [state, effects] = run([...submitted, { type: "closed", code: 1009 }]);
    assert.equal(state.pending, null);
    assert.ok(effects.some((e) => e.notice === "too-big"));
  });
});

describe("streaming", () => {
  it("start turns the pending send into the reply", () => {
    const [state, effects] = run(started);
    assert.equal(state.pending, null);
    assert.equal(state.reply.id, "m1");
    assert.equal(effects.find((e) => e.type === "started").request, send);
  });

  it("a start for another send is ignored", () => {
    const other = { type: "frame", frame: { ...startFrame, id: "other" } };
    const [state] = run([...submitted, other]);
    assert.equal(state.reply, null);
    assert.ok(state.pending);
  });

  it("appends deltas in order and drops replayed ones", () => {
    const [state] = run([...started, delta(1, "Hel"), delta(3, "lo"), delta(2, "XX"), delta(3, "lo")]);
    assert.equal(state.reply.text, "Hello");
    assert.equal(state.reply.seq, 3);
    assert.equal(state.shown.m1, "Hello");
  });

  it("a late queue position never hides text", () => {
    const queued = { type: "frame", frame: { type: "queued", message: "m1", position: 2 } };
    const [state, effects] = run([...started, delta(1, "Hi"), queued]);
    assert.equal(state.reply.queued, null);
    assert.ok(!effects.some((e) => e.type === "queued"));
  });

  it("a status shows while nothing streams, never over text", () => {
    const status = { type: "frame", frame: { type: "status", message: "m1", text: "Retrying", retry: 1 } };
    const [, before] = run([...started, status]);
    assert.deepEqual(
      before.filter((e) => e.type === "status").map((e) => e.text),
      ["Retrying"],
    );
    const [, after] = run([...started, delta(1, "Hi"), status]);
    assert.ok(!after.some((e) => e.type === "status"));
  });

  it("the first queue position is announced once", () => {
    const queued = (position) => ({ type: "frame", frame: { type: "queued", message: "m1", position } });
    const [, effects] = run([...started, queued(3), queued(2)]);
    assert.deepEqual(
      effects.filter((e) => e.type === "queued").map((e) => e.first),
      [true, false],
    );
  });
});

describe("ending", () => {
  it("a complete reply shows the stored text and its HTML", () => {
    const [state, effects] = run([
      ...started,
      delta(1, "Hi"),
      end({ status: "complete", content: "Hi there", html: "<p>Hi there</p>" }),
    ]);
    assert.equal(state.reply, null);
    const ended = effects.find((e) => e.type === "ended");
    assert.deepEqual(ended.final, { content: "Hi there", html: "<p>Hi there</p>", kept: false });
  });

  it("an interrupted reply keeps every character shown when less was stored", () => {
    const shown = "x".repeat(329);
    const [, effects] = run([
      ...started,
      delta(1, shown),
      end({ status: "interrupted", content: "", html: "" }),
    ]);
    const ended = effects.find((e) => e.type === "ended");
    assert.deepEqual(ended.final, { content: shown, html: null, kept: true });
  });

  it("a row still marked streaming ends as interrupted", () => {
    const [, effects] = run([...started, delta(1, "abc"), end({ status: "streaming", content: "a" })]);
    const ended = effects.find((e) => e.type === "ended");
    assert.equal(ended.frame.status, "interrupted");
    assert.equal(ended.final.content, "abc");
  });

  it("a filtered reply shows what the filter left, even if shorter", () => {
    const [, effects] = run([...started, delta(1, "secret"), end({ status: "filtered", content: "" })]);
    assert.equal(effects.find((e) => e.type === "ended").final.content, "");
  });

  it("an unjoinable reply reloads the conversation", () => {
    const gone = { type: "frame", frame: { type: "error", code: "invalid", message: "gone" } };
    const [state, effects] = run([...started, { type: "ready" }, gone]);
    assert.equal(state.reply, null);
    assert.ok(effects.some((e) => e.type === "reload" && e.conversation === "c1"));
  });

  it("a refused send frees the composer and shows the error", () => {
    const refused = { type: "frame", frame: { type: "error", code: "rate_limited", id: "s1", retry_after: 5 } };
    const [state, effects] = run([...submitted, refused]);
    assert.equal(state.pending, null);
    assert.equal(effects.find((e) => e.type === "error").frame.retry_after, 5);
  });
});

describe("finalText", () => {
  it("prefers the stored text when it is at least as long", () => {
    const frame = { status: "cancelled", content: "abcd", html: "<p>abcd</p>" };
    assert.deepEqual(finalText(frame, "abc"), { content: "abcd", html: "<p>abcd</p>", kept: false });
  });
});

describe("stop and abandon", () => {
  it("stop sends once", () => {
    const [state, effects] = run([...started, { type: "stop", online: true }, { type: "stop", online: true }]);
    assert.ok(state.reply.stopping);
    assert.equal(effects.filter((e) => e.type === "send" && e.frame.type === "stop").length, 1);
  });

  it("deleting the reply's conversation stops and forgets it", () => {
    const [state, effects] = run([...started, { type: "abandon", conversation: "c1" }]);
    assert.equal(state.reply, null);
    assert.deepEqual(effects.at(-2), { type: "send", frame: { type: "stop", message: "m1" } });
  });

  it("following a reply joins it from the start", () => {
    const [state, effects] = run([{ type: "follow", id: "m9", conversation: "c9" }]);
    assert.equal(state.reply.id, "m9");
    assert.deepEqual(effects[0].frame, { type: "join", message: "m9", after: 0 });
  });
});

describe("edit and versions", () => {
  const edit = { type: "edit", id: "e1", message: "u1", content: "Hi again", conversation: "c1" };

  it("an edit is a turn like a send: sent, started, then streamed", () => {
    const start = { type: "start", id: "e1", message: "m2", conversation: "c1", edits: "u1" };
    const [state, effects] = run([
      { type: "submit", frame: edit, conversation: "c1", online: true },
      { type: "frame", frame: start },
    ]);
    assert.equal(state.reply.id, "m2");
    const began = effects.find((e) => e.type === "started");
    assert.equal(began.request, edit);
  });

  it("offline, an edit keeps its text, as a send does", () => {
    const [, effects] = run([{ type: "submit", frame: edit, conversation: "c1", online: false }]);
    assert.deepEqual(effects, [{ type: "notice", notice: "offline-send" }]);
  });

  it("a branch frame is handed to the page, changing nothing here", () => {
    const frame = { type: "branch", conversation: "c1", message: "m1", leaf: "m1" };
    const [state, effects] = run([...started, { type: "frame", frame }]);
    assert.equal(state.reply.id, "m1");
    assert.deepEqual(effects.at(-1), { type: "branch", frame });
  });
});
