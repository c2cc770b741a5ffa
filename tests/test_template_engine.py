"""Templates through the engine: discovery, LL001, suppressions, Terraform work items, and the
same output serially and in parallel."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from lambdalint.config import parse_config
from lambdalint.discovery import SourceFile, discover, kind_of
from lambdalint.engine import Session, lint_files, sorted_findings, work_items
from lambdalint.model import Finding, Severity
from lambdalint.rule import Example, TemplateRule

from tests.test_iac_cloudformation import _alias_bomb

FIXTURES = Path(__file__).parent / "fixtures" / "templates"


class WildcardProbe(TemplateRule):
    """A test-only template rule: every ``Action: "*"`` of a function, and every function.

    ## What it does
    ## Why is this bad in Lambda
    ## Example
    ## Use instead
    ## Fix safety
    """

    id = "LL599"
    name = "wildcard-probe"
    severity = Severity.WARNING
    INVALID = (Example("", lines=(1,)),)
    VALID = (Example(""),)

    def check(self) -> None:
        for function in self.template.functions:
            self.report(function.span, f"function {function.logical_id}", path=function.path)
            for policy in function.permissions.policies:
                for statement in policy.statements:
                    for action in statement.actions:
                        if action.value == "*":
                            self.report(action.span, "wildcard action", path=action.path or statement.path)


@pytest.fixture(autouse=True)
def probe_registered(monkeypatch):
    """Config validation knows LL599 (the probe) for the tests of this module."""
    from lambdalint import registry

    rules = dict(registry.catalog())
    rules[WildcardProbe.id] = registry.RuleEntry(WildcardProbe.id, WildcardProbe.name, "-", "template", True)
    monkeypatch.setattr(registry, "catalog", lambda: rules)
    real_rule_class = registry.rule_class
    monkeypatch.setattr(registry, "rule_class", lambda rule_id: WildcardProbe if rule_id == "LL599" else real_rule_class(rule_id))


def probe_lint(root: Path, files: dict, config: dict = None) -> List[Finding]:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    parsed = parse_config(dict(config or {}), root=root)
    session = Session(parsed, ("LL001", "LL599"), (), (WildcardProbe,))
    return sorted_findings(lint_files(session, discover([root], parsed, cwd=root), jobs=1))


def found(findings: List[Finding]):
    return [(f.path, f.span.line, f.rule_id) for f in findings]


# -- discovery -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("template.yaml", "template"),
        ("stack.yml", "template"),
        ("infra.json", "template"),
        ("app.template", "template"),
        ("main.tf", "terraform"),
        ("app.py", "python"),
        ("package.json", None),
        ("package-lock.json", None),
        ("tsconfig.json", None),
        ("README.md", None),
        ("terraform.tfvars", None),
    ],
)
def test_discovery_classifies_templates(name, kind):
    assert kind_of(Path("project") / name) == kind


def test_terraform_files_are_grouped_by_folder():
    files = [
        SourceFile("a/app.py", Path("a/app.py"), "python"),
        SourceFile("infra/main.tf", Path("infra/main.tf"), "terraform"),
        SourceFile("infra/modules/q/main.tf", Path("infra/modules/q/main.tf"), "terraform"),
        SourceFile("infra/template.yaml", Path("infra/template.yaml"), "template"),
        SourceFile("infra/variables.tf", Path("infra/variables.tf"), "terraform"),
    ]
    items = work_items(files)
    assert [[f.display_path for f in item] for item in items] == [
        ["a/app.py"],
        ["infra/main.tf", "infra/variables.tf"],
        ["infra/modules/q/main.tf"],
        ["infra/template.yaml"],
    ]


# -- LL001 and files that are not templates ------------------------------------------------------


def test_an_alias_bomb_is_ll001_and_fast(lint):
    start = time.perf_counter()
    findings = lint({"template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\n" + _alias_bomb()})
    assert time.perf_counter() - start < 2.0
    # reported where the expansion runs away: the first line whose aliases pass the limit
    assert [(f.rule_id, f.span.line) for f in findings] == [("LL001", 7)]
    assert "alias bomb" in findings[0].message


def test_invalid_yaml_template_is_ll001_at_its_line(lint):
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Queue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties: {VisibilityTimeout: 30\n"
        "  Other:\n"
    )
    findings = lint({"infra/template.yaml": text})
    assert [(f.path, f.rule_id, f.span.line) for f in findings] == [("infra/template.yaml", "LL001", 6)]


def test_invalid_json_template_is_ll001_at_its_line(lint):
    text = '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue",}\n  }\n}\n'
    findings = lint({"stack.json": text})
    assert [(f.rule_id, f.span.line) for f in findings] == [("LL001", 4)]


K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
          resources:
            limits: {cpu: 500m}
---
apiVersion: v1
kind: Service
metadata: {name: web}
"""

