"""Template content: parsing (exact problems and columns), rendering, segment counting.
Translation per provider is in test_translate.py."""

from __future__ import annotations

import pytest

from reconciler.content import parse as content
from reconciler.content import segments
from reconciler.content.parse import ContentProblem, Var, parse_content, render
from reconciler.content.segments import count_segments, message_text
from reconciler.errors import ConfigError
from reconciler.providers.traits import traits

FILTER_HINT = "Providers substitute values verbatim: format the value in the application before sending."
EXPR_HINT = "Providers substitute values verbatim: compute the value in the application and pass it as one variable."
TAG_HINT = (
    "Providers have no logic: make one template per variant, or build the text in the application "
    "and pass it as a variable."
)


def problems(text: str) -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.rule, p.message) for p in parse_content(text).problems]


# --- parsing ---------------------------------------------------------------------------------


def test_canonical_content_parts_and_variables_in_first_appearance_order() -> None:
    parsed = parse_content("Hi {{ name }}, code {{code}} for {{ name }}.")
    assert parsed.ok
    assert parsed.parts == (
        "Hi ",
        Var("name", 1, 4),
        ", code ",
        Var("code", 1, 21),
        " for ",
        Var("name", 1, 34),
        ".",
    )
    assert parsed.variables == ("name", "code")
    assert parsed.literal_text == "Hi , code  for ."


def test_plain_text_and_lone_braces_are_literal() -> None:
    parsed = parse_content("Costs {5} } { and }} too")
    assert parsed.ok and parsed.parts == ("Costs {5} } { and }} too",) and parsed.variables == ()


def test_multiline_positions() -> None:
    parsed = parse_content("line one\n  {{ a }} and\n{{ b }}\n")
    assert parsed.occurrences() == (Var("a", 2, 3), Var("b", 3, 1))
    assert parsed.parts[-1] == "\n"  # Jinja would drop the trailing newline by default; we keep it


def test_filter_reports_exact_column_message_and_hint() -> None:
    parsed = parse_content("Code: {{ code | upper }} now")
    assert parsed.problems == (
        ContentProblem(
            1, 7, "SMS102", "{{ code | upper }} uses the filter 'upper'; only {{ name }} is allowed", FILTER_HINT
        ),
    )
    assert parsed.variables == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "x {{ user.name }}",
            (1, 3, "SMS105", "{{ user.name }} is attribute access; only a plain {{ name }} is allowed"),
        ),
        ("{{ a['k'] }}", (1, 1, "SMS105", "{{ a['k'] }} is item access; only a plain {{ name }} is allowed")),
        ("ab {{ now() }}", (1, 4, "SMS105", "{{ now() }} is a function call; only a plain {{ name }} is allowed")),
        ("{{ 'hi' }}", (1, 1, "SMS105", "{{ 'hi' }} is a literal; only a plain {{ name }} is allowed")),
        ("{{ true }}", (1, 1, "SMS105", "{{ true }} is a literal; only a plain {{ name }} is allowed")),
        (
            "{{ a is defined }}",
            (1, 1, "SMS105", "{{ a is defined }} is a test ('is defined'); only a plain {{ name }} is allowed"),
        ),
        ("{{ a + 1 }}", (1, 1, "SMS105", "{{ a + 1 }} is an expression; only a plain {{ name }} is allowed")),
        (
            "{{ a if b }}",
            (1, 1, "SMS105", "{{ a if b }} is a conditional expression; only a plain {{ name }} is allowed"),
        ),
        ("{{- a }}", (1, 1, "SMS106", "{{- a }} uses whitespace control ('-'); write {{ a }}")),
        (
            "{{ _a }}",
            (
                1,
                1,
                "SMS107",
                "variable name '_a' is not allowed: use 1-35 letters, digits or '_', starting with a letter",
            ),
        ),
    ],
)
def test_expression_problems(text: str, expected: tuple[int, int, str, str]) -> None:
    assert problems(text) == [expected]


def test_expression_hint() -> None:
    assert parse_content("{{ a.b }}").problems[0].hint == EXPR_HINT


def test_long_expression_is_shortened_in_message() -> None:
    text = "{{ " + "a" * 20 + " ~ " + "b" * 30 + " }}"
    (problem,) = parse_content(text).problems
    assert (
        problem.message == "{{ aaaaaaaaaaaaaaaaaaaa ~ bbbbbbbbbbb… is an expression; only a plain {{ name }} is allowed"
    )


def test_tags_reported_once_per_construct_at_their_column() -> None:
    text = "Hi\n {% if vip %}dear {% else %}x{% endif %} {{ name }}"
    parsed = parse_content(text)
    assert [(p.line, p.column, p.rule, p.message) for p in parsed.problems] == [
        (2, 2, "SMS103", "{% if %} is a Jinja tag; content supports only {{ name }}"),
    ]
    assert parsed.problems[0].hint == TAG_HINT
    assert parsed.variables == ("name",)


def test_unknown_tag_is_a_tag_problem_not_a_second_syntax_error() -> None:
    assert problems("a {% foo %}") == [(1, 3, "SMS103", "{% foo %} is a Jinja tag; content supports only {{ name }}")]


def test_comment() -> None:
    assert problems("a{# note #}b {{ x }}") == [(1, 2, "SMS104", "{# … #} comments are not allowed in content")]


