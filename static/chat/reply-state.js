// The state of the page's one turn in flight, as a pure state machine: no DOM, no
// socket. `step(state, event)` returns the next state and a list of effects that
// app.js carries out (send a frame, render, show a notice). Unit-tested with
// `node --test` (tests/js/).
//
//   idle ──submit──▶ pending ──start──▶ streaming ──end──▶ idle
//                     │  ▲ ready (resend, same id)  │ ▲ ready (join after seq)
//                     └──error / too big──▶ idle    └─queued/delta─┘
//
// state.pending: {frame, attempts, conversation}: a send, regenerate or continue
//   waiting for its start frame (conversation: where it was made).
// state.reply: {id, conversation, seq, text, stopping, joining, queued}: the reply
//   being written (queued: its place in the provider's queue, null when not waiting).
// state.shown: {message id: text}: the longest text shown for each reply that was
//   followed here, so an end frame or a reload never erases what someone read.

import { CLOSE_TOO_BIG } from "./socket.js";
import { TOOL_FRAMES, applyToolFrame } from "./tools.js";

// A send whose socket keeps dying before its start frame is given up after this
// many tries (a frame that crashes the server must not loop for ever).
export const MAX_SEND_ATTEMPTS = 3;
export const FINAL_STATUSES = new Set([
  "complete",
  "cancelled",
  "interrupted",
  "filtered",
  "failed",
]);
export const CAN_CONTINUE = new Set(["interrupted", "cancelled"]);

/** Whether Continue may carry a reply on: cut short, or stopped by the length
 * limit (`truncated`, stored complete). */
export function canContinue(status, truncated) {
  return CAN_CONTINUE.has(status) || (status === "complete" && Boolean(truncated));
}
// Ends after which the text shown so far is kept when the stored text is shorter.
// `filtered` is the output filter's decision, and `complete` is the whole text.
const KEEP_SHOWN = new Set(["interrupted", "cancelled", "failed"]);
// Frames whose text stays on the page (the composer, the editor) when not sent.
const TEXT_KEPT = new Set(["send", "edit"]);

export function initialState() {
  return { pending: null, reply: null, shown: {} };
}

export const isBusy = (state) => Boolean(state.pending || state.reply);

function newReply({ id, conversation, joining = false }) {
  return {
    id,
    conversation,
    seq: 0,
    text: "",
    stopping: false,
    joining,
    queued: null,
    // Tool steps (tools.js) and the last tool frame number applied.
    tools: { steps: [], seen: 0 },
  };
}

/**
 * What an ended reply shows: the stored text and its HTML, unless the stored
 * text is shorter than what this page already showed after a cut-off.
 * Returns {content, html, kept} (html null: render `content` here).
 */
export function finalText(frame, shown = "") {
  const stored = frame.content ?? "";
  if (KEEP_SHOWN.has(frame.status) && shown.length > stored.length) {
    return { content: shown, html: null, kept: true };
  }
  return { content: stored, html: frame.html ?? null, kept: false };
}

/** An end frame is final whatever it says: a row still marked streaming (its
 * generator died with a restart) is shown as interrupted. */
export function normaliseEnd(frame) {
  return FINAL_STATUSES.has(frame.status) ? frame : { ...frame, status: "interrupted" };
}

const handlers = {
  /** The person sends, regenerates or continues: event.frame; event.online. */
  submit(state, { frame, conversation, online }) {
    if (isBusy(state)) return [state, [{ type: "notice", notice: "wait" }]];
    if (!online) {
      const notice = TEXT_KEPT.has(frame.type) ? "offline-send" : "offline-redo";
      return [state, [{ type: "notice", notice }]];
    }
    const pending = { frame, attempts: 1, conversation };
    return [{ ...state, pending }, [{ type: "send", frame }, { type: "clear-notice" }]];
  },

  /** The socket is (again) open: resend what got no answer, rejoin the reply. */
  ready(state) {
    const effects = [];
    let { pending, reply } = state;
    if (pending && pending.attempts >= MAX_SEND_ATTEMPTS) {
      const notice = TEXT_KEPT.has(pending.frame.type) ? "send-gave-up" : "redo-gave-up";
      effects.push({ type: "notice", notice });
      pending = null;
    } else if (pending) {
      pending = { ...pending, attempts: pending.attempts + 1 };
      effects.push({ type: "send", frame: pending.frame });
    }
    if (reply) {
      reply = { ...reply, joining: true };
      effects.push({ type: "send", frame: { type: "join", message: reply.id, after: reply.seq } });
      if (reply.stopping) effects.push({ type: "send", frame: { type: "stop", message: reply.id } });
    }
    effects.push({ type: "changed" });
    return [{ ...state, pending, reply }, effects];
  },

  closed(state, { code }) {
    if (code !== CLOSE_TOO_BIG || !state.pending) return [state, []];
    // Resending would close the socket again; the text stays in the box.
    return [
      { ...state, pending: null },
      [{ type: "notice", notice: "too-big" }, { type: "changed" }],
    ];
  },

  stop(state, { online }) {
    const reply = state.reply;
    if (!reply || reply.stopping) return [state, []];
    if (!online) return [state, [{ type: "notice", notice: "offline-stop" }]];
    return [
      { ...state, reply: { ...reply, stopping: true } },
      [{ type: "send", frame: { type: "stop", message: reply.id } }, { type: "changed" }],
    ];
  },

  /** Follow a reply still streaming (after a reload, or from another tab). */
  follow(state, { id, conversation }) {
    if (isBusy(state)) return [state, []];
    return [
      { ...state, reply: newReply({ id, conversation, joining: true }) },
      [{ type: "send", frame: { type: "join", message: id, after: 0 } }, { type: "changed" }],
    ];
  },

  /** The reply's conversation was deleted: stop it and forget it. */
  abandon(state, { conversation }) {
    const reply = state.reply;
    if (!reply || reply.conversation !== conversation) return [state, []];
    return [
      { ...state, reply: null },
      [{ type: "send", frame: { type: "stop", message: reply.id } }, { type: "changed" }],
    ];
  },

  frame(state, { frame }) {
    if (TOOL_FRAMES.has(frame.type)) return toolFrame(state, frame);
    const handler = frames[frame.type];
    return handler ? handler(state, frame) : [state, []]; // a newer server's frame
  },
};

