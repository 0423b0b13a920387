"""The fast reader (reconciler.model.plainyaml) against libyaml: whenever it answers, it must give
exactly what libyaml's nodes built by the loader give (data with types, indices, root marks)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.model import plainyaml, source

ROOT = Path(__file__).resolve().parent.parent


def typed(value: Any) -> Any:
    """``value`` with every scalar's type spelled out (``1 == 1.0 == True`` in Python)."""
    if isinstance(value, dict):
        return {typed(key): typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def reference(text: str) -> list[tuple[int, tuple[int, int], Any]] | None:
    """What libyaml + the loader's builder make of ``text``; None if they report any problem."""
    try:
        nodes = list(source.compose(text))
        builder = source._Builder(check_aliases=True)
        documents = [(index, source.mark_of(node), typed(builder.build(node))) for index, node in enumerate(nodes)]
    except (yaml.YAMLError, source._Refused, RecursionError):
        return None
    return None if builder.problems or not documents else documents


def fast(text: str) -> list[tuple[int, tuple[int, int], Any]] | None:
    documents = plainyaml.read(text)
    return None if documents is None else [(index, mark, typed(data)) for index, mark, data in documents]


def agree(text: str) -> bool:
    """Asserts the fast reader is right when it answers; returns whether it answered."""
    answer = fast(text)
    if answer is not None:
        assert answer == reference(text), text
    return answer is not None


READ = [
    "a: 1\n",
    "# yaml-language-server: $schema=x\napiVersion: smsops/v1\nkind: Channel\n",
    "a:\n  b: c\n  d:\n    e: f\ng: h\n",
    "a:\n- x\n- y\nb: 1\n",
    "a:\n  - x\n  -   y # note\n",
    "a:\n  - k: 1\n    l: two\n  - k: 2\n",
    "a: {x: 1, y: two words, z: \"q\", w: 'it''s'}\n",
    "a: [one, 2, 3.5, true, null, ~, -4, 0x1F, 1_000, 0o17, +5, .inf, 'x', \"y\"]\n",
    "a: {}\nb: []\nc: {x: []}\nd: [{x: 1}, [2]]\n",
    "a: yes\nb: No\nc: off\nd: ON\ne: y\nf: n\n",
    "a: 012\nb: 1e3\nc: 1.5e3\nd: 190:20:30\ne: -.5\nf: 0b101\n",
    "a:\nb: # nothing\nc: ''\nd: \"\"\n",
    "a: >-\n  one\n  two\n\n  three\n\n\nb: 1\n",
    "a: >\n  one\n\n\n  two\n",
    "a: |\n  one\n   two\n\n  three\n",
    "a: |-\n    x\n    y\nb: |  # comment\n  z\n",
    "a: plain text, with:colons:inside and#hash\n",
    "a: text # comment\nb: 'quoted' # comment\nc: \"dq\"   \n",
    "a: 中文内容 {{ code }}\nb: 【签名】\n",
    "a: http://example.com/x?y=1\nb: ../secrets/x.enc.yaml\n",
    "---\na: 1\n---\nb: 2\n",
    "# head\n---\na: 1\n--- # second\nb: 2\n",
    "labels: {app.kubernetes.io/name: x, team-a: b}\n",
    "a: -x\nb: --\nc: ---\nd: ...\n",
    "a: [a b, c-d, e.f/g]\n",
]
DECLINED = [
    "a: 1\n---\n# only a comment\n---\nb: 2\n",
    "a: 2001-12-14\n",
    "a: x\n  b: y\n",
    "key: value: nested\n",
    "a: &anchor 1\nb: *anchor\n",
    "a: !!str 1\n",
    "<<: {a: 1}\n",
    "a: 1\na: 2\n",
    "on: 1\n",
    "1: x\n",
    "a:\tb\n",
    "a: 1\r\nb: 2\r\n",
    'a: "multi\n  line"\n',
    "a: [x,\n  y]\n",
    'a: "esc\\n"\n',
    "- a\n- b\n",
    "just text\n",
    "",
    "# nothing\n",
    "a: 1\n---\n",
    "a: >+\n  x\n\n",
    "a: |2\n   x\n",
    "a: >\n  x\n    more\n  y\n",
    "a: |\n\n  x\n",
    "? a\n: b\n",
    "a: {x: 1, x: 2}\n",
    "a: [x, ]\n",
    "a: {x: y z: w}\n",
    "  a: 1\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n  - x\n  y: 1\n",
    "a: b\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: `x`\n",
    "a: @x\n",
    "a: 'x' y\n",
    "a:\n  plain on the next line\n",
]


@pytest.mark.parametrize("text", READ)
def test_reads_the_common_forms_as_libyaml_does(text: str) -> None:
    assert agree(text)


@pytest.mark.parametrize("text", DECLINED)
def test_leaves_the_rest_to_libyaml(text: str) -> None:
    assert plainyaml.read(text) is None


def test_unsupported_inside_a_value_falls_back() -> None:
    assert plainyaml.read("a: 1\nb: &x 2\n") is None
    assert plainyaml.read("a: {x: *y}\n") is None


def corpus() -> list[str]:
    files = sorted((ROOT / "sms-config").rglob("*.yaml")) + sorted((ROOT / "tests" / "corpus").rglob("*.yaml"))
    texts = []
    for path in files:
        try:
            texts.append(path.read_bytes().decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def test_example_config_is_read_fast_and_identically() -> None:
    texts = [text for text in corpus() if "sops:\n" not in text]
    assert sum(agree(text) for text in texts) >= 9


# Characters that change YAML structure; mutations made of them probe the reader's edges.
_ALPHABET = [*" \n-:#\"'{}[],|>&*!?%@`~\\\t.0123456789abyY", "  ", "\n  ", ": ", "- ", " #", "---\n"]


def test_mutated_configs_agree_with_libyaml() -> None:
    """Random edits of real config files: the fast reader may decline, but never disagree."""
    chooser = random.Random(20261124)
    texts = corpus()
    answered = 0
    for _ in range(3000):
        text = chooser.choice(texts)
        for _ in range(chooser.randint(1, 3)):
            at = chooser.randrange(len(text) + 1)
            if chooser.random() < 0.3 and at < len(text):
                text = text[:at] + text[at + chooser.randint(1, 3) :]
            else:
                text = text[:at] + chooser.choice(_ALPHABET) + text[at:]
        answered += agree(text)
    assert answered > 500  # most edits stay inside the subset, so the comparison means something
