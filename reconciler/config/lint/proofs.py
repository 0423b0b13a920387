"""SMS410: a Signature's proof file in plaintext beside its encrypted copy.

``sops encrypt licence.png > licence.png.enc`` leaves ``licence.png`` where it was, inside the
config directory; one ``git add -A`` in a repository without the team guide's ``.gitignore`` commits
it. Lint cannot see git's index, so it warns about the file being there at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.lint.paths import outside
from reconciler.config.lint.signatures import signature_files

_ENCRYPTED_SUFFIX = ".enc"


def check_plaintext_proofs(config: Any, out: Reporter) -> None:
    for located in config.signatures:
        for field, ref in signature_files(located.resource):
            if not ref.sops.endswith(_ENCRYPTED_SUFFIX):
                continue
            plain = located.resolve(ref.sops[: -len(_ENCRYPTED_SUFFIX)])
            if outside(config.root, plain) or not _regular(plain):
                continue
            name = ref.sops[: -len(_ENCRYPTED_SUFFIX)]
            out.report(
                "SMS410", located.at(*field, "sops"), f"{name}, which {ref.sops} was made from, is here in plaintext"
            )


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file; a name the system refuses (too long, a loop) is not."""
    try:
        return path.is_file()
    except OSError:
        return False
