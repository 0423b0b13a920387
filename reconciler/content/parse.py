"""Template content: parse the canonical ``{{ name }}`` syntax and render it with values.

Pure functions, no I/O. The canonical syntax is the strict subset of Jinja2 where the only construct
is ``{{ name }}``: providers substitute values verbatim and have no filters or logic, so anything
else would silently mean something different at the provider.

Parsing is Jinja2's own (``Environment.parse``), so what we accept is exactly what Jinja accepts.
Two things keep it fast enough for ``validate`` over thousands of templates:

- results are cached per content string (``parse_content`` is an ``lru_cache``), and the Jinja
  ``Environment`` is created once, on first need (importing jinja2 costs ~60 ms);
- content that is *already* canonical (literal text plus ``{{ name }}`` tags, where literal text
  holds no ``{{``/``{%``/``{#`` opener) is recognised by a scan that mirrors Jinja's lexer rules
  exactly and skips the parser (~190 µs a template). Anything else goes to Jinja.
  ``tests/content/test_content.py`` checks both paths agree.

Translation to and from each provider's syntax is in ``reconciler.content.translate``; segment
counting in ``reconciler.content.segments``.

Jinja keeps line numbers but not columns, so columns come from our own scan of the source for the
tag openers ``{{`` ``{%`` ``{#``, matched to the AST in source order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from jinja2 import Environment, nodes

__all__ = [
    "ContentProblem",
    "ParsedContent",
    "Part",
    "Var",
    "parse_content",
    "render",
    "require_ok",
]

# Content rule ids; the catalogue with titles and hints is in reconciler.config.lint.run.
SYNTAX = "SMS101"
FILTER = "SMS102"
TAG = "SMS103"
COMMENT = "SMS104"
EXPRESSION = "SMS105"
WHITESPACE_CONTROL = "SMS106"
VARIABLE_NAME = "SMS107"

VARIABLE_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,34}")
# Words Jinja parses as constants or operators even when written like a name.
NOT_NAMES = frozenset({"true", "false", "none", "True", "False", "None", "not"})
_OPENER = re.compile(r"\{[{%#]")
_CANONICAL_TAG = re.compile(r"\{\{[ \t\r\n]*([A-Za-z][A-Za-z0-9_]*)[ \t\r\n]*\}\}")
# Inside {{ }} / {% %}: skip string literals so a "}}" inside quotes does not end the tag.
_TAG_BODY = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|\}\}|%\}""", re.DOTALL)
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """A problem in content; ``line``/``column`` are 1-based within the content string."""

    line: int
    column: int
    rule: str
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class Var:
    """A ``{{ name }}`` in content, with the position of its ``{{``."""

    name: str
    line: int
    column: int


Part = str | Var


