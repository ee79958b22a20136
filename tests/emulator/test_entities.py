"""HTML parse_mode and bot_command detection, as pure functions."""

from __future__ import annotations

import pytest

from daemon.emulator.entities import EntityParseError, bot_command_entities, parse_html


def test_nested_tags_and_links_become_entities() -> None:
    text, entities = parse_html('<b>up <i>5%</i></b> <a href="https://x.test/">chart</a>')
    assert text == "up 5% chart"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 3, "length": 2},
        {"type": "text_link", "url": "https://x.test/", "offset": 6, "length": 5},
    ]


def test_offsets_count_utf16_code_units() -> None:
    """An emoji outside the BMP is two UTF-16 units, as Telegram counts."""
    text, entities = parse_html("📈 <b>BTC</b>")
    assert text == "📈 BTC"
    assert entities == [{"type": "bold", "offset": 3, "length": 3}]


def test_character_references() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#65;&#x42; &nbsp; a & b")[0] == '<>&"AB &nbsp; a & b'


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "<script>x</script>",
            'can\'t parse entities: Unsupported start tag "script" at byte offset 0',
        ),
        ("é <b", "can't parse entities: Unclosed start tag at byte offset 3"),
        ("</b>", 'can\'t parse entities: Unexpected end tag "b" at byte offset 0'),
        (
            '<span class="x">s</span>',
            'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
    ],
)
def test_invalid_html_is_refused_with_the_byte_offset(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as refused:
        parse_html(source)
    assert str(refused.value) == error


def test_bot_commands_are_found_where_a_client_would_mark_them() -> None:
    text = "/buy BTC 1 then /sell@tradebot all, not a/path or //x"
    assert [(e["offset"], e["length"]) for e in bot_command_entities(text)] == [(0, 4), (16, 14)]
