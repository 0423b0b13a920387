"""The environment each subprocess gets: what it needs to do its job, nothing else.

smsops runs in CI next to tokens it never uses (``GITHUB_TOKEN``, deploy keys, other tools'
credentials). A child process inherits whatever it is given and can leak it (a crash dump, a debug
log, a hostile plugin or key command), so ``sops`` gets only the variables that locate or unlock
its keys (age, PGP, the cloud KMS credential chains, Vault) and ``git`` only those that make it
run in this checkout (its config files, for ``git config user.name``). Invariant: a variable reaches a
child only if it matches the child's allowlist. Every subprocess call in ``reconciler/`` builds its
``env=`` with one of these, in the call itself (tests/secrets/test_subprocess_environment.py walks the
source for any other); both are idempotent, so filtering an already filtered environment is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Both: finding programs, the home directory (config files, ~/.aws, ~/.config/sops/age/keys.txt),
# locale and temp files; proxies, as a KMS or git remote may be reachable only through one.
_COMMON = (
    r"PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR|TEMP|TMP|SYSTEMROOT|"
    r"(?i:https?_proxy|no_proxy|all_proxy)|SSL_CERT_FILE|SSL_CERT_DIR|XDG_CONFIG_HOME|XDG_RUNTIME_DIR"
)
_SOPS = re.compile(
    rf"(?:{_COMMON}|"
    r"SOPS_[A-Z0-9_]+|"  # SOPS_AGE_KEY(_FILE|_CMD), SOPS_PGP_FP, SOPS_KMS_ARN, …
    r"GNUPGHOME|GPG_AGENT_INFO|GPG_TTY|"
    r"AWS_[A-Z0-9_]+|"  # access keys, session token, profile, region, web identity, container creds
    r"GOOGLE_APPLICATION_CREDENTIALS|GOOGLE_CREDENTIALS|CLOUDSDK_[A-Z0-9_]+|GCE_METADATA_HOST|"
    r"AZURE_[A-Z0-9_]+|MSI_ENDPOINT|MSI_SECRET|IDENTITY_ENDPOINT|IDENTITY_HEADER|"
    r"VAULT_[A-Z0-9_]+)"
)
_GIT = re.compile(
    rf"(?:{_COMMON}|"
    r"GIT_(?:DIR|WORK_TREE|COMMON_DIR|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|"
    r"CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|CONFIG_NOSYSTEM|CONFIG_GLOBAL|CONFIG_SYSTEM|"
    r"CONFIG_COUNT|CONFIG_KEY_[0-9]+|CONFIG_VALUE_[0-9]+))"
)


def _only(pattern: re.Pattern[str], environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if pattern.fullmatch(name)}


def sops_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What ``sops decrypt`` may see: its key variables and the cloud credential chains."""
    return {**_only(_SOPS, environ), "SOPS_DISABLE_VERSION_CHECK": "1"}


def git_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What read-only ``git`` (log, cat-file, status, config) may see: repository location and config,
    no tokens. A fixed locale and no pager or terminal prompts: the output is parsed, never shown."""
    return {**_only(_GIT, environ), "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}
