"""SMS3xx: references between resources (template -> channel, testSend -> template)."""

from __future__ import annotations

from typing import Any

from reconciler.config.lint.catalogue import Reporter


def written_names(config: Any, kind: str) -> set[str]:
    """Names of every ``kind`` document written, valid or not: a document that failed its schema
    (already reported) is still not "unknown" to the documents that refer to it."""
    names = set()
    for document in config.documents:
        data = document.data if isinstance(document.data, dict) else {}
        metadata = data.get("metadata")
        if data.get("kind") == kind and isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
            names.add(metadata["name"])
    return names


def check_references(config: Any, out: Reporter) -> None:
    channels = {located.resource.name: located for located in config.channels}
    written = written_names(config, "Channel")
    for located in config.templates if not config.unread else ():
        # With a file not read to its end (its YAML error is reported), the channel may be in it.
        spec = located.resource.spec
        for index, name in enumerate(spec.channels or ()):
            if name not in channels and name not in written:
                out.report("SMS301", located.at("spec", "channels", index), _unknown(name, channels))
        # adopt without a channel on a multi-channel template is a schema error (SMS020).
        for index, adopt in enumerate(spec.adopt):
            if adopt.channel is not None and adopt.channel not in channels and adopt.channel not in written:
                out.report("SMS301", located.at("spec", "adopt", index, "channel"), _unknown(adopt.channel, channels))
    # A template that failed its schema may well go to a channel: no "has no templates" for that.
    broken_templates = bool(config.unread) or len(written_names(config, "Template")) > len(
        {t.resource.name for t in config.templates}
    )
    # Template names per channel, in one pass (what LoadedConfig.templates_for gives per channel).
    everywhere: set[str] = set()
    listed: dict[str, set[str]] = {name: set() for name in channels}
    for located in config.templates:
        targets = located.resource.spec.channels
        if targets is None:
            everywhere.add(located.resource.name)
            continue
        for target in targets:
            if target in listed:
                listed[target].add(located.resource.name)
    for name, located in channels.items():
        spec = located.resource.spec
        on_channel = listed[name] | everywhere
        if spec.enabled and not on_channel and not broken_templates:
            out.report("SMS303", located.at("metadata", "name"), f"channel '{name}' is enabled but has no templates")
        if spec.test_send is not None:
            for index, template in enumerate(spec.test_send.templates or ()):
                if template not in on_channel:
                    known = (
                        "no template of that name exists"
                        if not _exists(config, template)
                        else ("that template does not go to this channel")
                    )
                    out.report(
                        "SMS304",
                        located.at("spec", "testSend", "templates", index),
                        f"testSend.templates names '{template}', but {known}",
                    )


def _exists(config: Any, name: str) -> bool:
    return any(located.resource.name == name for located in config.templates)


def _unknown(name: str, channels: dict[str, Any]) -> str:
    known = ", ".join(sorted(channels)) or "none"
    return f"unknown channel '{name}' (channels: {known})"
