"""The one normalized model of deployment templates.

SAM/CloudFormation (YAML and JSON), Serverless Framework and Terraform loaders all produce a
:class:`Template`; template rules are written once, against these classes. Every value keeps
the span of the source text it came from, so a finding points at the exact ``Action`` or
``Timeout`` line.

Values that cannot be known statically (a parameter without a default, ``!ImportValue``, a
Terraform variable without a default, an unresolved ``${...}``) are :class:`Unknown`; rules never
report on an unknown. ``!If`` becomes :class:`Conditional`, whose branches rules walk with
:func:`possibilities` so that a finding in any branch is reported with the condition's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from lambdalint.model import Span


@dataclass(frozen=True)
class Unknown:
    """A value that static analysis cannot know; ``reason`` is for debug logs."""

    reason: str


@dataclass(frozen=True)
class Interpolated(Unknown):
    """A string built from parts that are not all known, e.g. ``!Sub "${Bucket.Arn}/*"``,
    ``!Join ["", [!GetAtt Bucket.Arn, "/*"]]`` or Terraform ``"${aws_s3_bucket.b.arn}/*"``.

    It *is* an :class:`Unknown` (rules never report on its text), but it says which resources
    it names: ``text`` is the string with every non-literal part written ``${...}`` (a
    reference as ``${Target}`` / ``${Target.Attribute}``, anything else as written, e.g.
    ``${AWS::Region}``), and ``references`` lists the :class:`Reference` values it contains.
    """

    text: str = ""
    references: Tuple["Reference", ...] = ()


@dataclass(frozen=True)
class Reference:
    """A reference to another resource of the same template or module.

    CloudFormation ``!Ref Bucket`` -> ``Reference("Bucket")``; ``!GetAtt Queue.Arn`` ->
    ``Reference("Queue", "Arn")``; Terraform ``aws_s3_bucket.uploads.arn`` ->
    ``Reference("aws_s3_bucket.uploads", "arn")``.
    """

    target: str
    attribute: Optional[str] = None


@dataclass(frozen=True)
class Located:
    """A value and where it is written. ``value`` is a str, int, float, bool, None, a
    :class:`Reference`, :class:`Unknown`, :class:`Conditional`, a list of :class:`Located` or a
    dict of str -> :class:`Located`."""

    value: Any
    span: Span
    #: the file, when it is not the template's own (Terraform modules span several files)
    path: str = ""


@dataclass(frozen=True)
class Conditional:
    """``!If [Condition, a, b]``: either branch may be deployed."""

    condition: str
    branches: Tuple[Located, ...]


def possibilities(item: Located, condition: Optional[str] = None) -> Iterator[Tuple[Located, Optional[str]]]:
    """Every concrete value ``item`` can take, with the condition that selects it (or None)."""
    if isinstance(item.value, Conditional):
        for branch in item.value.branches:
            yield from possibilities(branch, item.value.condition)
    else:
        yield item, condition


@dataclass
class Statement:
    """One IAM policy statement. ``actions``/``resources`` hold one :class:`Located` per entry."""

    span: Span
    effect: Located
    actions: List[Located] = field(default_factory=list)
    not_actions: List[Located] = field(default_factory=list)
    resources: List[Located] = field(default_factory=list)
    not_resources: List[Located] = field(default_factory=list)
    has_condition: bool = False
    #: whether the statement could be read completely (no Unknown list, no unsupported form)
    complete: bool = True
    path: str = ""  # the file, when not the template's own

    @property
    def is_allow(self) -> bool:
        return self.effect.value == "Allow"


@dataclass
class Policy:
    """An IAM policy document: inline in a role or function, or a standalone resource."""

    name: str
    span: Span
    path: str = ""  # the file, when not the template's own
    statements: List[Statement] = field(default_factory=list)
    #: False when part of the document is Unknown (a rule like LL403 then stays quiet)
    complete: bool = True


@dataclass
class PolicyTemplate:
    """A SAM policy template, e.g. ``S3CrudPolicy: {BucketName: !Ref Uploads}``."""

    name: str
    span: Span
    path: str = ""  # the file, when not the template's own
    parameters: Dict[str, Located] = field(default_factory=dict)


@dataclass
class Permissions:
    """Everything that grants a principal (a function's role, or a role in general) access."""

    policies: List[Policy] = field(default_factory=list)
    managed_policies: List[Located] = field(default_factory=list)  # names or ARNs
    policy_templates: List[PolicyTemplate] = field(default_factory=list)
    #: False when the role is external (an ARN, a parameter) or otherwise not fully known
    complete: bool = True


@dataclass
class Role:
    """An ``AWS::IAM::Role`` / ``aws_iam_role`` with what is attached to it in the template."""

    logical_id: str
    span: Span
    path: str = ""  # the file, when not the template's own
    permissions: Permissions = field(default_factory=Permissions)
    #: the services its trust policy names, e.g. {"lambda.amazonaws.com"}
    trusted_services: Set[str] = field(default_factory=set)


EVENT_KINDS = (
    "api",  # API Gateway REST (SAM Api, Serverless http, integrations)
    "http-api",  # API Gateway HTTP API
    "websocket",  # API Gateway WebSocket API (a route's integration)
    "function-url",
    "s3",
    "sqs",
    "sns",
    "kinesis",
    "dynamodb",
    "msk",
    "mq",
    "kafka",
    "eventbridge",
    "schedule",
    "cloudwatch-logs",
    "iot",
    "cognito",
    "alexa",
    "other",
)

#: invoked synchronously by a caller waiting for the answer
SYNCHRONOUS_KINDS = frozenset({"api", "http-api", "websocket", "function-url", "cognito", "alexa"})
#: invoked asynchronously by the service (retried by Lambda, failures go to a DLQ/destination)
ASYNC_KINDS = frozenset({"s3", "sns", "eventbridge", "schedule", "cloudwatch-logs", "iot"})
#: polled by an event source mapping (the batch is retried until it succeeds or expires)
POLLED_KINDS = frozenset({"sqs", "kinesis", "dynamodb", "msk", "mq", "kafka"})


@dataclass
class EventSource:
    """Something that invokes a function."""

    kind: str  # one of EVENT_KINDS
    name: str  # the event's key (SAM), index (Serverless) or resource address (Terraform)
    span: Span
    path: str = ""  # the file, when not the template's own
    #: the bucket, queue, topic or stream: a Reference, a literal ARN/name, or Unknown
    source: Optional[Located] = None
    #: S3 key filters
    prefix: Optional[Located] = None
    suffix: Optional[Located] = None
    #: the API Gateway integration timeout in seconds, when the template sets one
    integration_timeout: Optional[Located] = None
    #: S3 event types (``s3:ObjectCreated:*``...): a string or a list of them; None: the default
    s3_events: Optional[Located] = None

    @property
    def fires_on_new_objects(self) -> bool:
        """Whether an object written to the bucket can fire this S3 trigger (True unless every
        event type is known and none is an ObjectCreated one, e.g. ``s3:ObjectRemoved:*``)."""
        if self.s3_events is None:
            return True
        items = self.s3_events.value if isinstance(self.s3_events.value, list) else [self.s3_events]
        names = []
        for item in items:
            for value, _ in possibilities(item):
                if not isinstance(value.value, str):
                    return True
                names.append(value.value)
        return not names or any("ObjectCreated" in name or name in ("s3:*", "*") for name in names)

    @property
    def at_least_once(self) -> bool:
        return self.kind in ASYNC_KINDS or self.kind in POLLED_KINDS

    @property
    def is_async(self) -> bool:
        return self.kind in ASYNC_KINDS


@dataclass
class Function:
    """A Lambda function, whatever the format that declares it."""

    logical_id: str
    span: Span  # the logical id / resource header line
    path: str = ""  # the file, when not the template's own
    handler: Optional[Located] = None
    runtime: Optional[Located] = None
    #: where the code is: CodeUri / the folder of serverless.yml / archive_file source
    code_uri: Optional[Located] = None
    inline_code: Optional[Located] = None
    timeout: Optional[Located] = None  # None: not set anywhere (the platform default applies)
    default_timeout: int = 3  # 3 s for CloudFormation/SAM/Terraform, 6 s for Serverless
    environment: Dict[str, Located] = field(default_factory=dict)
    #: False when the variables are not all known by name (a map from a parameter, a file...)
    environment_complete: bool = True
    events: List[EventSource] = field(default_factory=list)
    permissions: Permissions = field(default_factory=Permissions)
    role: Optional[Located] = None  # an explicit role: Reference to a Role, an ARN, Unknown
    dead_letter: Optional[Located] = None
    on_failure: Optional[Located] = None  # EventInvokeConfig / destinations on-failure
    #: rule ids suppressed for this function (CloudFormation Metadata)
    suppressed: Set[str] = field(default_factory=set)

    @property
    def effective_timeout(self) -> Any:
        """Seconds (int), or Unknown/Conditional when the template does not say statically."""
        return self.timeout.value if self.timeout is not None else self.default_timeout


@dataclass
class Bucket:
    logical_id: str
    span: Span
    path: str = ""  # the file, when not the template's own
    name: Optional[Located] = None


@dataclass
class Queue:
    logical_id: str
    span: Span
    path: str = ""  # the file, when not the template's own
    visibility_timeout: Optional[Located] = None  # None: the default, 30 s
    fifo: bool = False
    #: the queue's name when the template sets it literally (``QueueName``, Terraform ``name``):
    #: an event source that names the queue by ARN string is matched by it
    name: Optional[str] = None

    DEFAULT_VISIBILITY_TIMEOUT = 30


@dataclass
class Template:
    """One deployment template file (or, for Terraform, one module folder)."""

    path: str  # display path of the file
    format: str  # "cloudformation", "sam", "serverless", "terraform"
    functions: List[Function] = field(default_factory=list)
    roles: Dict[str, Role] = field(default_factory=dict)
    #: standalone policies (AWS::IAM::Policy, ManagedPolicy, aws_iam_policy, ...)
    policies: List[Policy] = field(default_factory=list)
    buckets: Dict[str, Bucket] = field(default_factory=dict)
    queues: Dict[str, Queue] = field(default_factory=dict)
    #: logical id -> rule ids suppressed by that resource's Metadata
    suppressed: Dict[str, Set[str]] = field(default_factory=dict)
    #: rule ids suppressed for the whole file (top-level Metadata)
    suppressed_everywhere: Set[str] = field(default_factory=set)
    #: logical id -> (first line, last line) of the resource block, to map findings back
    resource_lines: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    #: files that make up this template (Terraform modules span several)
    files: List[str] = field(default_factory=list)
    #: display path -> text of the template's files, for fixes (set by the engine)
    texts: Dict[str, str] = field(default_factory=dict)

    def suppressed_at(self, line: int) -> Set[str]:
        """Rule ids that resource Metadata suppresses at ``line`` (plus file-wide ones)."""
        found = set(self.suppressed_everywhere)
        for logical_id, (first, last) in self.resource_lines.items():
            if first <= line <= last:
                found |= self.suppressed.get(logical_id, set())
        return found
