// The browser's Markdown (static/chat/markdown.js, math.js): the server's preset.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { markdownToHtml } from "../../static/chat/markdown.js";

const html = (text) => markdownToHtml(text).trim();

describe("preset", () => {
  it("keeps single line breaks, as chat apps do", () => {
    assert.equal(html("roses are red\nviolets are blue"), "<p>roses are red<br />\nviolets are blue</p>");
  });

  it("links bare URLs and e-mail addresses, not file names", () => {
    const out = html("see https://example.com/a?b=1 or mail a@b.co about main.py");
    assert.match(out, /<a href="https:\/\/example.com\/a\?b=1">https:\/\/example.com\/a\?b=1<\/a>/);
    assert.match(out, /<a href="mailto:a@b.co">a@b.co<\/a>/);
    assert.doesNotMatch(out, /href="http:\/\/main.py"/);
  });

  it("renders GFM tables and strikethrough", () => {
    assert.match(html("| a | b |\n|---|---|\n| 1 | 2 |"), /<table>[\s\S]*<td>2<\/td>/);
    assert.equal(html("~~gone~~"), "<p><s>gone</s></p>");
  });

  it("aligns table cells without inline styles (the CSP allows none)", () => {
    const out = html("| a | b |\n|:--|--:|\n| 1 | 2 |");
    assert.match(out, /<th align="left">a<\/th>/);
    assert.match(out, /<td align="right">2<\/td>/);
    assert.doesNotMatch(out, /style=/);
  });

  it("shows raw HTML as text", () => {
    assert.equal(html("<b onclick=x>hi</b>"), "<p>&lt;b onclick=x&gt;hi&lt;/b&gt;</p>");
  });

  it("renders an unclosed fence as code while it streams", () => {
    assert.equal(
      html("Here:\n```python\ndef f():\n    return 1"),
      '<p>Here:</p>\n<pre><code class="language-python">def f():\n    return 1</code></pre>',
    );
  });
});

describe("math", () => {
  it("marks inline math and keeps backslashes such as \\,", () => {
    assert.equal(html("a $x\\,y$ b"), '<p>a <span class="math math-inline">x\\,y</span> b</p>');
    assert.equal(html("\\(a^2\\)"), '<p><span class="math math-inline">a^2</span></p>');
  });

  it("marks display math in blocks and inline", () => {
    assert.equal(html("$$\n\\int_0^1 x\\,dx\n$$"), '<div class="math math-display">\\int_0^1 x\\,dx</div>');
    assert.equal(html("\\[\na < b\n\\]"), '<div class="math math-display">a &lt; b</div>');
    assert.equal(html("so $$e^{i\\pi}$$ ok"), '<p>so <span class="math math-display">e^{i\\pi}</span> ok</p>');
  });

  it("leaves prices alone", () => {
    assert.equal(html("$5 and $10"), "<p>$5 and $10</p>");
    assert.equal(html("costs $ 5 $"), "<p>costs $ 5 $</p>");
  });

  it("never lets TeX become HTML", () => {
    assert.equal(html("$<img src=x>$"), '<p><span class="math math-inline">&lt;img src=x&gt;</span></p>');
  });

  it("an unclosed display block is not math (yet)", () => {
    assert.doesNotMatch(html("$$\nx^2"), /math/);
  });

  it("math inside code stays code", () => {
    assert.equal(html("`$x$`"), "<p><code>$x$</code></p>");
  });
});
