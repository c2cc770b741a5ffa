"""LL601-LL606 through the real engine on realistic templates of every format.

The fixtures under ``tests/fixtures/templates/functions/`` mark each expected finding with a
comment on its line: ``# expect: LL603`` (``# expect: LL603 error`` for a severity other than
the rule's default, ``# expect: LL601, LL605`` for several). JSON has no comments, so its
expectations are listed here. Every other line must stay quiet: the fixtures are full of
tempting near-misses (Globals timeouts, 29 s APIs, unknown parameters, separating filters,
secrets by reference).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set, Tuple

import pytest

from lambdalint.registry import all_rules
from tests.conftest import lint_tree

FIXTURES = Path(__file__).parent / "fixtures" / "templates" / "functions"
RULES = ["LL601", "LL602", "LL603", "LL604", "LL605", "LL606"]
_EXPECT = re.compile(r"#\s*expect:\s*((?:LL\d{3}(?:\s+(?:error|warning|info))?\s*,?\s*)+)")

Expectation = Set[Tuple[str, int, str, str]]  # (file, line, rule, severity)


def marked(folder: Path) -> Expectation:
    """The ``# expect:`` markers of every file under ``folder``."""
    found: Expectation = set()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".tf"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if not match:
                continue
            for entry in match.group(1).split(","):
                words = entry.split()
                if not words:
                    continue
                rule = words[0]
                severity = words[1] if len(words) > 1 else str(all_rules()[rule].severity)
                found.add((path.relative_to(folder).as_posix(), number, rule, severity))
    return found


def linted(folder: Path) -> Expectation:
    findings = lint_tree(folder, {}, select=RULES)
    return {
        (Path(f.path).as_posix().split(folder.name + "/", 1)[-1], f.span.line, f.rule_id, str(f.severity))
        for f in findings
    }


@pytest.mark.parametrize("folder", ["sam", "serverless", "terraform"])
def test_marked_findings_and_nothing_else(folder):
    root = FIXTURES / folder
    expected = marked(root)
    assert expected, "fixtures without expectations test nothing"
    assert linted(root) == expected


def test_cloudformation_json():
    expected = {
        ("pipeline.json", 49, "LL604", "warning"),  # LandingBucket -> LandFunction, s3:* on it
        ("pipeline.json", 71, "LL605", "warning"),  # LandFunction: S3, no destination
        ("pipeline.json", 91, "LL606", "error"),  # SEARCH_API_KEY
        ("pipeline.json", 111, "LL603", "error"),  # 300 s < "600" s
        ("pipeline.json", 113, "LL603", "warning"),  # default 30 s < 6 x 10 s
        ("pipeline.json", 144, "LL606", "error"),  # GITHUB_TOKEN ghp_
        ("pipeline.json", 173, "LL601", "warning"),  # StatusFunction
        ("pipeline.json", 188, "LL602", "warning"),  # 15 s > the 10 s integration
    }
    assert linted(FIXTURES / "cfn") == expected


def test_related_locations_name_the_other_line():
    findings = lint_tree(FIXTURES / "sam", {}, select=["LL603", "LL604", "LL602"])
    by_rule = {}
    for finding in findings:
        if finding.path.endswith("media_app.yaml"):
            by_rule.setdefault(finding.rule_id, []).append(finding)
    # LL604: the trigger line, related to the permission line
    thumbnail = by_rule["LL604"][0]
    assert (thumbnail.span.line, [r.span.line for r in thumbnail.related]) == (143, [141])
    assert "line 141" in thumbnail.message
    # LL603: the queue's VisibilityTimeout, related to the consumer's Timeout
    (queue,) = by_rule["LL603"]
    assert (queue.span.line, [r.span.line for r in queue.related]) == (62, [212])
    # LL602: the Timeout, related to the API event
    assert [r.span.line for r in by_rule["LL602"][0].related] == [105]
    assert "when `IsProd`" in by_rule["LL602"][1].message


def test_ll606_names_the_branch_of_an_if():
    findings = lint_tree(FIXTURES / "sam", {}, select=["LL606"])
    messages = [f.message for f in findings if f.span.line == 119]
    assert len(messages) == 1 and "when not `IsProd`" in messages[0]


def test_the_markers_are_read():
    sample = marked(FIXTURES / "serverless")
    assert ("defaults/serverless.yml", 10, "LL601", "warning") in sample
    assert ("defaults/serverless.yml", 10, "LL605", "warning") in sample


def test_ll604_names_serverless_buckets_by_name():
    (finding,) = lint_tree(FIXTURES / "serverless", {}, select=["LL604"])
    assert "bucket `acme-sls-uploads-dev`" in finding.message
    assert [r.span.line for r in finding.related] == [26]


def test_terraform_findings_point_into_the_file_of_each_part():
    findings = lint_tree(FIXTURES / "terraform", {}, select=["LL603"])
    by_line = {f.span.line: f for f in findings}
    ingest, enrich = by_line[11], by_line[14]
    assert ingest.path.endswith("storage.tf") and enrich.path.endswith("storage.tf")
    # the consumer's timeout is in another file of the module
    assert [(Path(r.path).name, r.span.line) for r in ingest.related] == [("functions.tf", 101)]
    assert [(Path(r.path).name, r.span.line) for r in enrich.related] == [("functions.tf", 115)]
    assert "`aws_sqs_queue.enrich` hides messages for 30 s (the default)" in enrich.message
