// What a rendered reply's code and math become in the page: each code block gets
// its language, a copy button and highlighting (highlight.js); each math span
// marked by markdown.js or the server becomes a formula (KaTeX, which builds DOM
// nodes itself, so no HTML string is parsed and the CSP needs no inline styles).
// Both libraries load on first use.

const CODE_LANG = /(?:^|\s)language-([\w#+.-]+)/;
let hljs = null;
let katex = null;
let loading = null;

/** Load highlight.js and KaTeX (once); resolves when both are ready. */
export function loadLibraries() {
  loading ??= Promise.all([
    import("./vendor/highlight.min.mjs").then((module) => {
      hljs = module.default;
      hljs.configure({ ignoreUnescapedHTML: true, throwUnescapedHTML: false });
    }),
    import("./vendor/katex/katex.mjs").then((module) => {
      katex = module.default;
    }),
  ]);
  return loading;
}

/** The language named by a code element's class, or "". */
export function codeLanguage(code) {
  return CODE_LANG.exec(code?.className || "")?.[1] || "";
}

/**
 * Decorate a rendered reply's code and math. Resolves once highlighting and
 * formulas are in place (at once when the libraries are loaded).
 */
export function decorate(root, { labels } = {}) {
  wrapCodeBlocks(root, labels);
  const needs = root.querySelector("pre code, .math");
  if (!needs) return Promise.resolve();
  if (hljs && katex) {
    enhance(root);
    return Promise.resolve();
  }
  return loadLibraries().then(() => {
    if (root.isConnected) enhance(root);
  });
}

function enhance(root) {
  for (const code of root.querySelectorAll("pre > code:not(.hljs)")) {
    const language = codeLanguage(code);
    if (language && hljs.getLanguage(language)) hljs.highlightElement(code);
  }
  for (const node of root.querySelectorAll(".math:not(.katex-done)")) {
    const tex = node.textContent;
    katex.render(tex, node, {
      displayMode: node.classList.contains("math-display"),
      throwOnError: false,
      output: "htmlAndMathml",
      trust: false,
    });
    node.classList.add("katex-done");
    node.dataset.tex = tex;
  }
}

const DEFAULT_LABELS = {
  code: "code",
  copy: "Copy",
  copyCode: (lang) => (lang ? `Copy ${lang} code` : "Copy code"),
};

/** Wrap each <pre> in a block with its language and a copy button. */
function wrapCodeBlocks(root, labels = DEFAULT_LABELS) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const lang = codeLanguage(pre.querySelector("code"));
    const block = document.createElement("div");
    block.className = "code-block";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.className = "code-lang";
    label.textContent = lang || labels.code;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "btn btn-code-copy";
    copy.dataset.action = "copy-code";
    copy.textContent = labels.copy;
    copy.setAttribute("aria-label", labels.copyCode(lang));
    bar.append(label, copy);
    pre.replaceWith(block);
    pre.tabIndex = 0; // scrollable region reachable by keyboard
    block.append(bar, pre);
  }
}
