"""Every text colour of the page meets WCAG AA (4.5:1) in both themes, hover and
"copied" states included, which an axe scan of a still page never sees: the palette
in app.css is `light-dark()` pairs, checked here on the surfaces text sits on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[1] / "static/chat/app.css").read_text()
PALETTE = {
    name: (light, dark)
    for name, light, dark in re.findall(
        r"--([a-z-]+):\s*light-dark\((#[0-9a-f]{6}),\s*(#[0-9a-f]{6})\)", CSS
    )
}
THEMES = {"light": 0, "dark": 1}
# Where text sits when its rule sets no background of its own.
SURFACES = ("bg", "bg-soft", "bg-muted", "bg-hover")
# Colours drawn only on the background their own rule sets (checked below).
ON_THEIR_OWN = {"bg", "on-accent", "on-danger", "send-text", "banner-text", "warn-text"}


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules() -> list[tuple[str, str, str | None]]:
    """(selector, text colour, background or None) of each rule that sets a colour."""
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        colour = re.search(r"(?<![-\w])color:\s*var\(--([a-z-]+)\)", body)
        background = re.search(r"background(?:-color)?:\s*var\(--([a-z-]+)\)", body)
        if colour:
            found.append(
                (
                    " ".join(selector.split()[-3:]),
                    colour[1],
                    background[1] if background else None,
                )
            )
    return found


def test_the_palette_is_read():
    assert {"text", "text-soft", "text-faint", "bg", "accent"} <= set(PALETTE)
    assert len(rules()) > 40


@pytest.mark.parametrize("theme", THEMES)
def test_text_on_its_own_background(theme):
    side = THEMES[theme]
    low = [
        f"{selector}: {fg} on {bg} {contrast(PALETTE[fg][side], PALETTE[bg][side]):.2f}"
        for selector, fg, bg in rules()
        if bg in PALETTE and contrast(PALETTE[fg][side], PALETTE[bg][side]) < 4.5
    ]
    assert low == []


@pytest.mark.parametrize("theme", THEMES)
def test_text_on_every_surface(theme):
    side = THEMES[theme]
    colours = {fg for _, fg, _ in rules() if fg in PALETTE} - ON_THEIR_OWN
    assert {"text", "text-soft", "text-faint", "accent", "danger", "ok"} <= colours
    low = [
        f"{fg} on {bg}: {contrast(PALETTE[fg][side], PALETTE[bg][side]):.2f}"
        for fg in sorted(colours)
        for bg in SURFACES
        if contrast(PALETTE[fg][side], PALETTE[bg][side]) < 4.5
    ]
    assert low == []
