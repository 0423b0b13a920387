"""Lint rules over a loaded config; ``reconciler.lint.check`` runs them all.

One module per family: ``templates`` (SMS1xx content and variables, SMS2xx provider limits),
``references`` (SMS3xx across resources), ``secrets`` (SMS4xx). The catalogue of every rule id
is ``reconciler.rules.catalogue.RULES``.
"""
