"""LL503 iam-broad-managed-policy."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from lambdalint.iac.iam import (
    aws_managed_policy_name,
    concrete_strings,
    condition_note,
    function_roles,
    text_of,
)
from lambdalint.model import Severity, Span
from lambdalint.rule import Example, TemplateRule

#: AWS managed policies that grant (almost) everything, or everything of a service
_ADMIN = {"AdministratorAccess": "every action in the account",
          "PowerUserAccess": "every action except IAM and Organizations administration",
          "IAMFullAccess": "every IAM action, so it can grant itself anything"}
_FULL_ACCESS = re.compile(r"FullAccess(?:_?[vV]\d+)?$")


def broad_policy(name: str) -> Optional[str]:
    """What the AWS managed policy ``name`` grants when it is one LL503 flags, else None."""
    if name in _ADMIN:
        return _ADMIN[name]
    if name.startswith("AdministratorAccess-"):
        return "administrator access to a whole service"
    if _FULL_ACCESS.search(name):
        return "every action of its service on every resource"
    return None


class IamBroadManagedPolicy(TemplateRule):
    """A broad AWS managed policy (AdministratorAccess, PowerUserAccess, `*FullAccess`) on a function's role.

    ## What it does
    Flags `AdministratorAccess`, `PowerUserAccess`, `IAMFullAccess` and every `*FullAccess` AWS
    managed policy (`AmazonS3FullAccess`, `AmazonDynamoDBFullAccess`, `AWSLambda_FullAccess`...)
    attached to a Lambda function's role: SAM `Policies` by name or ARN, `ManagedPolicyArns` of
    the role a function names, `managed_policy_arns` and `aws_iam_role_policy_attachment` in
    Terraform, in any partition (`arn:aws:`, `arn:${AWS::Partition}:`, `arn:aws-cn:`). Roles not
    used by Lambda (EC2 instance roles, CI roles, users and groups) are out of scope:
    administrators legitimately hold such policies.

    Severity is error: these policies grant what LL501 flags in a statement (`"*"`, `s3:*`)
    and more, on every resource.

    ## Why is this bad in Lambda
    Every invocation runs with the role's permissions and with input from outside. A managed
    `FullAccess` policy lets one bug or injected payload delete every table or bucket of the
    service, in every stack of the account; `AdministratorAccess` and `IAMFullAccess` let it
    take over the account. A function needs a few actions on a few resources.

    ## Example
    ```yaml
    Fn:
      Type: AWS::Serverless::Function
      Properties:
        Policies:
          - AmazonDynamoDBFullAccess
    ```

    ## Use instead
    ```yaml
    Fn:
      Type: AWS::Serverless::Function
      Properties:
        Policies:
          - DynamoDBCrudPolicy:
              TableName: !Ref Orders
    ```

    ## Fix safety
    No automatic fix: only the code knows which actions and resources it needs.
    """

    id = "LL503"
    name = "iam-broad-managed-policy"
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
            "        - AWSLambdaBasicExecutionRole\n"
            "        - AmazonS3FullAccess\n"
            "        - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess\n",
            lines=(11, 12),
            path="template.yaml",
        ),
        Example(
            'resource "aws_iam_role" "fn" {\n'
            "  assume_role_policy = jsonencode({\n"
            '    Version = "2012-10-17"\n'
            "    Statement = [{\n"
            '      Effect = "Allow", Action = "sts:AssumeRole"\n'
            '      Principal = { Service = "lambda.amazonaws.com" }\n'
            "    }]\n"
            "  })\n"
            "}\n"
            'resource "aws_iam_role_policy_attachment" "ddb" {\n'
            "  role       = aws_iam_role.fn.name\n"
            '  policy_arn = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"\n'
            "}\n"
            'resource "aws_lambda_function" "fn" {\n'
            '  function_name = "fn"\n'
            "  role          = aws_iam_role.fn.arn\n"
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "fn.zip"\n'
            "  timeout       = 10\n"
            "}\n",
            lines=(12,),
            path="main.tf",
        ),
        Example(
            "service: billing\n"
            "provider:\n"
            "  name: aws\n"
            "  runtime: python3.12\n"
            "  timeout: 10\n"
            "  iam:\n"
            "    role:\n"
            "      managedPolicies:\n"
            "        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\n"
            "        - arn:aws:iam::aws:policy/AWSLambda_FullAccess\n"
            "functions:\n"
            "  invoice:\n"
            "    handler: billing/invoice.handler\n"
            "  refund:\n"
            "    handler: billing/refund.handler\n",
            lines=(10,),
            path="serverless.yml",
        ),
    )
    VALID = (
        Example(
            # Terraform: a customer managed policy that is merely *named* AdministratorAccess
            # (the account's own, not AWS's), beside the basic execution role
            'resource "aws_iam_role" "fn" {\n'
            '  name               = "fn"\n'
            '  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })\n'
            "}\n"
            'resource "aws_iam_role_policy_attachment" "logs" {\n'
            "  role       = aws_iam_role.fn.name\n"
            '  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"\n'
            "}\n"
            'resource "aws_iam_role_policy_attachment" "team" {\n'
            "  role       = aws_iam_role.fn.name\n"
            '  policy_arn = "arn:aws:iam::123456789012:policy/AdministratorAccess"\n'
            "}\n"
            'resource "aws_lambda_function" "fn" {\n'
            '  function_name = "fn"\n'
            "  role          = aws_iam_role.fn.arn\n"
            '  handler       = "app.handler"\n'
            '  runtime       = "python3.12"\n'
            '  filename      = "fn.zip"\n'
            "  timeout       = 10\n"
            "}\n",
            path="main.tf",
        ),
        Example(
            # narrow managed policies, a read-only one, a customer managed policy whose name
            # ends in FullAccess, and AdministratorAccess on a role no function uses
            "Transform: AWS::Serverless-2016-10-31\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Timeout: 10\n"
            "      Policies:\n"
            "        - AWSLambdaBasicExecutionRole\n"
            "        - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\n"
            "        - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/TeamFullAccess\n"
            "  DeployRole:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      AssumeRolePolicyDocument:\n"
            "        Statement:\n"
            "          - Effect: Allow\n"
            "            Principal: {Service: cloudformation.amazonaws.com}\n"
            "            Action: sts:AssumeRole\n"
            "      ManagedPolicyArns:\n"
            "        - arn:aws:iam::aws:policy/AdministratorAccess\n",
            path="template.yaml",
        ),
    )

    def check(self) -> None:
        # one finding per attachment, naming every function that gets it (a Serverless
        # provider role or a role shared by several functions is reached once per function)
        found: Dict[Tuple[str, Span], List] = {}
        for owner, permissions, label in function_roles(self.template):
            for located, condition in concrete_strings(
                permissions.managed_policies, what="managed policy", interpolated=True
            ):
                # !Sub arn:${AWS::Partition}:iam::aws:policy/X is partly unknown, but the
                # policy's name is literal; an unknown part in the name never matches
                name = aws_managed_policy_name(text_of(located))
                grants = broad_policy(name) if name else None
                if grants is None:
                    continue
                path = located.path or owner.path
                entry = found.setdefault((path, located.span), [located, name, grants, condition, []])
                if label not in entry[4]:
                    entry[4].append(label)
        for (path, span), (located, name, grants, condition, labels) in found.items():
            self.report(
                span,
                f"AWS managed policy {name} on {_join(labels)} grants {grants}" + condition_note(condition),
                path=path,
                hint="Replace it with statements (or SAM policy templates) for the actions and "
                "resources the function uses.",
            )


def _join(labels: List[str]) -> str:
    if len(labels) > 1 and all(label.startswith("function ") for label in labels):
        names = [label[len("function "):] for label in labels]
        return "functions " + ", ".join(names[:-1]) + " and " + names[-1]
    return "; ".join(labels)
