"""LL102, LL303 and LL304 over folders of realistic handlers with exact expected findings.

Each fixture line that must be reported ends with ``# expect: LL303`` (several ids separated
by commas; ``LL304:warning`` also checks the severity). Every other line must stay quiet: the
test lints the whole folder and compares the (file, line, rule) sets exactly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

from lambdalint.config import parse_config
from lambdalint.discovery import discover
from lambdalint.engine import Session, lint_files, sorted_findings
from lambdalint.model import Finding, Span

FIXTURES = Path(__file__).parent / "fixtures" / "handlers"
RULES = ["LL102", "LL303", "LL304"]
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9:,\s a-z]+)$")


def expected_in(folder: Path) -> Tuple[Set[Tuple[str, int, str]], Dict[Tuple[str, int, str], str]]:
    expected: Set[Tuple[str, int, str]] = set()
    severities: Dict[Tuple[str, int, str], str] = {}
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if not match:
                continue
            for item in match.group(1).split(","):
                rule, _, severity = item.strip().partition(":")
                key = (relative, number, rule)
                expected.add(key)
                if severity:
                    severities[key] = severity
    return expected, severities


def lint_folder(folder: Path, rules: Optional[List[str]] = None) -> List[Finding]:
    config = parse_config({"select": rules or RULES}, root=folder)
    session = Session.create(config)
    files = discover([folder], config, cwd=folder)
    return sorted_findings(lint_files(session, files, jobs=1))


def _relative(finding: Finding, folder: Path) -> str:
    path = Path(finding.path)
    if path.is_absolute():
        return path.relative_to(folder).as_posix()
    return path.as_posix()


@pytest.mark.parametrize("family", ["globals", "idempotency"])
def test_fixture_folder_findings_are_exactly_the_expected_ones(family):
    folder = FIXTURES / family
    expected, severities = expected_in(folder)
    found = lint_folder(folder)
    actual = {(_relative(f, folder), f.span.line, f.rule_id) for f in found}
    missing = sorted(expected - actual)
    unexpected = sorted(
        (key, f.message) for f in found
        for key in [(_relative(f, folder), f.span.line, f.rule_id)] if key not in expected
    )
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"
    for f in found:
        key = (_relative(f, folder), f.span.line, f.rule_id)
        if key in severities:
            assert str(f.severity) == severities[key], (key, f.message)


@pytest.mark.parametrize("family,minimum", [("globals", 15), ("idempotency", 15)])
def test_each_family_has_enough_realistic_handlers(family, minimum):
    files = sorted((FIXTURES / family).rglob("*.py"))
    assert len(files) >= minimum
    # and both kinds of file: some that must trigger, some that must stay quiet
    with_expectations = [p for p in files if "# expect:" in p.read_text(encoding="utf-8")]
    assert 0 < len(with_expectations) < len(files)


def test_the_expect_convention_is_checked_both_ways(tmp_path):
    """The harness itself: a missing and an unexpected finding both fail the comparison."""
    (tmp_path / "app.py").write_text(
        "SEEN = []\n\ndef handler(event, context):\n    SEEN.append(event)  # expect: LL102\n"
        "    SEEN.extend(event['x'])\n",
        encoding="utf-8",
    )
    expected, _ = expected_in(tmp_path)
    actual = {(_relative(f, tmp_path), f.span.line, f.rule_id) for f in lint_folder(tmp_path)}
    assert expected == {("app.py", 4, "LL102")}
    assert actual == {("app.py", 4, "LL102"), ("app.py", 5, "LL102")}


# -- messages --------------------------------------------------------------------------------------


def test_ll303_message_names_the_source_what_duplicates_and_the_fix(lint):
    found = lint(
        {
            "app.py": "import json, boto3\nsqs = boto3.client('sqs')\n\n"
            "def handler(event, context):\n    for record in event['Records']:\n"
            "        sqs.send_message(QueueUrl='q', MessageBody=record['body'])\n"
        },
        select=["LL303"],
    )
    assert [f.span.line for f in found] == [6]
    assert found[0].message == (
        "`sqs.send_message` is not idempotent: this handler reads SQS records "
        '(event["Records"][*]["body"]), which are delivered at least once, so a retried or '
        "duplicate delivery sends the message again"
    )
    assert "MessageDeduplicationId" in found[0].hint and "idempotent_function" in found[0].hint


def test_ll303_uses_a_template_fact_over_the_guess(tmp_path):
    """The override point: a linked template says the API-looking handler is fed by SQS."""
    from lambdalint.python.event_sources import EventSourceInfo
    from lambdalint.python import analysis

    original = analysis.ModuleFacts.finish

    def finish(self):
        original(self)
        self.event_source_overrides["handler"] = EventSourceInfo(
            "handler", ("sqs",), origin="template", evidence="SQS queue `Orders` (template.yaml:12)",
            template_location=("template.yaml", Span(12, 7, 12, 12)),
        )

    (tmp_path / "app.py").write_text(
        "import boto3\nsns = boto3.client('sns')\n\ndef handler(event, context):\n"
        "    sns.publish(TopicArn='t', Message=event['body'])\n",
        encoding="utf-8",
    )
    assert lint_folder(tmp_path, ["LL303"]) == []
    analysis.ModuleFacts.finish = finish
    try:
        found = lint_folder(tmp_path, ["LL303"])
    finally:
        analysis.ModuleFacts.finish = original
    assert [f.span.line for f in found] == [5]
    assert "is invoked by SQS queue `Orders` (template.yaml:12), which delivers" in found[0].message
    assert [(r.path, r.span.line) for r in found[0].related] == [("template.yaml", 12)]


def test_ll304_severity_depends_on_what_the_key_is(lint):
    found = lint(
        {
            "app.py": "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    rec = event['Records'][0]['s3']\n    bucket = rec['bucket']['name']\n"
            "    key = rec['object']['key']\n"
            "    s3.put_object(Bucket=bucket, Key=key, Body=b'')\n"
            "    s3.put_object(Bucket=bucket, Key=f'out/{key}', Body=b'')\n"
            "    s3.put_object(Bucket=bucket, Key=key + '.json', Body=b'')\n"
            "    s3.put_object(Bucket=bucket, Key=make_key(), Body=b'')\n"
        },
        select=["LL304"],
    )
    assert [(f.span.line, str(f.severity)) for f in found] == [
        (8, "error"), (9, "warning"), (10, "warning"), (11, "error"),
    ]
    assert "writes back the object that triggered" in found[0].message
    assert "keys starting with `out/`" in found[1].message and "filter decides" in found[1].message
    assert "keys ending with `.json`" in found[2].message
    assert 'if key.startswith("out/"): return' in found[1].hint


def test_ll102_message_names_the_request_data_and_the_state(lint):
    found = lint(
        {
            "app.py": "CACHE = {}\n\ndef handler(event, context):\n"
            "    CACHE[event['pathParameters']['id']] = 1\n"
            "    CACHE['last'] = event['body']\n"
        },
        select=["LL102"],
    )
    assert [f.message for f in found] == [
        # only the key is request data: an unbounded cache keyed by it
        'Module-level `CACHE` is a cache keyed by request data (event["pathParameters"]["id"]) '
        "that nothing bounds: every distinct key adds an entry that stays across warm invocations, "
        "so it grows with what callers send until the function runs out of memory",
        'Request data (event["body"]) is stored in module-level `CACHE`, which '
        "outlives this invocation: later invocations in the same execution environment see it",
    ]


def test_ll303_a_helper_shared_by_an_api_and_a_queue_handler_is_reported_once(lint):
    found = lint(
        {
            "app.py": "import boto3\nsns = boto3.client('sns')\n\n"
            "def announce(order_id):\n    sns.publish(TopicArn='t', Message=order_id)\n\n"
            "def api(event, context):\n    announce(event['pathParameters']['id'])\n\n"
            "def worker(event, context):\n    for r in event['Records']:\n        announce(r['body'])\n"
        },
        select=["LL303"],
    )
    assert [f.span.line for f in found] == [5]
    assert "reached from handler `worker`" in found[0].message
    assert "SQS records" in found[0].message


def test_ll303_names_a_powertools_source(lint):
    found = lint(
        {
            "app.py": "import boto3\nfrom aws_lambda_powertools.utilities.data_classes import "
            "event_source, SNSEvent\nses = boto3.client('ses')\n\n"
            "@event_source(data_class=SNSEvent)\ndef handler(event, context):\n"
            "    ses.send_raw_email(RawMessage={'Data': event.sns_message})\n"
        },
        select=["LL303"],
    )
    assert [f.span.line for f in found] == [7]
    assert "handles SNS notifications (event_source(data_class=SNSEvent))" in found[0].message


def test_ll102_nested_function_and_lambda_handler_with_other_names(lint):
    found = lint(
        {
            "app.py": "LAST = None\n\ndef lambda_handler(evt, ctx):\n    def keep(value):\n"
            "        global LAST\n        LAST = value\n    keep(evt['id'])\n    keep('constant')\n"
        },
        select=["LL102"],
    )
    assert [(f.span.line, f.rule_id) for f in found] == [(6, "LL102")]


def test_ll304_s3_events_from_eventbridge(lint):
    found = lint(
        {
            "app.py": "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    bucket = event['detail']['bucket']['name']\n"
            "    s3.put_object(Bucket=bucket, Key='report.json', Body=b'{}')\n"
        },
        select=["LL304"],
    )
    assert [(f.span.line, str(f.severity)) for f in found] == [(6, "warning")]
    assert "the key `report.json`" in found[0].message


def test_all_three_rules_together_on_one_handler(lint):
    found = lint(
        {
            "app.py": "import uuid, boto3\ns3 = boto3.client('s3')\nSEEN = set()\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        bucket = r['s3']['bucket']['name']\n        SEEN.add(bucket)\n"
            "        s3.put_object(Bucket=bucket, Key=f'out/{uuid.uuid4()}', Body=b'')\n"
        },
        select=["LL102", "LL303", "LL304"],
    )
    assert [(f.span.line, f.rule_id) for f in found] == [(8, "LL102"), (9, "LL303"), (9, "LL304")]


def test_ll304_a_key_assigned_in_branches_keeps_what_the_branches_share(lint):
    found = lint(
        {
            "app.py": "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    rec = event['Records'][0]['s3']\n    key = rec['object']['key']\n"
            "    if key.endswith('.png'):\n        out = f'thumbs/large/{key}'\n    else:\n"
            "        out = f'thumbs/small/{key}'\n"
            "    s3.put_object(Bucket=rec['bucket']['name'], Key=out, Body=b'')\n"
            "    other = 'a/' + key if len(key) > 9 else 'b/' + key\n"
            "    s3.put_object(Bucket=rec['bucket']['name'], Key=other, Body=b'')\n"
        },
        select=["LL304"],
    )
    assert [(f.span.line, str(f.severity)) for f in found] == [(11, "warning"), (13, "error")]
    assert "keys starting with `thumbs/`" in found[0].message
