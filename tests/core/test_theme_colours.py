"""Whatever colour an admin picks for the site, text on it and text in it reads at 4.5:1
(WCAG 2.1 AA): base.html builds Tabler's primary colour variables from theme_colours."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from jifen.core.templatetags.jifen_ui import _channels, _tint, contrast, theme_colours

WHITE = (255, 255, 255)
PICKS = ["#d63939", "#206bc4", "#2fb344", "#f59f00", "#ffeb3b", "#7fdbff", "#ae3ec9",
         "#000000", "#ffffff", "not a colour"]


@pytest.mark.parametrize("pick", PICKS)
def test_text_on_the_colour_and_in_the_colour_is_readable(pick):
    theme = theme_colours(pick)
    primary, fg, text = (_channels(theme[k]) for k in ("primary", "primary_fg", "text"))
    assert contrast(fg, primary) >= 4.5          # a button's label
    assert contrast(text, WHITE) >= 4.5          # a link on a card
    assert contrast(text, _tint(primary, .14)) >= 4.5  # a soft badge or avatar
    assert theme["primary_rgb"] == ", ".join(str(c) for c in primary)


def test_the_default_red_is_darkened_only_a_little_and_keeps_white_text():
    theme = theme_colours("#d63939")
    assert theme["primary_fg"] == "#ffffff"
    red, darker = _channels("#d63939"), _channels(theme["primary"])
    assert darker != red and all(0 < a - b <= 40 for a, b in zip(red, darker, strict=True))


def test_a_light_colour_keeps_its_shade_under_dark_ink():
    theme = theme_colours("#ffeb3b")
    assert theme["primary"] == "#ffeb3b"
    assert theme["primary_fg"] != "#ffffff"
    assert theme["text"] != "#ffeb3b"


def test_the_page_carries_the_readable_colours():
    html = Template("{% load jifen_ui %}{% theme_colours c as t %}{{ t.primary }} {{ t.text }}"
                    ).render(Context({"c": "#d63939"}))
    primary, text = html.split()
    assert contrast(_channels(primary), WHITE) >= 4.5 and primary == text
