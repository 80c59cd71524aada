// Versions of a message (its siblings in the conversation's tree: edits of a user
// message, regenerations of a reply) and the branch shown; pure, unit-tested.

/** Where `id` sits among its versions: {index (from 0), count, prev, next}
 * (prev/next: the neighbouring versions' ids, null at either end). */
export function versionInfo(versions, id) {
  const list = versions?.length ? versions : [id];
  const index = Math.max(list.indexOf(id), 0);
  return {
    index,
    count: list.length,
    prev: index > 0 ? list[index - 1] : null,
    next: index < list.length - 1 ? list[index + 1] : null,
  };
}

/** The versions of a new sibling made from `oldId` (whose versions are known). */
export function withNewVersion(versions, oldId, newId) {
  const list = versions?.length ? versions : [oldId];
  return list.includes(newId) ? list : [...list, newId];
}

/** Whether a `branch` frame changes what this tab shows: the same conversation,
 * ending at another message than the one shown last. */
export function branchChanges(frame, { conversation, lastId }) {
  return Boolean(conversation) && frame.conversation === conversation && frame.leaf !== lastId;
}

/** The editor's keys: Ctrl/Cmd+Enter saves, Escape cancels, anything else types. */
export function editorKey({ key, ctrlKey = false, metaKey = false, isComposing = false }) {
  if (isComposing) return null;
  if (key === "Escape") return "cancel";
  if (key === "Enter" && (ctrlKey || metaKey)) return "save";
  return null;
}
