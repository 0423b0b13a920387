"""JUnit XML for CI test reports: one testcase per test send, built with ``xml.etree``.

Passing outcomes (delivered, accepted, validated) are plain testcases, ``skipped`` is skipped, the
rest are failures whose ``message`` is the outcome and the provider's code. A verdict reached
without sends (no recipients, disabled channel) is one testcase named after the channel.
Recipients are masked and every text is redacted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from reconciler.secrets.redact import redact
from reconciler.verify.results import GateResult, SendOutcome


def junit_xml(result: GateResult) -> str:
    suite = _suite(result)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def junit_xml_suites(results: Sequence[GateResult]) -> str:
    """Several gate runs (one per channel, as apply makes them) as one ``testsuites`` document."""
    suites = ET.Element("testsuites", name="smsops gates")
    for result in results:
        suites.append(_suite(result))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _suite(result: GateResult) -> ET.Element:
    suite = ET.Element("testsuite", name=f"smsops test-send {result.channel}")
    classname = f"smsops.test-send.{result.channel}"
    failures = skipped = 0
    if not result.results:
        case = ET.SubElement(suite, "testcase", name=f"channel {result.channel}", classname=classname)
        if result.status == "failed":
            failures += 1
            ET.SubElement(case, "failure", message=redact(result.message), type="gate").text = redact(result.message)
        elif result.status == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=redact(result.message))
    for sent in result.results:
        name = f"{sent.template} ({sent.code or '-'}) to {sent.recipient}"
        case = ET.SubElement(suite, "testcase", name=redact(name), classname=classname)
        detail = redact(": ".join(p for p in (sent.provider_code, sent.detail) if p))
        properties = ET.SubElement(case, "properties")
        for key, value in (
            ("outcome", sent.outcome.value),
            ("proof", sent.proof.value),
            ("message_id", sent.message_id),
        ):
            ET.SubElement(properties, "property", name=key, value=value)
        if sent.outcome is SendOutcome.SKIPPED:
            skipped += 1
            ET.SubElement(case, "skipped", message=detail or "skipped")
        elif not sent.passed:
            failures += 1
            message = f"{sent.outcome.value}: {detail}" if detail else sent.outcome.value
            ET.SubElement(case, "failure", message=message, type=sent.outcome.value).text = detail or None
    suite.set("tests", str(max(len(result.results), 1)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return suite
