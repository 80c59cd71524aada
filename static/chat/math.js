// Math in replies, marked the same way as chat/rendering.py does on the server:
// `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` displayed. The TeX source is kept
// as escaped text in <span class="math math-inline"> or <… class="math
// math-display">; KaTeX turns it into formulas in the page (katex.js), so it is
// never parsed as HTML and a backslash such as `\,` survives.

// [open, close, display], tried in this order.
const INLINE = [
  ["$$", "$$", true],
  ["\\[", "\\]", true],
  ["\\(", "\\)", false],
  ["$", "$", false],
];
const BLOCK = [
  ["$$", "$$"],
  ["\\[", "\\]"],
];

const isSpace = (ch) => ch === " " || ch === "\t" || ch === "\n";
const isDigit = (ch) => ch >= "0" && ch <= "9";

/** The end of a `$…$` span starting at `start`, or -1 (pandoc's rules: no space
 * inside either dollar, no digit right after the closing one, `\$` is a dollar). */
function closeDollar(src, start, max) {
  if (start >= max || isSpace(src[start])) return -1;
  for (let pos = start; pos < max; pos++) {
    const ch = src[pos];
    if (ch === "\\") {
      pos++;
    } else if (ch === "$") {
      if (pos === start || isSpace(src[pos - 1])) return -1;
      if (pos + 1 < max && isDigit(src[pos + 1])) return -1;
      return pos;
    }
  }
  return -1;
}

function mathInline(state, silent) {
  const { src, pos, posMax } = state;
  const ch = src[pos];
  if (ch !== "$" && ch !== "\\") return false;
  for (const [open, close, display] of INLINE) {
    if (!src.startsWith(open, pos)) continue;
    const start = pos + open.length;
    const end =
      open === "$" ? closeDollar(src, start, posMax) : src.indexOf(close, start);
    if (end < 0 || end + close.length > posMax) continue;
    const content = src.slice(start, end);
    if (content.trim() === "") continue;
    if (!silent) {
      const token = state.push("math_inline", "span", 0);
      token.content = content.trim();
      token.markup = open;
      token.meta = { display };
    }
    state.pos = end + close.length;
    return true;
  }
  return false;
}

function mathBlock(state, startLine, endLine, silent) {
  let pos = state.bMarks[startLine] + state.tShift[startLine];
  const max = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const delimiter = BLOCK.find(([open]) => state.src.startsWith(open, pos));
  if (!delimiter) return false;
  const [open, close] = delimiter;
  pos += open.length;
  const lines = [];
  let line = startLine;
  let text = state.src.slice(pos, max);
  for (;;) {
    const at = text.indexOf(close);
    if (at >= 0) {
      if (text.slice(at + close.length).trim() !== "") return false;
      lines.push(text.slice(0, at));
      break;
    }
    lines.push(text);
    line += 1;
    if (line >= endLine) return false; // never closed: not math
    if (state.sCount[line] < state.blkIndent) return false;
    const begin = state.bMarks[line] + state.tShift[line];
    text = state.src.slice(begin, state.eMarks[line]);
    if (text.trim() === "") return false; // a blank line ends it: not math
  }
  const content = lines.join("\n").trim();
  if (content === "") return false;
  if (silent) return true;
  const token = state.push("math_block", "div", 0);
  token.block = true;
  token.content = content;
  token.markup = open;
  token.map = [startLine, line + 1];
  state.line = line + 1;
  return true;
}

function escapeHtml(text) {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The markdown-it plugin (a twin of chat/rendering.py's `math_plugin`). */
export function mathPlugin(md) {
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  md.renderer.rules.math_inline = (tokens, idx) => {
    const token = tokens[idx];
    const kind = token.meta.display ? "math-display" : "math-inline";
    return `<span class="math ${kind}">${escapeHtml(token.content)}</span>`;
  };
  md.renderer.rules.math_block = (tokens, idx) =>
    `<div class="math math-display">${escapeHtml(tokens[idx].content)}</div>\n`;
}
