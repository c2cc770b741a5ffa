"""LL504 sam-policy-template-wildcard."""

from __future__ import annotations

from lambdalint.iac.iam import concrete_strings, condition_note
from lambdalint.rule import Example, TemplateRule


class SamPolicyTemplateWildcard(TemplateRule):
    """A SAM policy template given `'*'` for the resource it is meant to scope.

    ## What it does
    Flags SAM policy templates whose parameter is `'*'`, such as
    `S3CrudPolicy: {BucketName: '*'}`, `DynamoDBCrudPolicy: {TableName: '*'}` or
    `SQSSendMessagePolicy: {QueueName: '*'}`, at the parameter's line. A value behind `!If` is
    reported when a branch is `'*'`, naming the condition; `!Ref`s and unknown parameters are
    not.

    Severity is warning, like LL502: the template grants its actions on every resource of
    the kind.

    ## Why is this bad in Lambda
    SAM substitutes the parameter into the resource ARNs of the policy it generates, so `'*'`
    turns a template meant for one bucket or table into CRUD on every bucket or table of the
    account. The policy looks narrow in review while granting what LL502 flags in a
    hand-written statement.

    ## Example
    ```yaml
    Policies:
      - DynamoDBCrudPolicy:
          TableName: "*"
    ```

    ## Use instead
    ```yaml
    Policies:
      - DynamoDBCrudPolicy:
          TableName: !Ref Orders
    ```

    ## Fix safety
    No automatic fix: the template does not say which resource the function means.
    """

    id = "LL504"
    name = "sam-policy-template-wildcard"

    INVALID = (
        Example(
            "Transform: AWS::Serverless-2016-10-31\n"
            "Conditions:\n"
            "  Shared: !Equals [!Ref AWS::StackName, shared]\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Timeout: 10\n"
            "      Policies:\n"
            "        - S3CrudPolicy:\n"
            "            BucketName: '*'\n"
            "        - DynamoDBCrudPolicy: {TableName: '*'}\n"
            "        - SQSSendMessagePolicy:\n"
            "            QueueName: !If [Shared, '*', !GetAtt Jobs.QueueName]\n"
            "  Jobs:\n"
            "    Type: AWS::SQS::Queue\n",
            lines=(13, 14, 16),
            path="template.yaml",
        ),
    )
    VALID = (
        Example(
            # references, a literal name, a parameter with no default, and a template that
            # takes no parameter
            "Transform: AWS::Serverless-2016-10-31\n"
            "Parameters:\n"
            "  TableName:\n"
            "    Type: String\n"
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            "      Handler: app.handler\n"
            "      Runtime: python3.12\n"
            "      Timeout: 10\n"
            "      Policies:\n"
            "        - S3ReadPolicy:\n"
            "            BucketName: !Ref Bucket\n"
            "        - S3WritePolicy:\n"
            "            BucketName: reports-prod\n"
            "        - DynamoDBReadPolicy:\n"
            "            TableName: !Ref TableName\n"
            "        - CloudWatchPutMetricPolicy: {}\n"
            "  Bucket:\n"
            "    Type: AWS::S3::Bucket\n",
            path="template.yaml",
        ),
    )

    def check(self) -> None:
        seen = set()
        for function in self.template.functions:
            for policy_template in function.permissions.policy_templates:
                # SAM Globals policies are merged into every function: report each source once
                key = (policy_template.path or function.path, policy_template.span)
                if key in seen:
                    continue
                seen.add(key)
                for parameter, value in sorted(policy_template.parameters.items()):
                    for located, condition in concrete_strings([value], what=f"{policy_template.name}.{parameter}"):
                        if located.value.strip() != "*":
                            continue
                        self.report(
                            located.span,
                            f"{policy_template.name} with {parameter} '*' grants its actions on every "
                            f"resource of the kind, not one" + condition_note(condition),
                            path=located.path or policy_template.path or function.path,
                            hint=f"Give {parameter} the one resource the function uses, e.g. `!Ref` to it.",
                        )
