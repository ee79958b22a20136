"""Reply rendering (pure): escaping, and splitting at Telegram's 4096 characters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from daemon.notify.formatting import MESSAGE_LIMIT, render, render_plain, split_message
from daemon.reply import Reply


def test_every_value_is_escaped_and_only_the_title_is_bold() -> None:
    reply = Reply(title="<T&>", lines=("a<b",), rows=(("k&", "v>"),))
    assert render(reply) == "<b>&lt;T&amp;&gt;</b>\na&lt;b\nk&amp; — v&gt;"
    assert render_plain(reply) == "<T&>\na<b\nk&: v>\n"


def test_short_text_is_one_message() -> None:
    assert split_message("a\nb") == ["a\nb"]


def test_long_text_is_cut_at_line_ends() -> None:
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]
    parts = split_message("\n".join(lines))
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, no line cut


def test_an_over_long_line_is_cut_but_never_inside_an_entity() -> None:
    line = "&amp;" * 1000  # 5000 characters
    parts = split_message(line)
    assert "".join(parts) == line
    assert all(p.startswith("&amp;") and p.endswith("&amp;") for p in parts)


@given(st.lists(st.text(alphabet="ab <&>", max_size=300), max_size=60))
def test_splitting_keeps_every_character_within_the_limit(texts: list[str]) -> None:
    html = "\n".join(render(Reply(lines=(t,))) for t in texts)
    parts = split_message(html, limit=200)
    assert all(len(p) <= 200 for p in parts)
    assert "".join(parts).replace("\n", "") == html.replace("\n", "")