const frames = {
  start(state, frame) {
    const pending = state.pending;
    if (!pending || pending.frame.id !== frame.id) return [state, []];
    const reply = newReply({ id: frame.message, conversation: frame.conversation });
    return [
      { ...state, pending: null, reply },
      [{ type: "started", frame, request: pending.frame, madeIn: pending.conversation }, { type: "changed" }],
    ];
  },

  queued(state, frame) {
    const reply = state.reply;
    // Once text streams, the queue is behind it (a late frame must not hide the text).
    if (!reply || frame.message !== reply.id || reply.text) return [state, []];
    const first = reply.queued === null;
    const next = { ...reply, joining: false, queued: frame.position };
    return [{ ...state, reply: next }, [{ type: "queued", reply: next, first }]];
  },

  status(state, frame) {
    const reply = state.reply;
    // What keeps a reply waiting (no text yet); once text streams, it says enough.
    if (!reply || frame.message !== reply.id || reply.text) return [state, []];
    const next = { ...reply, joining: false };
    return [{ ...state, reply: next }, [{ type: "status", reply: next, text: frame.text }]];
  },

  delta(state, frame) {
    const reply = state.reply;
    if (!reply || frame.message !== reply.id) return [state, []];
    if (frame.seq <= reply.seq) return [{ ...state, reply: { ...reply, joining: false } }, []];
    const text = reply.text + frame.text;
    const next = { ...reply, joining: false, seq: frame.seq, text };
    const shown = { ...state.shown, [reply.id]: text };
    return [{ ...state, reply: next, shown }, [{ type: "text", reply: next }]];
  },

  end(state, raw) {
    const frame = normaliseEnd(raw);
    const reply = state.reply;
    const mine = Boolean(reply && frame.message === reply.id);
    const final = finalText(frame, state.shown[frame.message] ?? "");
    const effects = [{ type: "ended", frame, final, mine, conversation: reply?.conversation }];
    effects.push({ type: "changed" }, { type: "refresh-usage" });
    return [mine ? { ...state, reply: null } : state, effects];
  },

  /** The branch shown changed (in this tab or another): app.js decides to reload. */
  branch(state, frame) {
    return [state, [{ type: "branch", frame }]];
  },

  error(state, frame) {
    const reply = state.reply;
    if (state.pending && frame.id === state.pending.frame.id) {
      // The send was refused: its text is still in the box, ready to retry.
      return [
        { ...state, pending: null },
        [{ type: "error", frame }, { type: "changed" }],
      ];
    }
    if (reply?.joining && !frame.id && !frame.message_id) {
      // The reply could not be joined (it is gone): show what the server stored,
      // keeping any longer text shown here.
      return [
        { ...state, reply: null },
        [{ type: "reload", conversation: reply.conversation }, { type: "changed" }],
      ];
    }
    return [state, [{ type: "error", frame }]];
  },
};

/** A tool call's step; one replayed by a join or resume (its `n` seen) is skipped. */
function toolFrame(state, frame) {
  const reply = state.reply;
  if (!reply || frame.message !== reply.id) return [state, []];
  const tools = applyToolFrame(reply.tools, frame);
  if (tools === reply.tools) return [state, []];
  const next = { ...reply, joining: false, tools };
  return [{ ...state, reply: next }, [{ type: "tools", reply: next }]];
}

/** The next state and the effects of one event ({type, ...}). */
export function step(state, event) {
  const handler = handlers[event.type];
  if (!handler) throw new Error(`unknown event ${event.type}`);
  return handler(state, event);
}
