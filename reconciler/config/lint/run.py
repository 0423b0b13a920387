"""Lint: rules across the loaded config, after the loader's schema checks.

``check(config)`` runs every rule and returns all diagnostics, sorted; it never raises for bad
config and never needs a secret (SOPS files are inspected, not decrypted). ``--strict`` is the
caller's business (``Diagnostic.escalated``). The catalogue of rule ids is ``RULES``; the rules
live in ``reconciler.rules``.
"""

from __future__ import annotations

from reconciler.config.lint.catalogue import RULES, Reporter, Rule
from reconciler.config.lint.comments import check_comments
from reconciler.config.lint.paths import check_paths
from reconciler.config.lint.proofs import check_plaintext_proofs
from reconciler.config.lint.references import check_references
from reconciler.config.lint.secrets import check_plaintext, check_sops
from reconciler.config.lint.signatures import check_signatures
from reconciler.config.lint.templates import check_channels, check_templates
from reconciler.config.lint.where import Sources
from reconciler.config.load import LoadedConfig
from reconciler.errors import Diagnostic

__all__ = ["RULES", "Rule", "check"]


def check(config: LoadedConfig) -> list[Diagnostic]:
    out = Reporter()
    sources = Sources(config.overlay)
    check_plaintext(config, out)
    # Files that held documents: regular and read once already (never a FIFO, never binary).
    check_comments(tuple(dict.fromkeys(document.file for document in config.documents)), out, sources)
    check_sops(config, out)
    check_paths(config, out)
    check_channels(config, out)
    check_templates(config, out, sources)
    check_references(config, out)
    check_signatures(config, out)
    check_plaintext_proofs(config, out)
    return sorted(out.diagnostics)
