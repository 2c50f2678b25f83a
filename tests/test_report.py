"""The report: a table of checks, breaches with a curl command to paste, and JUnit XML."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from contract_tests.checks import CHECKS, Finding
from contract_tests.report import breach_text, summary, table, write_junit
from contract_tests.suite import Breach, Counts, Report, Verdict
from contract_tests.transport.exchange import CREATE_PATH, Answer, Exchange, Probe, Sent

BASE_URL = "http://127.0.0.1:4010/"
SEED = 987654321
BODY: dict[str, Any] = {
    "severity": "HIGH",
    "studyDescription": "O'Brien's \"head\" CT 脳 \U0001fa7b $HOME `x`",
    "studyInstanceUid": "1.2.3",
}


def report(**counts: Counts) -> Report:
    return Report(
        BASE_URL,
        SEED,
        "warn",
        {name: counts.get(name, Counts()) for name in CHECKS},
        requests=10,
        seconds=0.5,
    )


def breach(
    check: str = "refuses_invalid",
    verdict: Verdict = "failed",
    *,
    body: Any = None,
    answer: Answer | None = None,
    error: str = "",
    shrunk: bool = False,
    tag: str = "stated",
) -> Breach:
    body = BODY if body is None else body
    content = json.dumps(body, ensure_ascii=False).encode()
    sent = Sent(
        "POST",
        CREATE_PATH,
        {"Content-Type": "application/json", "Authorization": "Bearer k"},
        content,
    )
    probe = Probe("invalid", body, "severity-upper-case", tag, "severity.enum", "severity")
    if answer is None and not error:
        answer = Answer.of(201, {"content-type": "application/json"}, b'{"studyId": "stu_1"}')
    finding = Finding("severity.enum", tag, "accepted (201) though it breaks severity.enum")
    return Breach(check, verdict, finding, Exchange(probe, sent, answer, error), shrunk)


def curl_words(text: str) -> list[str]:
    """The words of the curl command of a breach text."""
    start = text.index("  request: ") + len("  request: ")
    return shlex.split(text[start : text.index("\n  answer: ")])


def test_breach_text_has_a_curl_command_that_sends_the_same_request() -> None:
    the_breach = breach()
    words = curl_words(breach_text(the_breach, report()))
    assert words[0] == "curl"
    assert words[words.index("-X") + 1] == "POST"
    assert "http://127.0.0.1:4010" + CREATE_PATH in words
    headers = [words[i + 1] for i, word in enumerate(words) if word == "-H"]
    assert headers == ["Content-Type: application/json", "Authorization: Bearer k"]
    data = words[words.index("--data-binary") + 1]
    assert data.encode() == the_breach.exchange.sent.content
    assert json.loads(data) == BODY


def test_breach_text_names_check_rule_tag_probe_answer_and_seed() -> None:
    text = breach_text(breach(), report())
    lines = text.splitlines()
    assert lines[0] == "FAILED refuses_invalid: rule severity.enum [stated]"
    assert lines[1] == "  accepted (201) though it breaks severity.enum"
    assert lines[2] == "  probe: invalid severity-upper-case"
    assert "  answer: 201 application/json" in lines
    assert '    {"studyId": "stu_1"}' in lines
    assert lines[-1] == (f"  reproduce: avara-mock contract --base-url {BASE_URL} --seed {SEED}")


def test_breach_text_without_answer_shows_the_error_and_shrunk_marker() -> None:
    text = breach_text(
        breach("answers", "warned", error="no answer in 0.2 s", shrunk=True, tag="inferred"),
        report(),
    )
    assert text.startswith("WARNED answers: rule severity.enum [inferred]")
    assert "  probe: invalid severity-upper-case (shrunk)" in text
    assert "  answer: no answer in 0.2 s" in text


def test_breach_text_cuts_long_answers() -> None:
    long = Answer.of(500, {"content-type": "text/plain"}, b"x" * 5000)
    text = breach_text(breach(answer=long), report())
    assert "x" * 300 + "…" in text
    assert "x" * 301 not in text


def test_table_has_a_line_a_check_with_its_counts() -> None:
    counts = {name: Counts(i, i + 1, i + 2, i + 3) for i, name in enumerate(CHECKS)}
    lines = table(report(**counts)).splitlines()
    assert lines[0].split() == ["check", "passed", "failed", "warned", "n/a"]
    assert len(lines) == len(CHECKS) + 1
    for line, (name, c) in zip(lines[1:], counts.items(), strict=True):
        assert line.split() == [name, *map(str, (c.passed, c.failed, c.warned, c.skipped))]


def test_summary_of_a_conforming_run_lists_every_check_and_conforms() -> None:
    text = summary(report(answers=Counts(passed=10)))
    for name in CHECKS:
        assert name in text
    assert text.splitlines()[-1] == (
        f"conforms: 0 failed, 0 warned; 10 requests in 0.5 s (20/s); seed {SEED}; "
        "inferred rules warn"
    )


def test_summary_of_a_failed_run_puts_failures_first() -> None:
    the_report = report(refuses_invalid=Counts(failed=2), echoes_request=Counts(warned=1, passed=3))
    the_report.breaches = [
        breach("echoes_request", "warned", tag="inferred"),
        breach("refuses_invalid", "failed"),
    ]
    text = summary(the_report)
    assert text.index("FAILED refuses_invalid") < text.index("WARNED echoes_request")
    assert text.splitlines()[-1].startswith("FAILED: 2 failed, 1 warned; 10 requests")
    assert the_report.failed


def test_summary_with_zero_seconds_has_no_rate() -> None:
    the_report = report()
    the_report.seconds = 0.0
    assert "(0/s)" in summary(the_report)


def test_write_junit_writes_one_testcase_a_check(tmp_path: Path) -> None:
    the_report = report(
        answers=Counts(passed=10),
        refuses_invalid=Counts(passed=3, failed=2),
        echoes_request=Counts(passed=2, warned=1),
    )
    the_report.breaches = [
        breach("refuses_invalid", "failed"),
        breach("echoes_request", "warned", tag="inferred"),
    ]
    path = tmp_path / "contract.xml"
    write_junit(the_report, path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuite"
    assert root.get("tests") == str(len(CHECKS))
    assert root.get("failures") == "1"
    assert root.get("time") == "0.500"
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert list(cases) == list(CHECKS)
    assert {case.get("classname") for case in cases.values()} == {"contract"}

    failure = cases["refuses_invalid"].find("failure")
    assert failure is not None
    assert failure.get("message") == "2 failed"
    assert failure.text is not None
    assert "FAILED refuses_invalid: rule severity.enum" in failure.text
    assert json.loads(curl_words(failure.text)[-1]) == BODY

    warned = cases["echoes_request"]
    assert warned.find("failure") is None
    system_out = warned.find("system-out")
    assert system_out is not None
    assert system_out.text is not None
    assert "WARNED echoes_request" in system_out.text

    assert list(cases["answers"]) == []
    skipped = cases["requires_auth"].find("skipped")
    assert skipped is not None
    assert len(root.findall("testcase/failure")) == 1


@pytest.mark.parametrize(
    "the_breach",
    [
        breach(answer=Answer.of(500, {}, b"\x1b[31mTraceback (most recent call last)\x1b[0m")),
        breach(answer=Answer.of(500, {}, b"error\x00")),
        breach(body={**BODY, "studyDescription": "\uffff"}),
    ],
    ids=["ansi-escape-in-answer", "nul-in-answer", "noncharacter-in-request"],
)
def test_write_junit_is_valid_xml_whatever_the_exchange_held(
    the_breach: Breach, tmp_path: Path
) -> None:
    the_report = report(refuses_invalid=Counts(failed=1))
    the_report.breaches = [the_breach]
    path = tmp_path / "contract.xml"
    write_junit(the_report, path)
    root = ET.parse(path).getroot()
    assert root.find("testcase/failure") is not None
