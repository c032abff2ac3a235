"""Terminal column widths of text (flowdesk/text_width.py): CJK, emoji, combining marks, padding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flowdesk.text_width import display_width, pad_to_width


def test_wide_characters_take_two_columns_and_marks_none():
    assert display_width("login") == 5
    assert display_width("登录") == 4
    assert display_width("API 调用") == 8
    assert display_width("🚀 deploy") == 9
    assert display_width("cafe\u0301") == 4  # e + combining acute accent
    assert display_width("ｆｕｌｌ") == 8  # fullwidth Latin
    assert display_width("a\u200bb") == 2  # zero-width space
    assert display_width("❤\ufe0f") == 2  # emoji presentation selector
    assert display_width("👍🏽") == 4  # the skin tone modifier is drawn wide on its own by most terminals
    assert display_width("—…é") == 3  # East Asian "ambiguous" is narrow outside CJK locales
    assert display_width("") == 0


def test_pad_to_width_counts_columns_not_characters():
    assert pad_to_width("登录", 6) == "登录  "
    assert pad_to_width("login", 6) == "login "
    assert pad_to_width("获取用户信息", 4) == "获取用户信息"  # too wide: unchanged


@given(st.text(), st.integers(min_value=0, max_value=60))
def test_padded_text_is_exactly_as_wide_as_asked_or_unchanged(text, width):
    padded = pad_to_width(text, width)
    assert padded.startswith(text)
    assert display_width(padded) == max(width, display_width(text))
