// Markdown to safe HTML in the browser. Model output is untrusted: every string
// that becomes HTML passes DOMPurify, including the server's already-sanitised
// `html` (defence in depth). Raw HTML in Markdown is shown as text, as the server
// renders it, so a streamed reply does not change shape when the `end` frame lands.
import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.mjs";

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

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

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
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

export function escapeHtml(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A DocumentFragment of sanitised HTML. */
export function sanitize(html) {
  return DOMPurify.sanitize(html, { ...PURIFY_CONFIG, RETURN_DOM_FRAGMENT: true });
}

/** A DocumentFragment of Markdown rendered by marked, then sanitised. */
export function renderMarkdown(text) {
  return sanitize(marked.parse(text));
}

/** Wrap each <pre> in a block with its language and a copy button. */
export function decorateCodeBlocks(root) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const code = pre.querySelector("code");
    const lang = /(?:^|\s)language-([\w#+.-]+)/.exec(code?.className || "")?.[1];
    const block = document.createElement("div");
    block.className = "code-block";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.className = "code-lang";
    label.textContent = lang || "code";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "btn btn-code-copy";
    copy.dataset.action = "copy-code";
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", lang ? `Copy ${lang} code` : "Copy code");
    bar.append(label, copy);
    pre.replaceWith(block);
    pre.tabIndex = 0; // scrollable region reachable by keyboard
    block.append(bar, pre);
  }
}