def test_raw_block_hides_its_inside() -> None:
    assert problems("{% raw %}{{ a }}{% endraw %} {{ b|e }}") == [
        (1, 1, "SMS103", "{% raw %} is a Jinja tag; content supports only {{ name }}"),
        (1, 30, "SMS102", "{{ b|e }} uses the filter 'e'; only {{ name }} is allowed"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok\nbad {{ a }", (2, 5, "SMS101", "content is not valid template syntax: unexpected '}'")),
        (
            "{{ }}",
            (
                1,
                1,
                "SMS101",
                "content is not valid template syntax: Expected an expression, got 'end of print statement'",
            ),
        ),
        (
            "x {{ a",
            (
                1,
                3,
                "SMS101",
                "content is not valid template syntax: unexpected end of template, expected 'end of print statement'.",
            ),
        ),
        ("{{ not }}", (1, 1, "SMS101", "content is not valid template syntax: unexpected 'end of print statement'")),
    ],
)
def test_syntax_errors(text: str, expected: tuple[int, int, str, str]) -> None:
    parsed = parse_content(text)
    assert [(p.line, p.column, p.rule, p.message) for p in parsed.problems] == [expected]
    assert parsed.parts == () and parsed.variables == ()


def test_quoted_braces_inside_an_expression_do_not_end_it() -> None:
    assert problems('{{ "}}" }} {{ b.c }}') == [
        (1, 1, "SMS105", '{{ "}}" }} is a literal; only a plain {{ name }} is allowed'),
        (1, 12, "SMS105", "{{ b.c }} is attribute access; only a plain {{ name }} is allowed"),
    ]


def test_parse_is_cached() -> None:
    text = "cache me {{ please }}"
    assert parse_content(text) is parse_content(text)


@pytest.mark.parametrize(
    "text",
    [
        "Your code is {{ code }}.",
        "{{a}}{{ b }}",
        "{{\n a\t}} end\n",
        "{{{ a }}",
        "{ {{ a }}",
        "{{ a }}}",
        "{{ TRUE }} {{ Null }} {{ in }} {{ if }}",
        "{{ true }}",
        "{{ None }}",
        "{{ not }}",
        "{{ a1_B }} x {{ a1_B }}",
        "{{ " + "a" * 35 + " }}",
        "{{ " + "a" * 36 + " }}",
        "{{ é }}",
        "text only",
        "a {# c #}",
        "x\r\ny {{ z }}",
    ],
)
def test_fast_path_agrees_with_jinja(text: str) -> None:
    """The canonical-content shortcut must give exactly what the Jinja path gives (or defer)."""
    fast = content._parse_canonical(text)
    slow = content._parse_with_jinja(text)
    if fast is not None:
        assert fast == slow
    else:
        assert not slow.ok


# --- rendering -------------------------------------------------------------------------------


def test_render() -> None:
    parsed = parse_content("Hi {{ name }}, code {{code}}; again {{name}}.")
    assert render(parsed, {"name": "Ann", "code": "1234"}) == "Hi Ann, code 1234; again Ann."


def test_render_missing_value() -> None:
    with pytest.raises(ValueError, match=r"^no value for variable\(s\): code$"):
        render(parse_content("{{ name }} {{ code }}"), {"name": "x"})


def test_render_refuses_content_with_problems() -> None:
    with pytest.raises(ValueError, match=r"cannot be translated: SMS102"):
        render(parse_content("{{ a|upper }}"), {"a": "x"})


# --- segments --------------------------------------------------------------------------------


def test_gsm_alphabet_sizes() -> None:
    assert len(segments.GSM7_BASIC) == 127  # 128 codes minus the escape
    assert len(segments.GSM7_EXTENSION) == 10


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("a" + "€" * 80, "GSM-7", 161, 2),
        ("^{}\\[~]|\f", "GSM-7", 18, 1),
        # 152 septets then an escape pair: the pair may not straddle parts, so it starts part 2.
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "é", "GSM-7", 70, 1),
        ("a" * 70 + "ê", "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        ("a" * 66 + "😀" * 3, "UCS-2", 72, 2),
    ],
)
def test_segment_boundaries(text: str, encoding: str, units: int, segments: int) -> None:
    info = count_segments(text, bracketed=False)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


def bracketed(provider: str) -> bool:
    return traits(provider).bracket_signature


def test_signature_counted_where_provider_prepends_it() -> None:
    body = "a" * 60
    ali = count_segments(body, "OnePro", bracketed=bracketed("alibaba"))
    # 【OnePro】 is 8 characters and 【】 are not GSM-7: the whole message becomes UCS-2.
    assert (ali.encoding, ali.characters, ali.units, ali.segments) == ("UCS-2", 68, 68, 1)
    assert count_segments("a" * 63, "OnePro", bracketed=bracketed("tencent")).segments == 2
    assert count_segments("a" * 63, "OnePro", bracketed=bracketed("sandbox")).segments == 2
    aws = count_segments("a" * 160, "OnePro", bracketed=bracketed("aws"))
    assert (aws.encoding, aws.characters, aws.segments) == ("GSM-7", 160, 1)
    assert count_segments("a" * 160, None, bracketed=bracketed("alibaba")).segments == 1
    assert message_text("x", "S", bracketed=bracketed("tencent")) == "【S】x"
    assert message_text("x", "S", bracketed=bracketed("aws")) == "x"
    with pytest.raises(ConfigError, match="unknown provider 'x'"):
        traits("x")