WORKFLOW = """\
name: CI
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      redis: {image: redis}
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ secrets.TOKEN }}"
"""


def test_manifests_workflows_and_package_files_are_ignored(lint):
    findings = lint({
        "k8s/deployment.yaml": K8S,
        ".github/workflows/ci.yml": WORKFLOW,
        "package.json": '{"name": "x", "scripts": {"build": "tsc"}',  # broken, and skipped
        "data/export.json": '{"Resources": [1, 2, 3]}',
        "chart/values.yaml": "service:\n  provider: {{ .Values.x }}\n",
        "docs/openapi.yml": "openapi: 3.0.0\ninfo: {title: x}\n",
    })
    assert findings == []


# -- findings through the engine -----------------------------------------------------------------


def test_template_rules_run_and_metadata_suppresses(tmp_path):
    text = (FIXTURES / "cfn" / "sam_metadata_suppression.yaml").read_text()
    findings = probe_lint(tmp_path, {"template.yaml": text})
    # LegacyFunction's Metadata does not name LL599; NoqaFunction's '*' actions: none.
    assert found(findings) == [("template.yaml", 11, "LL599"), ("template.yaml", 23, "LL599"),
                               ("template.yaml", 26, "LL599")]
    suppressed = text.replace("ignore: [LL501, LL502]", "ignore: [LL599]")
    assert found(probe_lint(tmp_path, {"template.yaml": suppressed})) == [("template.yaml", 26, "LL599")]
    everywhere = text.replace("      - LL601", "      - LL599")
    assert found(probe_lint(tmp_path, {"template.yaml": everywhere})) == []


def test_noqa_on_the_yaml_line_per_file_ignores_and_severity(tmp_path):
    text = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:  # noqa: LL599\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Policies:\n"
        "        - Statement:\n"
        "            - Effect: Allow\n"
        "              Action: '*'\n"
        "              Resource: '*'\n"
    )
    assert found(probe_lint(tmp_path, {"template.yaml": text})) == [("template.yaml", 10, "LL599")]
    unsuppressed = text.replace("  # noqa: LL599", "")
    other = probe_lint(tmp_path, {"template.yaml": unsuppressed}, {"severity": {"LL599": "error"}})
    assert [(f.span.line, f.severity) for f in other] == [(3, Severity.ERROR), (10, Severity.ERROR)]
    ignored = probe_lint(tmp_path, {"template.yaml": unsuppressed}, {"per-file-ignores": {"template.yaml": ["LL599"]}})
    assert ignored == []
    assert all(f.fingerprint for f in other) and len({f.fingerprint for f in other}) == 2


def test_serverless_findings_and_noqa(tmp_path):
    text = (FIXTURES / "serverless" / "legacy-iam" / "serverless.yml").read_text()
    findings = probe_lint(tmp_path, {"svc/serverless.yml": text})
    # the provider's statement is every function's: once per function
    assert found(findings) == [
        ("svc/serverless.yml", 9, "LL599"), ("svc/serverless.yml", 9, "LL599"),
        ("svc/serverless.yml", 18, "LL599"), ("svc/serverless.yml", 22, "LL599"),
    ]
    noqa = text.replace('- "*"  # expect: LL501', '- "*"  # noqa: LL599')
    assert found(probe_lint(tmp_path, {"svc/serverless.yml": noqa})) == [
        ("svc/serverless.yml", 18, "LL599"), ("svc/serverless.yml", 22, "LL599"),
    ]


def test_fixtures_lint_without_errors(lint):
    files = {
        str(path.relative_to(FIXTURES)): path.read_text()
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json")
    }
    findings = lint(files)
    assert [f for f in findings if f.rule_id == "LL001"] == []


# -- Terraform -----------------------------------------------------------------------------------


def test_terraform_parse_errors_are_ll001_per_file(lint):
    pytest.importorskip("lambdalint.iac.terraform")
    findings = lint({
        "infra/main.tf": 'resource "aws_sqs_queue" "q" {\n  visibility_timeout_seconds = 60\n}\n',
        "infra/broken.tf": 'resource "aws_sqs_queue" "r" {\n  name = \n}\n',
    })
    assert [(f.path, f.rule_id) for f in findings if f.rule_id == "LL001"] == [("infra/broken.tf", "LL001")]


