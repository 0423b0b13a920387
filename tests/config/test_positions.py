"""Every position is one an editor can go to: the line exists and the column is at most one past
the line's last character. A file ending in a line break has no line after it (``wc -l``, git and
GitHub agree); one ending without a break has as many lines as break-separated pieces; an empty
file has line 1. libyaml disagrees at the end of the text (it puts the end of the stream on a line
after the last) and after U+0085/U+2028/U+2029; these tests pin both down."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.load import load_config
from reconciler.config.positions import EditorLines, Positions, split_lines
from reconciler.config.source import decode, parse_text


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("", 0, (1, 1)),
        ("", 5, (1, 1)),
        ("ab", 1, (1, 2)),
        ("ab", 2, (1, 3)),  # the end of a file without a break: after its last character
        ("a\nbc", 4, (2, 3)),
        ("a\nbc\n", 5, (2, 3)),  # a break at the very end ends line 2; there is no line 3
        ("a\nbc\n", 99, (2, 3)),
        ("a\n\n", 3, (2, 1)),  # an empty line before the final break is a line
        ("a\r\nbc\r\n", 3, (2, 1)),
        ("a\r\nbc\r\n", 2, (1, 2)),  # the \n of a \r\n is part of line 1's break, not a column
        ("a\r\nbc\r\n", 7, (2, 3)),
        ("a\rbc\r", 2, (2, 1)),
        ("a\rbc\r", 5, (2, 3)),
        ("a\u2028b\nc", 4, (2, 1)),  # U+2028 is not a line break to an editor
    ],
)
def test_editor_lines_answer_only_places_an_editor_can_go_to(text: str, index: int, expected: tuple[int, int]) -> None:
    assert EditorLines(text).mark(index) == expected


def test_split_lines_breaks_where_an_editor_does() -> None:
    assert split_lines("a\r\nb\rc\nd\u2028e\x85f") == ["a", "b", "c", "d\u2028e\x85f"]


def problems(text: str) -> list[tuple[int, int, str]]:
    return [(problem.line, problem.column, problem.rule) for problem in parse_text(text).problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, 1, "SMS006")]),
        ("# only a comment", [(1, 1, "SMS006")]),
        ("# only a comment\n", [(1, 1, "SMS006")]),
        ("a: 1\nb: [", [(2, 5, "SMS002")]),  # no final break: libyaml says 3:1
        ("a: 1\nb: [\n", [(2, 5, "SMS002")]),
        ("a: 1\r\nb: [\r\n", [(2, 5, "SMS002")]),
        ("a: 1\rb: [\r", [(2, 5, "SMS002")]),
        ("a: 1\rb: [", [(2, 5, "SMS002")]),
        ("a: 1\rb: c\x07", [(2, 5, "SMS005")]),  # a control character after a lone \r is on line 2
        ("a: 1\r\nb: 'x", [(2, 6, "SMS002")]),
    ],
)
def test_text_problems_are_inside_the_file(text: str, expected: list[tuple[int, int, str]]) -> None:
    assert problems(text) == expected


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("a:\n  b:", ("a", "b"), (2, 5)),
        ("a:\n  b:\n", ("a", "b"), (2, 5)),
        ("a: 1\n? ", ("",), (2, 3)),  # an empty key and its empty value, both at the very end
        ("- x\r\n- ", (1,), (2, 2)),
        ("---\n", (), (1, 4)),  # a document that is only its start marker
        ("a: 1\r---\r", (), (2, 4)),
    ],
)
def test_an_empty_value_at_the_end_is_at_the_end_of_the_last_line(
    text: str, path: tuple[str | int, ...], expected: tuple[int, int]
) -> None:
    *_, node = parse_text(text).nodes.values()
    assert Positions(node)[path] == expected


def test_undecodable_bytes_are_placed_by_editor_lines_and_after_a_bom() -> None:
    for raw, expected in [
        (b"a: 1\rb: \xff", (2, 4)),
        (b"\xef\xbb\xbfab\xff", (1, 3)),  # the BOM is not a column; the byte named is the bad one
        (b"a\r\n\xff\r\n", (2, 1)),
    ]:
        _, problem = decode(raw)
        assert problem is not None
        assert ((problem.line, problem.column), problem.message) == (expected, "not UTF-8 text (byte 0xff)")


def test_a_truncated_channel_is_reported_on_its_last_line(tmp_path: Path) -> None:
    """The fuzz audit's case: a file cut short, ending without a break, with the flow sequence open."""
    (tmp_path / "channels").mkdir()
    text = "apiVersion: smsops/v1\nkind: Channel\nmetadata:\n  name: x\nspec:\n  testSend:\n    templates: [a"
    (tmp_path / "channels" / "x.yaml").write_text(text)
    _, diagnostics = load_config(tmp_path)
    assert [(d.rule, d.line, d.column) for d in diagnostics] == [("SMS002", 7, 18)]


def test_a_schema_error_on_an_empty_last_value_points_at_the_end_of_its_line(tmp_path: Path) -> None:
    (tmp_path / "channels").mkdir()
    (tmp_path / "channels" / "x.yaml").write_text("apiVersion: smsops/v1\nkind: Channel\nmetadata:\n  name:\n")
    _, diagnostics = load_config(tmp_path)
    assert {(d.rule, d.line, d.column) for d in diagnostics} >= {("SMS020", 4, 8)}
    assert all(d.line <= 4 for d in diagnostics)