@dataclass(frozen=True)  # no slots: the derived views below are computed once per content
class ParsedContent:
    """Content split into literal text and variables.

    Invariant: when ``problems`` is empty, ``parts`` concatenated back (``Var`` as ``{{ name }}``)
    means exactly what the source means, and ``variables`` lists each name once, in order of
    first appearance. With problems, ``parts`` holds what could be understood and must not be
    translated (``require_ok`` refuses it).
    """

    source: str
    parts: tuple[Part, ...]
    variables: tuple[str, ...]
    problems: tuple[ContentProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @cached_property
    def literal_text(self) -> str:
        return "".join(part for part in self.parts if isinstance(part, str))

    def occurrences(self) -> tuple[Var, ...]:
        return self._occurrences

    @cached_property
    def _occurrences(self) -> tuple[Var, ...]:
        return tuple(part for part in self.parts if isinstance(part, Var))


@dataclass(frozen=True, slots=True)
class _Tag:
    kind: Literal["var", "block", "comment"]
    start: int
    end: int  # exclusive; len(source) when the tag is never closed

    def text(self, source: str) -> str:
        return source[self.start : self.end]


# --- parsing ---------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def parse_content(text: str) -> ParsedContent:
    """Parse canonical content. Never raises for bad content: problems are returned."""
    fast = _parse_canonical(text)
    if fast is not None:
        return fast
    too_deep = _too_deep(text)
    if too_deep is not None:
        return ParsedContent(text, (), (), (too_deep,))
    try:
        return _parse_with_jinja(text)
    except RecursionError:  # the depth check above should make this unreachable; never a traceback
        return ParsedContent(text, (), (), (_nesting_problem(1, 1),))


# Jinja's parser recurses once per bracket: a thousand "(" or "{{" exhaust the interpreter stack.
# Real content has none; this bound is far below where recursion starts to hurt.
MAX_NESTING = 32


def _too_deep(text: str) -> ContentProblem | None:
    """A problem at the first tag whose brackets nest deeper than ``MAX_NESTING``, or None."""
    lines = _LineIndex(text)
    for tag in _scan_tags(text):
        depth = 0
        for character in tag.text(text):
            if character in "([{":
                depth += 1
                if depth > MAX_NESTING:
                    return _nesting_problem(*lines.position(tag.start))
            elif character in ")]}":
                depth = max(depth - 1, 0)
    return None


def _nesting_problem(line: int, column: int) -> ContentProblem:
    return ContentProblem(
        line, column, SYNTAX, f"content is not valid template syntax: brackets nested more than {MAX_NESTING} deep",
        "Write variables as {{ name }}; a literal '{{' cannot appear in content.",
    )  # fmt: skip


def _parse_canonical(text: str) -> ParsedContent | None:
    """The content as parts if it is plainly canonical, else None (Jinja must decide).

    Mirrors Jinja's lexer: data runs until the leftmost ``{{``, ``{%`` or ``{#``; a tag here must
    be ``{{``, optional whitespace, a name Jinja treats as a Name, optional whitespace, ``}}``.
    """
    parts: list[Part] = []
    names: dict[str, None] = {}
    lines = _LineIndex(text)
    pos = 0
    while (opener := _OPENER.search(text, pos)) is not None:
        tag = _CANONICAL_TAG.match(text, opener.start())
        if tag is None or tag.group(1) in NOT_NAMES or not VARIABLE_NAME_RE.fullmatch(tag.group(1)):
            return None
        if opener.start() > pos:
            parts.append(text[pos : opener.start()])
        name = tag.group(1)
        line, column = lines.position(opener.start())
        parts.append(Var(name, line, column))
        names.setdefault(name)
        pos = tag.end()
    if pos < len(text):
        parts.append(text[pos:])
    return ParsedContent(text, tuple(parts), tuple(names), ())


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment

    # keep_trailing_newline: by default Jinja drops one trailing newline, which would change content.
    return Environment(keep_trailing_newline=True, autoescape=False)


_LONG_NUMBER = re.compile(r"[0-9_]{4301,}")


def _parse_with_jinja(text: str) -> ParsedContent:
    """The content as Jinja parses it, with a problem for every construct other than ``{{ name }}``."""
    from jinja2 import TemplateSyntaxError

    lines = _LineIndex(text)
    tags = list(_scan_tags(text))
    problems = _tag_problems(text, tags, lines)
    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError as error:
        line = error.lineno or 1
        # An unknown or unclosed {% tag %} is already reported as a tag; do not report it twice.
        if not any(p.rule == TAG and p.line == line for p in problems):
            problems.append(_syntax_problem(error.message, line, tags, lines))
    except ValueError as error:  # Jinja's lexer converts number literals; Python refuses over 4,300 digits
        problems.append(_number_problem(str(error), text, tags, lines))
    else:
        parts, names = _output_parts(text, tree, [tag for tag in tags if tag.kind == "var"], lines, problems)
        problems.sort(key=lambda p: (p.line, p.column))
        return ParsedContent(text, tuple(parts), tuple(names), tuple(problems))
    problems.sort(key=lambda p: (p.line, p.column))
    return ParsedContent(text, (), (), tuple(problems))


def _tag_problems(text: str, tags: list[_Tag], lines: _LineIndex) -> list[ContentProblem]:
    """A problem for each comment and each opening block tag (closing ones belong to their opener)."""
    problems: list[ContentProblem] = []
    for tag in tags:
        line, column = lines.position(tag.start)
        if tag.kind == "comment":
            problems.append(_comment_problem(line, column))
        elif tag.kind == "block" and not _closes_block(tag.text(text)):
            problems.append(_tag_problem(tag.text(text), line, column))
    return problems


def _number_problem(message: str, text: str, tags: list[_Tag], lines: _LineIndex) -> ContentProblem:
    """A number literal Python refuses to convert, reported at the tag that holds it."""
    found = _LONG_NUMBER.search(text)
    if found is None:
        return _syntax_problem(message, 1, tags, lines)
    tag = next((tag for tag in tags if tag.start <= found.start() < tag.end), None)
    line, column = lines.position(tag.start if tag else found.start())
    return _syntax_problem("a number of more than 4,300 digits", line, tags, lines, column)


def _syntax_problem(
    message: str | None, line: int, tags: list[_Tag], lines: _LineIndex, column: int | None = None
) -> ContentProblem:
    """Jinja refused the content: report it at ``column``, or at the first tag on the line Jinja names."""
    if column is None:
        column = next((lines.position(t.start)[1] for t in tags if lines.position(t.start)[0] == line), 1)
    return ContentProblem(
        line,
        column,
        SYNTAX,
        f"content is not valid template syntax: {message}",
        "Write variables as {{ name }}; a literal '{{' cannot appear in content.",
    )


def _output_parts(
    text: str, tree: nodes.Template, var_tags: list[_Tag], lines: _LineIndex, problems: list[ContentProblem]
) -> tuple[list[Part], dict[str, None]]:
    """Literal text and variables from Jinja's output nodes, matched to our ``{{`` tags for their
    positions, and the names in order of first appearance; other expressions go to ``problems``."""
    from jinja2 import nodes

    expressions = [expr for output in tree.find_all(nodes.Output) for expr in output.nodes]
    expressions = [expr for expr in expressions if not isinstance(expr, nodes.TemplateData)]
    # Our scan and Jinja's lexer agree for everything Jinja accepts; if they ever do not, fall back
    # to the first tag on the node's line rather than pointing at the wrong tag.
    aligned = len(var_tags) == len(expressions)
    parts: list[Part] = []
    names: dict[str, None] = {}
    pos = 0
    for index, expr in enumerate(expressions):
        var: _Tag | None = var_tags[index] if aligned else None
        if var is not None:
            line, column = lines.position(var.start)
            source = var.text(text)
            if var.start > pos:
                parts.append(text[pos : var.start])
            pos = var.end
        else:
            line = expr.lineno
            column = next((lines.position(t.start)[1] for t in var_tags if lines.position(t.start)[0] == line), 1)
            source = "{{ … }}"
        problem = _expression_problem(expr, source, line, column)
        if problem is not None:
            problems.append(problem)
        else:
            assert isinstance(expr, nodes.Name)
            parts.append(Var(expr.name, line, column))
            names.setdefault(expr.name)
    if pos < len(text):
        parts.append(text[pos:])
    return parts, names


def _expression_problem(expr: Any, source: str, line: int, column: int) -> ContentProblem | None:
    from jinja2 import nodes

    shown = source if len(source) <= 40 else source[:37] + "…"
    if isinstance(expr, nodes.Name):
        if source.startswith(("{{-", "{{+")) or source.endswith(("-}}", "+}}")):
            return ContentProblem(
                line,
                column,
                WHITESPACE_CONTROL,
                f"{shown} uses whitespace control ('-'); write {{{{ {expr.name} }}}}",
                "Providers keep the text around a variable as written; put the spacing you want in the text.",
            )
        if not VARIABLE_NAME_RE.fullmatch(expr.name):
            return ContentProblem(
                line,
                column,
                VARIABLE_NAME,
                f"variable name {expr.name!r} is not allowed: use 1-35 letters, digits or '_', starting with a letter",
                "Rename the variable here and under spec.variables.",
            )
        return None
    if isinstance(expr, nodes.Filter):
        return ContentProblem(
            line,
            column,
            FILTER,
            f"{shown} uses the filter '{expr.name}'; only {{{{ name }}}} is allowed",
            "Providers substitute values verbatim: format the value in the application before sending.",
        )
    return ContentProblem(
        line,
        column,
        EXPRESSION,
        f"{shown} is {_describe(expr)}; only a plain {{{{ name }}}} is allowed",
        "Providers substitute values verbatim: compute the value in the application and pass it as one variable.",
    )


def _describe(expr: Any) -> str:
    from jinja2 import nodes

    if isinstance(expr, nodes.Getattr):
        return "attribute access"
    if isinstance(expr, nodes.Getitem):
        return "item access"
    if isinstance(expr, nodes.Call):
        return "a function call"
    if isinstance(expr, nodes.Test):
        return f"a test ('is {expr.name}')"
    if isinstance(expr, nodes.Const | nodes.List | nodes.Tuple | nodes.Dict):
        return "a literal"
    if isinstance(expr, nodes.CondExpr):
        return "a conditional expression"
    return "an expression"


def _tag_keyword(source: str) -> str:
    words = source[2:].strip("-+ \t\r\n").split()
    return words[0].rstrip("%}-+") if words else ""


def _closes_block(source: str) -> bool:
    """{% else %}, {% endif %}…: part of a construct already reported at its opening tag."""
    keyword = _tag_keyword(source)
    return keyword.startswith("end") or keyword in ("else", "elif")


def _tag_problem(source: str, line: int, column: int) -> ContentProblem:
    keyword = _tag_keyword(source)
    shown = f"{{% {keyword} %}}" if keyword else "{% %}"
    return ContentProblem(
        line,
        column,
        TAG,
        f"{shown} is a Jinja tag; content supports only {{{{ name }}}}",
        "Providers have no logic: make one template per variant, or build the text in the "
        "application and pass it as a variable.",
    )


def _comment_problem(line: int, column: int) -> ContentProblem:
    return ContentProblem(
        line,
        column,
        COMMENT,
        "{# … #} comments are not allowed in content",
        "Put the note in a YAML comment (# …) or in spec.remark for the provider's reviewers.",
    )


def _scan_tags(text: str) -> Iterator[_Tag]:
    """Jinja tags in source order, found the way Jinja's lexer finds them (leftmost opener)."""
    pos = 0
    while (opener := _OPENER.search(text, pos)) is not None:
        start = opener.start()
        char = text[start + 1]
        if char == "#":
            close = text.find("#}", start + 2)
            end = len(text) if close < 0 else close + 2
            yield _Tag("comment", start, end)
            pos = end
            continue
        wanted = "}}" if char == "{" else "%}"
        end = len(text)
        for match in _TAG_BODY.finditer(text, start + 2):
            if match.group() == wanted:
                end = match.end()
                break
        kind: Literal["var", "block"] = "var" if char == "{" else "block"
        if kind == "block" and text[start + 2 : end].strip("-+% \t\r\n}") == "raw":
            # {% raw %} hides everything up to {% endraw %} from the lexer.
            endraw = _ENDRAW.search(text, end)
            end = len(text) if endraw is None else endraw.end()
        yield _Tag(kind, start, end)
        pos = end


class _LineIndex:
    """Offset → (line, column), both 1-based, for one source string."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")

    def position(self, offset: int) -> tuple[int, int]:
        low, high = 0, len(self._starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1, offset - self._starts[low] + 1


# --- values ----------------------------------------------------------------------------------


def require_ok(parsed: ParsedContent) -> None:
    """Refuse content with problems: its parts do not mean what the source means."""
    if parsed.problems:
        first = parsed.problems[0]
        raise ValueError(f"content has problems and cannot be translated: {first.rule} {first.message}")


def render(parsed: ParsedContent, values: Mapping[str, str]) -> str:
    """The message body with values substituted verbatim (no escaping: providers do none)."""
    require_ok(parsed)
    missing = [name for name in parsed.variables if name not in values]
    if missing:
        raise ValueError(f"no value for variable(s): {', '.join(missing)}")
    return "".join([part if isinstance(part, str) else values[part.name] for part in parsed.parts])
