// Loaded in <head>, before the first paint: the theme chosen in this browser
// ("light" or "dark"), so a dark page never flashes white. No choice: the page
// follows prefers-color-scheme (app.css).
try {
  const theme = localStorage.getItem("djchat-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // Storage disabled: follow the system.
}
