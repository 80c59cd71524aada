// Words shown to people: error codes, statuses and numbers.

// One sentence per error code of docs/protocol.md; `retry_after` adds a countdown.
const ERROR_TEXT = {
  invalid: "The server could not accept that request.",
  too_long: "Your message is too long. Shorten it and try again.",
  rate_limited: "You are sending messages too quickly.",
  busy: "A reply is already being written. Wait for it to finish, or stop it.",
  budget_exhausted: "You have used up your usage budget for now.",
  account_blocked: "Your account has been blocked, so no reply was started.",
  email_unverified: "Confirm your email address first: follow the link we sent you, then try again.",
  blocked_input: "Your message was blocked by the safety filter. Please rephrase it.",
  blocked_output: "The reply was stopped by the safety filter.",
  provider_unavailable: "The model is unavailable right now. Try again in a moment.",
  timeout: "The model took too long to answer. Try again.",
  internal: "Something went wrong on our side. Try again.",
};

/** Plain words for an error frame (without the countdown). */
export function errorText(frame) {
  const known = ERROR_TEXT[frame.code];
  if (!known) return frame.message || "Something went wrong. Try again.";
  // For `invalid`, the server's sentence says what was wrong.
  if (frame.code === "invalid" && frame.message) return `${known} ${frame.message}`;
  // These say which limit and when it resets ("…; it resets at 00:00 UTC.").
  if (SERVER_WORDS.has(frame.code) && frame.message) return frame.message;
  return known;
}

const SERVER_WORDS = new Set(["busy", "budget_exhausted"]);

export const STATUS_TEXT = {
  cancelled: "Stopped",
  interrupted: "Interrupted",
  filtered: "Filtered",
  failed: "Failed",
  streaming: "Writing…",
};

export const STATUS_HINT = {
  cancelled: "You stopped this reply; the text so far is kept.",
  interrupted: "The reply was cut off (the server restarted or lost the model).",
  filtered: "The output filter stopped this reply.",
  failed: "The model failed before finishing this reply.",
};

/** "12 s", "3 min 5 s", "2 h 4 min" (a number never wraps away from its unit). */
export function formatSeconds(total) {
  const s = Math.max(0, Math.ceil(total));
  const unit = (n, name) => `${n}\u00a0${name}`;
  if (s < 60) return unit(s, "s");
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${unit(m, "min")} ${unit(s % 60, "s")}` : unit(m, "min");
  const h = Math.floor(m / 60);
  return m % 60 ? `${unit(h, "h")} ${unit(m % 60, "min")}` : unit(h, "h");
}

const integer = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", {
  notation: "compact",
  maximumFractionDigits: 1,
});

export function formatTokens(n) {
  const value = Number(n) || 0;
  return value >= 100000 ? compact.format(value) : integer.format(value);
}

/** US dollars from a decimal string: cents when large, significant digits when tiny. */
export function formatCost(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) return "$0.00";
  if (n >= 0.01) return `$${n.toFixed(2)}`;
  if (n < 0.000001) return "< $0.000001";
  return `$${n.toPrecision(2).replace(/0+$/, "")}`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : timeFormat.format(date);
}
