"""Questions the function-configuration rules (LL601-LL606) ask of the template model.

Answers are conservative: ``None`` (or an empty result) whenever the template does not say for
sure, so that a rule built on them stays quiet instead of guessing. Each "I cannot know" is
logged at debug level with its reason.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from lambdalint.iac.model import (
    Bucket,
    Conditional,
    Function,
    Interpolated,
    Located,
    Permissions,
    Queue,
    Reference,
    Statement,
    Template,
    Unknown,
    possibilities,
)
from lambdalint.model import Span

log = logging.getLogger("lambdalint.iac")

_INTEGER = re.compile(r"\s*[0-9]+\s*\Z")


def seconds(value: Any) -> Optional[int]:
    """A number of seconds written as an int, a whole float or a numeric string ("600");
    None for anything else (Unknown, a Reference, a bool, text)."""
    if isinstance(value, Located):
        value = value.value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


def branches(item: Located, when: Tuple[str, ...] = ()) -> Iterator[Tuple[Located, str]]:
    """Like :func:`possibilities`, with which way each ``!If`` went: (value, text) where text
    is "" or, for a message, " when `IsProd`" / " when not `IsProd`" (nested ones joined by
    "and"). A branch that is ``AWS::NoValue`` comes out as ``Located(None)``."""
    if isinstance(item.value, Conditional):
        condition = item.value.condition
        for index, branch in enumerate(item.value.branches):
            word = f"`{condition}`" if index == 0 else f"not `{condition}`"
            yield from branches(branch, when + (word,))
    else:
        yield item, (" when " + " and ".join(when)) if when else ""


def describe_unknown(value: Any) -> str:
    if isinstance(value, Located):
        value = value.value
    if isinstance(value, Unknown):
        return value.reason
    return f"not a literal number: {value!r}"


@dataclass(frozen=True)
class TimeoutChoice:
    """One value a function's timeout can take: seconds, where it is written (None: the
    platform default), and the ``!If`` branch that selects it."""

    seconds: int
    located: Optional[Located]
    #: "" or " when `IsProd`" / " when not `IsProd`", ready for a message
    when: str = ""

    @property
    def is_default(self) -> bool:
        return self.located is None


def timeout_choices(function: Function, rule_id: str = "") -> List[TimeoutChoice]:
    """Every known timeout ``function`` may be deployed with; unknown ones are left out (and
    logged), so a rule comparing timeouts only ever compares numbers."""
    if function.timeout is None:
        return [TimeoutChoice(function.default_timeout, None)]
    choices = []
    for located, when in branches(function.timeout):
        if located.value is None:  # !If [Cond, 30, !Ref AWS::NoValue]: the default
            choices.append(TimeoutChoice(function.default_timeout, None, when))
            continue
        value = seconds(located)
        if value is None:
            log.debug(
                "%s: %s: timeout of %s unknown (%s)",
                rule_id, function.path, function.logical_id, describe_unknown(located),
            )
            continue
        choices.append(TimeoutChoice(value, located, when))
    return choices


# -- resources the events point at ----------------------------------------------------------------


def _reference_target(value: Any) -> Optional[str]:
    if isinstance(value, Reference):
        return value.target
    if isinstance(value, dict):  # a long-form intrinsic a loader left as a mapping
        if set(value) == {"Ref"}:
            inner = value["Ref"]
            inner = inner.value if isinstance(inner, Located) else inner
            return inner if isinstance(inner, str) else None
        if set(value) == {"Fn::GetAtt"}:
            inner = value["Fn::GetAtt"]
            inner = inner.value if isinstance(inner, Located) else inner
            if isinstance(inner, str):
                return inner.split(".", 1)[0]
            if isinstance(inner, list) and inner:
                first = inner[0].value if isinstance(inner[0], Located) else inner[0]
                return first if isinstance(first, str) else None
    return None


#: an SQS queue ARN whose last part (the queue's name) is literal text; the region and account
#: may be variables (``arn:aws:sqs:${aws:region}:${aws:accountId}:jobs``)
_ARN_PART = r"(?:\$\{[^}]*\}|[^:$])*"
_QUEUE_ARN = re.compile(rf"arn:(?:aws[\w-]*|{_ARN_PART}):sqs:{_ARN_PART}:{_ARN_PART}:(?P<name>[\w.-]+)")


def find_queue(template: Template, source: Located) -> Optional[Queue]:
    """The queue of the template that an SQS event's ``source`` names, if it names one: by
    reference, or by an ARN string whose queue name is exactly one named queue's."""
    target = _reference_target(source.value)
    if target is not None and target in template.queues:
        return template.queues[target]
    written = source.value.text if isinstance(source.value, Interpolated) else source.value
    match = _QUEUE_ARN.fullmatch(written) if isinstance(written, str) else None
    if match is None:
        return None
    named = [queue for queue in template.queues.values() if queue.name == match.group("name")]
    return named[0] if len(named) == 1 else None


