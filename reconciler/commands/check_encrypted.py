"""`smsops check-encrypted FILE...`: fail when a secret file is committed in plaintext.

The pre-commit hook ``smsops-sops-encrypted`` runs it on the staged files under ``secrets/``. It
checks SOPS metadata only (a top-level ``sops`` mapping with a ``mac``), so it needs no key and
runs in milliseconds; decryption, which checks the MAC, happens in ``plan`` and ``apply``.
YAML and JSON SOPS files are recognised; other formats (dotenv, binary) are reported as plaintext.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.secrets.sops import is_sops_encrypted


@click.command(name="check-encrypted")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def command(files: tuple[Path, ...]) -> int:
    """Check that every FILE is SOPS-encrypted; exit 1 listing the ones that are not."""
    # A name that is not a file is a typo or a stale hook argument, not a plaintext secret: saying
    # "not encrypted" would send its author to encrypt a file that does not exist.
    missing = [path for path in files if not path.is_file()]
    for path in missing:
        click.echo(f"{path}: not found", err=True)
    # Only names are printed, never content: a plaintext secret file must not reach the log.
    plaintext = [path for path in files if path.is_file() and not is_sops_encrypted(path)]
    for path in plaintext:
        click.echo(f"{path}: not SOPS-encrypted", err=True)
    if missing:
        click.echo(
            f"error: {len(missing)} of {len(files)} file(s) not found\n"
            "  hint: check the path (relative to the current directory)",
            err=True,
        )
    if plaintext:
        click.echo(
            f"error: {len(plaintext)} of {len(files)} file(s) not SOPS-encrypted\n"
            "  hint: encrypt each in place with `sops encrypt -i FILE` (the creation rules in .sops.yaml pick "
            "the keys), and rotate any credential that was ever committed in plaintext",
            err=True,
        )
    return EXIT_ERROR if missing or plaintext else EXIT_OK
