"""Which AWS API a boto3 call makes, and the IAM action it needs.

``s3 = boto3.client("s3"); s3.put_object(...)`` is ``s3:PutObject``;
``boto3.resource("dynamodb").Table(name).put_item(...)`` is ``dynamodb:PutItem``. Only calls
whose client is made in the same module (at module scope or in the function) are resolved, and
only actions that the IAM action snapshot knows are returned: an unusual method yields nothing
rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional, Set, Tuple

import libcst as cst

from lambdalint.python.analysis import FunctionInfo, ModuleFacts
from lambdalint.python.sdk import BOTO3_FACTORIES

CLIENT_FACTORIES = frozenset(n for n, kind in BOTO3_FACTORIES.items() if kind == "client" and n.startswith("boto3."))
RESOURCE_FACTORIES = frozenset(n for n, kind in BOTO3_FACTORIES.items() if kind == "resource")

#: boto3 service name -> IAM service prefix, where they differ
IAM_PREFIX = {
    "stepfunctions": "states",
    "sesv2": "ses",
    "dynamodbstreams": "dynamodb",
    "elbv2": "elasticloadbalancing",
    "cognito-idp": "cognito-idp",
}

#: (service, method) -> IAM action name, where it is not the method in PascalCase
METHOD_ACTIONS = {
    ("s3", "list_objects"): "ListBucket",
    ("s3", "list_objects_v2"): "ListBucket",
    ("s3", "list_object_versions"): "ListBucketVersions",
    ("s3", "head_object"): "GetObject",
    ("s3", "head_bucket"): "ListBucket",
    ("s3", "copy_object"): "PutObject",
    ("s3", "copy"): "PutObject",
    ("s3", "delete_objects"): "DeleteObject",
    ("s3", "upload_file"): "PutObject",
    ("s3", "upload_fileobj"): "PutObject",
    ("s3", "download_file"): "GetObject",
    ("s3", "download_fileobj"): "GetObject",
    ("lambda", "invoke"): "InvokeFunction",
    ("sns", "publish_batch"): "Publish",
    ("sqs", "send_message_batch"): "SendMessage",
    ("sqs", "delete_message_batch"): "DeleteMessage",
    ("sqs", "change_message_visibility_batch"): "ChangeMessageVisibility",
    ("dynamodb", "batch_writer"): "BatchWriteItem",
}

#: actions that IAM never denies: they need no permission at all
NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity"})

#: client methods that make no API call
LOCAL_METHODS = frozenset(
    {"get_paginator", "get_waiter", "can_paginate", "close", "generate_presigned_url",
     "generate_presigned_post", "exceptions", "meta", "Table", "Bucket", "Object", "Queue", "Topic"}
)

#: resource sub-objects: (service, factory method) -> the kind of handle it returns
RESOURCE_HANDLES = {("dynamodb", "Table"): "table", ("s3", "Bucket"): "bucket", ("s3", "Object"): "object"}

#: methods of resource handles that call an API: (service, handle) -> method -> action
HANDLE_ACTIONS = {
    ("dynamodb", "table"): {
        "put_item": "PutItem", "get_item": "GetItem", "update_item": "UpdateItem",
        "delete_item": "DeleteItem", "query": "Query", "scan": "Scan", "batch_writer": "BatchWriteItem",
    },
    ("s3", "bucket"): {"put_object": "PutObject", "upload_file": "PutObject", "upload_fileobj": "PutObject",
                       "download_file": "GetObject", "download_fileobj": "GetObject", "delete_objects": "DeleteObject"},
    ("s3", "object"): {"put": "PutObject", "get": "GetObject", "delete": "DeleteObject",
                       "upload_file": "PutObject", "download_file": "GetObject", "copy_from": "PutObject"},
}


@dataclass(frozen=True)
class AwsCall:
    service: str  # boto3's name
    method: str
    action: str  # "s3:PutObject"
    node: cst.Call
    function: Optional[FunctionInfo]


def _pascal(method: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in method.split("_"))


#: factory arguments that give the client someone else's credentials (an assumed role)
_CREDENTIAL_ARGUMENTS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})


def _own_credentials(node: cst.Call) -> bool:
    """Whether the client runs as the function's role: not when it is given credentials
    (``aws_session_token=...`` after ``sts.assume_role``) or arguments we cannot see (``**kw``)."""
    for arg in node.args:
        if arg.star == "**" or (arg.keyword is not None and arg.keyword.value in _CREDENTIAL_ARGUMENTS):
            return False
    return True


def _literal(node: cst.Call) -> Optional[str]:
    for arg in node.args:
        if arg.keyword is None or arg.keyword.value == "service_name":
            if isinstance(arg.value, cst.SimpleString):
                value = arg.value.evaluated_value
                return value if isinstance(value, str) else None
            return None
    return None


@lru_cache(maxsize=None)
def _known_action(prefix: str, name: str) -> bool:
    from lambdalint.iac.iam_action_data import ACTIONS

    lists = ACTIONS.get(prefix)
    if lists is None:
        return False
    pattern = re.compile(rf"(?:^| ){re.escape(name)}(?: |$)")
    return any(pattern.search(listed) for listed in lists)


class AwsCallResolver:
    """Resolves what a receiver expression is: a boto3 client, resource, or resource handle."""

    def __init__(self, facts: ModuleFacts, qualified: Callable[[cst.CSTNode], Set[str]]) -> None:
        self.facts = facts
        self.qualified = qualified

    def handle(self, expression: cst.BaseExpression, function: Optional[FunctionInfo], depth: int = 0) -> Optional[Tuple[str, str]]:
        """``(service, kind)`` for a client/resource/handle expression, kind being ``client``,
        ``resource``, ``table``, ``bucket`` or ``object``."""
        if depth > 4:
            return None
        if isinstance(expression, cst.Name):
            local = function is not None and expression.value in function.call_sites
            site = self.facts.call_site(expression.value, function)
            return self.handle(site, function if local else None, depth + 1) if site is not None else None
        if not isinstance(expression, cst.Call):
            return None
        names = self.qualified(expression.func)
        if names & (CLIENT_FACTORIES | RESOURCE_FACTORIES) and not _own_credentials(expression):
            return None  # another principal's permissions: not the function's to check
        if names & CLIENT_FACTORIES:
            service = _literal(expression)
            return (service, "client") if service else None
        if names & RESOURCE_FACTORIES:
            service = _literal(expression)
            return (service, "resource") if service else None
        func = expression.func
        if isinstance(func, cst.Attribute):
            owner = self.handle(func.value, function, depth + 1)
            if owner is not None and owner[1] == "resource":
                kind = RESOURCE_HANDLES.get((owner[0], func.attr.value))
                if kind is not None:
                    return owner[0], kind
        return None

    def call(self, node: cst.Call, function: Optional[FunctionInfo]) -> Optional[AwsCall]:
        """The AWS call ``node`` makes, when its receiver is resolved and its action known."""
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in LOCAL_METHODS or method.startswith("_"):
            return None
        owner = self.handle(func.value, function)
        if owner is None:
            return None
        service, kind = owner
        prefix = IAM_PREFIX.get(service, service)
        if kind == "client":
            action = METHOD_ACTIONS.get((service, method)) or _pascal(method)
        else:
            action = HANDLE_ACTIONS.get((service, kind), {}).get(method)
            if action is None:
                return None
        if not _known_action(prefix, action) or f"{prefix}:{action}" in NO_PERMISSION_NEEDED:
            return None
        return AwsCall(service, method, f"{prefix}:{action}", node, function)
