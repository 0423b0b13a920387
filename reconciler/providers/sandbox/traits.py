"""The sandbox's static traits: Alibaba's (it speaks Alibaba's API through Alibaba's SDK), except
that it needs no credentials and has no default address (its emulator starts on a free port)."""

from __future__ import annotations

from dataclasses import replace

from reconciler.providers.alibaba.traits import TRAITS as ALIBABA

TRAITS = replace(
    ALIBABA, name="sandbox", needs_credentials=False, embedded=True, default_region=None, default_endpoint=None
)
