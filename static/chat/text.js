// Words shown to people: error codes, statuses, notices and numbers, in the
// page's language (i18n.js).
import { format, gettext, language } from "./i18n.js";

// One sentence per error code of docs/protocol.md; `retry_after` adds a countdown.
const ERROR_TEXT = {
  invalid: gettext("The server could not accept that request."),
  too_long: gettext("Your message is too long. Shorten it and try again."),
  rate_limited: gettext("You are sending messages too quickly."),
  busy: gettext("A reply is already being written. Wait for it to finish, or stop it."),
  budget_exhausted: gettext("You have used up your usage budget for now."),
  account_blocked: gettext("Your account has been blocked, so no reply was started."),
  email_unverified: gettext("Confirm your email address first: follow the link we sent you, then try again."),
  blocked_input: gettext("Your message was blocked by the safety filter. Please rephrase it."),
  blocked_output: gettext("The reply was stopped by the safety filter."),
  provider_unavailable: gettext("The model is unavailable right now."),
  timeout: gettext("The model took too long to answer. Try again."),
  internal: gettext("Something went wrong on our side. Try again."),
};

const SERVER_WORDS = new Set(["busy", "budget_exhausted"]);

/** Plain words for an error frame (without the countdown); `maxChars`: the
 * message limit, named when a message was too long. */
export function errorText(frame, { maxChars = null } = {}) {
  const known = ERROR_TEXT[frame.code];
  if (!known) return frame.message || gettext("Something went wrong. Try again.");
  if (frame.code === "too_long" && maxChars) {
    const words = gettext("Your message is too long: the limit is %(limit)s characters. Shorten it and try again.");
    return format(words, { limit: formatNumber(maxChars) });
  }
  if (frame.code === "provider_unavailable" && !frame.retry_after) {
    return `${known} ${gettext("Try again in a moment.")}`;
  }
  // For `invalid`, the server's sentence says what was wrong.
  if (frame.code === "invalid" && frame.message) return `${known} ${frame.message}`;
  // These say which limit and when it resets ("…; it resets at 00:00 UTC.").
  if (SERVER_WORDS.has(frame.code) && frame.message) return frame.message;
  return known;
}

// Notices the page raises itself (reply-state.js names them).
export const NOTICE_TEXT = {
  wait: gettext("A reply is being written. Wait for it to finish, or press Stop (Esc) first."),
  "offline-send": gettext("You are offline, so nothing was sent. Your message is kept; send it again once reconnected."),
  "offline-redo": gettext("You are offline, so nothing was sent. Try again once reconnected."),
  "offline-stop": gettext("You are offline: the reply cannot be stopped until the connection is back."),
  "send-gave-up": gettext("Your message could not be sent: the connection keeps dropping. It is kept here; try again."),
  "redo-gave-up": gettext("The reply could not be redone: the connection keeps dropping. Try again."),
  "too-big": gettext("That message is too large to send. Shorten it and try again."),
  gone: gettext("That conversation no longer exists."),
  "load-failed": gettext("Could not load this conversation. Check your connection and try again."),
  "delete-failed": gettext("Could not delete the conversation. Try again."),
};

export const STATUS_TEXT = {
  cancelled: gettext("Stopped"),
  interrupted: gettext("Interrupted"),
  filtered: gettext("Filtered"),
  failed: gettext("Failed"),
  streaming: gettext("Writing…"),
};

export const STATUS_HINT = {
  cancelled: gettext("You stopped this reply; the text so far is kept."),
  interrupted: gettext("The reply was cut off (the server restarted or lost the model). The text shown is kept; Continue carries it on."),
  filtered: gettext("The output filter stopped this reply."),
  failed: gettext("The model failed before finishing this reply."),
};

export const TRUNCATED_HINT = gettext(
  "The reply reached its length limit before it was finished; Continue carries it on.",
);

/** The small mark on a reply served from the response cache: what it saved. */
export function cachedText(saved) {
  if (!saved) return gettext("Cached");
  const tokens = (Number(saved.input_tokens) || 0) + (Number(saved.output_tokens) || 0);
  return format(gettext("Cached · saved %(tokens)s tokens, %(cost)s"), {
    tokens: formatNumber(tokens),
    cost: formatCost(saved.cost),
  });
}

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

let integer = null;
let compact = null;

export function formatNumber(n) {
  integer ??= new Intl.NumberFormat(language());
  return integer.format(Number(n) || 0);
}

export function formatTokens(n) {
  const value = Number(n) || 0;
  compact ??= new Intl.NumberFormat(language(), {
    notation: "compact",
    maximumFractionDigits: 1,
  });
  return value >= 100000 ? compact.format(value) : formatNumber(value);
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

/** A message's time: the time alone today, the date and time before. */
export function formatTime(iso, now = new Date()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === now.toDateString();
  const options = sameDay
    ? { timeStyle: "short" }
    : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(language(), options).format(date);
}

export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const options = { dateStyle: "full", timeStyle: "medium" };
  return new Intl.DateTimeFormat(language(), options).format(date);
}
