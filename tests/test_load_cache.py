"""The loader's parse cache only ever saves time: an unwritable, corrupt or foreign cache gives the
same result as no cache at all."""

from __future__ import annotations

import marshal
import shutil
from pathlib import Path

from reconciler.load import load_config

ROOT = Path(__file__).resolve().parent.parent


def summary(root: Path, environ: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    config, diagnostics = load_config(root, environ=environ)
    return (
        [d.format() for d in diagnostics],
        [t.resource.model_dump_json() for t in config.templates],
        [f"{c.file}:{c.at('spec', 'provider')}" for c in config.channels],
    )


def config(tmp_path: Path) -> Path:
    root = tmp_path / "cfg"
    shutil.copytree(ROOT / "sms-config", root)
    # one broken document, so diagnostics and positions are part of what is compared
    (root / "templates" / "broken.yaml").write_text("apiVersion: smsops/v1\nkind: Template\nmetadata: {name: X}\n")
    return root


def test_unwritable_cache_directory_changes_nothing(tmp_path: Path) -> None:
    root = config(tmp_path)
    expected = summary(root, {"SMSOPS_NO_CACHE": "1"})
    assert summary(root, {"SMSOPS_CACHE_DIR": "/dev/null/smsops"}) == expected
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert summary(root, {"SMSOPS_CACHE_DIR": str(blocker / "cache")}) == expected


def test_corrupt_or_foreign_cache_files_are_ignored(tmp_path: Path) -> None:
    root = config(tmp_path)
    cache = tmp_path / "cache"
    expected = summary(root, {"SMSOPS_NO_CACHE": "1"})
    assert summary(root, {"SMSOPS_CACHE_DIR": str(cache)}) == expected
    [stored] = list(cache.iterdir())
    assert summary(root, {"SMSOPS_CACHE_DIR": str(cache)}) == expected  # from the cache

    stored.write_bytes(b"\x00garbage")
    assert summary(root, {"SMSOPS_CACHE_DIR": str(cache)}) == expected

    # right version, entries of another shape (written by a hand or a bug, not by this code)
    assert summary(root, {"SMSOPS_CACHE_DIR": str(cache)}) == expected
    content = marshal.loads(stored.read_bytes())
    content["files"] = {name: (digest, ("bad",)) for name, (digest, _) in content["files"].items()}
    stored.write_bytes(marshal.dumps(content))
    assert summary(root, {"SMSOPS_CACHE_DIR": str(cache)}) == expected
    assert not list(cache.glob("*.tmp"))