@dataclass(frozen=True)
class BucketIdentity:
    """What a trigger's bucket is known as: its key in ``Template.buckets`` and/or its name."""

    key: Optional[str]
    name: Optional[str]
    bucket: Optional[Bucket] = None

    @property
    def known(self) -> bool:
        return self.key is not None or self.name is not None

    def describe(self, prefer_name: bool = False) -> str:
        """For messages: "bucket `Uploads`" (its name first with ``prefer_name``, e.g. for the
        buckets Serverless generates), or "its trigger bucket" when the template does not say."""
        if not self.known:
            return "its trigger bucket"
        first, second = (self.name, self.key) if prefer_name else (self.key, self.name)
        return f"bucket `{first or second}`"


#: an S3 trigger whose bucket the template does not name statically: only grants on every
#: bucket (``*``, ``arn:aws:s3:::*``, AmazonS3FullAccess...) certainly cover it
UNKNOWN_BUCKET = BucketIdentity(None, None)


def find_bucket(template: Template, source: Located) -> Optional[BucketIdentity]:
    """The bucket an S3 event's ``source`` names: a Reference to a template bucket, or a literal
    bucket name / ARN (matched against template buckets' names when one has it);
    :data:`UNKNOWN_BUCKET` when it is not known statically, None when it is no bucket."""
    value = source.value
    target = _reference_target(value)
    if target is not None:
        bucket = template.buckets.get(target)
        if bucket is None:
            return BucketIdentity(target, None)
        return BucketIdentity(target, _literal_name(bucket), bucket)
    if isinstance(value, str) and value:
        name = value
        if name.startswith("arn:"):
            parts = name.split(":", 5)
            if len(parts) < 6 or parts[2] != "s3":
                return None
            name = parts[5]
        if not name or "/" in name:
            return None
        if "${" in name:
            return UNKNOWN_BUCKET
        for key, bucket in template.buckets.items():
            if _literal_name(bucket) == name:
                return BucketIdentity(key, name, bucket)
        return BucketIdentity(None, name)
    if isinstance(value, Unknown):  # a parameter, an import, an Interpolated name
        return UNKNOWN_BUCKET
    return None


def _literal_name(bucket: Bucket) -> Optional[str]:
    name = bucket.name.value if bucket.name is not None else None
    if isinstance(name, str) and "${" not in name:
        return name
    return None


# -- IAM: can a function write objects into a bucket? ---------------------------------------------

#: the IAM action that creates objects (PUT, POST, copies and multipart uploads all need it), and
#: so fires ``s3:ObjectCreated:*`` notifications. ``s3:CopyObject`` is not a real IAM action but
#: is written by people who mean "copy into the bucket"; it is matched literally only.
OBJECT_WRITE_ACTION = "s3:putobject"
PSEUDO_WRITE_ACTIONS = frozenset({"s3:copyobject"})

#: AWS managed policies that allow s3:PutObject on every bucket (AWSLambdaExecute: on
#: ``arn:aws:s3:::*``; the others through ``s3:*`` or ``*``)
MANAGED_WRITE_POLICIES = frozenset({
    "AdministratorAccess", "PowerUserAccess", "AmazonS3FullAccess", "AWSLambdaExecute",
})

#: SAM policy templates that grant s3:PutObject on ``BucketName``
SAM_WRITE_TEMPLATES = frozenset({"S3CrudPolicy", "S3WritePolicy", "S3FullAccessPolicy"})


def action_writes_objects(action: str) -> bool:
    """Whether an IAM action pattern (``*``, ``s3:*``, ``s3:Put*``, ``s3:PutObject``) covers
    ``s3:PutObject``. Case-insensitive, as IAM is."""
    text = action.strip().lower()
    return text in PSEUDO_WRITE_ACTIONS or fnmatch.fnmatchcase(OBJECT_WRITE_ACTION, text)


_MARK = "\x00"  # stands for "a reference to the bucket" in a rendered ARN
_OTHER = "\x01"  # stands for anything else that is not a literal


