from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.config.load import LoadedConfig, load_config
from reconciler.errors import Severity

ROOT = Path(__file__).resolve().parents[2]

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: {name}
spec:
  provider: alibaba
  credentials:
    sops: ../secrets/{name}.enc.yaml
  signature:
    name: OnePro
"""

TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata:
  name: {name}
spec:
  type: verification
  content: "Your code is {{{{ code }}}}."
  variables:
    code: {{type: code, example: "482913"}}
  remark: Sign-in code.
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config dir, displayed as ``cfg`` (the tests run from its parent)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    return tmp_path / "cfg"


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(root: str = "cfg") -> tuple[LoadedConfig, list[str]]:
    config, diagnostics = load_config(root)
    return config, [d.format() for d in diagnostics]


def test_example_config_loads_clean_with_positions() -> None:
    config, diagnostics = load_config(ROOT / "sms-config")
    assert diagnostics == []
    assert [c.resource.name for c in config.channels] == ["production", "sandbox", "staging", "tencent-cn"]
    assert len(config.templates) == 5 and len(config.files) == 10 and len(config.signatures) == 1
    production = config.channel("production")
    assert production is not None
    file = str(ROOT / "sms-config" / "channels" / "production.yaml")
    assert (production.file, production.line, production.column) == (file, 4, 1)
    assert production.at("spec", "signature", "name") == (file, 19, 11)
    assert production.at("spec", "testSend", "templates", 0) == (file, 26, 17)
    # a field that is not written falls back to its nearest parent present
    assert production.at("spec", "signature", "smsSdkAppId") == (file, 19, 5)
    assert production.resolve("../secrets/production.enc.yaml") == ROOT / "sms-config/secrets/production.enc.yaml"
    assert [t.resource.name for t in config.templates_for("tencent-cn")] == ["order-shipped-zh"]
    assert config.channel("nope") is None


def test_relative_root_gives_relative_files(cfg: Path) -> None:
    write(cfg, "channels/prod.yaml", CHANNEL.format(name="prod"))
    config, diagnostics = load()
    assert diagnostics == []
    [channel] = config.channels
    assert channel.file == "cfg/channels/prod.yaml"
    assert channel.at("spec", "provider") == ("cfg/channels/prod.yaml", 6, 13)
    assert channel.resolve(channel.resource.spec.credentials.sops) == Path("cfg/secrets/prod.enc.yaml")  # type: ignore[union-attr]
    assert channel.positions[("spec", "credentials", "sops")] == (8, 11)


def test_multi_document_files_keep_documents_before_a_syntax_error(cfg: Path) -> None:
    write(cfg, "all.yaml", CHANNEL.format(name="a") + "---\n" + TEMPLATE.format(name="t") + "---\nkey: [unclosed\n")
    config, diagnostics = load()
    assert [c.resource.name for c in config.channels] == ["a"]
    [template] = config.templates
    assert (template.line, template.at("metadata", "name")) == (12, ("cfg/all.yaml", 15, 9))
    assert [d.index for d in config.documents] == [0, 1]
    # libyaml finds the end of the text on a line after the last; an editor's last line is 23
    assert diagnostics == [
        "cfg/all.yaml:23:15: error SMS002: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence)\n  hint: fix the YAML syntax at this position"
    ]


def test_duplicate_keys_name_both_lines(cfg: Path) -> None:
    write(cfg, "c.yaml", CHANNEL.format(name="a") + "  enabled: true\n  enabled: false\n")
    config, diagnostics = load()
    assert diagnostics == [
        "cfg/c.yaml:12:3: error SMS003: duplicate key 'enabled': already set at line 11, line 12 sets it again\n"
        "  hint: keep one of them; YAML would silently use the last"
    ]
    assert config.channels[0].at("spec", "enabled") == ("cfg/c.yaml", 12, 12)


def test_aliases_are_refused_and_a_yaml_bomb_costs_nothing(cfg: Path) -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    write(cfg, "bomb.yaml", "\n".join(levels) + "\n")
    write(cfg, "scalar.yaml", CHANNEL.format(name="a").replace("name: OnePro", "name: &sig OnePro\n  x: *sig"))
    started = time.monotonic()
    config, diagnostics = load()
    assert time.monotonic() - started < 1
    assert diagnostics == [
        "cfg/bomb.yaml:1:4: error SMS004: YAML anchors and aliases are not supported\n"
        "  hint: write the value out in full",
        "cfg/scalar.yaml:10:11: error SMS004: YAML anchors and aliases are not supported\n"
        "  hint: write the value out in full",
    ]
    assert config.documents == ()


def test_merge_keys_and_tags_are_refused(cfg: Path) -> None:
    write(cfg, "merge.yaml", "a: {b: 1}\nc:\n  <<: {b: 1}\n")
    write(cfg, "tag.yaml", "a: !!python/object/apply:os.system [echo]\n")
    write(cfg, "custom.yaml", "a: !Ref x\n")
    _, diagnostics = load()
    assert diagnostics == [
        "cfg/custom.yaml:1:4: error SMS004: unsupported YAML tag !Ref\n  hint: remove the tag; plain values only",
        "cfg/merge.yaml:3:3: error SMS004: YAML merge keys (<<) are not supported\n  hint: write the keys out in full",
        "cfg/tag.yaml:1:4: error SMS004: unsupported YAML tag !!python/object/apply:os.system\n"
        "  hint: remove the tag; plain values only",
    ]


def test_tabs_binary_and_control_characters(cfg: Path) -> None:
    write(cfg, "tabs.yaml", "apiVersion: smsops/v1\nkind: Channel\nspec:\n\tprovider: alibaba\n")
    write(cfg, "binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(cfg, "control.yaml", "a: b\nc: d\x07e\n")
    _, diagnostics = load()
    assert diagnostics == [
        "cfg/binary.yaml:1:1: error SMS005: not UTF-8 text (byte 0x89)\n"
        "  hint: config files must be UTF-8 YAML; remove binary files from the config directory",
        "cfg/control.yaml:2:5: error SMS005: control character U+0007 is not allowed in YAML\n"
        "  hint: this does not look like a text YAML file; remove it or fix its content",
        "cfg/tabs.yaml:4:1: error SMS002: invalid YAML: tab character in indentation\n"
        "  hint: indent with spaces; YAML does not allow tabs",
    ]


def test_empty_files_warn_and_empty_dirs_fail(cfg: Path) -> None:
    _, diagnostics = load()
    assert diagnostics == ["cfg: error SMS001: no .yaml or .yml config files found\n"
                           "  hint: add channels/*.yaml and templates/*.yaml"]  # fmt: skip
    write(cfg, "empty.yaml", "# nothing here yet\n")
    config, found = load_config("cfg")
    assert [(d.severity, d.format()) for d in found] == [
        (Severity.WARNING, "cfg/empty.yaml:1:1: warning SMS006: file contains no YAML documents\n"
                           "  hint: delete the file or add a Channel or Template"),
    ]  # fmt: skip
    assert config.files == ("cfg/empty.yaml",)


def test_missing_config_dir(cfg: Path) -> None:
    _, diagnostics = load("cfg/missing")
    assert diagnostics == ["cfg/missing: error SMS001: config directory does not exist\n"
                           "  hint: pass the directory holding channels/ and templates/"]  # fmt: skip


def test_unreadable_files_are_diagnostics(cfg: Path) -> None:
    write(cfg, "a.yaml", CHANNEL.format(name="a"))
    os.symlink("nowhere.yaml", cfg / "broken.yaml")
    locked = write(cfg, "locked.yaml", "x: 1\n")
    if os.geteuid() == 0:  # root reads through chmod 000, so make the file unreadable another way
        locked.unlink()
        os.symlink("locked.yaml", locked)
        reason = "symbolic link loop"
    else:
        locked.chmod(0)
        reason = "Permission denied"
    config, diagnostics = load()
    assert diagnostics == [
        "cfg/broken.yaml:1:1: error SMS005: cannot read file: broken symbolic link\n"
        "  hint: check the path and permissions",
        f"cfg/locked.yaml:1:1: error SMS005: cannot read file: {reason}\n  hint: check the path and permissions",
    ]
    assert [c.resource.name for c in config.channels] == ["a"]


def test_sops_files_hidden_dirs_and_sops_config_are_not_documents(cfg: Path) -> None:
    write(cfg, ".sops.yaml", "creation_rules:\n  - age: age1xyz\n")
    write(cfg, ".github/workflows/ci.yml", "on: push\n")
    write(cfg, "secrets/prod.enc.yaml", (ROOT / "sms-config" / "secrets" / "sandbox.enc.yaml").read_text())
    write(cfg, "channels/a.yml", CHANNEL.format(name="a"))
    config, diagnostics = load()
    assert diagnostics == []
    assert config.files == ("cfg/channels/a.yml",)


def test_kind_and_api_version(cfg: Path) -> None:
    write(cfg, "x.yaml", "apiVersion: smsops/v1\nkind: Widget\n---\nkind: Channel\n---\n- a list\n---\nmetadata: {}\n")
    config, diagnostics = load()
    hint = (
        "\n  hint: start the document with 'apiVersion: smsops/v1' and 'kind: Channel', 'kind: Template' or "
        "'kind: Signature'"
    )
    assert diagnostics == [
        "cfg/x.yaml:2:7: error SMS010: unknown kind 'Widget'; expected Channel, Template or Signature" + hint,
        "cfg/x.yaml:4:1: error SMS011: missing apiVersion; expected smsops/v1" + hint,
        "cfg/x.yaml:6:1: error SMS010: a document must be a mapping with apiVersion and kind" + hint,
        "cfg/x.yaml:8:1: error SMS010: missing kind; expected Channel, Template or Signature" + hint,
    ]
    # invalid documents are still there for whole-document scans (plaintext secrets)
    assert [d.data for d in config.documents][1:3] == [{"kind": "Channel"}, ["a list"]]


def test_schema_errors_are_rewritten_and_located(cfg: Path) -> None:
    text = CHANNEL.format(name="Prod_1").replace("provider: alibaba", "provider: twilio\n  colour: red")
    text += "  testSend:\n    recipients: {sops: a.enc.yaml}\n    deliveryTimeout: 90\n"
    write(cfg, "c.yaml", text)
    template = TEMPLATE.format(name="t").replace(
        'example: "482913"}', 'example: 482913}\n    bad-name: {type: texty, example: "x"}'
    )
    write(cfg, "t.yaml", template)
    _, diagnostics = load()
    assert diagnostics == [
        "cfg/c.yaml:4:9: error SMS020: metadata.name: 'Prod_1' is not a DNS label (lowercase letters, digits "
        "and '-', starting with a letter, at most 63 characters)\n  hint: rename it, e.g. login-code",
        "cfg/c.yaml:6:13: error SMS020: spec.provider: 'twilio' is not one of alibaba, tencent, aws, sandbox\n"
        "  hint: use one of the values listed",
        "cfg/c.yaml:7:3: error SMS020: spec.colour: unknown field\n  hint: allowed here: provider, endpoint, "
        "region, credentials, signature, enabled, maxSegments, testSend, rollout, publish, allowOutside",
        "cfg/c.yaml:13:5: error SMS020: spec.testSend.recipients: missing required field 'key'\n"
        "  hint: add 'key' under spec.testSend.recipients",
        "cfg/c.yaml:14:22: error SMS020: spec.testSend.deliveryTimeout: expected a duration such as 90s, 5m, 2h "
        "or 1d, got 90\n  hint: the field's description in schemas/*.json says what it takes",
        "cfg/t.yaml:9:33: error SMS020: spec.variables.code.example: expected a string, got 482913\n"
        '  hint: quote it: "482913"',
        "cfg/t.yaml:10:5: error SMS020: spec.variables.bad-name: 'bad-name' is not a valid variable name "
        "(a letter, then letters, digits or _; at most 35 characters)\n  hint: rename it, e.g. order_id",
        "cfg/t.yaml:10:22: error SMS020: spec.variables.bad-name.type: 'texty' is not one of code, number, text, "
        "name, time, money, phone, link\n  hint: did you mean 'text'?",
    ]


SCHEMA_HINT = "the field's description in schemas/*.json says what it takes"


def test_model_validator_errors_point_at_the_field(cfg: Path) -> None:
    write(cfg, "c.yaml", CHANNEL.format(name="tc").replace("provider: alibaba", "provider: tencent"))
    write(cfg, "d.yaml", CHANNEL.format(name="d") + "  publish: {file: a.json, ssmPrefix: /a}\n")
    write(cfg, "e.yaml", "apiVersion: smsops/v1\nkind: Template\nspec: {}\n")
    _, diagnostics = load()
    assert diagnostics == [
        "cfg/c.yaml:10:5: error SMS020: spec.signature: provider tencent requires signature.smsSdkAppId\n"
        f"  hint: {SCHEMA_HINT}",
        "cfg/d.yaml:11:12: error SMS020: spec.publish: set exactly one of file, ssmPrefix or s3\n"
        f"  hint: {SCHEMA_HINT}",
        "cfg/e.yaml:1:1: error SMS020: missing required field 'metadata'\n"
        "  hint: add 'metadata' at the top of the document",
        "cfg/e.yaml:3:1: error SMS020: spec: missing required field 'content'\n  hint: add 'content' under spec",
        "cfg/e.yaml:3:1: error SMS020: spec: missing required field 'type'\n  hint: add 'type' under spec",
    ]


def test_duplicate_resource_names_name_both_places(cfg: Path) -> None:
    write(cfg, "channels/a.yaml", CHANNEL.format(name="prod"))
    write(cfg, "channels/b.yaml", "# copy\n" + CHANNEL.format(name="prod"))
    write(cfg, "templates/t.yaml", TEMPLATE.format(name="prod"))  # another kind: no clash
    config, diagnostics = load()
    assert diagnostics == [
        "cfg/channels/b.yaml:5:9: error SMS021: Channel 'prod' is defined twice: first at cfg/channels/a.yaml:1:1, "
        "again here\n  hint: rename or delete one of them"
    ]
    assert [c.file for c in config.channels] == ["cfg/channels/a.yaml"]
    assert len(config.templates) == 1


def test_yaml_booleans_get_a_quoting_hint(cfg: Path) -> None:
    text = CHANNEL.format(name="a").replace("provider: alibaba", "provider: aws")
    write(cfg, "c.yaml", text.replace("name: OnePro", "name: OnePro\n    country: NO"))
    _, diagnostics = load()
    assert diagnostics == [
        "cfg/c.yaml:11:14: error SMS020: spec.signature.country: expected a string, got false\n"
        '  hint: YAML reads yes/no/on/off/true/false as booleans; quote the value, e.g. "NO"'
    ]


def test_equal_keys_spelled_differently_are_duplicates(cfg: Path) -> None:
    write(cfg, "x.yaml", "labels:\n  on: a\n  true: b\n")
    _, diagnostics = load()
    assert (
        "cfg/x.yaml:3:3: error SMS003: duplicate key 'True': already set at line 2, line 3 sets it again"
        in (diagnostics[-1])
    )


MANY_TEMPLATE = """\
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


def test_positions_in_the_second_document_of_the_last_of_many_files(tmp_path: Path) -> None:
    for index in range(30):
        (tmp_path / f"t{index:02d}.yaml").write_text(MANY_TEMPLATE.format(index=index), encoding="utf-8")
    # an unknown field in the second document of the last file, at line 21
    last = MANY_TEMPLATE.format(index=98) + "---\n" + MANY_TEMPLATE.format(index=99).replace("  remark:", "  remarks:")
    (tmp_path / "t99.yaml").write_text(last, encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert len(config.templates) == 31
    assert [(d.file, d.line, d.rule) for d in diagnostics] == [(str(tmp_path / "t99.yaml"), 21, "SMS020")]
    located = config.templates[-1]
    assert located.resource.name == "notice-098"
    assert located.at("spec", "variables", "order") == (str(tmp_path / "t99.yaml"), 9, 12)
