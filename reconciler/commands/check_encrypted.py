"""`smsops check-encrypted FILE...`: fail when a secret file is committed in plaintext.

The pre-commit hook ``smsops-sops-encrypted`` runs it on the staged files under ``secrets/`` and
the signature images and documents under ``signatures/``. It
needs no key and runs in milliseconds: a file passes only if it is one document with a full, valid
``sops`` block (``reconciler.secrets.metadata``) and every value sops would encrypt is ``ENC[…]``
(a value pasted in the clear after encryption fails it, named by key and line, never shown).
Decryption, which checks the MAC, happens in ``plan`` and ``apply``. YAML and JSON SOPS files are
recognised; other formats (dotenv, binary) are reported as plaintext.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.config.files import read_regular
from reconciler.config.source import decode, not_sops_reason, parse_text
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.render.escape import printable


def problems_of(path: Path) -> list[str]:
    """Why ``path`` is not a fully encrypted SOPS file, one line each (empty if it is)."""
    shown = printable(str(path))
    raw, unreadable = read_regular(path, shown)
    if raw is None:
        return [f"{shown}: {unreadable.message if unreadable else 'cannot read file'}"]
    text, _ = decode(raw)
    if text is None:
        return [f"{shown}: not SOPS-encrypted (not UTF-8 text)"]
    parsed = parse_text(text)
    if not parsed.sops:
        return [f"{shown}: not SOPS-encrypted ({not_sops_reason(parsed)})"]
    return [f"{shown}:{problem.line}:{problem.column}: {printable(problem.message)}" for problem in parsed.problems]


# The team guide says the same: a secret file is encrypted in place (its name already ends in
# .enc.yaml), an image or document into a .enc copy that is committed instead of it.
ENCRYPT_HINT = (
    "encrypt a secret file in place with `sops encrypt -i FILE`, and an image or document into a copy with "
    "`sops encrypt FILE > FILE.enc`, committing only the .enc copy (the creation rules in .sops.yaml pick "
    "the keys); add values with `sops edit FILE`, and rotate any credential that was ever committed in plaintext"
)


@click.command(name="check-encrypted")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def command(files: tuple[Path, ...]) -> int:
    """Check that every FILE is SOPS-encrypted, every value; exit 1 listing the ones that are not."""
    # A name that is not a file is a typo or a stale hook argument, not a plaintext secret: saying
    # "not encrypted" would send its author to encrypt a file that does not exist.
    missing = [path for path in files if not path.exists()]
    for path in missing:
        click.echo(f"{printable(str(path))}: not found", err=True)
    # Only names, keys and lines are printed, never content: a plaintext secret must not reach the log.
    failing = 0
    for path in files:
        if path in missing:
            continue
        problems = problems_of(path)
        failing += bool(problems)
        for line in problems:
            click.echo(line, err=True)
    if missing:
        click.echo(
            f"error: {len(missing)} of {len(files)} file(s) not found\n"
            "  hint: check the path (relative to the current directory)",
            err=True,
        )
    if failing:
        click.echo(
            f"error: {failing} of {len(files)} file(s) not SOPS-encrypted\n  hint: {ENCRYPT_HINT}",
            err=True,
        )
    return EXIT_ERROR if missing or failing else EXIT_OK
