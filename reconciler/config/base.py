"""What every config model shares: the YAML spelling (camelCase keys), resource names, and the
error a validator raises to point at one field. Imports nothing of the config, so ``models`` and
``signature`` both build on it without an import cycle."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from reconciler.models import Frozen

# DNS label: starts with a letter, ends with a letter or digit, at most 63 characters.
NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
ResourceName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


class ConfigModel(Frozen):
    # YAML spells fields in camelCase (Kubernetes style); Python reads them in snake_case.
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel)


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error the loader pins to ``field`` (a dotted path below the model that raised it)
    rather than to the model as a whole, which is where pydantic puts model-validator errors."""
    return PydanticCustomError("smsops_field", message, {"field": field})
