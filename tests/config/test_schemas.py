from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.commands.schema import render_schemas

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
CONFIG_FILES = sorted([*ROOT.glob("sms-config/channels/*.yaml"), *ROOT.glob("sms-config/templates/*.yaml")])


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schemas_are_current(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("schema", "--check", "--out-dir", str(SCHEMAS))
    assert (code, out, err) == (0, f"OK: 3 schemas up to date in {SCHEMAS}\n", "")
    assert sorted(path.name for path in SCHEMAS.glob("*.json")) == sorted(render_schemas())


def test_stale_or_missing_schemas_fail_the_check(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(SCHEMAS / "channel.schema.json", tmp_path / "channel.schema.json")
    (tmp_path / "channel.schema.json").write_text("{}\n", encoding="utf-8")
    code, _, err = run_cli("schema", "--check", "--out-dir", str(tmp_path))
    assert code == 1
    assert err.splitlines() == [
        f"{tmp_path}/channel.schema.json: stale or missing",
        f"{tmp_path}/template.schema.json: stale or missing",
        f"{tmp_path}/signature.schema.json: stale or missing",
        "hint: run `smsops schema` and commit the result",
    ]
    code, out, _ = run_cli("schema", "--out-dir", str(tmp_path))
    assert code == 0 and out.count("wrote ") == 3
    assert run_cli("schema", "--check", "--out-dir", str(tmp_path))[0] == 0


def test_an_empty_out_dir_is_a_usage_error_not_the_current_folder(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("schema", "--out-dir", "")
    assert (code, out) == (1, "")
    assert err.startswith("Usage: smsops schema [OPTIONS]")
    assert err.endswith("Error: --out-dir: empty path; give a directory path\n")
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


def test_schema_output_is_deterministic_with_id_and_title() -> None:
    assert render_schemas() == render_schemas()
    channel = json.loads(render_schemas()["channel.schema.json"])
    assert channel["$id"] == "urn:smsops:schemas:channel.schema.json"
    assert channel["title"] == "smsops Channel"
    assert channel["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    text = render_schemas()["template.schema.json"]
    assert (
        text.endswith("}\n")
        and text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    # every property carries a description (they are the editor tooltips)
    for definition in channel["$defs"].values():
        for name, prop in definition.get("properties", {}).items():
            assert prop.get("description"), name


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda path: path.name)
def test_example_documents_validate_against_the_schemas(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    kind = "channel" if path.parent.name == "channels" else "template"
    assert first_line == f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json"
    assert (path.parent / first_line.split("=", 1)[1]).resolve() == SCHEMAS / f"{kind}.schema.json"
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        assert list(validator(f"{kind}.schema.json").iter_errors(document)) == []


def test_schemas_reject_what_the_models_reject() -> None:
    channel = yaml.safe_load((ROOT / "sms-config/channels/production.yaml").read_text(encoding="utf-8"))
    channel["spec"]["provider"] = "twilio"
    channel["spec"]["testSend"]["deliveryTimeout"] = "PT2M"
    channel["spec"]["colour"] = "red"
    errors = sorted(validator("channel.schema.json").iter_errors(channel), key=lambda e: list(e.absolute_path))
    assert [(list(e.absolute_path), e.message) for e in errors[:2]] == [
        (["spec"], "Additional properties are not allowed ('colour' was unexpected)"),
        (["spec", "provider"], "'twilio' is not one of ['alibaba', 'tencent', 'aws', 'sandbox']"),
    ]
    # optional sections are anyOf [section, null]: the pattern error is one level down
    assert list(errors[2].absolute_path) == ["spec", "testSend"]
    assert "'PT2M' does not match '^(?:0|[1-9][0-9]*)[smhd]$'" in [e.message for e in errors[2].context or []]
    template = yaml.safe_load((ROOT / "sms-config/templates/login-verification.yaml").read_text(encoding="utf-8"))
    template["spec"]["adopt"] = {"code": "SMS_1", "channel": "production"}
    assert list(validator("template.schema.json").iter_errors(template)) == []
    template["spec"]["adopt"] = [{"code": "SMS_1"}, {"channel": "staging"}]
    template["spec"]["variables"]["9x"] = {"type": "code", "example": "1"}
    assert len(list(validator("template.schema.json").iter_errors(template))) == 2


def test_check_jsonschema_accepts_an_example_file() -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "check_jsonschema",
            "--schemafile", str(SCHEMAS / "channel.schema.json"),
            str(ROOT / "sms-config/channels/tencent-cn.yaml"),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "ok -- validation done")


def test_schemas_reject_string_booleans_and_an_empty_channel_list() -> None:
    channel = yaml.safe_load((ROOT / "sms-config/channels/production.yaml").read_text(encoding="utf-8"))
    channel["spec"]["enabled"] = "yes"
    assert [e.message for e in validator("channel.schema.json").iter_errors(channel)] == [
        "'yes' is not of type 'boolean'"
    ]
    template = yaml.safe_load((ROOT / "sms-config/templates/login-verification.yaml").read_text(encoding="utf-8"))
    template["spec"]["channels"] = []
    errors = list(validator("template.schema.json").iter_errors(template))
    assert len(errors) == 1 and "[] should be non-empty" in [e.message for e in errors[0].context or []]
