"""Showing a run: the table of checks, each breach with a curl command, and JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from contract_tests.checks import CHECKS
from contract_tests.suite import Breach, Report


def table(report: Report) -> str:
    """One line a check: passed, failed, warned, not applicable."""
    width = max(len(name) for name in [*CHECKS, *report.counts])
    lines = [f"{'check':<{width}}  {'passed':>6} {'failed':>6} {'warned':>6} {'n/a':>6}"]
    for name, counts in report.counts.items():
        lines.append(
            f"{name:<{width}}  {counts.passed:>6} {counts.failed:>6} {counts.warned:>6}"
            f" {counts.skipped:>6}"
        )
    return "\n".join(lines)


def breach_text(breach: Breach, report: Report) -> str:
    """A breach as a person reads it: the rule, the facts, the request to paste, the answer."""
    exchange = breach.exchange
    answer = exchange.answer
    got = (
        f"{answer.status} {answer.headers.get('content-type', '')}\n    {answer.excerpt()}"
        if answer
        else exchange.error
    )
    shrunk = " (shrunk)" if breach.shrunk else ""
    lines = [
        f"{breach.verdict.upper()} {breach.check}: rule {breach.finding.rule} "
        f"[{breach.finding.tag}]",
        f"  {breach.finding.message}",
        f"  probe: {exchange.probe.kind} {exchange.probe.name}{shrunk}",
        f"  request: {exchange.sent.curl(report.base_url)}",
        f"  answer: {got}",
        f"  reproduce: avara-mock contract --base-url {report.base_url} --seed {report.seed}",
    ]
    if breach.script:
        lines.append("  the calls that led to it:")
        lines.extend("    " + line for line in breach.script.splitlines())
    return "\n".join(lines)


def summary(report: Report) -> str:
    """The whole report: breaches (failures first), then the table and the verdict."""
    ordered = sorted(report.breaches, key=lambda b: (b.verdict != "failed", b.check))
    failed = sum(c.failed for c in report.counts.values())
    warned = sum(c.warned for c in report.counts.values())
    verdict = "FAILED" if report.failed else "conforms"
    rate = report.requests / report.seconds if report.seconds else 0.0
    parts = [breach_text(b, report) for b in ordered]
    parts.append(table(report))
    parts.append(
        f"{verdict}: {failed} failed, {warned} warned; {report.requests} requests in "
        f"{report.seconds:.1f} s ({rate:.0f}/s); seed {report.seed}; inferred rules "
        f"{report.inferred}"
    )
    return "\n\n".join(parts)


NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: characters it forbids are written as escapes."""
    return NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_junit(report: Report, path: Path) -> None:
    """One testcase a check; its failures and warnings as failure / system-out elements."""
    failures = sum(1 for c in report.counts.values() if c.failed)
    suite = ET.Element(
        "testsuite",
        name="avara-mock contract",
        tests=str(len(report.counts)),
        failures=str(failures),
        time=f"{report.seconds:.3f}",
    )
    for name, counts in report.counts.items():
        case = ET.SubElement(suite, "testcase", classname="contract", name=name)
        breaches = [b for b in report.breaches if b.check == name]
        if counts.failed:
            failed = [breach_text(b, report) for b in breaches if b.verdict == "failed"]
            element = ET.SubElement(case, "failure", message=f"{counts.failed} failed")
            element.text = _xml_text("\n\n".join(failed))
        elif counts.passed == 0 and counts.warned == 0:
            ET.SubElement(case, "skipped", message="no exchange this check applies to")
        warned = [breach_text(b, report) for b in breaches if b.verdict == "warned"]
        if warned:
            ET.SubElement(case, "system-out").text = _xml_text("\n\n".join(warned))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
