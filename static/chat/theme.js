// Dark mode: the page follows prefers-color-scheme until the person picks a theme
// with the toggle; the choice is remembered in this browser (theme-init.js applies
// it before the first paint).
import { gettext } from "./i18n.js";

export const STORAGE_KEY = "djchat-theme";
const media = () => window.matchMedia("(prefers-color-scheme: dark)");

/** The theme in effect: the stored choice, else the system's. */
export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "light" || chosen === "dark") return chosen;
  return media().matches ? "dark" : "light";
}

/** Code highlighting follows the theme: its two stylesheets carry data-code-theme. */
function applyCodeTheme() {
  const chosen = document.documentElement.dataset.theme;
  for (const link of document.querySelectorAll("link[data-code-theme]")) {
    const scheme = link.dataset.codeTheme;
    link.media = chosen ? (chosen === scheme ? "all" : "not all") : `(prefers-color-scheme: ${scheme})`;
  }
}

export function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  applyCodeTheme();
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

export function installTheme({ toggle }) {
  applyCodeTheme();
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