def _render(value: Any, bucket: BucketIdentity) -> Optional[str]:
    """A resource value as text, with a reference to ``bucket`` as ``_MARK`` and any other
    non-literal part as ``_OTHER``; None when the value has no text form."""
    if isinstance(value, Located):
        value = value.value
    if isinstance(value, str):
        return _render_interpolations(value, bucket)
    if isinstance(value, Interpolated):
        return _render_interpolations(value.text, bucket)
    target = _reference_target(value)
    if target is not None:
        return _MARK if bucket.key is not None and target == bucket.key else _OTHER
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        argument = argument.value if isinstance(argument, Located) else argument
        if function == "Fn::Sub":
            if isinstance(argument, list) and argument:
                argument = argument[0].value if isinstance(argument[0], Located) else argument[0]
            return _render(argument, bucket) if isinstance(argument, str) else None
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            delimiter = argument[0].value if isinstance(argument[0], Located) else argument[0]
            parts = argument[1].value if isinstance(argument[1], Located) else argument[1]
            if not isinstance(delimiter, str) or not isinstance(parts, list):
                return None
            rendered = [_render(part, bucket) for part in parts]
            if any(part is None for part in rendered):
                return None
            return delimiter.join(rendered)  # type: ignore[arg-type]
    if isinstance(value, (Unknown, Conditional)):
        return None
    return None


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _render_interpolations(text: str, bucket: BucketIdentity) -> str:
    """``${Bucket}``, ``${Bucket.Arn}`` (CloudFormation ``!Sub``) and
    ``${aws_s3_bucket.b.arn}`` (Terraform) -> ``_MARK`` when they name ``bucket``."""

    def replace(match: "re.Match[str]") -> str:
        expression = match.group(1).strip()
        if expression.startswith("!"):  # ${!Literal} is an escaped literal in !Sub
            return "${" + expression[1:] + "}"
        key = bucket.key
        if key is not None and (expression == key or expression.startswith(key + ".")):
            return _MARK
        return _OTHER

    return _PLACEHOLDER.sub(replace, text)


def _split_s3_resource(rendered: str) -> Optional[Tuple[str, str]]:
    """(bucket segment, rest) of a rendered S3 resource: ``arn:aws:s3:::B/key/*`` ->
    (``B``, ``/key/*``); ``${B.Arn}/*`` -> (``_MARK``, ``/*``); None when it is not one."""
    if rendered.startswith(_MARK):  # ``${aws_s3_bucket.b.arn}/*``: the reference is the ARN
        return _MARK, rendered[len(_MARK):]
    parts = rendered.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] in ("s3", "*"):
        bucket, slash, key = parts[5].partition("/")
        return bucket, slash + key
    return None


def resource_covers_bucket(resource: Located, bucket: BucketIdentity) -> bool:
    """Whether an IAM ``Resource`` entry certainly includes objects of ``bucket``.

    ``s3:PutObject`` is authorized on object ARNs (``arn:aws:s3:::B/key``): the bucket's own
    ARN (``!GetAtt B.Arn`` alone, ``arn:aws:s3:::B``) grants no object write, while ``B/*``,
    ``B/out/*``, ``arn:aws:s3:::*`` and ``arn:aws:s3:::acme-*`` (IAM's ``*`` also matches
    ``/``) do."""
    rendered = _render(resource, bucket)
    if rendered is None:
        return False
    if rendered == "*":
        return True
    split = _split_s3_resource(rendered)
    if split is None:
        return False
    segment, rest = split
    if segment == _MARK:
        return rest.startswith("/")
    if _MARK in segment or _OTHER in segment:
        return False  # e.g. ``${Bucket}-logs``: another bucket
    if rest.startswith("/"):
        if segment == "*":
            return True
        return bucket.name is not None and fnmatch.fnmatchcase(bucket.name, segment)
    # no key part: only a wildcard in the bucket segment reaches into the objects
    if "*" not in segment:
        return False
    return segment == "*" or (
        bucket.name is not None and fnmatch.fnmatchcase(bucket.name + "/key", segment)
    )


@dataclass(frozen=True)
class WriteGrant:
    """Where a function is allowed to write into a bucket."""

    span: Span
    path: str
    what: str  # for the message: "s3:PutObject on arn:...", "S3CrudPolicy"


def function_permissions(template: Template, function: Function) -> List[Permissions]:
    """The function's own permissions plus those of its role when the role is in the template."""
    found = [function.permissions]
    if function.role is not None:
        for located, _ in possibilities(function.role):
            target = _reference_target(located.value)
            role = template.roles.get(target) if target is not None else None
            if role is not None and role.permissions is not function.permissions:
                found.append(role.permissions)
    return found