# -- serial and parallel -------------------------------------------------------------------------


def _project(root: Path) -> None:
    for path in FIXTURES.rglob("*"):
        if path.is_file():
            target = root / "fx" / path.relative_to(FIXTURES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (root / "broken").mkdir()
    (root / "broken" / "template.yaml").write_text("AWSTemplateFormatVersion: x\nResources: [\n")
    (root / "broken" / "bad.tf").write_text('resource "x" "y" {\n')
    (root / "broken" / "ok.tf").write_text('resource "aws_sqs_queue" "q" {}\n')
    for index in range(20):
        (root / "src" / f"m{index}").mkdir(parents=True)
        (root / "src" / f"m{index}" / "app.py").write_text(
            "import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n"
        )


def test_serial_and_parallel_runs_are_identical(tmp_path):
    _project(tmp_path)
    config = parse_config({}, root=tmp_path)
    session = Session.create(config)
    files = discover([tmp_path], config, cwd=tmp_path)
    assert len(files) >= 16
    serial = sorted_findings(lint_files(session, files, jobs=1))
    parallel = sorted_findings(lint_files(session, files, jobs=3))
    assert serial == parallel
    assert any(f.rule_id == "LL001" and f.path == "broken/template.yaml" for f in serial)


# -- size ----------------------------------------------------------------------------------------


def large_sam_template(functions: int = 80) -> str:
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Transform: AWS::Serverless-2016-10-31",
        "Globals:",
        "  Function:",
        "    Runtime: python3.12",
        "    Timeout: 10",
        "Resources:",
    ]
    for index in range(functions):
        lines += [
            f"  Queue{index}:",
            "    Type: AWS::SQS::Queue",
            "    Properties:",
            "      VisibilityTimeout: 60",
            f"  Function{index}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      CodeUri: src/f{index}/",
            "      Handler: app.handler",
            "      Environment:",
            "        Variables:",
            f"          QUEUE_URL: !Ref Queue{index}",
            "          STAGE: prod",
            "      Policies:",
            "        - Statement:",
            "            - Effect: Allow",
            "              Action:",
            "                - sqs:SendMessage",
            "                - sqs:GetQueueAttributes",
            f"              Resource: !GetAtt Queue{index}.Arn",
            f"        - S3ReadPolicy: {{BucketName: !Sub 'bucket-${{AWS::AccountId}}-{index}'}}",
            "      Events:",
            "        Messages:",
            "          Type: SQS",
            f"          Properties: {{Queue: !GetAtt Queue{index}.Arn, BatchSize: 5}}",
        ]
    return "\n".join(lines) + "\n"


def test_a_2000_line_template_loads_quickly(tmp_path):
    text = large_sam_template()
    assert len(text.splitlines()) >= 2000
    (tmp_path / "template.yaml").write_text(text)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "lambdalint", "check", "--isolated", "--format", "json", "template.yaml"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 10.0
    from lambdalint.iac.load import load_template_file

    template = load_template_file("template.yaml", text.encode())
    assert len(template.functions) == 80 and len(template.queues) == 80
    assert template.functions[79].events[0].source.value.target == "Queue79"


def test_templates_are_not_read_when_no_template_rule_runs(lint):
    broken = {"template.yaml": "AWSTemplateFormatVersion: x\nResources: [\n"}
    assert [f.rule_id for f in lint(broken)] == ["LL001"]
    assert lint(broken, select=["LL101"]) == []


TF_FUNCTION = """\
resource "aws_lambda_function" "fn" {{{noqa_main}
  function_name = "fn"
  handler       = "app.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
  filename      = "fn.zip"
}}
"""

TF_IAM = """\
resource "aws_iam_role" "fn" {{
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "lambda.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_role_policy" "fn" {{
  role = aws_iam_role.fn.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = "*"{noqa_iam}
      Resource = "arn:aws:s3:::b/*"
    }}]
  }})
}}
"""


def test_terraform_module_findings_land_in_each_file_with_its_own_noqa(lint):
    pytest.importorskip("lambdalint.iac.terraform")
    files = {
        "infra/main.tf": TF_FUNCTION.format(noqa_main=""),
        "infra/iam.tf": TF_IAM.format(noqa_iam=""),
    }
    findings = lint(files, select=["LL501", "LL601"])
    assert [(f.path, f.span.line, f.rule_id) for f in findings] == [
        ("infra/iam.tf", 14, "LL501"), ("infra/main.tf", 1, "LL601"),
    ]
    files = {
        "infra/main.tf": TF_FUNCTION.format(noqa_main="  # noqa: LL601"),
        "infra/iam.tf": TF_IAM.format(noqa_iam="  # noqa: LL601"),  # names another rule
    }
    findings = lint(files, select=["LL501", "LL601"])
    assert [(f.path, f.span.line, f.rule_id) for f in findings] == [("infra/iam.tf", 14, "LL501")]
    # per-file-ignores apply to the file the finding is in, not to the module
    findings = lint(files, select=["LL501", "LL601"], config={"per-file-ignores": {"infra/iam.tf": ["LL501"]}})
    assert findings == []


