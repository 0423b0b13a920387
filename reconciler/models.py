"""The one base of smsops' own pydantic models (plan, observations, results, history, export).

Frozen: a model is a value, validated once and never mutated, so a plan or an observation can be
passed around and hashed without copies. ``extra="forbid"``: a misspelt field in a saved plan or a
test is an error, not silently dropped. ``defer_build``: the validators are built on first use, so a
command that imports a module for one enum (``smsops validate`` reads ``TemplateKind``) does not pay
for the models it never touches.

This module imports nothing of ours, so any module may use it without an import cycle. The sandbox
keeps its own base (``reconciler.sandbox.store.behaviour``): the emulators stand in for the providers
and import nothing from the core.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
