"""Replies for the stream-versus-end check of the page's Markdown
(tests/browser/test_markdown_parity.py). TUNING is what the renderers were
checked against while they were written; HELD_OUT was kept aside and is only run
by the test, so it measures agreement on replies nobody tuned for."""

TUNING = [
    "Hello! How can I help you today?",
    "A poem:\nroses are red\nviolets are blue\n\nsecond stanza\nends here",
    "**Bold**, *italic*, ~~struck~~ and `inline code`.",
    "# Title\n\n## Sub\n\nParagraph with a [link](https://example.com).",
    "See https://example.com/path?q=1&r=2 and www.example.org, or write to a@b.co.",
    "Files like main.py and setup.cfg are not links.",
    "- one\n- two\n  - nested\n- three\n\n1. first\n2. second",
    "> A quote\n> over two lines\n\nAfter it.",
    "| name | value |\n|:-----|------:|\n| a | 1 |\n| b | 2 |",
    "```python\ndef add(a, b):\n    return a + b\n```\n\nThat adds.",
    "```js\nconst x = 1;\nconsole.log(x);\n```",
    "```\nplain code block\n```",
    "Inline math $E = mc^2$ and a thin space $a\\,b$.",
    "Display:\n\n$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\nDone.",
    "Brackets: \\(x^2\\) inline and\n"
    "\\[\n\\sum_{n=1}^\\infty \\frac{1}{n^2} = \\frac{\\pi^2}{6}\n\\]",
    "Prices: $5 and $10 are not math.",
    "Raw <b>HTML</b> & <script>alert(1)</script> shows as text.",
    "Trailing spaces  \nmake a break too.",
    "مرحبا بالعالم\nשלום עולם\nMixed English and العربية.",
    "Emoji 👋🏽 and accents: café, naïve, Zürich.",
    "Escaped \\*stars\\* and \\_underscores\\_.",
    "Horizontal rule\n\n---\n\nbelow.",
    "![dot](data:image/png;base64,iVBORw0KGgo=) an inline image.",
    "Auto <https://example.com/auto> link.",
    "Nested **bold with `code` and [link](https://example.com/x)** end.",
]

HELD_OUT = [
    "Steps:\n1. Install\n2. Run `make test`\n3. Read https://docs.example.com/start"
    "\n\nThen:\n```bash\nmake run\n```",
    "The matrix $A = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$ has det $-2$.",
    "A table with code:\n\n| cmd | does |\n|---|---|\n"
    "| `ls` | lists |\n| `cd` | moves |",
    "Quote with list:\n> - a\n> - b\n\nand a URL in a quote:\n> http://example.net/q",
    "Mixed: ~~old~~ **new** value is $x_1 + x_2$, see www.example.com/docs.",
    'Code with HTML:\n```html\n<div class="a">hi</div>\n```',
    "Line one\nline two\nline three",
    "$$x^2$$ on its own line, then text.",
    "Cost is $3.50 today and $4 tomorrow; math $n!$ though.",
    "Hebrew: עברית with code `rtl` and a link https://example.org/עמוד",
    "Deep list:\n- a\n  - b\n    - c\n      - d",
    "```python\n# unclosed at the end of a reply\nprint('x')",
]
