"""LL501 iam-wildcard-action."""

from __future__ import annotations

from lambdalint.iac.iam import concrete_strings, condition_note, iter_allow_statements
from lambdalint.iac.iam_actions import is_full_wildcard, split_action
from lambdalint.model import Severity
from lambdalint.rule import Example, TemplateRule


class IamWildcardAction(TemplateRule):
    """An IAM `Allow` statement that grants every action, or every action of a service.

    ## What it does
    Flags `Allow` statements whose `Action` is `"*"` or a service-wide wildcard such as
    `"s3:*"` or `"dynamodb:*"`, and `Allow` statements written with `NotAction` (which allow
    every action except the listed ones, including actions AWS adds later). Partial wildcards
    such as `s3:Get*` or `s3:*Object` are not flagged.

    It looks at every policy in the template: SAM function `Policies` statements, inline role
    policies, `AWS::IAM::Policy`/`ManagedPolicy`, Serverless Framework
    `provider.iam.role.statements`/`iamRoleStatements`, and Terraform `aws_iam_*` policies,
    `jsonencode(...)`, heredoc JSON and `aws_iam_policy_document` data sources. A value behind
    `!If` is reported when any branch is a wildcard, naming the condition; `Deny` statements
    and values that cannot be known statically are never reported. Trust policies
    (`AssumeRolePolicyDocument`, `assume_role_policy`) say who may assume a role, not what it
    may do, and are not judged.

    Severity is error: `"*"` makes the function an administrator and `service:*` includes the
    service's delete and permission-management actions (cfn_nag treats these as failures too).

    ## Why is this bad in Lambda
    A function's role is used by every invocation, with input from the outside world. One
    injection bug, vulnerable dependency or leaked environment then acts with every permission
    the role has: `s3:*` lets it delete buckets and rewrite their policies, `"*"` lets it do
    anything in the account. Lambda functions are small and call a handful of APIs; list them.

    ## Example
    ```yaml
    Policies:
      - Statement:
          - Effect: Allow
            Action: "dynamodb:*"
            Resource: !GetAtt Orders.Arn
    ```

    ## Use instead
    ```yaml
    Policies:
      - Statement:
          - Effect: Allow
            Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query]
            Resource: !GetAtt Orders.Arn
    ```

    ## Fix safety
    No automatic fix: only the code knows which actions it calls.
    """

    id = "LL501"
    name = "iam-wildcard-action"
    severity = Severity.ERROR

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
            "              Action: dynamodb:*\n"
            "              Resource: !GetAtt Orders.Arn\n"
            "            - Effect: Allow\n"
            "              Action:\n"
            "                - s3:GetObject\n"
            "                - '*'\n"
            "              Resource: '*'\n"
            "  Orders:\n"
            "    Type: AWS::DynamoDB::Table\n",
            lines=(12, 17),
            path="template.yaml",
        ),
        Example(
            # NotAction in an Allow grants everything else; !If branches are walked
            "AWSTemplateFormatVersion: '2010-09-09'\n"
            "Conditions:\n"
            "  IsDev: !Equals [!Ref AWS::StackName, dev]\n"
            "Resources:\n"
            "  Role:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      AssumeRolePolicyDocument:\n"
            "        Statement:\n"
            "          - Effect: Allow\n"
            "            Principal: {Service: lambda.amazonaws.com}\n"
            "            Action: sts:AssumeRole\n"
            "      Policies:\n"
            "        - PolicyName: app\n"
            "          PolicyDocument:\n"
            "            Statement:\n"
            "              - Effect: Allow\n"
            "                NotAction: iam:*\n"
            "                Resource: '*'\n"
            "              - Effect: Allow\n"
            "                Action: !If [IsDev, 's3:*', 's3:GetObject']\n"
            "                Resource: arn:aws:s3:::reports/*\n",
            lines=(18, 21),
            path="template.yaml",
        ),
        Example(
            'resource "aws_iam_role_policy" "app" {\n'
            '  role = "app"\n'
            "  policy = jsonencode({\n"
            '    Version = "2012-10-17"\n'
            "    Statement = [{\n"
            '      Effect   = "Allow"\n'
            '      Action   = ["sqs:*"]\n'
            '      Resource = "arn:aws:sqs:eu-west-1:123456789012:jobs"\n'
            "    }]\n"
            "  })\n"
            "}\n",
            lines=(7,),
            path="main.tf",
        ),
        Example(
            "service: orders\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  iam:\n"
            "    role:\n"
            "      statements:\n"
            "        - Effect: Allow\n"
            "          Action: '*'\n"
            "          Resource: '*'\n"
            "functions:\n"
            "  api:\n"
            "    handler: app.handler\n"
            "    timeout: 10\n",
            lines=(9,),
            path="serverless.yml",
        ),
    )
    VALID = (
        Example(
            # partial wildcards, a Deny with "*", NotAction in a Deny, an !If whose branches
            # are both scoped
            "AWSTemplateFormatVersion: '2010-09-09'\n"
            "Conditions:\n"
            "  IsDev: !Equals [!Ref AWS::StackName, dev]\n"
            "Resources:\n"
            "  Policy:\n"
            "    Type: AWS::IAM::ManagedPolicy\n"
            "    Properties:\n"
            "      PolicyDocument:\n"
            "        Statement:\n"
            "          - Effect: Allow\n"
            "            Action: [s3:Get*, s3:*Object, 'dynamodb:Batch*']\n"
            "            Resource: !Sub arn:${AWS::Partition}:s3:::reports/*\n"
            "          - Effect: Deny\n"
            "            Action: '*'\n"
            "            Resource: '*'\n"
            "            Condition: {Bool: {aws:SecureTransport: 'false'}}\n"
            "          - Effect: Deny\n"
            "            NotAction: s3:GetObject\n"
            "            Resource: '*'\n"
            "          - Effect: Allow\n"
            "            Action: !If [IsDev, 's3:PutObject', 's3:GetObject']\n"
            "            Resource: arn:aws:s3:::reports/*\n",
            path="template.yaml",
        ),
        Example(
            # a trust policy with a wildcard says who may assume the role, not what it may do
            'resource "aws_iam_role" "app" {\n'
            "  assume_role_policy = jsonencode({\n"
            '    Statement = [{ Effect = "Allow", Action = "*", Principal = { Service = "lambda.amazonaws.com" } }]\n'
            "  })\n"
            "}\n",
            path="main.tf",
        ),
        Example(
            'data "aws_iam_policy_document" "app" {\n'
            "  statement {\n"
            '    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:Get*"]\n'
            "    resources = [aws_sqs_queue.jobs.arn]\n"
            "  }\n"
            "}\n"
            'resource "aws_sqs_queue" "jobs" {}\n',
            path="main.tf",
        ),
    )

    def check(self) -> None:
        for _policy, statement, effect_condition in iter_allow_statements(self.template):
            path = statement.path
            if statement.not_actions:
                excluded = list(concrete_strings(statement.not_actions, what="NotAction"))
                if excluded:
                    located, _ = excluded[0]
                    names = ", ".join(dict.fromkeys(item.value.strip() for item, _ in excluded))
                    self.report(
                        located.span,
                        f"Allow with NotAction grants every action except {names}, including "
                        "actions AWS adds later"
                        + condition_note(effect_condition, *(condition for _, condition in excluded)),
                        path=located.path or path,
                        hint="Use `Action` with the actions the function calls; keep NotAction for Deny statements.",
                    )
            for located, condition in concrete_strings(statement.actions, what="Action"):
                action = located.value.strip()
                if not is_full_wildcard(action):
                    continue
                if action == "*":
                    message = 'Allow statement grants every action in the account ("*")'
                    hint = "List the actions the function calls, e.g. `s3:GetObject`, `sqs:SendMessage`."
                else:
                    service = split_action(action)[0]  # type: ignore[index]
                    message = f"Allow statement grants every {service} action ({action!r})"
                    hint = f"List the {service} actions the function calls instead of `{action}`."
                self.report(
                    located.span,
                    message + condition_note(effect_condition, condition),
                    path=located.path or path,
                    hint=hint,
                )
