"""The IAM action facts behind LL502 and the helpers the IAM rules share."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lambdalint.iac import iam_action_data, iam_actions
from lambdalint.iac.iam import aws_managed_policy_name
from lambdalint.iac.iam_actions import is_full_wildcard, scoped_actions


def test_action_table_source_is_the_service_authorization_reference():
    # The table is a generated snapshot of the AWS Service Authorization Reference, where an
    # action without a resource type only accepts "*"; scripts/gen_iam_action_data.py
    # regenerates it. The curated exceptions must be actions the snapshot lists as scoped,
    # otherwise they silence nothing and are stale.
    assert "Service Authorization Reference" in iam_action_data.SOURCE
    assert "scripts/gen_iam_action_data.py" in iam_action_data.__doc__
    for action in iam_actions.STAR_IN_PRACTICE:
        service, name = action.split(":")
        scoped, star = iam_action_data.ACTIONS[service]
        assert name in {n.lower() for n in scoped.split()}, action
    for service, (scoped, star) in iam_action_data.ACTIONS.items():
        assert not set(scoped.split()) & set(star.split()), service
    assert {"s3", "dynamodb", "sqs", "sns", "logs", "xray", "ec2", "iam", "kms", "lambda",
            "secretsmanager", "ssm", "events", "states", "kinesis", "sts", "rds"} <= iam_actions.covered_services()


@pytest.mark.parametrize("action", [
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "ec2:DescribeNetworkInterfaces",
    "s3:ListAllMyBuckets", "sts:GetCallerIdentity", "sqs:ListQueues", "dynamodb:ListTables",
    "kms:CreateKey", "logs:DescribeLogGroups", "ecr:GetAuthorizationToken",
    # granted on "*" by AWS's Lambda VPC and metrics guidance (curated)
    "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "cloudwatch:PutMetricData",
    # case-insensitive, like IAM
    "XRAY:puttracesegments",
])
def test_actions_that_only_accept_star(action):
    assert scoped_actions(action) == []


@pytest.mark.parametrize("action,expected", [
    ("s3:GetObject", ["s3:GetObject"]),
    ("dynamodb:putitem", ["dynamodb:PutItem"]),
    ("iam:PassRole", ["iam:PassRole"]),
    ("logs:DeleteLogGroup", ["logs:DeleteLogGroup"]),
    ("logs:GetLogEvents", ["logs:GetLogEvents"]),
    ("s3:ListBucket", ["s3:ListBucket"]),
    ("iam:PassR*", ["iam:PassRole"]),
    ("iam:Pas?Role", ["iam:PassRole"]),
])
def test_actions_that_accept_arns(action, expected):
    assert scoped_actions(action) == expected


def test_wildcards_count_as_scoped_when_any_match_accepts_arns():
    got = scoped_actions("s3:Get*")
    assert "s3:GetObject" in got and "s3:GetAccountPublicAccessBlock" not in got
    describe = scoped_actions("ec2:Describe*")
    assert "ec2:DescribeInstanceAttribute" in describe
    assert "ec2:DescribeInstances" not in describe  # takes no ARN
    assert scoped_actions("xray:PutT*") == []  # PutTraceSegments, PutTelemetryRecords


@pytest.mark.parametrize("action", [
    "gamelift:CreateFleet",  # a service outside the snapshot
    "s3:GetObjectFromTheFuture",  # an action the snapshot does not know
    "s3:Nothing*Matches*This",
    "*:GetObject", "s3", "", "s3:Get:Object",
])
def test_unknown_actions_are_not_judged(action):
    assert scoped_actions(action) is None


@pytest.mark.parametrize("action,expected", [
    ("*", True), ("s3:*", True), (" S3:* ", True), ("dynamodb:*", True),
    ("s3:Get*", False), ("s3:*Object", False), ("s3:GetObject", False), ("*:*", False),
])
def test_full_wildcards(action, expected):
    assert is_full_wildcard(action) is expected


@pytest.mark.parametrize("value,expected", [
    ("AmazonS3FullAccess", "AmazonS3FullAccess"),
    ("arn:aws:iam::aws:policy/AdministratorAccess", "AdministratorAccess"),
    ("arn:aws-cn:iam::aws:policy/service-role/AWSLambdaRole", "AWSLambdaRole"),
    ("arn:${AWS::Partition}:iam::aws:policy/PowerUserAccess", "PowerUserAccess"),
    ("arn:${data.aws_partition.current.partition}:iam::aws:policy/IAMFullAccess", "IAMFullAccess"),
    ("arn:aws:iam::123456789012:policy/TeamFullAccess", None),
    ("arn:aws:iam::${AWS::AccountId}:policy/TeamFullAccess", None),
    ("arn:aws:iam::aws:policy", None),
    ("arn:aws:iam::aws:policy/${PolicyName}", None),  # an unresolved name is never guessed
])
def test_aws_managed_policy_names(value, expected):
    assert aws_managed_policy_name(value) == expected


def test_action_snapshot_is_imported_lazily():
    # start-up matters (pre-commit runs on every save): importing the rules must not load it
    code = ("import sys, lambdalint.registry as r; r.all_rules(); "
            "print('lambdalint.iac.iam_action_data' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_answers_are_cached_but_not_shared():
    first = scoped_actions("ec2:Describe*")
    first.clear()
    assert "ec2:DescribeInstanceAttribute" in scoped_actions("ec2:Describe*")


def test_rekognition_moderation_on_stock_models_is_star_only():
    """A false positive found on a Serverless fixture: DetectModerationLabels lists an optional
    project-version resource (custom adapters), but the plain call is only allowed on "*"."""
    from lambdalint.iac.iam_actions import scoped_actions

    assert scoped_actions("rekognition:DetectModerationLabels") == []
