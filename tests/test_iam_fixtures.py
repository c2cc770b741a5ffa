"""LL501-LL504 through the real engine on template files of every format that can express them.

The fixtures under ``tests/fixtures/templates/iam/`` mark each expected finding with a comment on
its line (``# expect: LL501``); JSON has no comments (nor has JSON inside a Terraform heredoc),
so those expectations are listed here. Every other line must stay quiet: the fixtures are full
of cases written to tempt the rules (actions that only accept "*", Deny statements, partial
wildcards on named resources, ``!If`` branches that are both fine, ``!Sub`` ARNs, unknown
parameters, broad policies on roles that are not Lambda's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest

from tests.conftest import lint_tree

IAM = Path(__file__).parent / "fixtures" / "templates" / "iam"
RULES = ["LL501", "LL502", "LL503", "LL504"]
_EXPECT = re.compile(r"#\s*expect:\s*((?:LL\d{3}\s*,?\s*)+)")

#: expectations that cannot be written as comments: file -> {(line, rule)}
UNMARKED: Dict[str, Set[Tuple[int, str]]] = {
    "cfn_roles.json": {
        (24, "LL503"),  # Fn::Sub arn:${AWS::Partition}:...:AmazonKinesisFullAccess on Ingest's role
        (34, "LL501"),  # kinesis:*
        (40, "LL502"),  # secretsmanager:GetSecretValue and kms:Decrypt on "*"
        (59, "LL501"),  # Fn::If [IsStaging, "*", ...] in a ManagedPolicy the role attaches
        (74, "LL502"),  # iam:PassRole on ["*"] in an AWS::IAM::Policy attached by Roles
        (107, "LL501"),  # Allow + NotAction on the EC2 role (its AdministratorAccess is not LL503's)
    },
    "terraform/iam.tf": {(46, "LL502")},  # heredoc JSON: s3:PutObject on "*"
}


def marked(folder: Path) -> Set[Tuple[str, int, str]]:
    found = set()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for rule in re.findall(r"LL\d{3}", match.group(1)):
                    found.add((relative, number, rule))
    for relative, expectations in UNMARKED.items():
        found |= {(relative, line, rule) for line, rule in expectations}
    return found


@pytest.fixture(scope="module")
def iam_findings():
    return lint_tree(IAM, {}, select=RULES)


def _rel(path: str) -> str:
    text = Path(path).as_posix()
    marker = "templates/iam/"
    return text.split(marker, 1)[1] if marker in text else text


def test_every_expected_finding_and_nothing_else(iam_findings):
    got = {(_rel(f.path), f.span.line, f.rule_id) for f in iam_findings}
    assert len(got) == len(iam_findings), "a finding is reported twice"
    assert got == marked(IAM)


@pytest.mark.parametrize("fixture,formats", [
    ("sam_overbroad.yaml", RULES),
    ("cfn_roles.json", ["LL501", "LL502", "LL503"]),
    ("serverless/serverless.yml", ["LL501", "LL502", "LL503"]),
    ("terraform/iam.tf", ["LL501", "LL502", "LL503"]),
])
def test_each_format_expresses_its_rules(iam_findings, fixture, formats):
    # LL504 is SAM only (policy templates exist nowhere else)
    rules = {f.rule_id for f in iam_findings if _rel(f.path) == fixture}
    assert rules == set(formats)


def test_least_privilege_template_is_quiet(iam_findings):
    assert [f for f in iam_findings if _rel(f.path) == "sam_least_privilege.yaml"] == []


def test_messages_name_conditions_and_what_is_granted(iam_findings):
    by_line = {(_rel(f.path), f.span.line): f for f in iam_findings}
    sqs = by_line[("sam_overbroad.yaml", 59)]
    assert "every sqs action" in sqs.message and '"IsDev"' in sqs.message
    ses = by_line[("sam_overbroad.yaml", 79)]
    assert "ses:SendEmail" in ses.message and '"IsDev"' in ses.message
    not_action = by_line[("sam_overbroad.yaml", 72)]
    assert "iam:*, organizations:*" in not_action.message
    shared = by_line[("serverless/serverless.yml", 16)]
    assert "functions search and reindex" in shared.message
    globals_policy = by_line[("sam_globals.yaml", 11)]
    assert "functions Resize and Publish" in globals_policy.message
    passrole = by_line[("cfn_roles.json", 74)]
    assert "iam:PassRole" in passrole.message and "role's ARN" in passrole.hint
    severities = {f.rule_id: str(f.severity) for f in iam_findings}
    assert severities == {"LL501": "error", "LL502": "warning", "LL503": "error", "LL504": "warning"}


def test_metadata_and_noqa_suppress(tmp_path):
    template = (IAM / "sam_overbroad.yaml").read_text(encoding="utf-8")
    template = template.replace("  Renderer:\n    Type: AWS::Serverless::Function\n",
                                "  Renderer:\n    Type: AWS::Serverless::Function\n"
                                "    Metadata:\n      lambdalint:\n        ignore: [LL503]\n")
    template = template.replace("Action: '*'  # expect: LL501", "Action: '*'  # noqa: LL501")
    found = lint_tree(tmp_path, {"template.yaml": template}, select=RULES)
    rules_by_line = {(f.span.line, f.rule_id) for f in found}
    assert not any(rule == "LL503" for _, rule in rules_by_line)
    assert (84, "LL501") not in rules_by_line  # the noqa line (shifted by 3 Metadata lines)
    assert (54, "LL501") in rules_by_line  # dynamodb:* is still reported


# -- the loaders' own fixtures ----------------------------------------------------------------

SHARED = IAM.parent
#: LL501-LL504 findings the loader fixtures do not mark: JSON files, and LL502 cases that their
#: authors wrote for other rules (file -> {(line, rule)})
SHARED_UNMARKED: Dict[str, Set[Tuple[int, str]]] = {
    "cfn/cfn_role_policies.json": {(11, "LL503"), (23, "LL501")},
    # Resource: !Ref BucketArn, a parameter whose default is "*", with s3:GetObject in the
    # other branch of Action's !If [IsDev, "*", s3:GetObject]
    "cfn/sam_conditions_params.yaml": {(37, "LL502")},
    # dynamodb:GetItem/Query on "*"; the VPC, X-Ray and metrics statements beside it are quiet
    "terraform/star_required/main.tf": {(47, "LL502")},
    # heredoc JSON cannot carry markers: Action "*" (29; Resource "*" too, which is LL501's
    # alone) and Allow + NotAction (34); s3:* in jsonencode (52); AdministratorAccess in
    # managed_policy_arns (17); PowerUserAccess attached to the exporter's role (90)
    "terraform/wildcard_iam/main.tf": {(17, "LL503"), (29, "LL501"), (34, "LL501"), (52, "LL501"), (90, "LL503")},
    "functions/cfn/pipeline.json": {(25, "LL501")},
    "functions/serverless/media/serverless.yml": {(28, "LL501")},
}


def _marked_iam(folder: Path) -> Set[Tuple[str, int, str]]:
    found = set()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in {".yaml", ".yml", ".json", ".tf"}:
            continue
        relative = path.relative_to(SHARED).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                found |= {(relative, number, r) for r in re.findall(r"LL50\d", match.group(1))}
    return found


@pytest.mark.parametrize("folder", ["cfn", "serverless", "terraform", "functions"])
def test_loader_fixtures(folder):
    root = SHARED / folder
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    findings = lint_tree(root, {}, select=RULES)
    got = {(f"{folder}/{Path(f.path).as_posix()}", f.span.line, f.rule_id) for f in findings}
    expected = _marked_iam(root) | {
        (relative, line, rule)
        for relative, expectations in SHARED_UNMARKED.items()
        if relative.startswith(folder + "/")
        for line, rule in expectations
    }
    assert got == expected


def test_noqa_on_hcl_lines(tmp_path):
    files = {p.name: p.read_text(encoding="utf-8") for p in (IAM / "terraform").glob("*.tf")}
    files["iam.tf"] = files["iam.tf"].replace('["dynamodb:*"]  # expect: LL501', '["dynamodb:*"]  # noqa: LL501')
    found = {(f.span.line, f.rule_id) for f in lint_tree(tmp_path, files, select=RULES)}
    assert (23, "LL501") not in found
    assert {(74, "LL501"), (46, "LL502"), (14, "LL503")} <= found
