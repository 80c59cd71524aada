// Keyboard shortcuts, listed in the help dialog (Ctrl+/ or the "?" button):
// new chat, search conversations (their titles and messages), stop the reply,
// focus the message box.
// Ctrl is Cmd on a Mac.

/** The action for a keydown, or null. Pure, for unit tests. */
export function shortcutFor(event) {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (mod && event.shiftKey && key === "o") return "newChat";
  if (mod && !event.shiftKey && key === "k") return "search";
  if (mod && key === "/") return "help";
  if (event.shiftKey && key === "Escape") return "focusComposer";
  if (!mod && !event.shiftKey && key === "Escape") return "stop";
  return null;
}

export function installShortcuts({ dialog, opener, actions }) {
  const openHelp = () => {
    if (!dialog.open) dialog.showModal();
  };
  opener?.addEventListener("click", openHelp);
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const action = shortcutFor(event);
    if (!action) return;
    // Escape belongs to an open dialog (it closes it) and to the drawer.
    if (action === "stop" && (document.querySelector("dialog[open]") || document.body.classList.contains("sidebar-open"))) return;
    if (action !== "stop") event.preventDefault();
    if (action === "help") openHelp();
    else actions[action]?.();
  });
}
