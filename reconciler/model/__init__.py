"""Desired-state models (``resources``: the schema source) and template content (``content``)."""
