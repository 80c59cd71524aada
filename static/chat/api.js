// The page's small JSON API (docs/protocol.md, "HTTP endpoints used by the page").

const body = document.body.dataset;

/** The CSRF token: the cookie is HttpOnly, so the page carries it in a meta tag. */
function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(url, { method = "GET", json } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 401) {
    window.location.assign(loginUrl());
    throw new ApiError(401, "Log in first.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // A proxy error page, for instance; the status says enough.
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.message || `HTTP ${response.status}`);
  }
  return data;
}

export function loginUrl() {
  const next = window.location.pathname + window.location.search;
  return `${body.loginUrl}?next=${encodeURIComponent(next)}`;
}

function conversationUrl(id) {
  return `${body.conversationsUrl}${encodeURIComponent(id)}/`;
}

/** One page of the list: `cursor` is the `next` of the page before. */
export function listConversations({ cursor = null, archived = false } = {}) {
  const params = new URLSearchParams();
  if (cursor) params.set("cursor", cursor);
  if (archived) params.set("archived", "1");
  const query = params.toString();
  return request(query ? `${body.conversationsUrl}?${query}` : body.conversationsUrl);
}
export const searchConversations = (q) =>
  request(`${body.conversationsUrl}?${new URLSearchParams({ q })}`);
/** Change a conversation's title, pinned or archived. */
export const updateConversation = (id, changes) =>
  request(conversationUrl(id), { method: "PATCH", json: changes });
export const getConversation = (id) => request(conversationUrl(id));
export const deleteConversation = (id) =>
  request(conversationUrl(id), { method: "DELETE" });
export const getUsage = () => request(body.usageUrl);
export const getTools = (id) => request(`${conversationUrl(id)}tools/`);
export const setToolsOff = (id, off) =>
  request(`${conversationUrl(id)}tools/`, { method: "PATCH", json: { off } });
export const getPresets = () => request(body.presetsUrl);
export const saveSettings = (id, settings) =>
  request(`${conversationUrl(id)}settings/`, { method: "PATCH", json: settings });
export const getModels = () => request(body.modelsUrl);
export const savePreferences = (preferences) =>
  request(body.preferencesUrl, { method: "PUT", json: preferences });
/** Show the branch through a message (another version) in every tab. */
export const showVersion = (id, message) =>
  request(`${conversationUrl(id)}active/`, { method: "POST", json: { message } });
export const getShare = (id) => request(`${conversationUrl(id)}share/`);
export const createShare = (id, showName) =>
  request(`${conversationUrl(id)}share/`, { method: "POST", json: { show_name: showName } });
export const revokeShare = (id) => request(`${conversationUrl(id)}share/`, { method: "DELETE" });
// data-feedback-url is the URL of a placeholder message id (the nil UUID).
const NIL = "00000000-0000-0000-0000-000000000000";
export const rateReply = (id, rating, comment = "") =>
  request(body.feedbackUrl.replace(NIL, encodeURIComponent(id)), {
    method: "POST",
    json: { rating, comment },
  });
