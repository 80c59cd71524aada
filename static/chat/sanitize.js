// Every string that becomes HTML in the page passes DOMPurify, including the
// server's already-sanitised `html` (a second line behind nh3). Model output is
// untrusted.
import DOMPurify from "./vendor/purify.es.mjs";
import { markdownToHtml } from "./markdown.js";

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "script", "style", "iframe", "frame", "object", "embed", "form", "input",
    "button", "textarea", "select", "option", "link", "meta", "base", "svg",
    "math", "audio", "video", "source", "picture", "template", "dialog",
  ],
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "ping", "background"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  // Links may only be http, https or mailto. DOMPurify still lets <img> keep a
  // data: src (its DATA_URI_TAGS); the hook below removes every other image.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
};
const MATH_CLASSES = new Set(["math math-inline", "math math-display"]);

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.hasAttribute?.("class")) {
    // Only classes the page acts on: code languages and math.
    const value = node.getAttribute("class");
    const keep =
      (node.tagName === "CODE" && /^language-[\w#+.-]+$/.test(value)) ||
      ((node.tagName === "SPAN" || node.tagName === "DIV") && MATH_CLASSES.has(value));
    if (!keep) node.removeAttribute("class");
  }
  if (node.tagName === "A") {
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    } else {
      node.removeAttribute("target");
    }
  } else if (node.tagName === "IMG") {
    // No remote images: a URL could carry data out of the page to a third party.
    const src = node.getAttribute("src") || "";
    if (!/^data:image\//i.test(src)) node.remove();
  }
});

/** A DocumentFragment of sanitised HTML. */
export function sanitize(html) {
  return DOMPurify.sanitize(html, { ...PURIFY_CONFIG, RETURN_DOM_FRAGMENT: true });
}

/** A DocumentFragment of a reply's Markdown, rendered as the server does. */
export function renderMarkdown(text) {
  return sanitize(markdownToHtml(text));
}
