"""Regressions from the new-user precision review: each test is the reproduction, with the
exact findings it must give and the tempting cases that must stay quiet."""

from __future__ import annotations

from textwrap import dedent


# -- 1. LL101: clients that must be created per request --------------------------------------

LL101_REVIEW = dedent(
    """\
    import os
    import boto3
    sts = boto3.client("sts")
    REGION = "eu-west-1"
    def handler(event, context):
        creds = sts.assume_role(RoleArn=event["tenant_role_arn"], RoleSessionName=context.aws_request_id)["Credentials"]
        s3 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        regional = boto3.client("ec2", region_name=event["region"])
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"])
        tenant_ddb = session.client("dynamodb")
        endpoint = event.get("endpoint")
        custom = boto3.client("s3", endpoint_url=endpoint)
        fixed = boto3.client("sqs", region_name=REGION)
        env = boto3.client("sns", region_name=os.environ["AWS_REGION"])
        region = os.environ.get("TABLE_REGION", "eu-west-1")
        via_local = boto3.resource("dynamodb", region_name=region)
        plain = boto3.Session(region_name=REGION).client("ssm")
        return {"b": len(s3.list_buckets()["Buckets"]), "v": len(regional.describe_vpcs()["Vpcs"])}
    """
)


def test_ll101_quiet_for_per_request_clients_fires_for_constant_ones(lint):
    findings = lint({"app.py": LL101_REVIEW}, select=["LL101"])
    assert sorted(f.span.line for f in findings) == [14, 15, 17, 18]


# -- 4. LL502: Lambda's standard logging statement -------------------------------------------

LL502_SAM = dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Timeout: 10
          Policies:
            - Statement:
                - Effect: Allow
                  Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]
                  Resource: "*"
                - Effect: Allow
                  Action: [logs:CreateLogStream, logs:DeleteLogGroup]
                  Resource: "*"
                - Effect: Allow
                  Action: logs:Put*
                  Resource: "*"
    """
)

LL502_TF = dedent(
    """\
    data "aws_iam_policy_document" "logging" {
      statement {
        actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["*"]
      }
      statement {
        actions   = ["logs:PutLogEvents", "logs:GetLogEvents"]
        resources = ["*"]
      }
    }
    """
)


def test_ll502_exempts_exactly_the_basic_execution_logging_actions(lint):
    findings = lint({"template.yaml": LL502_SAM, "main.tf": LL502_TF}, select=["LL502", "LL501"])
    got = sorted((f.path.rsplit("/", 1)[-1], f.span.line, f.rule_id) for f in findings)
    assert got == [("main.tf", 8, "LL502"), ("template.yaml", 16, "LL502"), ("template.yaml", 19, "LL502")]
    by_line = {f.span.line: f.message for f in findings if f.path.endswith("template.yaml")}
    assert "logs:DeleteLogGroup" in by_line[16] and "CreateLogStream" not in by_line[16]
