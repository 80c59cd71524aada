// Markdown to HTML in the browser with the server's engine and preset
// (chat/rendering.py): markdown-it, CommonMark plus GFM tables and strikethrough,
// linkify, single line breaks kept (`breaks`), raw HTML shown as text. So what
// streams is what stays when the `end` frame's HTML lands. No DOM here: the HTML
// is sanitised by sanitize.js before it reaches the page.
import markdownit from "./vendor/markdown-it.esm.min.mjs";
import { mathPlugin } from "./math.js";

export const PRESET = "commonmark";
export const OPTIONS = { html: false, linkify: true, breaks: true, typographer: false };
export const ENABLED_RULES = ["table", "strikethrough", "linkify"];
// Only links with a scheme (or www.) and e-mail addresses: "main.py" is no link.
export const LINKIFY = { fuzzyLink: false, fuzzyEmail: true, fuzzyIP: false, urlAuth: true };

/** Table cells aligned by the `align` attribute, not an inline style (the CSP
 * allows none). */
export function tableAlignPlugin(md) {
  md.core.ruler.push("table_align", (state) => {
    for (const token of state.tokens) {
      if (!/^t[hd]_open$/.test(token.type)) continue;
      const style = token.attrGet("style");
      const align = /^text-align:(left|center|right)$/.exec(style || "")?.[1];
      if (!align) continue;
      token.attrs = token.attrs.filter(([name]) => name !== "style");
      token.attrSet("align", align);
    }
  });
}

/** A markdown-it configured exactly as the server's. */
export function createMarkdown() {
  const md = markdownit(PRESET, OPTIONS)
    .enable(ENABLED_RULES)
    .use(mathPlugin)
    .use(tableAlignPlugin);
  md.linkify.set(LINKIFY);
  return md;
}

const md = createMarkdown();

/** HTML (unsanitised) for a reply's Markdown. */
export function markdownToHtml(text) {
  return md.render(String(text ?? ""));
}

export function escapeHtml(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
