"""Snippets: escaped, then marked; plain text on one line."""

from chat.search.snippets import START, STOP, marked_html


def test_text_is_escaped_and_only_marks_are_markup():
    html = marked_html(f'<img src=x onerror=alert(1)> & {START}"cats"{STOP}')
    escaped = "&lt;img src=x onerror=alert(1)&gt; &amp; "
    assert html == escaped + "<mark>&quot;cats&quot;</mark>"


def test_markdown_marks_and_line_breaks_are_left_out():
    html = marked_html(f"The ferry to **{START}Zanzibar{STOP}**.\n# Next `code` _x_")
    assert html == "The ferry to <mark>Zanzibar</mark>. Next code x"
    assert marked_html("snake_case stays") == "snake_case stays"


def test_unbalanced_marks_still_make_balanced_html():
    assert marked_html(f"{STOP}a {START}b") == "a <mark>b</mark>"
    assert marked_html(f"{START}{START}a{STOP}{STOP}") == "<mark>a</mark>"
