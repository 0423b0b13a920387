"""A large config is parsed on two processes: same documents, same problems, same positions as
parsing it here, and a worker that dies costs only time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import parse_pool
from reconciler.config.load import load_config
from reconciler.config.parse_pool import parse_texts
from reconciler.config.source import parse_text

TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata:
  name: notice-{index:03d}
spec:
  type: notification
  content: "Order {{{{ order }}}} moved to stage {index}."
  variables:
    order: {{type: text, example: "A-1001", maxLength: 10}}
  remark: Order progress notice {index}.
"""

BROKEN = [
    "key: [unclosed\n",  # syntax error
    "a: 1\na: 2\n",  # duplicate key
    "x: &anchor 1\ny: *anchor\n",  # alias
    "",  # no documents
    "sops:\n  mac: ENC[AES256_GCM,data:x]\n",  # a SOPS file: data, not config
]


def texts() -> list[str]:
    good = ["---\n".join(TEMPLATE.format(index=index * 5 + n) for n in range(5)) for index in range(40)]
    return good[:20] + BROKEN + good[20:] + BROKEN


def comparable(parsed: list[parse_pool.ParsedText]) -> list[tuple[object, ...]]:
    return [(p.documents, p.problems, p.sops) for p in parsed]


def test_both_halves_parse_exactly_as_here() -> None:
    everything = texts()
    parallel = parse_texts(everything, min_chars=0)
    assert comparable(parallel) == comparable([parse_text(text) for text in everything])
    # the second half came from the worker: its node trees stayed there
    assert parallel[0].nodes and not parallel[-len(BROKEN) - 1].nodes


def _die(chunk: list[str]) -> list[parse_pool.ParsedText]:
    os._exit(3)  # the worker is forked from the test, so it runs this instead of parsing


def test_a_dead_worker_costs_time_not_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "_parse_detached", _die)
    everything = texts()
    assert comparable(parse_texts(everything, min_chars=0)) == comparable([parse_text(t) for t in everything])


def test_positions_in_a_file_parsed_by_the_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "PARALLEL_MIN_CHARS", 0)
    for index in range(30):
        (tmp_path / f"t{index:02d}.yaml").write_text(TEMPLATE.format(index=index), encoding="utf-8")
    # the last file (parsed by the worker): an unknown field in its second document, at line 21
    last = TEMPLATE.format(index=98) + "---\n" + TEMPLATE.format(index=99).replace("  remark:", "  remarks:")
    (tmp_path / "t99.yaml").write_text(last, encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert len(config.templates) == 31
    assert [(d.file, d.line, d.rule) for d in diagnostics] == [(str(tmp_path / "t99.yaml"), 21, "SMS020")]
    located = config.templates[-1]
    assert located.resource.name == "notice-098"
    assert located.at("spec", "variables", "order") == (str(tmp_path / "t99.yaml"), 9, 12)