# -- the loader fixtures end to end --------------------------------------------------------------

_EXPECT = re.compile(r"#\s*expect:\s*((?:LL\d{3}(?:\s+(?:error|warning|info))?\s*,?\s*)+)")

#: JSON has no comments: its expected findings (path, line, rule)
JSON_EXPECTED = {
    ("cfn/cfn_role_policies.json", 11, "LL503"),  # PowerUserAccess on AppFunction's role
    ("cfn/cfn_role_policies.json", 23, "LL501"),  # dynamodb:* in the attached managed policy
    ("cfn/cfn_s3_notifications.json", 42, "LL605"),  # S3-triggered, no destination
    ("cfn/cfn_s3_notifications.json", 58, "LL604"),  # IngestBucket, unfiltered, writable
}


def _marked(root: Path):
    found = set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                relative = path.relative_to(FIXTURES).as_posix()
                found |= {(relative, number, rule) for rule in re.findall(r"LL\d{3}", match.group(1))}
    return found


def test_loader_fixtures_yield_exactly_their_marked_findings():
    """Every template rule over the SAM/CloudFormation and Serverless fixtures: each
    ``# expect:`` line is reported, and nothing else is (the fixtures are full of near misses:
    Globals timeouts, unknown parameters, separating filters, secrets by reference)."""
    from tests.conftest import lint_tree

    from lambdalint.registry import all_rules

    template_rules = ["LL501", "LL502", "LL503", "LL504", "LL601", "LL602", "LL603", "LL604", "LL605", "LL606"]
    if not set(template_rules) <= set(all_rules()):
        pytest.skip("the template rules are not all installed")
    got = set()
    for folder in ("cfn", "serverless"):
        findings = lint_tree(FIXTURES / folder, {}, select=template_rules + ["LL001"])
        got |= {(f"{folder}/{f.path}", f.span.line, f.rule_id) for f in findings}
    assert got == _marked(FIXTURES / "cfn") | _marked(FIXTURES / "serverless") | JSON_EXPECTED


def test_a_terraform_file_linted_alone_still_sees_its_module(tmp_path):
    pytest.importorskip("lambdalint.iac.terraform")
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(
        'resource "aws_s3_bucket" "in" {}\n'
        'resource "aws_lambda_function" "fn" {\n'
        '  function_name = "fn"\n  handler = "app.handler"\n  runtime = "python3.12"\n'
        '  role = "arn:aws:iam::123456789012:role/fn"\n  filename = "fn.zip"\n  timeout = 10\n}\n'
        'resource "aws_s3_bucket_notification" "in" {\n'
        '  bucket = aws_s3_bucket.in.id\n'
        '  lambda_function {\n    lambda_function_arn = aws_lambda_function.fn.arn\n'
        '    events = ["s3:ObjectCreated:*"]\n  }\n}\n'
    )
    (infra / "failures.tf").write_text(
        'resource "aws_sqs_queue" "dlq" {}\n'
        'resource "aws_lambda_function_event_invoke_config" "fn" {\n'
        '  function_name = aws_lambda_function.fn.function_name\n'
        '  destination_config {\n    on_failure {\n      destination = aws_sqs_queue.dlq.arn\n    }\n  }\n}\n'
        'resource "aws_lambda_function" "other" {\n  function_name = "other"\n  handler = "o.h"\n'
        '  role = "arn:aws:iam::123456789012:role/o"\n  filename = "o.zip"\n}\n'
    )
    config = parse_config({"select": ["LL601", "LL605"]}, root=tmp_path)
    session = Session.create(config)
    whole = sorted_findings(lint_files(session, discover([infra], config, cwd=tmp_path), jobs=1))
    assert [(f.path, f.rule_id) for f in whole] == [("infra/failures.tf", "LL601")]
    # pre-commit passes only main.tf: the invoke config in failures.tf still counts, and
    # failures.tf's own finding waits for failures.tf to be linted
    alone = sorted_findings(lint_files(session, discover([infra / "main.tf"], config, cwd=tmp_path), jobs=1))
    assert alone == []