def _statement_writes(statement: Statement) -> Optional[Located]:
    """The action entry that lets an Allow statement write objects, if any."""
    for action in statement.actions:
        for located, _ in possibilities(action):
            if isinstance(located.value, str) and action_writes_objects(located.value):
                return located
    if statement.not_actions and statement.complete:
        excluded = [
            located.value
            for action in statement.not_actions
            for located, _ in possibilities(action)
        ]
        if all(isinstance(value, str) for value in excluded) and not any(
            action_writes_objects(value) for value in excluded
        ):
            return statement.not_actions[0]
    return None


def _statement_resource(statement: Statement, bucket: BucketIdentity) -> Optional[Located]:
    for resource in statement.resources:
        for located, _ in possibilities(resource):
            if resource_covers_bucket(located, bucket):
                return located
    return None


def write_grants(
    template: Template, function: Function, bucket: BucketIdentity
) -> List[WriteGrant]:
    """Every place that certainly lets ``function`` put objects into ``bucket``. Statements
    with a ``Condition`` are left out (the condition may exclude the writes), and a matching
    ``Deny`` statement cancels all grants."""
    grants: List[WriteGrant] = []
    denied = False
    for permissions in function_permissions(template, function):
        for policy in permissions.policies:
            for statement in policy.statements:
                if statement.effect.value not in ("Allow", "Deny"):
                    continue
                action = _statement_writes(statement)
                if action is None or statement.not_resources:
                    continue
                resource = _statement_resource(statement, bucket)
                if resource is None:
                    continue
                if not statement.is_allow:
                    if not statement.has_condition:
                        denied = True
                    continue
                if statement.has_condition:
                    continue
                grants.append(
                    WriteGrant(
                        resource.span,
                        resource.path or statement.path or policy.path,
                        f"{_text(action)} on {_text(resource)}",
                    )
                )
        for managed in permissions.managed_policies:
            for located, _ in possibilities(managed):
                name = _managed_policy_name(located.value)
                if name in MANAGED_WRITE_POLICIES:
                    grants.append(WriteGrant(located.span, located.path, f"managed policy {name}"))
        for policy_template in permissions.policy_templates:
            if policy_template.name not in SAM_WRITE_TEMPLATES:
                continue
            parameter = policy_template.parameters.get("BucketName")
            if parameter is None:
                continue
            for located, _ in possibilities(parameter):
                if _names_bucket(located, bucket):
                    grants.append(
                        WriteGrant(
                            located.span,
                            located.path or policy_template.path,
                            f"{policy_template.name} for {_text(located)}",
                        )
                    )
                    break
    if denied:
        return []
    return list(unique(grants, key=lambda grant: (grant.path, grant.span)))


def _managed_policy_name(value: Any) -> Optional[str]:
    """``AmazonS3FullAccess`` from a SAM policy name, an AWS managed policy ARN, or a
    ``!Sub arn:${AWS::Partition}:iam::aws:policy/...``; None for customer policies."""
    text = value.text if isinstance(value, Interpolated) else value
    if not isinstance(text, str):
        return None
    if ":iam::aws:policy/" in text:
        return text.rsplit("/", 1)[-1]
    return text if ":" not in text and "/" not in text else None


def _names_bucket(located: Located, bucket: BucketIdentity) -> bool:
    """A SAM ``BucketName`` parameter that names ``bucket`` (``*`` names every bucket)."""
    rendered = _render(located, bucket)
    if rendered is None:
        return False
    if rendered in (_MARK, "*"):
        return True
    if _MARK in rendered or _OTHER in rendered:
        return False
    return bucket.name is not None and fnmatch.fnmatchcase(bucket.name, rendered)


def _text(located: Located) -> str:
    value = located.value
    if isinstance(value, str):
        return value
    if isinstance(value, Reference):
        return value.target + (f".{value.attribute}" if value.attribute else "")
    if isinstance(value, Interpolated) and value.text:
        return value.text
    return "a computed value"


def unique(items: Iterable[Any], key) -> Iterator[Any]:
    seen = set()
    for item in items:
        marker = key(item)
        if marker not in seen:
            seen.add(marker)
            yield item


__all__ = [
    "BucketIdentity",
    "UNKNOWN_BUCKET",
    "TimeoutChoice",
    "WriteGrant",
    "action_writes_objects",
    "find_bucket",
    "find_queue",
    "function_permissions",
    "resource_covers_bucket",
    "seconds",
    "timeout_choices",
    "write_grants",
    "unique",
]
