"""What invokes a handler, guessed from its code until a template says for certain.

A handler that iterates ``event["Records"]`` and reads ``record["body"]`` is fed by SQS; one
that reads ``event["httpMethod"]`` sits behind API Gateway. The guess uses every path the
handler reads from its event (through variables and helpers, see :mod:`lambdalint.python.taint`)
and the Powertools helpers it uses (data classes, ``event_source``, batch processing, event
handler resolvers).

The result is one :class:`EventSourceInfo` per handler, with ``origin="code-guess"``. Project
linking (template ↔ handler) overrides it: :func:`event_source` returns, in this order, an
``EventSourceInfo`` put into ``ModuleFacts.event_source_overrides[handler_qualname]``, the
triggers of the template functions linked to the handler (``ModuleFacts.links_of`` of the
project model, each ``LinkedFunction.triggers``) as ``origin="template"``, and only then the
guess from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import libcst as cst

from lambdalint.model import Span
from lambdalint.python.analysis import FunctionInfo
from lambdalint.python.taint import (
    API_RESOLVERS,
    DERIVED,
    ELEMENT,
    UNKNOWN_KEY,
    FlowFacts,
    Origin,
    format_origin,
    keyword,
)

#: sources that deliver an event at least once (retries, redelivery, batch replays)
AT_LEAST_ONCE = frozenset(
    {
        "sqs", "sns", "s3", "eventbridge", "kinesis", "dynamodb", "async",
        # template-only kinds (lambdalint.iac.model): asynchronous or polled
        "schedule", "cloudwatch-logs", "iot", "msk", "mq", "kafka",
    }
)

#: template event kinds (lambdalint.iac.model.EVENT_KINDS) -> the sources named here
TEMPLATE_KINDS = {
    "api": "api",
    "http-api": "api",
    "websocket": "api",
    "function-url": "api",
    "cognito": "sync",
    "alexa": "sync",
}
#: what a template's event source is, for messages: kind -> (service, the resource's noun)
TEMPLATE_NOUNS = {
    "sqs": ("SQS", "queue"),
    "sns": ("SNS", "topic"),
    "s3": ("S3", "bucket"),
    "kinesis": ("Kinesis", "stream"),
    "dynamodb": ("DynamoDB", "stream"),
    "eventbridge": ("EventBridge", "rule"),
    "schedule": ("EventBridge", "schedule"),
    "cloudwatch-logs": ("CloudWatch Logs", "subscription"),
    "iot": ("IoT", "rule"),
    "msk": ("MSK", "topic"),
    "mq": ("Amazon MQ", "broker"),
    "kafka": ("Kafka", "topic"),
}

#: how each source is named in messages
SOURCE_NAMES = {
    "sqs": "SQS",
    "sns": "SNS",
    "s3": "S3",
    "eventbridge": "EventBridge",
    "kinesis": "Kinesis",
    "dynamodb": "DynamoDB Streams",
    "async": "asynchronous invocation",
    "api": "API Gateway",
    "sync": "a synchronous caller",
    "schedule": "an EventBridge schedule",
    "cloudwatch-logs": "CloudWatch Logs",
    "iot": "IoT",
    "msk": "MSK",
    "mq": "Amazon MQ",
    "kafka": "Kafka",
}
#: what each at-least-once source delivers, for messages
SOURCE_ITEMS = {
    "sqs": "SQS records",
    "sns": "SNS notifications",
    "s3": "S3 event notifications",
    "eventbridge": "EventBridge events",
    "kinesis": "Kinesis records",
    "dynamodb": "DynamoDB stream records",
    "async": "asynchronous invocations",
    "schedule": "scheduled events",
    "cloudwatch-logs": "log events",
    "iot": "IoT messages",
    "msk": "Kafka records",
    "mq": "broker messages",
    "kafka": "Kafka records",
}

#: a record's key (lower-cased) -> the source whose records have it
RECORD_KEYS = {
    "s3": "s3",
    "body": "sqs",
    "json_body": "sqs",
    "messageid": "sqs",
    "message_id": "sqs",
    "receipthandle": "sqs",
    "receipt_handle": "sqs",
    "messageattributes": "sqs",
    "message_attributes": "sqs",
    "md5ofbody": "sqs",
    "sns": "sns",
    "kinesis": "kinesis",
    "dynamodb": "dynamodb",
}
#: top-level event keys (lower-cased) -> source
TOP_LEVEL_KEYS = {
    "detail": "eventbridge",
    "detail-type": "eventbridge",
    "detail_type": "eventbridge",
    "bucket_name": "s3",  # Powertools S3Event
    "object_key": "s3",
    "httpmethod": "api",
    "http_method": "api",
    "querystringparameters": "api",
    "query_string_parameters": "api",
    "multivaluequerystringparameters": "api",
    "pathparameters": "api",
    "path_parameters": "api",
    "rawpath": "api",
    "raw_path": "api",
    "rawquerystring": "api",
    "routekey": "api",
    "route_key": "api",
    "requestcontext": "api",
    "request_context": "api",
}

#: Powertools (and aws-lambda-typing) event classes, by class name -> source
DATA_CLASSES = {
    "SQSEvent": "sqs",
    "SQSRecord": "sqs",
    "S3Event": "s3",
    "S3EventRecord": "s3",
    "S3EventBridgeNotificationEvent": "s3",
    "EventBridgeEvent": "eventbridge",
    "SNSEvent": "sns",
    "SNSEventRecord": "sns",
    "KinesisStreamEvent": "kinesis",
    "KinesisStreamRecord": "kinesis",
    "DynamoDBStreamEvent": "dynamodb",
    "DynamoDBRecord": "dynamodb",
    "APIGatewayProxyEvent": "api",
    "APIGatewayProxyEventV2": "api",
    "ALBEvent": "api",
    "LambdaFunctionUrlEvent": "api",
    "APIGatewayEventRequestContext": "api",
}
DATA_CLASS_PACKAGES = ("aws_lambda_powertools", "aws_lambda_typing")

#: Powertools batch processors and the EventType members they take
BATCH_PROCESSORS = frozenset({"BatchProcessor", "AsyncBatchProcessor", "SqsFifoPartialProcessor"})
BATCH_EVENT_TYPES = {"SQS": "sqs", "KinesisDataStreams": "kinesis", "DynamoDBStreams": "dynamodb"}
BATCH_ENTRY_POINTS = frozenset(
    {"process_partial_response", "async_process_partial_response", "batch_processor", "async_batch_processor"}
)


@dataclass(frozen=True)
class EventSourceInfo:
    """What feeds one handler.

    ``sources`` are keys of :data:`SOURCE_NAMES`; ``evidence`` says why (a path the code
    reads, a Powertools class, or for templates the event source and its line); ``node`` is
    where the code shows it (``None`` for template facts, which use ``related`` instead).
    """

    handler: str
    sources: Tuple[str, ...]
    origin: str = "code-guess"
    evidence: str = ""
    node: Optional[cst.CSTNode] = None
    #: for ``origin="template"``: where the template declares the trigger (path, span)
    template_location: Optional[Tuple[str, Span]] = None

    @property
    def at_least_once(self) -> bool:
        return any(s in AT_LEAST_ONCE for s in self.sources)

    @property
    def synchronous_api(self) -> bool:
        return "api" in self.sources and not self.at_least_once

    @property
    def at_least_once_source(self) -> Optional[str]:
        return next((s for s in self.sources if s in AT_LEAST_ONCE), None)

    def describe(self) -> str:
        """``this handler reads SQS records (event["Records"][*]["body"]), which are delivered
        at least once`` — for messages."""
        source = self.at_least_once_source
        if source is None:
            return "this handler's event source is not known to deliver events at least once"
        items = SOURCE_ITEMS[source]
        if self.origin == "template":
            what = self.evidence or SOURCE_NAMES[source]
            return f"this handler is invoked by {what}, which delivers events at least once"
        where = f" ({self.evidence})" if self.evidence else ""
        verb = "reads" if self.evidence.startswith(("event[", "data derived")) else "handles"
        return f"this handler {verb} {items}{where}, which are delivered at least once"


def _source_of_path(path: Tuple[str, ...]) -> Optional[str]:
    """The source a read of ``event`` + ``path`` points to (components after the role)."""
    if path and path[0] == DERIVED:
        return None
    parts = [p for p in path if p not in (DERIVED, UNKNOWN_KEY)]
    lowered = [p.lower() for p in parts]
    if not lowered:
        return None
    if lowered[0] == "record":  # Powertools S3Event.record / SNSEvent.record: the first record
        lowered = ["records", ELEMENT, *lowered[1:]]
    if lowered[0] == "records" and len(lowered) >= 3 and lowered[1] == ELEMENT:
        return RECORD_KEYS.get(lowered[2])
    return TOP_LEVEL_KEYS.get(lowered[0])


def _class_source(names) -> Optional[Tuple[str, str]]:
    for name in sorted(names):
        last = name.rsplit(".", 1)[-1]
        if last in DATA_CLASSES and name.startswith(DATA_CLASS_PACKAGES):
            return DATA_CLASSES[last], last
    return None


class EventSources:
    """The per-handler guesses of one module, computed once on first use."""

    def __init__(self, flow: FlowFacts) -> None:
        self.flow = flow
        self._guesses: Dict[str, EventSourceInfo] = {}

    def for_handler(self, handler: FunctionInfo) -> EventSourceInfo:
        """An explicit override, else what linked templates say, else the guess."""
        override = self.flow.facts.event_source_overrides.get(handler.qualname)
        if override is not None:
            return override
        linked = self._from_templates(handler)
        if linked is not None:
            return linked
        guess = self._guesses.get(handler.qualname)
        if guess is None:
            guess = self._guesses[handler.qualname] = self._guess(handler)
        return guess

    def _from_templates(self, handler: FunctionInfo) -> Optional[EventSourceInfo]:
        """The triggers of the template functions linked to ``handler`` (``ModuleFacts.links_of``
        and ``LinkedFunction.triggers`` of :mod:`lambdalint.project`, when the project model
        is there). A linked function without triggers is invoked directly: no source."""
        links_of = getattr(self.flow.facts, "links_of", None)
        links = tuple(links_of(handler)) if callable(links_of) else ()
        if not links:
            return None
        sources: List[str] = []
        first = None
        for link in links:
            for trigger in getattr(link, "triggers", ()):
                source = TEMPLATE_KINDS.get(trigger.kind, trigger.kind if trigger.kind in AT_LEAST_ONCE else None)
                if source is None:
                    continue
                if source not in sources:
                    sources.append(source)
                if first is None or (source in AT_LEAST_ONCE and first[0] not in AT_LEAST_ONCE):
                    first = (source, trigger)
        sources.sort(key=lambda s: (s not in AT_LEAST_ONCE,))
        if first is None:
            return EventSourceInfo(handler.qualname, (), origin="template")
        kind, trigger = first[1].kind, first[1]
        service, noun = TEMPLATE_NOUNS.get(kind, (SOURCE_NAMES.get(first[0], kind), "event source"))
        name = trigger.source or f"`{trigger.name}`"
        evidence = f"{service} {noun} {name} ({trigger.path}:{trigger.span.line})"
        return EventSourceInfo(
            handler.qualname, tuple(sources), "template", evidence, None, (trigger.path, trigger.span)
        )

    # the guess ----------------------------------------------------------------------------------

    def _guess(self, handler: FunctionInfo) -> EventSourceInfo:
        found: List[Tuple[str, str, cst.CSTNode]] = []  # (source, evidence, node)
        for origin, node in self.flow.reads(handler):
            source = _source_of_path(origin[2:])
            if source is not None:
                found.append((source, format_origin(_trim(origin)), node))
        found.extend(self._powertools_hints(handler))
        sources: List[str] = []
        for source, _, _ in found:
            if source not in sources:
                sources.append(source)
        # at-least-once sources first: they decide what a handler must tolerate
        sources.sort(key=lambda s: (s not in AT_LEAST_ONCE,))
        if not sources:
            return EventSourceInfo(handler.qualname, ())
        first = sources[0]
        source, evidence, node = next(f for f in found if f[0] == first)
        return EventSourceInfo(handler.qualname, tuple(sources), "code-guess", evidence, node)

    def _powertools_hints(self, handler: FunctionInfo) -> List[Tuple[str, str, cst.CSTNode]]:
        hints: List[Tuple[str, str, cst.CSTNode]] = []
        flow = self.flow
        # ``@event_source(data_class=SQSEvent)`` and ``event: SQSEvent``
        for decorator in handler.node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                data_class = keyword(expression, "data_class")
                if data_class is not None:
                    known = _class_source(flow.qualified_names(data_class))
                    if known:
                        hints.append((known[0], f"event_source(data_class={known[1]})", decorator))
                hints.extend(self._batch_hint(expression, None))
        params = handler.node.params.params
        if handler.class_name is not None and params and params[0].name.value in ("self", "cls"):
            params = params[1:]
        if params and params[0].annotation is not None:
            known = _class_source(flow.qualified_names(params[0].annotation.annotation))
            if known:
                hints.append((known[0], f"an event typed {known[1]}", params[0].annotation))
        for function in flow.reach([handler]):
            function_flow = flow.flows.get(function.qualname)
            for call in function_flow.calls if function_flow else ():
                names = flow.qualified_names(call.func)
                known = _class_source(names)
                if known:
                    hints.append((known[0], f"Powertools {known[1]}", call))
                    continue
                hints.extend(self._batch_hint(call, function))
                if (
                    isinstance(call.func, cst.Attribute)
                    and call.func.attr.value == "resolve"
                    and self._made_by(call.func.value, function, API_RESOLVERS)
                ):
                    hints.append(("api", "a Powertools event handler resolver", call))
        return hints

    def _batch_hint(self, call: cst.Call, function: Optional[FunctionInfo]) -> List[Tuple[str, str, cst.CSTNode]]:
        names = self.flow.qualified_names(call.func)
        last = {n.rsplit(".", 1)[-1] for n in names if n.startswith("aws_lambda_powertools")}
        if not last & BATCH_ENTRY_POINTS:
            return []
        processor = keyword(call, "processor")
        source = self._processor_source(processor, function) if processor is not None else None
        if source is None:
            return []
        return [(source, "Powertools batch processing", call)]

    def _processor_source(self, node: cst.BaseExpression, function: Optional[FunctionInfo]) -> Optional[str]:
        values = [(node, function)]
        if isinstance(node, cst.Name):
            values = self.flow.bindings(node.value, function)
        for value, _ in values:
            if not isinstance(value, cst.Call):
                continue
            names = {n.rsplit(".", 1)[-1] for n in self.flow.qualified_names(value.func)}
            if "SqsFifoPartialProcessor" in names:
                return "sqs"
            if names & BATCH_PROCESSORS:
                event_type = keyword(value, "event_type")
                if event_type is None and value.args and value.args[0].keyword is None:
                    event_type = value.args[0].value
                if isinstance(event_type, cst.Attribute):
                    return BATCH_EVENT_TYPES.get(event_type.attr.value)
        return None

    def _made_by(self, node: cst.BaseExpression, function: FunctionInfo, classes) -> bool:
        if not isinstance(node, cst.Name):
            return False
        for value, _ in self.flow.bindings(node.value, function):
            if isinstance(value, cst.Call) and any(
                n.rsplit(".", 1)[-1] in classes for n in self.flow.qualified_names(value.func)
            ):
                return True
        return False


def _trim(origin: Origin) -> Origin:
    """Cut an origin after the component that identifies the source, for a short evidence."""
    parts = list(origin)
    lowered = [p.lower() for p in parts]
    if len(parts) >= 5 and lowered[2] == "records" and parts[3] == ELEMENT:
        return tuple(parts[:5])
    if len(parts) >= 4 and lowered[2] in ("detail", "requestcontext"):
        return tuple(parts[:4])
    return tuple(parts[:3]) if len(parts) > 3 else origin


def event_sources(flow: FlowFacts) -> EventSources:
    """The module's :class:`EventSources`, shared by every rule that asks (one per module)."""
    found = getattr(flow, "_event_sources", None)
    if found is None:
        found = EventSources(flow)
        flow._event_sources = found  # type: ignore[attr-defined]
    return found


def event_source(flow: FlowFacts, handler: FunctionInfo) -> EventSourceInfo:
    """What feeds ``handler``: the template's fact when linked, else the guess from the code."""
    return event_sources(flow).for_handler(handler)
