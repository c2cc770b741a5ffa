"""LL403 missing-permission."""

from __future__ import annotations

from typing import List

import libcst as cst

from lambdalint.model import Related, Severity
from lambdalint.project import action_allowed, in_main_block
from lambdalint.python.aws_calls import AwsCall, AwsCallResolver
from lambdalint.rule import Example, PythonRule

_TEMPLATE = (
    "Transform: AWS::Serverless-2016-10-31\n"
    "Resources:\n"
    "  Thumbnails:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties:\n"
    "      CodeUri: src/\n"
    "      Handler: app.handler\n"
    "      Runtime: python3.12\n"
    "      Timeout: 30\n"
    "      Policies:\n"
    "        - S3ReadPolicy:\n"
    "            BucketName: !Ref Images\n"
    "        - DynamoDBReadPolicy:\n"
    "            TableName: !Ref Index\n"
    "  Images:\n"
    "    Type: AWS::S3::Bucket\n"
    "  Index:\n"
    "    Type: AWS::DynamoDB::Table\n"
)


#: how a function is granted an action, in each format's words
_HOW = {
    "sam": "a statement or a SAM policy template in the function's Policies",
    "cloudformation": "a statement in the policies of the function's role",
    "serverless": "a statement in `provider.iam.role.statements` (or the function's own role)",
    "terraform": "a statement in a policy attached to the function's role",
}


class MissingPermission(PythonRule):
    """A boto3 call whose IAM action the function's policies do not allow.

    ## What it does
    For handlers that a template names, resolves the boto3 calls they make (directly or in
    functions they call, also functions of the project's other modules that they import and
    call per invocation) to IAM actions — `s3.put_object` is `s3:PutObject`,
    `boto3.resource("dynamodb").Table(t).put_item` is `dynamodb:PutItem` — and compares them
    with the actions that the function's policies allow: inline statements, SAM policy
    templates (`S3ReadPolicy`, `DynamoDBCrudPolicy`, ...) and the AWS managed policies whose
    grants are well known, plus what SAM and Serverless add by themselves (basic execution,
    the poller permissions of SQS/Kinesis/DynamoDB-stream events). It only speaks when every
    policy of the function is fully known (no external role, no unknown managed policy, no
    SAM connector or policy attached to the generated role, no unresolved value), and it
    checks actions, not resources. Clients made with other credentials (an assumed role),
    actions that need no permission (`sts:GetCallerIdentity`) and code under
    `if __name__ == "__main__":` are not checked.

    ## Why is this bad in Lambda
    The call fails with `AccessDenied` only when it runs in the deployed function: local runs
    and tests use the developer's own, broader credentials, so the gap shows up in production.

    ## Example
    ```yaml
    Policies:
      - S3ReadPolicy: {BucketName: !Ref Images}   # the code also calls s3.put_object
    ```

    ## Use instead
    ```yaml
    Policies:
      - S3CrudPolicy: {BucketName: !Ref Images}
    ```

    ## Fix safety
    No automatic fix: which policy (and which resources) the function should have is a
    security decision.
    """

    id = "LL403"
    name = "missing-permission"
    severity = Severity.WARNING

    INVALID = (
        Example(
            "import boto3\n\ns3 = boto3.client('s3')\ntable = boto3.resource('dynamodb').Table('index')\n\n\n"
            "def handler(event, context):\n    body = s3.get_object(Bucket='b', Key='k')['Body'].read()\n"
            "    save(body)\n\n\ndef save(body):\n    s3.put_object(Bucket='b', Key='thumb', Body=body)\n"
            "    table.put_item(Item={'id': 'k'})\n",
            lines=(13, 14),
            path="src/app.py",
            files={"template.yaml": _TEMPLATE},
        ),
    )
    VALID = (
        Example(
            "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef handler(event, context):\n"
            "    s3.get_object(Bucket='b', Key='k')\n    s3.list_objects_v2(Bucket='b')\n"
            "    boto3.resource('dynamodb').Table('index').query(KeyConditionExpression='x')\n"
            "    s3.generate_presigned_url('put_object', Params={})\n    paginator = s3.get_paginator('list_objects_v2')\n",
            path="src/app.py",
            files={"template.yaml": _TEMPLATE},
        ),
        # an unknown managed policy: the permissions are not fully known
        Example(
            "import boto3\n\ndef handler(event, context):\n    boto3.client('s3').put_object(Bucket='b', Key='k', Body=b'')\n",
            path="src/app.py",
            files={"template.yaml": _TEMPLATE.replace(
                "        - DynamoDBReadPolicy:\n            TableName: !Ref Index\n",
                "        - arn:aws:iam::123456789012:policy/team-policy\n",
            )},
        ),
        # wildcards in the policy cover the call; a call no handler reaches is not checked
        Example(
            "import boto3\n\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    sqs.send_message(QueueUrl='q', MessageBody='m')\n\ndef admin():\n    sqs.delete_queue(QueueUrl='q')\n",
            path="src/app.py",
            files={"template.yaml": _TEMPLATE.replace(
                "        - DynamoDBReadPolicy:\n            TableName: !Ref Index\n",
                "        - Statement:\n            - Effect: Allow\n              Action: sqs:Send*\n              Resource: '*'\n",
            )},
        ),
        # no template: nothing to compare with
        Example("import boto3\n\ndef handler(event, context):\n    boto3.client('s3').put_object(Bucket='b', Key='k')\n"),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._calls: List[AwsCall] = []
        self._resolver = AwsCallResolver(self.facts, self.qualified_names)

    def visit_Call(self, node: cst.Call) -> None:
        if not (self.facts.links or self.facts.entries):
            return
        call = self._resolver.call(node, self.current_function)
        if call is not None:
            self._calls.append(call)

    def finish(self) -> None:
        for call in self._calls:
            if call.function is None and in_main_block(self.facts, call.node):
                continue  # `if __name__ == "__main__":` never runs in Lambda
            lacking = [
                link for link in self.facts.links_running(call.function)
                if link.allowed_actions is not None and not action_allowed(call.action, link.allowed_actions)
            ]
            if not lacking:
                continue
            names = ", ".join(f"`{link.logical_id}` ({link.location})" for link in lacking)
            self.report(
                call.node,
                f"`{self.facts.module.code_for_node(call.node.func)}` needs `{call.action}`, which the policies of "
                f"{names} do not allow: AccessDenied at run time",
                hint=f"grant `{call.action}` on the resource it uses: {_HOW.get(lacking[0].template_format, _HOW['cloudformation'])}",
                related=[
                    Related(link.template_path, link.span, f"function `{link.logical_id}` has no `{call.action}`")
                    for link in lacking
                ],
            )
