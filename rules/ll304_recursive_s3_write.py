"""LL304 recursive-s3-write."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Tuple

import libcst as cst

from lambdalint.model import Related, Severity
from lambdalint.project import Trigger
from lambdalint.python import values
from lambdalint.python.analysis import FunctionInfo
from lambdalint.python.event_sources import event_source
from lambdalint.python.taint import (
    DERIVED,
    ELEMENT,
    FlowFacts,
    Origin,
    Taint,
    argument,
    flow_facts,
    format_origin,
    keyword,
    literal_string,
)
from lambdalint.rule import Example, PythonRule

#: what identifies the trigger's bucket and key in an S3 notification (lower-cased paths
#: after ``event``; also inside an SQS body or SNS message that carries the notification)
BUCKET_PATHS = (
    ("records", ELEMENT, "s3", "bucket", "name"),
    ("record", "s3", "bucket", "name"),
    ("detail", "bucket", "name"),
    ("bucket_name",),
)
KEY_PATHS = (
    ("records", ELEMENT, "s3", "object", "key"),
    ("records", ELEMENT, "s3", "get_object", "key"),  # Powertools S3EventRecord
    ("record", "s3", "object", "key"),
    ("detail", "object", "key"),
    ("object_key",),
)

#: client methods that write an object: method -> (Bucket index, Key index) for positionals
CLIENT_WRITES = {
    "put_object": (None, None),
    "copy_object": (None, None),
    "upload_file": (1, 2),
    "upload_fileobj": (1, 2),
    "copy": (1, 2),
}
#: ``s3.Bucket(name)`` methods that write: method -> Key index
BUCKET_WRITES = {"put_object": None, "upload_file": 1, "upload_fileobj": 1, "copy": 1}
#: ``s3.Object(bucket, key)`` methods that write
OBJECT_WRITES = frozenset({"put", "upload_file", "upload_fileobj", "copy_from", "copy"})

_JOINS = frozenset({"os.path.join", "posixpath.join"})


def _matches(origin: Origin, paths) -> bool:
    """``origin`` is exactly one of ``paths`` (after its last transformation, which may be the
    decoding of an SQS body or SNS message that wraps the notification)."""
    path = origin[2:]
    if DERIVED in path:
        last = len(path) - 1 - path[::-1].index(DERIVED)
        if last == len(path) - 1:
            return False
        path = path[last + 1 :]
    lowered = tuple(p.lower() for p in path)
    return lowered in paths


@dataclass(frozen=True)
class KeyShape:
    """What the code knows about a written key: a literal start or end."""

    prefix: str = ""
    suffix: str = ""

    def describe(self) -> str:
        if self.prefix and self.suffix and self.prefix == self.suffix:
            return f"the key `{self.prefix}`"
        parts = []
        if self.prefix:
            parts.append(f"starting with `{self.prefix}`")
        if self.suffix:
            parts.append(f"ending with `{self.suffix}`")
        return "keys " + " and ".join(parts)


class RecursiveS3Write(PythonRule):
    """An S3-triggered function that writes to the bucket that triggered it.

    ## What it does
    In a handler fed by S3 event notifications, flags `put_object`, `copy_object`,
    `upload_file`, `upload_fileobj`, `copy`, `Bucket(...).put_object`/`upload_file` and
    `Object(...).put`/`copy_from` whose bucket is the one from the event record
    (`record["s3"]["bucket"]["name"]`, also through variables, helpers' parameters and return
    values, Powertools' `S3Event`, S3 notifications wrapped in SQS or SNS, and S3 events from
    EventBridge).

    - Writing back the key that triggered the function, or a key the code cannot describe, is
      an **error**: every write is a new notification. With a linked template whose trigger has
      a prefix/suffix filter, a key the code cannot describe (`key.replace("incoming/",
      "resized/", 1)`) is a **warning** that names the filter and points at the trigger: the
      filter decides, and the code does not say whether the written keys pass it. Without a
      template, a key made with `.replace("incoming/", "resized/")` is a warning too: it is
      meant to land elsewhere, and only the trigger's filter says whether it does.
    - Writing a key with a literal prefix or suffix (`f"processed/{key}"`, `key + ".thumb"`)
      is a **warning**: whether it loops depends on the trigger's prefix/suffix filter, which
      is in the template, not the code. The message names the prefix to check.
    - It stays quiet when the handler itself skips keys with that prefix or suffix
      (`if key.startswith("processed/"): return`) and when the destination bucket is not the
      one from the event (another bucket from an environment variable).
    - In a helper of another module that the handler calls, it judges only a bucket named by
      an environment variable that the linked template points at the trigger; a bucket name
      passed in from the event is not followed there (the handler's own key checks would not
      be visible).

    With a linked template, the bucket may also come from the environment: a write to
    `os.environ["OUTPUT_BUCKET"]` is a loop when the template sets `OUTPUT_BUCKET` to the bucket
    whose S3 trigger invokes the function, unless the trigger's prefix/suffix filter excludes
    the written keys. The finding names the trigger (and the write permission) as related
    locations, and the template's LL604 for the same loop is folded into it.

    ## Why is this bad in Lambda
    Each object written to a bucket with an event notification sends a new notification and
    invokes the function again, which writes again: a loop that runs until someone notices
    the bill (Lambda's recursive-loop detection does not cover every S3 path), and fills the
    bucket with `processed/processed/processed/...` objects.

    ## Example
    ```python
    import boto3
    s3 = boto3.client("s3")

    def handler(event, context):
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = record["s3"]["object"]["key"]
            s3.put_object(Bucket=bucket, Key=key, Body=resize(bucket, key))
    ```

    ## Use instead
    ```python
    import os, boto3
    s3 = boto3.client("s3")
    OUTPUT_BUCKET = os.environ["OUTPUT_BUCKET"]

    def handler(event, context):
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = record["s3"]["object"]["key"]
            s3.put_object(Bucket=OUTPUT_BUCKET, Key=key, Body=resize(bucket, key))
    ```

    ## Fix safety
    No automatic fix: the destination bucket (or the trigger's filter) must be chosen and
    deployed.
    """

    id = "LL304"
    name = "recursive-s3-write"
    severity = Severity.ERROR
    # scopes resolve a name bound once (``OUTPUT = os.environ["OUTPUT_BUCKET"]``)

    INVALID = (
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        bucket = record['s3']['bucket']['name']\n"
            "        key = record['s3']['object']['key']\n"
            "        s3.put_object(Bucket=bucket, Key=key, Body=b'')\n",
            lines=(8,),
        ),
        # through a helper's parameter and a getter's return value; a prefixed key (warning)
        Example(
            "import boto3\nfrom urllib.parse import unquote_plus\ns3 = boto3.client('s3')\n\n"
            "def location(record):\n    s3info = record['s3']\n"
            "    return s3info['bucket']['name'], unquote_plus(s3info['object']['key'])\n\n"
            "def save(bucket, key, data):\n    s3.upload_file('/tmp/out', bucket, f'processed/{key}')\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n"
            "        bucket, key = location(r)\n        save(bucket, key, None)\n",
            lines=(10,),
        ),
        # a replaced prefix without a template: a warning, the filter decides
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        bucket = record['s3']['bucket']['name']\n"
            "        key = record['s3']['object']['key']\n"
            "        out = key.replace('incoming/', 'resized/', 1)\n"
            "        s3.put_object(Bucket=bucket, Key=out, Body=b'')\n",
            lines=(9,),
        ),
        # the resource API
        Example(
            "import boto3\ns3 = boto3.resource('s3')\n\ndef handler(event, context):\n"
            "    rec = event['Records'][0]['s3']\n    out = s3.Bucket(rec['bucket']['name'])\n"
            "    out.put_object(Key='thumbnails/' + rec['object']['key'], Body=b'')\n"
            "    s3.Object(rec['bucket']['name'], rec['object']['key']).put(Body=b'')\n",
            lines=(7, 8),
        ),
    )
    VALID = (
        # another bucket, from the environment
        Example(
            "import os, boto3\ns3 = boto3.client('s3')\nOUT = os.environ['OUTPUT_BUCKET']\n\n"
            "def handler(event, context):\n    for record in event['Records']:\n"
            "        key = record['s3']['object']['key']\n"
            "        s3.put_object(Bucket=OUT, Key=key, Body=b'')\n"
            "        s3.copy_object(Bucket=f\"{record['s3']['bucket']['name']}-processed\", Key=key,\n"
            "            CopySource={'Bucket': record['s3']['bucket']['name'], 'Key': key})\n"
        ),
        # the handler skips its own output
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        bucket = record['s3']['bucket']['name']\n"
            "        key = record['s3']['object']['key']\n        if key.startswith('processed/'):\n"
            "            continue\n        s3.put_object(Bucket=bucket, Key=f'processed/{key}', Body=b'')\n"
        ),
        # a bucket named in an SQS message is not the trigger's bucket
        Example(
            "import json, boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        job = json.loads(record['body'])\n"
            "        s3.put_object(Bucket=job['bucket'], Key=job['key'], Body=b'')\n"
        ),
        # a replaced prefix the handler skips
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    for record in event['Records']:\n        bucket = record['s3']['bucket']['name']\n"
            "        key = record['s3']['object']['key']\n        if key.startswith('resized/'):\n"
            "            continue\n"
            "        s3.put_object(Bucket=bucket, Key=key.replace('incoming/', 'resized/'), Body=b'')\n"
        ),
        # reading the trigger object is fine
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    b = event['Records'][0]['s3']['bucket']['name']\n"
            "    k = event['Records'][0]['s3']['object']['key']\n"
            "    return s3.get_object(Bucket=b, Key=k)['Body'].read()\n"
        ),
    )

    _LINKED_CODE = (
        "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef handler(event, context):\n"
        "    for record in event['Records']:\n"
        "        bucket = record['s3']['bucket']['name']\n"
        "        key = record['s3']['object']['key']\n"
        "        body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()\n"
        "        s3.put_object(Bucket=bucket, Key=f'thumbnails/{key}', Body=body[:10])\n"
    )
    _LINKED_TEMPLATE = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Thumbs:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      Timeout: 30\n"
        "      Events:\n        Upload:\n          Type: S3\n          Properties:\n"
        "            Bucket: !Ref Uploads\n            Events: s3:ObjectCreated:*\n{filter}"
        "  Uploads:\n    Type: AWS::S3::Bucket\n"
    )
    _PREFIX_FILTER = (
        "            Filter:\n              S3Key:\n                Rules:\n"
        "                  - Name: prefix\n                    Value: {prefix}\n"
    )
    INVALID = INVALID + (
        # the linked template's trigger has no filter: a loop, for certain
        Example(_LINKED_CODE, lines=(11,), path="src/app.py",
                files={"template.yaml": _LINKED_TEMPLATE.format(filter="")}),
        # its filter lets the written keys through
        Example(_LINKED_CODE, lines=(11,), path="src/app.py",
                files={"template.yaml": _LINKED_TEMPLATE.format(filter=_PREFIX_FILTER.format(prefix="thumb"))}),
        # a key the code does not describe behind a prefix filter: a warning naming the filter
        Example(_LINKED_CODE.replace("f'thumbnails/{key}'", "key.replace('uploads/', 'thumbs/', 1)"),
                lines=(11,), path="src/app.py",
                files={"template.yaml": _LINKED_TEMPLATE.format(filter=_PREFIX_FILTER.format(prefix="uploads/"))}),
    )
    VALID = VALID + (
        # the linked template's filter separates what the function writes from what triggers it
        Example(_LINKED_CODE, path="src/app.py",
                files={"template.yaml": _LINKED_TEMPLATE.format(filter=_PREFIX_FILTER.format(prefix="uploads/"))}),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.flow: FlowFacts = flow_facts(context)

    def finish(self) -> None:
        flow = self.flow
        for function_flow in list(flow.flows.values()):
            function = function_flow.info
            if not flow.is_reached_per_invocation(function):
                continue
            for call in function_flow.calls:
                write = self._write(call, function)
                if write is None:
                    continue
                bucket, bucket_scope, key, key_scope = write
                bucket_taint = flow.origins(bucket, bucket_scope)
                origins = sorted((o for o in bucket_taint if _matches(o, BUCKET_PATHS)), key=lambda o: (len(o), o))
                # request data that a handler of another module passed in: that handler's own guards
                # (``if key.startswith(...)``) are not visible here, so stay quiet
                origins = [o for o in origins if self._triggered_by_s3(o[0]) and not self._entered_from_outside(o[0])]
                if origins:
                    self._judge(call, key_scope, origins[0], key)
                elif self.facts.all_links:
                    self._judge_configured_bucket(call, bucket, bucket_scope, key, key_scope)

    # a bucket named by the environment, which the linked template points at the trigger ------------

    def _judge_configured_bucket(
        self, call: cst.Call, bucket: cst.BaseExpression, scope: FunctionInfo,
        key: Optional[cst.BaseExpression], key_scope: FunctionInfo,
    ) -> None:
        """``Bucket=os.environ["OUTPUT_BUCKET"]`` where the template sets OUTPUT_BUCKET to the
        bucket whose S3 trigger invokes this very function: the loop is closed here."""
        variable = self._environment_variable(bucket)
        if variable is None:
            return
        shape = self._shape(key, key_scope) if key is not None else None
        for link in self.facts.links_running(scope):
            target = dict(link.environment_refs).get(variable)
            looping = [
                t for t in link.triggers
                if target and t.kind == "s3" and t.fires_on_new_objects and t.source_target == target
                and (shape is None or t.may_match(shape.prefix, shape.suffix))
            ]
            if not looping:
                continue
            trigger = looping[0]
            callee = self.facts.module.code_for_node(call.func)
            where = f" (prefix `{trigger.prefix}`)" if trigger.prefix else (
                f" (suffix `{trigger.suffix}`)" if trigger.suffix else " (no filter)")
            written = f" {shape.describe()}" if shape is not None and (shape.prefix or shape.suffix) else ""
            self.report(
                call,
                f"`{callee}` writes{written} to `{variable}`, which `{link.logical_id}` sets to `{target}`: "
                f"the bucket whose S3 trigger `{trigger.name}`{where} invokes this function again for each write",
                hint="write to another bucket, or give the trigger a prefix/suffix filter that excludes "
                "the keys the function writes",
                related=[Related(trigger.path, trigger.span, f"S3 trigger `{trigger.name}` on `{target}`")],
            )
            return

    def _environment_variable(self, expression: cst.BaseExpression) -> Optional[str]:
        """X of ``os.environ["X"]``, ``os.environ.get("X", ...)`` or ``os.getenv("X", ...)``,
        directly or through a name bound once."""
        value = values.resolve(expression, self.get_metadata).value
        key: Optional[cst.BaseExpression] = None
        if isinstance(value, cst.Subscript) and "os.environ" in self.qualified_names(value.value):
            if len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
                key = value.slice[0].slice.value
        elif isinstance(value, cst.Call) and self.qualified_names(value.func) & {"os.environ.get", "os.getenv"}:
            key = value.args[0].value if value.args else None
        if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
            return key.evaluated_value
        return None

    def _linked_s3_triggers(self, handler_qualname: str) -> List[Trigger]:
        """The S3 triggers of the template functions linked to the handler."""
        handler = self.facts.functions.get(handler_qualname)
        if handler is None:
            return []
        return [
            t for link in self.facts.links_of(handler) for t in link.triggers
            if t.kind == "s3" and t.fires_on_new_objects
        ]

    def _entered_from_outside(self, qualname: str) -> bool:
        function = self.facts.functions.get(qualname)
        return function is not None and function not in self.facts.handlers and bool(self.facts.entries_of(function))

    def _triggered_by_s3(self, handler_qualname: str) -> bool:
        handler = self.facts.functions.get(handler_qualname)
        if handler is None:
            return False
        info = event_source(self.flow, handler)
        return info.origin != "template" or "s3" in info.sources

    # which calls write where ---------------------------------------------------------------------

    def _write(
        self, call: cst.Call, function: FunctionInfo
    ) -> Optional[Tuple[cst.BaseExpression, FunctionInfo, Optional[cst.BaseExpression], FunctionInfo]]:
        """(bucket, the function it is evaluated in, key, its function) of a call that writes an
        S3 object."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        receiver = self.flow.sdk_object(func.value, function)
        kind = receiver.kind if receiver is not None and receiver.service == "s3" else None
        if receiver is not None and receiver.service != "s3":
            return None
        made = self._constructor(func.value, function) if kind in (None, "Bucket", "Object") else None
        if made is not None:
            constructor, scope = made
            made_kind = constructor.func.attr.value  # type: ignore[union-attr]
            if kind in ("Bucket", None) and made_kind == "Bucket" and method in BUCKET_WRITES:
                bucket = argument(constructor, "name", 0)
                index = BUCKET_WRITES[method]
                key = keyword(call, "Key") if index is None else argument(call, "Key", index)
                return (bucket, scope, key, function) if bucket is not None else None
            if kind in ("Object", None) and made_kind in ("Object", "ObjectSummary") and method in OBJECT_WRITES:
                bucket = argument(constructor, "bucket_name", 0)
                key = argument(constructor, "key", 1)
                return (bucket, scope, key, scope) if bucket is not None else None
        if kind in ("client", None) and method in CLIENT_WRITES:
            bucket_index, key_index = CLIENT_WRITES[method]
            bucket = argument(call, "Bucket", bucket_index)
            key = argument(call, "Key", key_index)
            return (bucket, function, key, function) if bucket is not None else None
        return None

    def _constructor(
        self, node: cst.BaseExpression, function: FunctionInfo, depth: int = 0
    ) -> Optional[Tuple[cst.Call, FunctionInfo]]:
        """The ``X.Bucket(...)``/``X.Object(...)`` call that made ``node``, and where it ran
        (through local variables and the return values of the module's functions)."""
        if depth > 4:
            return None
        if isinstance(node, cst.Call):
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("Bucket", "Object", "ObjectSummary"):
                return node, function
            callee = self.flow.callee(node, function)
            if callee is not None:
                returns = self.flow.flows.get(callee[0].qualname)
                for value in returns.returns if returns else ():
                    found = self._constructor(value, callee[0], depth + 1)
                    if found is not None:
                        return found
            return None
        if isinstance(node, cst.Name):
            for value, scope in self.flow.bindings(node.value, function):
                found = self._constructor(value, scope or function, depth + 1)
                if found is not None:
                    return found
        return None

    # how sure the loop is --------------------------------------------------------------------------

    def _judge(self, call: cst.Call, function: FunctionInfo, bucket_origin: Origin, key: Optional[cst.BaseExpression]) -> None:
        callee = self.facts.module.code_for_node(call.func)
        source = format_origin(bucket_origin)
        key_taint: Taint = self.flow.origins(key, function) if key is not None else frozenset()
        if any(_matches(o, KEY_PATHS) for o in key_taint):
            self.report(
                call,
                f"`{callee}` writes back the object that triggered this handler (bucket {source}, same "
                "key): the write sends a new S3 notification and invokes the function again, "
                "endlessly",
                hint="write the result to another bucket (e.g. one named by an OUTPUT_BUCKET "
                "environment variable) or under a prefix the trigger's filter excludes",
            )
            return
        shape = self._shape(key, function) if key is not None else None
        if shape is not None and (shape.prefix or shape.suffix):
            if self._skipped_by_handler(shape, bucket_origin[0]):
                return
            triggers = self._linked_s3_triggers(bucket_origin[0])
            if triggers:
                # The template is known: its filters decide, for certain.
                looping = [t for t in triggers if t.may_match(shape.prefix, shape.suffix)]
                if not looping:
                    return
                trigger = looping[0]
                where = f" (prefix `{trigger.prefix}`)" if trigger.prefix else (
                    f" (suffix `{trigger.suffix}`)" if trigger.suffix else " (no filter)")
                self.report(
                    call,
                    f"`{callee}` writes {shape.describe()} to the bucket that triggered this handler "
                    f"({source}), and the S3 trigger `{trigger.name}`{where} lets those keys through: "
                    "each write invokes the function again",
                    hint="write to another bucket, or give the trigger a prefix/suffix filter that "
                    "excludes the keys the function writes",
                    related=[Related(trigger.path, trigger.span, f"S3 trigger `{trigger.name}`")],
                )
                return
            affix = shape.prefix or shape.suffix
            test = f'key.startswith("{shape.prefix}")' if shape.prefix else f'key.endswith("{shape.suffix}")'
            self.report(
                call,
                f"`{callee}` writes {shape.describe()} to the bucket that triggered this handler "
                f"({source}): unless the trigger's prefix/suffix filter excludes `{affix}`, each "
                "write invokes the function again (the template's notification filter decides)",
                hint=f"make sure the S3 trigger's filter excludes `{affix}` (or write to another "
                f"bucket), and skip those keys in the handler: `if {test}: return`",
                severity=Severity.WARNING,
            )
            return
        triggers = self._linked_s3_triggers(bucket_origin[0])
        if triggers:
            self._judge_unknown_key(call, callee, source, triggers)
            return
        replaced = self._replacement(key, function) if key is not None else None
        if replaced is not None:
            old, new = replaced
            if new and self._skipped_by_handler(KeyShape(new, ""), bucket_origin[0]):
                return
            # ``key.replace("incoming/", "resized/")``: meant to land elsewhere; without the
            # template, whether the trigger's filter lets it through is not known
            self.report(
                call,
                f"`{callee}` writes keys made with `.replace({old!r}, {new!r})` to the bucket that "
                f"triggered this handler ({source}): unless the trigger's prefix/suffix filter "
                "excludes them, each write invokes the function again (the template's notification "
                "filter decides)",
                hint=f"make sure the S3 trigger's filter only lets the input keys through (e.g. "
                f"prefix `{old}`), or write to another bucket",
                severity=Severity.WARNING,
            )
            return
        self.report(
            call,
            f"`{callee}` writes to the bucket that triggered this handler ({source}): each object "
            "written sends a new S3 notification and invokes the function again, a loop that "
            "runs until someone notices the bill",
            hint="write the result to another bucket (e.g. one named by an OUTPUT_BUCKET "
            "environment variable), or write under a prefix the trigger's filter excludes",
        )

    def _judge_unknown_key(self, call: cst.Call, callee: str, source: str, triggers: List[Trigger]) -> None:
        """A key the code cannot describe (``key.replace("incoming/", "resized/")``), with the
        template's triggers known: a trigger without a filter loops for certain; behind a
        prefix/suffix filter, the filter decides, and the finding says which one to check."""
        open_trigger = next((t for t in triggers if t.filters_known and not t.prefix and not t.suffix), None)
        if open_trigger is not None:
            self.report(
                call,
                f"`{callee}` writes to the bucket that triggered this handler ({source}), and the "
                f"S3 trigger `{open_trigger.name}` (no filter) fires for every key: each object "
                "written invokes the function again, a loop that runs until someone notices the bill",
                hint="write the result to another bucket (e.g. one named by an OUTPUT_BUCKET "
                "environment variable), or give the trigger a prefix/suffix filter that excludes "
                "the keys the function writes",
                related=[Related(open_trigger.path, open_trigger.span, f"S3 trigger `{open_trigger.name}`")],
            )
            return
        trigger = triggers[0]
        if not trigger.filters_known:
            names = "a filter that is not static"
            check = "its filter"
        else:
            parts = []
            if trigger.prefix:
                parts.append(f"prefix `{trigger.prefix}`")
            if trigger.suffix:
                parts.append(f"suffix `{trigger.suffix}`")
            names = " and ".join(parts)
            check = "keys starting with " + f"`{trigger.prefix}`" if trigger.prefix else (
                "keys ending with " + f"`{trigger.suffix}`")
            if trigger.prefix and trigger.suffix:
                check += f" and ending with `{trigger.suffix}`"
        self.report(
            call,
            f"`{callee}` writes a key the code does not describe to the bucket that triggered this "
            f"handler ({source}); the S3 trigger `{trigger.name}` has {names}, and that filter "
            "decides: if a written key passes it, each write invokes the function again",
            hint=f"make sure the function never writes {check} (or write to another bucket)",
            severity=Severity.WARNING,
            related=[Related(trigger.path, trigger.span, f"S3 trigger `{trigger.name}` ({names})")],
        )

    def _replacement(self, node: cst.BaseExpression, function: FunctionInfo, depth: int = 0) -> Optional[Tuple[str, str]]:
        """(old, new) of a key made with ``something.replace("old/", "new/"[, n])``, two
        different folder literals, directly or through a name every binding of which is one."""
        if depth > 4:
            return None
        if isinstance(node, cst.Call):
            func = node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "replace" and len(node.args) in (2, 3)):
                return None
            old, new = literal_string(node.args[0].value), literal_string(node.args[1].value)
            # folder for folder (``"incoming/"`` -> ``"resized/"``); ``.replace("in", "out")``
            # may change nothing in a key, so it proves no intent
            if old and new and old != new and old.endswith("/") and new.endswith("/"):
                return old, new
            return None
        if isinstance(node, cst.Name):
            found = [self._replacement(v, scope or function, depth + 1) for v, scope in self.flow.bindings(node.value, function)]
            if found and all(f is not None and f == found[0] for f in found):
                return found[0]
        return None

    def _shape(self, node: cst.BaseExpression, function: FunctionInfo, depth: int = 0) -> Optional[KeyShape]:
        if depth > 4:
            return None
        text = literal_string(node)
        if text is not None:
            return KeyShape(text, text)
        if isinstance(node, cst.FormattedString):
            first, last = node.parts[0] if node.parts else None, node.parts[-1] if node.parts else None
            prefix = first.value if isinstance(first, cst.FormattedStringText) else ""
            suffix = last.value if isinstance(last, cst.FormattedStringText) else ""
            return KeyShape(prefix, suffix)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self._shape(node.left, function, depth + 1)
            right = self._shape(node.right, function, depth + 1)
            return KeyShape(left.prefix if left else "", right.suffix if right else "")
        if isinstance(node, cst.Call) and self.flow.qualified_names(node.func) & _JOINS and node.args:
            first = literal_string(node.args[0].value)
            return KeyShape(first.rstrip("/") + "/" if first else "", "")
        if isinstance(node, cst.Name):
            values = self.flow.bindings(node.value, function)
            shapes = [self._shape(value, scope or function, depth + 1) for value, scope in values]
            if not shapes or any(shape is None for shape in shapes):
                return None
            # assigned in several places (``if large: ... else: ...``): what they all share
            prefixes = [shape.prefix for shape in shapes if shape is not None]
            suffixes = [shape.suffix[::-1] for shape in shapes if shape is not None]
            return KeyShape(os.path.commonprefix(prefixes), os.path.commonprefix(suffixes)[::-1])
        return None

    def _skipped_by_handler(self, shape: KeyShape, handler_qualname: str) -> bool:
        """The handler (or what it reaches) tests the trigger key for this prefix or suffix:
        ``if key.startswith("processed/"): return``."""
        handler = self.facts.functions.get(handler_qualname)
        if handler is None:
            return False
        for function in self.flow.reach([handler]):
            function_flow = self.flow.flows.get(function.qualname)
            for call in function_flow.calls if function_flow else ():
                func = call.func
                if not isinstance(func, cst.Attribute) or func.attr.value not in ("startswith", "endswith"):
                    continue
                if not any(_matches(o, KEY_PATHS) for o in self.flow.origins(func.value, function)):
                    continue
                tested: List[str] = []
                if call.args:
                    value = call.args[0].value
                    single = literal_string(value)
                    if single is not None:
                        tested.append(single)
                    elif isinstance(value, cst.Tuple):
                        tested += [t for t in (literal_string(e.value) for e in value.elements) if t]
                for text in tested:
                    if func.attr.value == "startswith" and shape.prefix and shape.prefix.startswith(text):
                        return True
                    if func.attr.value == "endswith" and shape.suffix and shape.suffix.endswith(text):
                        return True
        return False


