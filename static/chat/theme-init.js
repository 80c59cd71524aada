// Loaded in <head>, before the first paint. A signed-in page arrives with the
// account's theme in <html data-theme> ("light", "dark" or "system"); a page
// without an account (login, offline) takes the last choice made in this browser,
// so a dark page never flashes white. No choice: prefers-color-scheme (app.css).
try {
  const root = document.documentElement;
  const theme = localStorage.getItem("djchat-theme");
  if (!root.dataset.theme && (theme === "light" || theme === "dark")) root.dataset.theme = theme;
} catch {
  // Storage disabled: follow the system.
}
