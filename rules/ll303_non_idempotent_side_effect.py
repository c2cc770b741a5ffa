"""LL303 non-idempotent-side-effect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Set

import libcst as cst

from lambdalint.model import Related
from lambdalint.python.analysis import FunctionInfo
# IDEMPOTENT_DECORATORS: Powertools' idempotency decorators (by last name), shared with the
# cross-module analysis, which applies the same guards to a helper's callers
from lambdalint.python.crossmodule import IDEMPOTENT_DECORATORS, wrapped_by_idempotent_function
from lambdalint.python.event_sources import EventSourceInfo, event_source
from lambdalint.python.taint import (
    FlowFacts,
    SdkObject,
    argument,
    flow_facts,
    keyword,
    literal_string,
)
from lambdalint.rule import Example, PythonRule

#: HTTP calls that change something on the other side
HTTP_WRITES = frozenset(
    f"{lib}.{method}"
    for lib in ("requests", "requests.api", "httpx", "requests.Session", "requests.session",
                "requests.sessions.Session", "httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession")
    for method in ("post", "put", "patch")
)
HTTP_METHODS_WRITE = frozenset({"POST", "PUT", "PATCH"})

#: Stripe objects whose ``create`` moves money or bills a customer
STRIPE_CREATES = frozenset(
    f"stripe.{kind}.create"
    for kind in ("Charge", "PaymentIntent", "Refund", "Transfer", "Payout", "Invoice", "Subscription",
                 "Customer", "Checkout.Session", "checkout.Session")
)

_COUNTER = re.compile(r"\bADD\b|list_append\s*\(|\bSET\b.*?=[^,]*[+-]", re.IGNORECASE | re.DOTALL)
_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")


@dataclass(frozen=True)
class SideEffect:
    """A call that changes the world, and what a duplicate delivery does with it."""

    call: cst.Call
    #: e.g. "sends an SQS message"
    action: str
    #: how to make it idempotent
    fix: str


#: an SQS handler's head; the examples add the loop body (line 10 on)
_SQS_LOOP = "import os\nimport boto3\n\nsqs = boto3.client(\"sqs\")\ntable = boto3.resource(\"dynamodb\").Table(os.environ[\"T\"])\n\n\ndef handler(event, context):\n    for record in event[\"Records\"]:\n"
_MARKER = "        table.put_item(Item={\"pk\": record[\"messageId\"]}, ConditionExpression=\"attribute_not_exists(pk)\")\n"
_SEND = "        sqs.send_message(QueueUrl=os.environ[\"Q\"], MessageBody=record[\"body\"])\n"


class NonIdempotentSideEffect(PythonRule):
    """A write, send or charge that a redelivered event repeats.

    ## What it does
    In a handler fed by an at-least-once source (SQS, SNS, S3, EventBridge, Kinesis,
    DynamoDB Streams), flags side effects reached on every invocation that have no
    idempotency guard:

    - DynamoDB `put_item` (table or client) without a `ConditionExpression`; `update_item`
      whose `UpdateExpression` counts or appends (`ADD`, `SET n = n + :inc`, `list_append`)
      unless its condition is on a value taken from the event (`attribute_not_exists(...)`,
      `NOT contains(processed, :message_id)`); `batch_writer()`, `batch_write_item`,
      `transact_write_items` without a `ClientRequestToken`;
    - `sqs.send_message`/`send_message_batch` and `sns.publish` without a
      `MessageDeduplicationId`; SES `send_email`/`send_raw_email`/`send_templated_email`
      (and `sesv2`); `lambda.invoke(InvocationType="Event")`; `stepfunctions.start_execution`
      without a `name`; EventBridge `put_events`;
    - `s3.put_object` (also `Bucket(...).put_object`, `Object(...).put`) with a key made from
      `uuid4()` or randomness, or from the clock alone (a date next to the event's id is a
      partition, not a new object);
    - HTTP `post`/`put`/`patch` (requests, httpx, aiohttp, urllib3) without an
      `Idempotency-Key` header; Stripe `Charge.create`, `PaymentIntent.create`, ... without an
      `idempotency_key`.

    Clients, tables and buckets are recognised by the boto3 call that made them (at module
    level, locally, in `__init__`, or in a factory function), and by the arguments only that
    service takes when the receiver is unknown (`QueueUrl=`, `TopicArn=`, `Item=`...).

    Guards that silence it: Powertools `@idempotent` on the handler, `@idempotent_function`
    (or `idempotent_function(...)(fn)`) on the helper that does the work; a dedup marker in
    the same function (a DynamoDB write conditioned on `attribute_not_exists(...)`, Redis
    `set(..., nx=True)`), for what comes after it, when it is keyed on the event (a constant
    key is a lock) and its failure is not swallowed (`except: pass`); a deduplication id,
    client token, execution name or idempotency key that is not new on every attempt.

    The event source comes from the template when one links the handler (its triggers; the
    finding then points at the trigger too); otherwise it is guessed from the code: what the
    handler reads from its event (`record["body"]`, `event["detail"]`...) and which Powertools
    classes it uses. A handler whose source is unknown, or only an API, is not checked. A plain
    `SET a = :v` update and `delete_item` are idempotent (doing them twice leaves the same
    state) and not flagged.

    Side effects in the project's other modules count when a handler imports and calls them
    per invocation (`from .notify import announce`): they are checked with that handler's
    event source, once however many functions share the helper, and the message names the
    handler. A call made only through an `@idempotent`/`@idempotent_function` function of
    the calling module (or one it wraps with `idempotent_function(...)(fn)`) is guarded
    there; a dedup marker in the caller is not seen from the helper's module.

    ## Why is this bad in Lambda
    Queues, streams, notifications and asynchronous invocations deliver each event *at least*
    once: SQS redelivers a message whose visibility timeout expires, a failed batch is
    retried whole, async invocations are retried twice, and every source occasionally
    delivers a duplicate. Code that sends, charges or counts on each delivery then sends
    twice, charges twice, counts twice.

    ## Example
    ```python
    import json, boto3
    sqs = boto3.client("sqs")

    def handler(event, context):
        for record in event["Records"]:
            order = json.loads(record["body"])
            sqs.send_message(QueueUrl=SHIPPING_QUEUE, MessageBody=json.dumps(order))
    ```

    ## Use instead
    ```python
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer, idempotent_function)

    persistence = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE)

    @idempotent_function(data_keyword_argument="order", persistence_store=persistence)
    def ship(order):
        sqs.send_message(QueueUrl=SHIPPING_QUEUE, MessageBody=json.dumps(order))

    def handler(event, context):
        for record in event["Records"]:
            ship(order=json.loads(record["body"]))
    ```

    ## Fix safety
    No automatic fix: the idempotency key (a message id, an order id) is a business decision.
    """

    id = "LL303"
    name = "non-idempotent-side-effect"

    INVALID = (
        Example(
            "import json, os, boto3\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        order = json.loads(record['body'])\n"
            "        sqs.send_message(QueueUrl=os.environ['Q'], MessageBody=json.dumps(order))\n",
            lines=(7,),
        ),
        # a table made at module level, a counter update with a condition not on the event
        Example(
            "import boto3 as b3\ntable = b3.resource('dynamodb').Table('orders')\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        table.put_item(Item={'pk': r['messageId']})\n"
            "        table.update_item(Key={'pk': 'stats'}, UpdateExpression='ADD seen :one',\n"
            "            ConditionExpression='attribute_exists(pk)', ExpressionAttributeValues={':one': 1})\n",
            lines=(6, 7),
        ),
        # EventBridge: email, async invoke, a payment, an HTTP POST in a helper
        Example(
            "import boto3, requests, stripe\nses = boto3.client('sesv2')\nlam = boto3.client('lambda')\n\n"
            "def notify(detail):\n    requests.post('https://hooks.example.com', json=detail, timeout=5)\n\n"
            "def handler(event, context):\n    detail = event['detail']\n"
            "    ses.send_email(FromEmailAddress='a@b.c', Destination={}, Content={})\n"
            "    lam.invoke(FunctionName='x', InvocationType='Event', Payload=b'{}')\n"
            "    stripe.Charge.create(amount=detail['amount'], currency='eur')\n    notify(detail)\n",
            lines=(6, 10, 11, 12),
        ),
        # S3 trigger: a uuid key, a step function without a name
        Example(
            "import uuid, boto3\ns3 = boto3.client('s3')\nsfn = boto3.client('stepfunctions')\n\n"
            "def handler(event, context):\n    key = event['Records'][0]['s3']['object']['key']\n"
            "    s3.put_object(Bucket='out', Key=f'copies/{uuid.uuid4()}', Body=b'')\n"
            "    sfn.start_execution(stateMachineArn='arn', input=key)\n",
            lines=(7, 8),
        ),
        # ``**params`` read as keywords: no deduplication id in them
        Example(
            "import boto3\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    for r in event['Records']:\n"
            "        params = {'QueueUrl': 'q', 'MessageBody': r['body']}\n"
            "        sqs.send_message(**params)\n",
            lines=(7,),
        ),
        # Powertools data class and batch processing
        Example(
            "import boto3\nfrom aws_lambda_powertools.utilities.batch import (BatchProcessor, EventType,\n"
            "    process_partial_response)\nsns = boto3.client('sns')\n"
            "processor = BatchProcessor(event_type=EventType.SQS)\n\n"
            "def record_handler(record):\n    sns.publish(TopicArn='t', Message=record.body)\n\n"
            "def lambda_handler(event, context):\n"
            "    return process_partial_response(event=event, record_handler=record_handler,\n"
            "        processor=processor, context=context)\n",
            lines=(8,),
        ),
        # a dedup marker after the side effect, keyed on a constant, or whose failure is swallowed
        Example(_SQS_LOOP + _SEND + _MARKER, lines=(10,)),
        Example(_SQS_LOOP + _MARKER.replace('record["messageId"]', '"lock"') + _SEND, lines=(11,)),
        Example(_SQS_LOOP + "        try:\n    " + _MARKER + "        except Exception:\n            pass\n" + _SEND, lines=(14,)),
    )
    VALID = (
        # the marker first, its duplicate skipped
        Example(_SQS_LOOP + "        try:\n    " + _MARKER + "        except table.meta.client.exceptions.ConditionalCheckFailedException:\n"
                "            continue\n" + _SEND),
        # a conditional write that is its own dedup marker
        Example(
            "import boto3\ntable = boto3.resource('dynamodb').Table('t')\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        table.put_item(Item={'pk': r['messageId']}, ConditionExpression='attribute_not_exists(pk)')\n"
        ),
        # Powertools idempotency on the helper that does the work
        Example(
            "import boto3\nfrom aws_lambda_powertools.utilities.idempotency import idempotent_function\n"
            "sqs = boto3.client('sqs')\n\n@idempotent_function(data_keyword_argument='record', persistence_store=None)\n"
            "def forward(record):\n    sqs.send_message(QueueUrl='q', MessageBody=record['body'])\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n        forward(record=r)\n"
        ),
        # an API-only handler that writes
        Example(
            "import json, boto3\ntable = boto3.resource('dynamodb').Table('t')\nsqs = boto3.client('sqs')\n\n"
            "def handler(event, context):\n    if event['httpMethod'] == 'POST':\n"
            "        table.put_item(Item=json.loads(event['body']))\n"
            "        sqs.send_message(QueueUrl='q', MessageBody=event['body'])\n"
        ),
        # deduplication ids and tokens derived from the event; a plain SET; a deterministic key
        Example(
            "import boto3\nsqs = boto3.client('sqs')\nsfn = boto3.client('stepfunctions')\n"
            "ddb = boto3.client('dynamodb')\ns3 = boto3.client('s3')\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        sqs.send_message(QueueUrl='q.fifo', MessageBody=r['body'], MessageGroupId='g',\n"
            "            MessageDeduplicationId=r['messageId'])\n"
            "        sfn.start_execution(stateMachineArn='arn', name=r['messageId'], input=r['body'])\n"
            "        ddb.update_item(TableName='t', Key={}, UpdateExpression='SET #s = :done')\n"
            "        ddb.delete_item(TableName='t', Key={})\n"
            "        s3.put_object(Bucket='archive', Key=f\"msgs/{r['messageId']}\", Body=r['body'])\n"
        ),
        # a deduplication id computed from the content, through a local variable
        Example(
            "import hashlib, boto3\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        body = record['body']\n"
            "        digest = hashlib.sha256(body.encode()).hexdigest()\n"
            "        sqs.send_message(QueueUrl='q.fifo', MessageBody=body, MessageGroupId='g',\n"
            "            MessageDeduplicationId=digest)\n"
        ),
        # a dedup marker whose condition is held in a variable
        Example(
            "import boto3\nsns = boto3.client('sns')\n"
            "table = boto3.resource('dynamodb').Table('t')\nFIRST_TIME = 'attribute_not_exists(pk)'\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        table.put_item(Item={'pk': r['messageId']}, ConditionExpression=FIRST_TIME)\n"
            "        sns.publish(TopicArn='t', Message=r['body'])\n"
        ),
        # the guard inside ``**params``; ``**kwargs`` that cannot be read
        Example(
            "import boto3\nsqs = boto3.client('sqs')\n\ndef send(**extra):\n"
            "    sqs.send_message(QueueUrl='q', MessageBody='b', **extra)\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        params = {'QueueUrl': 'q.fifo', 'MessageBody': r['body'], 'MessageGroupId': 'g',\n"
            "                  'MessageDeduplicationId': r['messageId']}\n"
            "        sqs.send_message(**params)\n        send(MessageDeduplicationId=r['messageId'])\n"
        ),
        # a date partition in a key that also names the message
        Example(
            "import boto3\nfrom datetime import datetime\ns3 = boto3.client('s3')\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        day = datetime.utcnow().strftime('%Y/%m/%d')\n"
            "        s3.put_object(Bucket='archive', Key=f\"{day}/{r['messageId']}.json\", Body=r['body'])\n"
        ),
        # @idempotent on the handler
        Example(
            "import boto3\nfrom aws_lambda_powertools.utilities.idempotency import idempotent\n"
            "sns = boto3.client('sns')\n\n@idempotent(persistence_store=None)\n"
            "def handler(event, context):\n    sns.publish(TopicArn='t', Message=event['detail']['id'])\n"
        ),
        # a handler whose source is unknown: direct invocation
        Example(
            "import boto3\nsqs = boto3.client('sqs')\n\ndef handler(event, context):\n"
            "    sqs.send_message(QueueUrl='q', MessageBody=event['payload'])\n"
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.flow: FlowFacts = flow_facts(context)
        #: the keyword arguments of the call being judged (see :meth:`_keywords`)
        self._kws: Dict[str, cst.BaseExpression] = {}

    def finish(self) -> None:
        flow = self.flow
        wrapped = self._wrapped_by_idempotent_function()
        reported: Set[int] = set()
        for handler in self.facts.roots:  # handlers, then functions other modules' handlers call
            info = event_source(flow, handler)
            if not info.at_least_once:
                continue

            def guarded(function: FunctionInfo) -> bool:
                return self._is_idempotent(function) or function.qualname in wrapped or self._dedup_marker(function) is not None

            unguarded = flow.reach([handler], stop=guarded)
            for function in unguarded:
                function_flow = flow.flows.get(function.qualname)
                for call in function_flow.calls if function_flow else ():
                    self._check(call, function, handler, info, reported)
            # a dedup marker guards what comes after it, not a side effect made before it
            for function in self._marked_functions(handler, unguarded, wrapped):
                function_flow = flow.flows.get(function.qualname)
                marker = self._dedup_marker(function)
                for call in function_flow.calls if function_flow else ():
                    if call is marker:
                        break
                    self._check(call, function, handler, info, reported)

    def _check(self, call: cst.Call, function: FunctionInfo, handler: FunctionInfo, info, reported: Set[int]) -> None:
        if id(call) in reported:
            return
        effect = self._side_effect(call, function)
        if effect is not None:
            reported.add(id(call))
            self._report(effect, function, handler, info)

    def _marked_functions(self, handler: FunctionInfo, unguarded, wrapped: Set[str]):
        """The functions with a dedup marker that the handler reaches without passing a guard."""
        candidates = [handler] + [
            self.facts.functions[name] for function in unguarded for name in sorted(function.references)
            if name in self.facts.functions
        ]
        found, seen = [], set()
        for function in candidates:
            if function.qualname in seen or self._is_idempotent(function) or function.qualname in wrapped:
                continue
            seen.add(function.qualname)
            if self._dedup_marker(function) is not None:
                found.append(function)
        return found

    # guards ---------------------------------------------------------------------------------------

    @staticmethod
    def _is_idempotent(function: FunctionInfo) -> bool:
        return any(d.rsplit(".", 1)[-1] in IDEMPOTENT_DECORATORS for d in function.decorators)

    def _wrapped_by_idempotent_function(self) -> Set[str]:
        """Functions passed to ``idempotent_function(...)(fn)`` anywhere in the module."""
        return wrapped_by_idempotent_function(self.flow)

    def _dedup_marker(self, function: FunctionInfo) -> Optional[cst.Call]:
        """The first write of ``function`` that records the event as seen and fails on a
        repeat: a conditional DynamoDB write (``attribute_not_exists``) or a Redis ``SET NX`` /
        ``SETNX``, keyed on request data (a constant key is a lock, not a dedup record), whose
        failure is not swallowed (``except: pass`` carries on as if it were new)."""
        function_flow = self.flow.flows.get(function.qualname)
        for call in function_flow.calls if function_flow else ():
            if not isinstance(call.func, cst.Attribute):
                continue
            method = call.func.attr.value
            if method in ("put_item", "update_item", "put", "transact_write_items") and _mentions_not_exists(
                keyword(call, "ConditionExpression"), self, function
            ):
                key = keyword(call, "Item") or keyword(call, "Key") or keyword(call, "TransactItems")
            elif (method == "set" and _is_true(keyword(call, "nx"))) or method == "setnx":
                key = call.args[0].value if call.args and call.args[0].keyword is None else keyword(call, "name")
            else:
                continue
            if key is not None and not self.flow.is_tainted(key, function):
                continue  # keyed on a constant: a lock, not a record of this event
            if self._failure_swallowed(call, function):
                continue
            return call
        return None

    def _failure_swallowed(self, call: cst.Call, function: FunctionInfo) -> bool:
        """Whether ``call`` is in a ``try:`` whose handlers do not stop the work (no return,
        raise, continue or break): a duplicate then carries on as if it were new."""
        code = self.facts.module.code_for_node
        child: cst.CSTNode = call
        parent = self.facts.parent_of(call, function.node)
        while parent is not None:
            if isinstance(parent, (cst.Try, cst.TryStar)) and child is parent.body:
                if any(not _STOPS.search(code(handler.body)) for handler in parent.handlers):
                    return True
            child, parent = parent, self.facts.parent_of(parent, function.node)
        return False

    def _not_fresh(self, node: Optional[cst.BaseExpression], function: FunctionInfo) -> bool:
        """A guard value given and the same on every attempt."""
        return node is not None and not self.flow.is_fresh(node, function)

    # what a call does -----------------------------------------------------------------------------

    def _side_effect(self, call: cst.Call, function: FunctionInfo) -> Optional[SideEffect]:
        kws = self._keywords(call, function)
        if kws is None:
            return None  # ``**params`` that cannot be read: the guard may be in there
        self._kws = kws
        names = self.flow.qualified_names(call.func)
        func = call.func
        if names & STRIPE_CREATES:
            if self._not_fresh(self._kw("idempotency_key"), function):
                return None
            return SideEffect(call, "charges or creates a payment object",
                              "pass `idempotency_key=` derived from the event (e.g. the message id)")
        if not isinstance(func, cst.Attribute):
            if names & HTTP_WRITES:
                return self._http(call, function)
            if "requests.request" in names or "httpx.request" in names:
                method = literal_string(argument(call, "method", 0))
                if method and method.upper() in HTTP_METHODS_WRITE:
                    return self._http(call, function)
            return None
        method = func.attr.value
        receiver = self.flow.sdk_object(func.value, function)
        if names & HTTP_WRITES or (receiver is not None and receiver.kind == "http" and method in ("post", "put", "patch")):
            return self._http(call, function)
        if receiver is not None and receiver.kind == "http" and method in ("request", "urlopen"):
            verb = literal_string(argument(call, "method", 0))
            if verb and verb.upper() in HTTP_METHODS_WRITE:
                return self._http(call, function)
            return None
        if receiver is not None and receiver.kind == "BatchWriter":
            return None  # reported once, at ``batch_writer()``
        service = _service(receiver)
        has = lambda *names: any(self._kw(k) is not None for k in names)  # noqa: E731

        # DynamoDB
        if method == "put_item" and (service == "dynamodb" or (service is None and has("Item"))):
            if self._kw("ConditionExpression") is not None:
                return None
            return SideEffect(call, "writes the item again (a new item when its key is generated, or "
                              "overwriting changes made since)",
                              "add `ConditionExpression=\"attribute_not_exists(pk)\"` keyed on the event's id")
        if method == "update_item" and (service == "dynamodb" or (service is None and has("UpdateExpression"))):
            return self._counter_update(call, function)
        if method == "batch_writer" and service in ("dynamodb", None):
            return SideEffect(call, "writes every item of the batch again (batch writes take no conditions)",
                              "write items with a conditional `put_item`")
        if method == "batch_write_item" and (service == "dynamodb" or (service is None and has("RequestItems"))):
            return SideEffect(call, "writes every item of the batch again (batch writes take no conditions)",
                              "write items with a conditional `put_item`")
        if method == "transact_write_items" and (service == "dynamodb" or (service is None and has("TransactItems"))):
            if self._not_fresh(self._kw("ClientRequestToken"), function):
                return None
            if "ConditionExpression" in self.facts.module.code_for_node(call):
                return None
            return SideEffect(call, "runs the transaction again",
                              "pass `ClientRequestToken=` derived from the event's id")
        # SQS / SNS
        if method in ("send_message", "send_message_batch") and (
            service == "sqs" or (service is None and has("QueueUrl"))
        ):
            if self._deduplicated(call, function):
                return None
            return SideEffect(call, "sends the message again",
                              "use a FIFO queue with `MessageDeduplicationId=` derived from the event's id")
        if method in ("publish", "publish_batch") and (
            service == "sns" or (service is None and has("TopicArn", "TargetArn", "PublishBatchRequestEntries"))
        ):
            if self._deduplicated(call, function):
                return None
            return SideEffect(call, "publishes the notification again",
                              "use a FIFO topic with `MessageDeduplicationId=` derived from the event's id")
        # SES
        if method in ("send_email", "send_raw_email", "send_templated_email", "send_bulk_templated_email",
                      "send_bulk_email") and (
            service in ("ses", "sesv2")
            or (service is None and has("Destination", "RawMessage", "FromEmailAddress", "Destinations"))
        ):
            return SideEffect(call, "sends the email again",
                              "record the event's id with a conditional write (`attribute_not_exists`) "
                              "before sending and skip the send when it already exists")
        # Lambda
        if method == "invoke" and (service == "lambda" or (service is None and has("FunctionName"))):
            invocation = literal_string(self._kw("InvocationType"))
            if invocation != "Event":
                return None
            return SideEffect(call, "starts another asynchronous invocation",
                              "make the invoked function idempotent on an id taken from this event")
        if method == "invoke_async" and service in ("lambda", None) and has("FunctionName"):
            return SideEffect(call, "starts another asynchronous invocation",
                              "make the invoked function idempotent on an id taken from this event")
        # Step Functions
        if method == "start_execution" and (
            service == "stepfunctions" or (service is None and has("stateMachineArn"))
        ):
            if self._not_fresh(self._kw("name"), function):
                return None
            return SideEffect(call, "starts another execution",
                              "pass `name=` derived from the event's id: an execution name is unique, so a "
                              "duplicate start fails instead of running twice")
        # EventBridge
        if method == "put_events" and (service == "events" or (service is None and has("Entries"))):
            return SideEffect(call, "puts the events again",
                              "let consumers deduplicate on an id taken from this event, or make the "
                              "handler idempotent")
        # S3 with a generated key
        if service == "s3" or (service is None and has("Bucket") and has("Key")):
            key = self._s3_key(call, method, receiver, func.value, function)
            # random parts always make a new object; the clock does unless the key also
            # carries the event's identity (``f"{date}/{message_id}.json"``: a partition)
            if key is not None and (
                self.flow.is_fresh(key, function, clock=False)
                or (self.flow.is_fresh(key, function) and not self.flow.is_tainted(key, function))
            ):
                return SideEffect(call, "stores another copy under a new generated key",
                                  "derive the key from the event (the message id, the source key) so that a "
                                  "retry overwrites the same object")
        return None

    def _keywords(self, call: cst.Call, function: FunctionInfo) -> Optional[Dict[str, cst.BaseExpression]]:
        """The call's keyword arguments, with those of ``**params`` when ``params`` is a dict
        literal (directly or through one local variable); ``None`` when it cannot be read."""
        found: Dict[str, cst.BaseExpression] = {}
        for arg in call.args:
            if arg.keyword is not None:
                found[arg.keyword.value] = arg.value
            elif arg.star == "**":
                value = arg.value
                if isinstance(value, cst.Name):
                    bound = self.flow.bindings(value.value, function)
                    value = bound[0][0] if len(bound) == 1 else value
                if not isinstance(value, cst.Dict):
                    return None
                for element in value.elements:
                    key = literal_string(element.key) if isinstance(element, cst.DictElement) else None
                    if key is None:
                        return None
                    found[key] = element.value
        return found

    def _kw(self, name: str) -> Optional[cst.BaseExpression]:
        return self._kws.get(name)

    def _http(self, call: cst.Call, function: FunctionInfo) -> Optional[SideEffect]:
        headers = self._kw("headers")
        if headers is not None and _mentions_idempotency(headers, function, self):
            return None
        return SideEffect(call, "sends the request again",
                          "send an `Idempotency-Key` header derived from the event's id, if the API "
                          "supports one")

    def _deduplicated(self, call: cst.Call, function: FunctionInfo) -> bool:
        dedup = self._kw("MessageDeduplicationId")
        if dedup is not None:
            return not self.flow.is_fresh(dedup, function)
        entries = self._kw("Entries") or self._kw("PublishBatchRequestEntries")
        return entries is not None and "MessageDeduplicationId" in self.facts.module.code_for_node(entries)

    def _counter_update(self, call: cst.Call, function: FunctionInfo) -> Optional[SideEffect]:
        expression = literal_string(self._kw("UpdateExpression"))
        if expression is None or not _COUNTER.search(expression):
            return None  # a plain SET is idempotent; a computed expression cannot be judged
        condition = self._kw("ConditionExpression")
        if condition is not None:
            if _mentions_not_exists(condition, self, function):
                return None
            text = literal_string(condition)
            if text is None:
                return None
            values = self._kw("ExpressionAttributeValues")
            if _PLACEHOLDER.search(text) and not isinstance(values, cst.Dict):
                return None
            if isinstance(values, cst.Dict):
                for element in values.elements:
                    if not isinstance(element, cst.DictElement):
                        return None
                    key = literal_string(element.key)
                    if key and key in text and self.flow.is_tainted(element.value, function):
                        return None
        return SideEffect(call, "counts or appends again (an update that adds is not idempotent)",
                          "condition the update on the event's id (e.g. `NOT contains(processed, :id)` "
                          "while adding the id)")

    def _s3_key(self, call: cst.Call, method: str, receiver: Optional[SdkObject],
                receiver_node: cst.BaseExpression, function: FunctionInfo) -> Optional[cst.BaseExpression]:
        kind = receiver.kind if receiver is not None else "client"
        if kind == "client" and method == "put_object":
            return self._kw("Key")
        if kind == "client" and method in ("upload_file", "upload_fileobj"):
            return argument(call, "Key", 2)
        if kind == "Bucket" and method == "put_object":
            return self._kw("Key")
        if kind == "Bucket" and method in ("upload_file", "upload_fileobj"):
            return argument(call, "Key", 1)
        if kind == "Object" and method in ("put", "upload_file", "upload_fileobj"):
            made = self._constructor(receiver_node, function)
            if made is not None:
                return argument(made, "key", 1)
        return None

    def _constructor(self, node: cst.BaseExpression, function: FunctionInfo) -> Optional[cst.Call]:
        if isinstance(node, cst.Call):
            return node
        if isinstance(node, cst.Name):
            for value, _ in self.flow.bindings(node.value, function):
                if isinstance(value, cst.Call):
                    return value
        return None

    # reporting ------------------------------------------------------------------------------------

    def _report(self, effect: SideEffect, function: FunctionInfo, handler: FunctionInfo, info: EventSourceInfo) -> None:
        callee = self.facts.module.code_for_node(effect.call.func)
        where = "" if function is handler else f" (in `{function.qualname}`, reached from handler `{handler.qualname}`)"
        via = self.facts.via(handler, info.at_least_once_source) if handler not in self.facts.handlers else None
        if via is not None:
            where = f" (in `{function.qualname}`, called per invocation by {via})" if function is handler else (
                f" (in `{function.qualname}`, reached from `{handler.qualname}`, which {via} calls per invocation)"
            )
        related = ()
        if info.template_location is not None:
            path, span = info.template_location
            related = (Related(path, span, "the at-least-once trigger of this handler"),)
        self.report(
            effect.call,
            f"`{callee}` is not idempotent{where}: {info.describe()}, so a retried or duplicate "
            f"delivery {effect.action}",
            hint=f"{effect.fix}; or wrap the work in Powertools' `@idempotent_function` keyed on the event's id",
            related=related,
        )


def _service(receiver: Optional[SdkObject]) -> Optional[str]:
    if receiver is None or receiver.kind in ("session", "http"):
        return None
    return receiver.service


#: statements after which an ``except`` clause does not go on with the work
_STOPS = re.compile(r"\b(return|raise|continue|break)\b")


def _is_true(node: Optional[cst.BaseExpression]) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _mentions_not_exists(
    node: Optional[cst.BaseExpression], rule: NonIdempotentSideEffect, function: FunctionInfo
) -> bool:
    """``"attribute_not_exists(pk)"`` or ``Attr("pk").not_exists()`` (also through a variable)."""
    if node is None:
        return False
    code = rule.facts.module.code_for_node
    texts = [code(node)]
    if isinstance(node, cst.Name):
        texts += [code(value) for value, _ in rule.flow.bindings(node.value, function)]
    return any("attribute_not_exists" in text or ".not_exists(" in text for text in texts)


def _mentions_idempotency(node: cst.BaseExpression, function: FunctionInfo, rule: NonIdempotentSideEffect) -> bool:
    code = rule.facts.module.code_for_node
    texts = [code(node)]
    if isinstance(node, cst.Name):
        texts += [code(value) for value, _ in rule.flow.bindings(node.value, function)]
    return any("idempotency" in text.lower() or "idempotent" in text.lower() for text in texts)



