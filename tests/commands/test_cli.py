from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler import pipeline
from reconciler.cli import cli
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo


def test_help_lists_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "validate" in out and "schema" in out


def test_unknown_command_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("frobnicate")
    assert code == 1  # not 2: that is plan --detailed-exitcode's "changes"
    assert "No such command" in err


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "smsops" in done.stdout


def test_help_imports_no_provider_sdk_and_no_stage_module() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "click" in imported
    heavy = (
        "alibabacloud",
        "tencentcloud",
        "boto3",
        "botocore",
        "pydantic",
        "jinja2",
        "yaml",
        "reconciler.config.load",
    )
    assert sorted(name for name in imported if name.startswith(heavy)) == []


def _directory_parameters() -> list[tuple[list[str], click.Parameter]]:
    """Every parameter of every command (sandbox's subcommands too) that names a directory."""
    found: list[tuple[list[str], click.Parameter]] = []

    def walk(group: click.Group, path: list[str]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            if isinstance(command, click.Group):
                walk(command, [*path, name])
                continue
            for param in command.params:
                if isinstance(param.type, click.Path) and not param.type.file_okay:
                    found.append(([*path, name], param))

    walk(cli, [])
    return found


def test_every_directory_parameter_refuses_an_empty_path(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'' as a path is the current folder: no command may read, write or serve it unasked."""
    monkeypatch.chdir(tmp_path)
    parameters = _directory_parameters()
    named = {(" ".join(path), param.human_readable_name) for path, param in parameters}
    expected = {("import", "out"), ("schema", "out_dir"), ("sandbox serve", "state_dir"), ("validate", "CONFIG_DIR")}
    assert expected <= named
    for path, param in parameters:
        if isinstance(param, click.Option):
            name, args = param.opts[0], [*path, param.opts[0], ""]
        else:
            name, args = param.human_readable_name, [*path, ""]
        code, out, err = run_cli(*args)
        assert (code, out) == (1, ""), args
        assert err.endswith(f"Error: {name}: empty path; give a directory path\n"), (args, err)
    assert list(tmp_path.iterdir()) == []  # nothing made where it was run


# -- the catch-all: an unexpected exception is one redacted line, exit 1 -------------------------------

PHONE = "+8613812345678"


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> ConfigRepo:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.delenv("SMSOPS_DEBUG", raising=False)
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials)
    config.channel("prod", "alibaba", sms_sandbox.url())
    config.template("alert", "Service {{ service }} is down", service="db")
    return config


def _leaky(secret: str) -> Callable[..., Any]:
    """A stage that fails the way a bug does, its message holding what must never be shown."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"bad row for {PHONE} with key {secret}\nsecond line")

    return fail


def test_an_unexpected_error_in_a_stage_is_one_masked_line_naming_the_stage(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = sms_sandbox.credentials[1]  # registered for redaction when plan decrypts it
    monkeypatch.setattr(pipeline, "make_plan", _leaky(secret))
    code, out, err = run_cli("plan", str(repo.root))
    assert code == 1
    assert err.splitlines() == [
        "smsops: internal error in plan: ValueError: bad row for +86 138****5678 with key [REDACTED] second line",
        "smsops: run again with --debug (or SMSOPS_DEBUG=1) to print the traceback",
    ]
    assert "Traceback" not in out + err and secret not in out + err


def test_the_stage_is_the_innermost_one_running(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "observe_all", _leaky(sms_sandbox.credentials[1]))
    code, _, err = run_cli("plan", str(repo.root))
    assert code == 1 and err.startswith("smsops: internal error in observe: ValueError: bad row for +86 138****5678")
    monkeypatch.setattr(pipeline, "check", _leaky("no-secret-here"))
    code, _, err = run_cli("plan", str(repo.root))  # plan's validate stage, before anything is decrypted
    assert code == 1 and err.startswith("smsops: internal error in validate: ValueError:")


def test_outside_any_stage_the_command_is_named(run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.commands import validate

    monkeypatch.delenv("SMSOPS_DEBUG", raising=False)
    monkeypatch.setattr(validate, "validate", _leaky("x"))
    code, _, err = run_cli("validate", str(tmp_path))
    assert code == 1
    assert err.splitlines()[0] == (
        "smsops: internal error in validate: ValueError: bad row for +86 138****5678 with key x second line"
    )


@pytest.mark.parametrize("how", ["--debug", "plan --debug", "SMSOPS_DEBUG=1"])
def test_debug_prints_the_traceback_still_masked(
    run_cli: Any, repo: ConfigRepo, sms_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    secret = sms_sandbox.credentials[1]
    monkeypatch.setattr(pipeline, "make_plan", _leaky(secret))
    if how == "--debug":
        code, out, err = run_cli("--debug", "plan", str(repo.root))
    elif how == "plan --debug":
        code, out, err = run_cli("plan", str(repo.root), "--debug")
    else:
        monkeypatch.setenv("SMSOPS_DEBUG", "1")
        code, out, err = run_cli("plan", str(repo.root))
    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert "in fail\n" in err and "ValueError: bad row for +86 138****5678 with key [REDACTED]" in err
    assert secret not in out + err and PHONE not in out + err
    assert err.splitlines()[-1].startswith("smsops: internal error in plan: ValueError:")


def test_known_errors_keep_their_message_and_code(run_cli: Any, tmp_path: Path) -> None:
    code, _, err = run_cli("plan", str(tmp_path / "missing"))
    assert code == 1
    assert "internal error" not in err and err.startswith(f"{tmp_path / 'missing'}:")


def test_ctrl_c_still_exits_130(run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from reconciler.commands import validate

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "validate", interrupted)
    code, _, err = run_cli("validate", str(tmp_path))
    assert code == 130  # click reports Ctrl-C as "Aborted."
    assert "Aborted." in err and "internal error" not in err


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["apply", "--channel", "sandbox", "--auto-approve", "--report", "afile/r.json"], "--report"),
        (["apply", "--channel", "sandbox", "--auto-approve", "--junit", "afile/j.xml"], "--junit"),
        (["plan", "--channel", "sandbox", "--out", "afile/x.json"], "--out"),
        (["test-send", "--channel", "sandbox", "--junit", "afile/j.xml"], "--junit"),
        (["export", "--channel", "sandbox", "--out", "afile/e.json"], "--out"),
    ],
)
def test_an_unwritable_output_path_is_refused_before_the_provider_is_contacted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli,
    args: list[str],
    option: str,  # type: ignore[no-untyped-def]
) -> None:
    import shutil

    from tests.configrepo import ROOT, SANDBOX_KEY

    config = tmp_path / "c"
    shutil.copytree(ROOT / "sms-config", config, ignore=shutil.ignore_patterns(".smsops"))
    (tmp_path / "afile").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    code, _, err = run_cli(args[0], "c", *args[1:])
    assert code == 1
    assert f"error: {option} {args[-1]}: afile is a file, not a directory" in err
    assert "internal error" not in err
    assert not (config / ".smsops").exists()  # no sandbox account was opened: nothing created or sent


def test_every_output_option_offers_what_the_readme_says() -> None:
    """The README's sentence on --output names each command's formats; click's choices agree."""
    import re

    import click

    from reconciler.cli import cli

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("`validate`, `plan`, `apply`, `status`")
    sentence = " ".join(readme[start : readme.index("Usage errors exit 1", start)].split())
    said: dict[str, tuple[str, ...]] = {}
    for names, formats in re.findall(r"((?:`[a-z -]+`(?:, | and )?)+) takes? `--output ([a-z|]+)`", sentence):
        for name in re.findall(r"`([a-z -]+)`", names):
            said[name] = tuple(formats.split("|"))
    found: dict[str, tuple[str, ...]] = {}
    context = click.Context(cli)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        group = command if isinstance(command, click.Group) else None
        commands = (
            [(f"{name} {sub}", group.get_command(context, sub)) for sub in group.list_commands(context)]
            if group
            else [(name, command)]
        )
        for shown, each in commands:
            for param in each.params if each is not None else ():
                if "--output" in getattr(param, "opts", ()) and isinstance(param.type, click.Choice):
                    found[shown] = tuple(param.type.choices)
                    assert param.help, f"{shown} --output has no help"
    assert {name: sorted(formats) for name, formats in found.items()} == {
        name: sorted(formats) for name, formats in said.items()
    }


def test_run_from_inside_the_config_directory_the_default_is_the_current_one(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sms-config/ below the current directory, which holds channels/: that is the config."""
    import shutil

    config = tmp_path / "repo" / "sms-config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "sms-config", config)
    monkeypatch.chdir(config)
    note = "note: no sms-config/ here; the current directory looks like it: using .\n"
    assert run_cli("validate") == (0, "OK: 4 channels, 5 templates, 1 signature in 10 files\n", note)
    code, out, err = run_cli("channels", "--output", "json", "--include-embedded")
    assert (code, err) == (0, note) and out == '["production", "sandbox", "staging", "tencent-cn"]\n'
    # Named explicitly, sms-config is what was asked for; elsewhere, the default is not guessed.
    assert run_cli("validate", "sms-config")[1].startswith("sms-config: error SMS001: config directory does not exist")
    monkeypatch.chdir(tmp_path)
    assert run_cli("validate")[1].startswith("sms-config: error SMS001: config directory does not exist")
