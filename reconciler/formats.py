"""The version of each JSON document smsops writes (its ``format_version`` key), all in one place.

They are separate numbers on purpose: each document has its own readers and changes on its own
schedule. The application reads the export; ``apply --plan`` reads a saved plan and refuses any other
version; CI scripts read the validate, status and history JSON; auditors read the apply report; the
marks file is read back by smsops itself. A field added to the status JSON must not tell the
application that its export changed, nor turn every saved plan stale. Bump one number when the
shape of that one document changes incompatibly (a field removed, renamed or re-typed).
"""

from __future__ import annotations

from typing import Literal

# The runtime config the application reads (reconciler.publish.export): the application's contract.
EXPORT_FORMAT_VERSION: Literal[1] = 1
# A saved plan (reconciler.reconcile.changes.Plan): ``apply --plan`` accepts only this version.
PLAN_FORMAT_VERSION: Literal[1] = 1
# The apply report (reconciler.reconcile.report).
APPLY_REPORT_FORMAT_VERSION: Literal[1] = 1
# The rollout marks file, where a provider keeps no tags (reconciler.reconcile.rollout).
MARKS_FORMAT_VERSION: Literal[1] = 1
# ``smsops history --output json`` (reconciler.render.history).
HISTORY_FORMAT_VERSION: Literal[1] = 1
# ``smsops validate --output json`` (reconciler.render.diagnostics).
DIAGNOSTICS_FORMAT_VERSION: Literal[1] = 1
# ``smsops status --output json`` (reconciler.render.status).
STATUS_FORMAT_VERSION: Literal[1] = 1
