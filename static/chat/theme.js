// Dark mode: the page follows prefers-color-scheme until the person picks a theme
// with the toggle. The choice is stored with their account (the server renders it
// into <html data-theme>, so every browser shows it from the first paint) and
// mirrored in this browser for the pages without an account (theme-init.js).
import { savePreferences } from "./api.js";
import { gettext } from "./i18n.js";

export const STORAGE_KEY = "djchat-theme";
const media = () => window.matchMedia("(prefers-color-scheme: dark)");

/** "light" or "dark" when one was chosen, else null (follow the system). */
function chosenTheme() {
  const chosen = document.documentElement.dataset.theme;
  return chosen === "light" || chosen === "dark" ? chosen : null;
}

/** The theme in effect: the chosen one, else the system's. */
export function currentTheme() {
  return chosenTheme() || (media().matches ? "dark" : "light");
}

/** Code highlighting follows the theme: its two stylesheets carry data-code-theme. */
function applyCodeTheme() {
  const chosen = chosenTheme();
  for (const link of document.querySelectorAll("link[data-code-theme]")) {
    const scheme = link.dataset.codeTheme;
    link.media = chosen ? (chosen === scheme ? "all" : "not all") : `(prefers-color-scheme: ${scheme})`;
  }
}

/** This browser's copy of the choice, for pages rendered without an account. */
function remember(theme) {
  try {
    if (theme === "light" || theme === "dark") localStorage.setItem(STORAGE_KEY, theme);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled: the account still keeps the choice.
  }
}

export function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  applyCodeTheme();
  remember(theme);
  // Not saved (offline, signed out): the choice holds in this browser meanwhile.
  return savePreferences({ theme }).catch(() => {});
}

export function installTheme({ toggle }) {
  applyCodeTheme();
  remember(document.documentElement.dataset.theme);
  if (!toggle) return;
  const show = () => {
    const dark = currentTheme() === "dark";
    toggle.setAttribute("aria-pressed", String(dark));
    toggle.title = dark ? gettext("Switch to the light theme") : gettext("Switch to the dark theme");
  };
  toggle.addEventListener("click", () => {
    setTheme(currentTheme() === "dark" ? "light" : "dark");
    show();
  });
  media().addEventListener("change", show);
  show();
}
