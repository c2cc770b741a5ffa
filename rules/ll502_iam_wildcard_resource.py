"""LL502 iam-wildcard-resource."""

from __future__ import annotations

import logging
from typing import Dict, List, Optional

from lambdalint.iac.iam import concrete_strings, condition_note, iter_allow_statements
from lambdalint.iac.iam_actions import is_full_wildcard, scoped_actions
from lambdalint.rule import Example, TemplateRule

log = logging.getLogger("lambdalint.iac")

#: how a scoped Resource looks, for the hint
ARN_EXAMPLES: Dict[str, str] = {
    "s3": "arn:aws:s3:::my-bucket/*",
    "dynamodb": "the table's ARN (!GetAtt Table.Arn, aws_dynamodb_table.t.arn)",
    "logs": "arn:aws:logs:REGION:ACCOUNT:log-group:/aws/lambda/FUNCTION:*",
    "sqs": "the queue's ARN (!GetAtt Queue.Arn, aws_sqs_queue.q.arn)",
    "sns": "the topic's ARN (!Ref Topic, aws_sns_topic.t.arn)",
    "iam": "the role's ARN (!GetAtt Role.Arn, aws_iam_role.r.arn)",
    "kms": "the key's ARN (!GetAtt Key.Arn, aws_kms_key.k.arn)",
    "secretsmanager": "the secret's ARN (!Ref Secret, aws_secretsmanager_secret.s.arn)",
    "ssm": "arn:aws:ssm:REGION:ACCOUNT:parameter/my-app/*",
    "lambda": "the function's ARN (!GetAtt Fn.Arn, aws_lambda_function.f.arn)",
}


class IamWildcardResource(TemplateRule):
    """An IAM `Allow` statement that grants actions which accept resource ARNs on `Resource: "*"`.

    ## What it does
    Flags `Allow` statements with `Resource: "*"` (alone or in a list) whose actions accept
    resource ARNs, such as `s3:GetObject`, `dynamodb:PutItem`, `iam:PassRole` or
    `logs:GetLogEvents`. Actions that only accept `"*"` are fine there: `xray:PutTraceSegments`,
    `s3:ListAllMyBuckets`, `sts:GetCallerIdentity`, `ec2:DescribeNetworkInterfaces`,
    `kms:CreateKey`... The facts come from the AWS Service Authorization Reference (a snapshot
    in `lambdalint/iac/iam_action_data.py`), plus the network-interface actions of Lambda's VPC
    setup, CloudWatch metric actions and Lambda's own logging (`logs:CreateLogGroup`,
    `logs:CreateLogStream`, `logs:PutLogEvents`), which AWS's own Lambda policies
    (AWSLambdaVPCAccessExecutionRole, AWSLambdaBasicExecutionRole) grant on `"*"`. Only those
    three logs actions are exempt: `logs:DeleteLogGroup`, `logs:GetLogEvents`, or a pattern such
    as `logs:Put*` that also grants `logs:PutRetentionPolicy`, on `"*"` are still flagged (and
    `logs:*` is LL501's).

    A partial wildcard such as `s3:Get*` or `ec2:Describe*` is flagged when it grants at least
    one action that accepts ARNs (`s3:Get*` on `"*"` reads every object in the account, even
    though a few `s3:Get*` actions take no ARN). Requiring *every* matched action to accept
    ARNs would never flag `s3:Get*`. `"*"` and `service:*` are LL501's: LL502 judges a
    statement's other actions, so `Action: "*"` on `Resource: "*"` is one finding, not two.
    Actions of services outside the snapshot, or names it does not know, are not judged.
    A `Condition` does not silence the rule.

    Severity is warning: the statement is over-broad rather than an outright privilege
    escalation (cfn_nag's resource-wildcard rules are warnings too); LL501 is the error.

    ## Why is this bad in Lambda
    The function can then read or change every bucket, table, queue or secret of that kind in
    the account, not only its own. A bug or an injected input in one small function reaches
    other teams' data, and the permission survives long after the code that needed it.

    ## Example
    ```yaml
    Policies:
      - Statement:
          - Effect: Allow
            Action: [s3:GetObject, s3:PutObject]
            Resource: "*"
    ```

    ## Use instead
    ```yaml
    Policies:
      - Statement:
          - Effect: Allow
            Action: [s3:GetObject, s3:PutObject]
            Resource: !Sub "${Reports.Arn}/*"
          - Effect: Allow
            Action: xray:PutTraceSegments   # takes no ARN: "*" is right here
            Resource: "*"
    ```

    ## Fix safety
    No automatic fix: the template does not say which resources the code touches.
    """

    id = "LL502"
    name = "iam-wildcard-resource"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Timeout: 10\n"
            "      Policies:\n"
            "        - Statement:\n"
            "            - Effect: Allow\n"
            "              Action: [s3:GetObject, xray:PutTraceSegments]\n"
            "              Resource: '*'\n"
            "            - Effect: Allow\n"
            "              Action: s3:Get*\n"
            "              Resource:\n"
            "                - !Sub arn:${AWS::Partition}:s3:::reports/*\n"
            "                - '*'\n",
            lines=(13, 18),
            path="template.yaml",
        ),
        Example(
            "AWSTemplateFormatVersion: '2010-09-09'\n"
            "Conditions:\n"
            "  Shared: !Equals [!Ref AWS::StackName, shared]\n"
            "Resources:\n"
            "  Policy:\n"
            "    Type: AWS::IAM::ManagedPolicy\n"
            "    Properties:\n"
            "      PolicyDocument:\n"
            "        Statement:\n"
            "          - Effect: Allow\n"
            "            Action: iam:PassRole\n"
            "            Resource: !If [Shared, '*', !GetAtt Role.Arn]\n"
            "  Role:\n"
            "    Type: AWS::IAM::Role\n",
            lines=(12,),
            path="template.yaml",
        ),
        Example(
            'data "aws_iam_policy_document" "logs" {\n'
            "  statement {\n"
            '    actions   = ["logs:GetLogEvents", "logs:PutLogEvents"]\n'
            '    resources = ["*"]\n'
            "  }\n"
            "}\n",
            lines=(4,),
            path="main.tf",
        ),
        Example(
            "service: orders\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  iamRoleStatements:\n"
            "    - Effect: Allow\n"
            "      Action: [dynamodb:PutItem]\n"
            "      Resource: '*'\n"
            "functions:\n"
            "  api:\n"
            "    handler: app.handler\n"
            "    timeout: 10\n",
            lines=(8,),
            path="serverless.yml",
        ),
    )
    VALID = (
        Example(
            # actions that only accept "*", Lambda's VPC ENI actions, ARN patterns, !Sub ARNs,
            # a Deny on "*", and Action "*" (LL501's finding, not this rule's)
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Timeout: 10\n"
            "      Policies:\n"
            "        - Statement:\n"
            "            - Effect: Allow\n"
            "              Action:\n"
            "                - xray:PutTraceSegments\n"
            "                - xray:PutTelemetryRecords\n"
            "                - s3:ListAllMyBuckets\n"
            "                - sts:GetCallerIdentity\n"
            "                - cloudwatch:PutMetricData\n"
            "                - ec2:DescribeNetworkInterfaces\n"
            "                - ec2:CreateNetworkInterface\n"
            "                - ec2:DeleteNetworkInterface\n"
            "                - logs:CreateLogGroup\n"
            "                - logs:CreateLogStream\n"
            "                - logs:PutLogEvents\n"
            "              Resource: '*'\n"
            "            - Effect: Allow\n"
            "              Action: [s3:GetObject, s3:ListBucket]\n"
            "              Resource:\n"
            "                - arn:aws:s3:::*\n"
            "                - !Sub '${Bucket.Arn}/*'\n"
            "            - Effect: Deny\n"
            "              Action: s3:DeleteObject\n"
            "              Resource: '*'\n"
            "            - Effect: Allow\n"
            "              Action: '*'\n"
            "              Resource: '*'\n"
            "  Bucket:\n"
            "    Type: AWS::S3::Bucket\n",
            path="template.yaml",
        ),
        Example(
            # a service outside the action snapshot is not judged
            'resource "aws_iam_policy" "p" {\n'
            "  policy = jsonencode({\n"
            '    Statement = [{ Effect = "Allow", Action = ["gamelift:CreateFleet"], Resource = "*" }]\n'
            "  })\n"
            "}\n",
            path="main.tf",
        ),
        Example(
            # the standard Lambda logging statement (AWSLambdaBasicExecutionRole's)
            'data "aws_iam_policy_document" "logging" {\n'
            "  statement {\n"
            '    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]\n'
            '    resources = ["*"]\n'
            "  }\n"
            "}\n",
            path="main.tf",
        ),
    )

    def check(self) -> None:
        for _policy, statement, effect_condition in iter_allow_statements(self.template):
            if statement.not_actions:
                continue  # LL501 reports Allow + NotAction
            stars = [
                (located, condition)
                for located, condition in concrete_strings(statement.resources, what="Resource")
                if located.value.strip() == "*"
            ]
            if not stars:
                continue
            written: List[str] = []  # the statement's actions that grant a scopable action
            granted: List[str] = []  # the scopable actions they grant
            wildcard = False
            action_conditions: List[Optional[str]] = []
            for located, condition in concrete_strings(statement.actions, what="Action"):
                action = located.value.strip()
                if is_full_wildcard(action):
                    continue  # LL501's finding
                matched = scoped_actions(action)
                if matched is None:
                    log.debug("LL502: action %r at line %d is not in the IAM action snapshot",
                              action, located.span.line)
                    continue
                if matched:
                    is_pattern = "*" in action or "?" in action
                    wildcard = wildcard or is_pattern
                    written.append(action if is_pattern else matched[0])
                    granted.extend(matched)
                    action_conditions.append(condition)
            if not written:
                continue
            granted = list(dict.fromkeys(granted))
            if wildcard:
                why = (f"{len(granted)} of the actions {'it grants' if len(written) == 1 else 'they grant'} "
                       f"accept resource ARNs (e.g. {min(granted, key=len)})")
            else:
                why = f"{'it accepts' if len(written) == 1 else 'they accept'} resource ARNs"
            services = sorted({action.split(":", 1)[0].lower() for action in granted})
            example = next((ARN_EXAMPLES[s] for s in services if s in ARN_EXAMPLES), None)
            for located, condition in stars:
                self.report(
                    located.span,
                    f'Resource "*" applies {_names(written)} to every resource of the account; {why}'
                    + condition_note(effect_condition, condition, *action_conditions),
                    path=located.path or statement.path,
                    hint="Name the resources the function uses"
                    + (f", e.g. {example}" if example else "")
                    + '; keep "*" only for actions that take no ARN, in their own statement.',
                )


def _names(actions: List[str]) -> str:
    unique = list(dict.fromkeys(actions))
    shown = ", ".join(unique[:3])
    return shown + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")
