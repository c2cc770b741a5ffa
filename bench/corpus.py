"""A deterministic, realistic Lambda monorepo for benchmarks.

    python bench/corpus.py 1000 /tmp/corpus-1000      # write one corpus and print its summary

The corpus is a ``services/`` folder of services with 5-20 handlers each (a few more for the last
one). Every service has one deployment template: SAM (most), plain CloudFormation, Serverless
Framework or Terraform, and each template names handlers that exist. Handlers are 50-400 lines
of the Python that real Lambda code is made of (boto3, requests, Powertools, module-level
clients, helpers, class-based and async handlers) with the usual anti-patterns sprinkled in at
realistic rates (clients built per invocation, hardcoded ARNs, HTTP calls without a timeout,
SQS loops that write without an idempotency guard, request data kept in module state).

Everything comes from one seeded ``random.Random``: the same size (and seed) always yields
byte-identical files. Nothing depends on the clock, the machine or set/dict hash order.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Tuple

#: Handler files are between these many lines (inclusive).
MIN_LINES = 50
MAX_LINES = 400
#: Handlers per service (the last service may take up to MIN_HANDLERS - 1 more).
MIN_HANDLERS = 5
MAX_HANDLERS = 20
#: Template kinds and their share of services.
TEMPLATE_KINDS = (("sam", 0.45), ("cloudformation", 0.1), ("serverless", 0.25), ("terraform", 0.2))

DOMAINS = (
    "orders", "payments", "inventory", "users", "notifications", "billing", "shipping",
    "catalog", "search", "reports", "auth", "audit", "media", "analytics", "invoices",
    "subscriptions", "reviews", "carts", "pricing", "loyalty", "returns", "accounts",
    "documents", "webhooks", "scheduler", "exports", "imports", "ledger", "fraud", "emails",
)
ROLES = ("api", "worker", "events", "jobs", "sync", "stream", "admin", "public")
VERBS = (
    "create", "get", "list", "update", "delete", "process", "sync", "export", "import",
    "validate", "notify", "archive", "reconcile", "refresh", "publish", "enrich", "resize",
    "index", "score", "expire",
)
NOUNS = (
    "order", "payment", "item", "user", "invoice", "refund", "shipment", "report", "event",
    "record", "image", "document", "session", "token", "subscription", "review", "cart",
    "price", "batch", "message",
)
STDLIB = (
    "base64", "datetime", "hashlib", "json", "logging", "os", "re", "time", "uuid",
    "decimal", "typing", "functools", "itertools", "collections", "urllib.parse",
)
TRIGGERS = ("api", "sqs", "s3", "schedule", "sns", "eventbridge", "dynamodb_stream")
HANDLER_STYLES = (
    ("plain", 0.5), ("powertools", 0.15), ("class", 0.1), ("async", 0.1), ("router", 0.15),
)
RUNTIMES = ("python3.11", "python3.12", "python3.12", "python3.13")
ACCOUNT = "123456789012"


@dataclass
class HandlerSpec:
    module: str  # file stem, e.g. "create_order"
    entry: str  # the function (or object) the template names
    trigger: str
    style: str


@dataclass
class Service:
    name: str
    kind: str  # sam | cloudformation | serverless | terraform
    runtime: str
    handlers: List[HandlerSpec] = field(default_factory=list)


@dataclass
class Manifest:
    """What a corpus holds, as paths relative to its root (sorted)."""

    size: int
    seed: int
    python: List[str]
    cloudformation: List[str]  # SAM and plain CloudFormation YAML
    serverless: List[str]
    terraform: List[str]
    digest: str = ""  # sha256 over every (path, content) pair

    @property
    def templates(self) -> List[str]:
        return sorted(self.cloudformation + self.serverless + self.terraform)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        return cls(**json.loads(text))


# -- the plan: services and their handlers ----------------------------------------------------


def weighted(rng: random.Random, choices) -> str:
    names = [name for name, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(names, weights=weights, k=1)[0]


def plan_services(rng: random.Random, size: int) -> List[Service]:
    services: List[Service] = []
    used_names: Dict[str, int] = {}
    remaining = size
    while remaining > 0:
        count = min(rng.randint(MIN_HANDLERS, MAX_HANDLERS), remaining)
        if remaining - count < MIN_HANDLERS:
            count = remaining
        remaining -= count
        domain = rng.choice(DOMAINS)
        base = f"{domain}-{rng.choice(ROLES)}"
        used_names[base] = used_names.get(base, 0) + 1
        name = base if used_names[base] == 1 else f"{base}-{used_names[base]}"
        service = Service(name, weighted(rng, TEMPLATE_KINDS), rng.choice(RUNTIMES))
        modules: List[str] = []
        while len(modules) < count:
            noun = domain.rstrip("s") if rng.random() < 0.4 else rng.choice(NOUNS)
            module = f"{rng.choice(VERBS)}_{noun}"
            if module in modules:
                module = f"{module}_{len(modules)}"
            modules.append(module)
        for module in modules:
            style = weighted(rng, HANDLER_STYLES)
            entry = {"class": "handler", "router": "handler"}.get(style, rng.choice(
                ("lambda_handler", "lambda_handler", "handler", "main")
            ))
            service.handlers.append(HandlerSpec(module, entry, rng.choice(TRIGGERS), style))
        services.append(service)
    return services


# -- handlers ---------------------------------------------------------------------------------


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


class HandlerWriter:
    """Writes one handler module from a spec, with helpers until it reaches a target length."""

    def __init__(self, rng: random.Random, service: Service, spec: HandlerSpec) -> None:
        self.rng = rng
        self.service = service
        self.spec = spec
        self.noun = spec.module.split("_", 1)[1].split("_")[0]
        self.boto = "boto3"  # the local name boto3 is bound to
        self.requests_name = "requests"
        self.helpers: List[str] = []  # names of helpers the handler may call

    # imports and module state

    def imports(self) -> List[str]:
        rng = self.rng
        stdlib = sorted(set(["json", "logging", "os"] + rng.sample(STDLIB, rng.randint(2, 6))))
        lines = [f"import {name}" for name in stdlib if name not in ("typing", "decimal")]
        if "decimal" in stdlib:
            lines.append("from decimal import Decimal")
        if "typing" in stdlib or rng.random() < 0.5:
            lines.append("from typing import Any, Dict, List, Optional")
        if self.spec.style == "async":
            lines.append("import asyncio")
        lines.append("")
        if rng.random() < 0.1:
            self.boto = "aws"
            lines.append("import boto3 as aws")
        else:
            lines.append("import boto3")
        if rng.random() < 0.3:
            lines.append("from botocore.config import Config")
        if rng.random() < 0.2:
            lines.append("from botocore.exceptions import ClientError")
        if rng.random() < 0.1:
            lines.append("from boto3.dynamodb.conditions import Attr, Key")
        if rng.random() < 0.55:
            if rng.random() < 0.1:
                self.requests_name = "http"
                lines.append("import requests as http")
            else:
                lines.append("import requests")
        else:
            self.requests_name = ""
        if self.spec.style == "powertools" or rng.random() < 0.1:
            lines.append("from aws_lambda_powertools import Logger, Tracer")
        if rng.random() < 0.05:
            lines.append("import pymysql")
        if rng.random() < 0.05:
            lines.append("import redis")
        return lines

    def module_state(self) -> List[str]:
        rng = self.rng
        noun = self.noun
        lines = [""]
        if self.spec.style == "powertools":
            lines += ['logger = Logger(service="%s")' % self.service.name, "tracer = Tracer()"]
        else:
            lines += ["logger = logging.getLogger(__name__)", "logger.setLevel(logging.INFO)"]
        lines += [
            "",
            f'TABLE_NAME = os.environ["TABLE_NAME"]',
            f'QUEUE_URL = os.environ.get("QUEUE_URL", "")',
        ]
        if rng.random() < 0.15:  # hardcoded resource
            lines.append(
                f'TOPIC_ARN = "arn:aws:sns:us-east-1:{ACCOUNT}:{self.service.name}-{noun}-events"'
            )
        else:
            lines.append('TOPIC_ARN = os.environ.get("TOPIC_ARN")')
        lines.append("")
        if rng.random() < 0.3:
            lines.append(
                "CONFIG = Config(connect_timeout=2, read_timeout=5, retries={'max_attempts': 3})"
                if "from botocore.config import Config" in self._imports else "CONFIG = None"
            )
        if rng.random() < 0.75:  # clients at module scope: the good pattern
            lines += [
                f'dynamodb = {self.boto}.resource("dynamodb")',
                "table = dynamodb.Table(TABLE_NAME)",
                f'sqs = {self.boto}.client("sqs")',
            ]
            self.module_clients = True
        else:
            self.module_clients = False
        if rng.random() < 0.2:  # lazy global caching
            lines += [
                "",
                "_s3 = None",
                "",
                "",
                "def get_s3():",
                "    global _s3",
                "    if _s3 is None:",
                f'        _s3 = {self.boto}.client("s3")',
                "    return _s3",
            ]
        if rng.random() < 0.1:  # request state kept in module state
            lines += ["", "SEEN_IDS: Dict[str, float] = {}" if "typing" in "".join(self._imports)
                      else "SEEN_IDS = {}"]
            self.seen_ids = True
        else:
            self.seen_ids = False
        return lines

    # helpers: small functions of the kinds handlers are full of

    def helper(self, index: int) -> List[str]:
        kinds: List[Callable[[int], List[str]]] = [
            self.h_validate, self.h_transform, self.h_query, self.h_s3, self.h_publish,
            self.h_retry, self.h_dataclass, self.h_format, self.h_secret, self.h_batch,
            self.h_dates,
        ]
        if self.requests_name:
            kinds += [self.h_http, self.h_http]
        return self.rng.choice(kinds)(index)

    def h_validate(self, i: int) -> List[str]:
        fields = self.rng.sample(("id", "amount", "currency", "email", "sku", "quantity",
                                  "customer_id", "status", "created_at", "region"), 3)
        name = f"validate_{self.noun}_{i}"
        self.helpers.append(name)
        lines = [f"def {name}(payload):", f'    """Check the {self.noun} fields the API accepts."""',
                 "    errors = []"]
        for field_name in fields:
            lines += [f'    if "{field_name}" not in payload:',
                      f'        errors.append("{field_name} is required")']
        lines += ["    if errors:", '        raise ValueError("; ".join(errors))', "    return payload"]
        return lines

    def h_transform(self, i: int) -> List[str]:
        name = f"to_item_{i}"
        self.helpers.append(name)
        return [
            f"def {name}(record):",
            f'    """Map a {self.noun} record to its DynamoDB item."""',
            "    item = {",
            f'        "pk": f"{self.noun.upper()}#{{record[\'id\']}}",',
            '        "sk": record.get("version", "v0"),',
            '        "data": json.dumps(record, default=str),',
            "    }",
            "    for key, value in record.items():",
            "        if isinstance(value, float):",
            "            item[key] = str(value)",
            "        elif value not in (None, \"\"):",
            "            item[key] = value",
            "    return item",
        ]

    def h_query(self, i: int) -> List[str]:
        name = f"load_{self.noun}s_{i}"
        self.helpers.append(name)
        table = "table" if self.module_clients else f'{self.boto}.resource("dynamodb").Table(TABLE_NAME)'
        return [
            f"def {name}(customer_id, limit=50):",
            f'    """All {self.noun}s of a customer, following pagination."""',
            f"    source = {table}",
            "    items = []",
            '    kwargs = {"KeyConditionExpression": "pk = :pk",',
            '              "ExpressionAttributeValues": {":pk": customer_id}, "Limit": limit}',
            "    while True:",
            "        page = source.query(**kwargs)",
            '        items.extend(page.get("Items", []))',
            '        if "LastEvaluatedKey" not in page:',
            "            break",
            '        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]',
            "    return items",
        ]

    def h_s3(self, i: int) -> List[str]:
        name = f"read_object_{i}"
        self.helpers.append(name)
        bucket = (f'"{self.service.name}-{self.noun}-data-prod"' if self.rng.random() < 0.2
                  else 'os.environ["BUCKET_NAME"]')
        return [
            f"def {name}(key):",
            '    """Read a JSON document from the data bucket."""',
            f'    s3 = {self.boto}.client("s3")',
            f"    response = s3.get_object(Bucket={bucket}, Key=key)",
            '    body = response["Body"].read()',
            "    return json.loads(body)",
        ]

    def h_http(self, i: int) -> List[str]:
        name = f"fetch_{self.noun}_details_{i}"
        self.helpers.append(name)
        timeout = ", timeout=5" if self.rng.random() < 0.6 else ""
        method = self.rng.choice(("get", "get", "post"))
        call = (f'{self.requests_name}.{method}(url, headers=headers{timeout})' if method == "get"
                else f'{self.requests_name}.post(url, json={{"id": ident}}, headers=headers{timeout})')
        return [
            f"def {name}(ident):",
            '    """Call the partner API for the details we do not store."""',
            f'    url = f"https://api.partner.example.com/v2/{self.noun}s/{{ident}}"',
            '    headers = {"Authorization": "Bearer " + os.environ.get("PARTNER_TOKEN", "")}',
            f"    response = {call}",
            "    if response.status_code == 404:",
            "        return None",
            "    response.raise_for_status()",
            "    return response.json()",
        ]

    def h_publish(self, i: int) -> List[str]:
        name = f"publish_{self.noun}_event_{i}"
        self.helpers.append(name)
        return [
            f"def {name}(detail, detail_type=\"{camel(self.noun)}Changed\"):",
            '    """Tell the rest of the system that something changed."""',
            f'    events = {self.boto}.client("events")',
            "    events.put_events(Entries=[{",
            f'        "Source": "{self.service.name}",',
            '        "DetailType": detail_type,',
            '        "Detail": json.dumps(detail, default=str),',
            "    }])",
        ]

    def h_retry(self, i: int) -> List[str]:
        name = f"with_retries_{i}"
        return [
            f"def {name}(call, attempts=3, base_delay=0.2):",
            '    """Retry a flaky call with exponential backoff."""',
            "    import time as _time",
            "",
            "    for attempt in range(attempts):",
            "        try:",
            "            return call()",
            "        except Exception:  # noqa: BLE001 - retried below",
            "            if attempt == attempts - 1:",
            "                raise",
            "            _time.sleep(base_delay * (2 ** attempt))",
            "    return None",
        ]

    def h_dataclass(self, i: int) -> List[str]:
        cls = f"{camel(self.noun)}Summary{i}"
        return [
            f"class {cls}:",
            f'    """A read model of one {self.noun}."""',
            "",
            "    def __init__(self, ident, status, total=0):",
            "        self.ident = ident",
            "        self.status = status",
            "        self.total = total",
            "",
            "    def to_dict(self):",
            '        return {"id": self.ident, "status": self.status, "total": self.total}',
            "",
            "    @classmethod",
            "    def from_item(cls, item):",
            '        return cls(item["pk"], item.get("status", "new"), int(item.get("total", 0)))',
        ]

    def h_format(self, i: int) -> List[str]:
        name = f"response_{i}"
        return [
            f"def {name}(status, body):",
            '    """An API Gateway proxy response."""',
            "    return {",
            '        "statusCode": status,',
            '        "headers": {"Content-Type": "application/json"},',
            '        "body": json.dumps(body, default=str),',
            "    }",
        ]

    def h_secret(self, i: int) -> List[str]:
        name = f"get_secret_{i}"
        self.helpers.append(name)
        return [
            "@functools.lru_cache(maxsize=None)" if "import functools" in self._imports else
            "# cached by the caller",
            f"def {name}(name=\"{self.service.name}/api-key\"):",
            '    """Read a secret once per container."""',
            f'    client = {self.boto}.client("secretsmanager")',
            "    try:",
            "        value = client.get_secret_value(SecretId=name)",
            "    except Exception as error:  # the caller decides what a missing secret means",
            '        logger.warning("secret %s unavailable: %s", name, error)',
            "        return None",
            '    return json.loads(value["SecretString"])',
        ]

    def h_batch(self, i: int) -> List[str]:
        name = f"write_batch_{i}"
        self.helpers.append(name)
        target = "table" if self.module_clients else f'{self.boto}.resource("dynamodb").Table(TABLE_NAME)'
        return [
            f"def {name}(items, chunk=25):",
            '    """Write items in DynamoDB-sized batches; returns how many were written."""',
            "    written = 0",
            "    for start in range(0, len(items), chunk):",
            f"        with {target}.batch_writer() as batch:",
            "            for item in items[start:start + chunk]:",
            "                batch.put_item(Item=item)",
            "                written += 1",
            "    return written",
        ]

    def h_dates(self, i: int) -> List[str]:
        name = f"parse_timestamp_{i}"
        return [
            f"def {name}(value, default=None):",
            '    """Accept epoch seconds, epoch millis or ISO 8601; None when unparseable."""',
            "    from datetime import datetime, timezone",
            "",
            "    if value is None:",
            "        return default",
            "    if isinstance(value, (int, float)):",
            "        seconds = value / 1000 if value > 10 ** 11 else value",
            "        return datetime.fromtimestamp(seconds, tz=timezone.utc)",
            "    try:",
            '        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))',
            "    except ValueError:",
            "        return default",
        ]

    # the handler itself

    def body_lines(self) -> List[str]:
        """The handler's work for its trigger, indented for a function body."""
        rng = self.rng
        trigger = self.spec.trigger
        lines: List[str] = []
        if not self.module_clients or rng.random() < 0.15:  # client per invocation
            lines += [f'    dynamodb = {self.boto}.resource("dynamodb")',
                      "    table = dynamodb.Table(TABLE_NAME)",
                      f'    sqs = {self.boto}.client("sqs")']
        call_helper = ""
        if self.helpers:
            call_helper = rng.choice(self.helpers)
        if trigger == "sqs":
            lines += [
                '    for record in event["Records"]:',
                '        message = json.loads(record["body"])',
                "        table.put_item(Item=message)" if rng.random() < 0.6 else
                "        table.put_item(Item=message, ConditionExpression=\"attribute_not_exists(pk)\")",
            ]
            if call_helper:
                lines.append(f"        {call_helper}(message)")
            lines.append('    return {"batchItemFailures": []}')
        elif trigger == "s3":
            lines += [
                '    record = event["Records"][0]["s3"]',
                '    bucket = record["bucket"]["name"]',
                '    key = record["object"]["key"]',
                f'    s3 = {self.boto}.client("s3")',
                "    data = s3.get_object(Bucket=bucket, Key=key)[\"Body\"].read()",
            ]
            if rng.random() < 0.3:  # writes back to the bucket that triggered it
                lines.append('    s3.put_object(Bucket=bucket, Key=key + ".processed", Body=data)')
            else:
                lines.append('    s3.put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key=key, Body=data)')
            lines.append('    return {"processed": key}')
        elif trigger in ("sns", "eventbridge"):
            source = ('event["Records"][0]["Sns"]["Message"]' if trigger == "sns"
                      else 'json.dumps(event["detail"])')
            lines += [
                f"    detail = json.loads({source})",
                '    table.update_item(Key={"pk": detail["id"]}, UpdateExpression="ADD seen :one",',
                '                      ExpressionAttributeValues={":one": 1})',
            ]
            if rng.random() < 0.2:
                lines.append(
                    f'    sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/'
                    f'{self.service.name}-out", MessageBody=json.dumps(detail))'
                )
            lines.append('    return {"ok": True}')
        elif trigger == "dynamodb_stream":
            lines += [
                '    changed = [r["dynamodb"].get("NewImage", {}) for r in event["Records"]',
                '               if r["eventName"] in ("INSERT", "MODIFY")]',
                "    for image in changed:",
                "        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(image))",
                '    return {"forwarded": len(changed)}',
            ]
        elif trigger == "schedule":
            lines += [
                '    logger.info("scheduled run %s", event.get("time"))',
                '    page = table.scan(Limit=100)',
                '    stale = [item for item in page.get("Items", []) if item.get("status") == "stale"]',
                "    for item in stale:",
                '        table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})',
                '    return {"deleted": len(stale)}',
            ]
        else:  # api
            lines += [
                '    body = json.loads(event.get("body") or "{}")',
                '    ident = (event.get("pathParameters") or {}).get("id")',
            ]
            if self.seen_ids:
                lines.append('    SEEN_IDS[ident] = context.get_remaining_time_in_millis()'
                             if self.spec.style != "async" else "    SEEN_IDS[ident] = 1")
            if call_helper:
                lines.append(f"    result = {call_helper}(body if body else ident)")
            else:
                lines.append('    result = table.get_item(Key={"pk": ident}).get("Item")')
            if self.requests_name and rng.random() < 0.3:
                lines.append(f'    {self.requests_name}.post("https://hooks.example.com/audit", '
                             'json={"id": ident})')
            lines += [
                "    if result is None:",
                '        return {"statusCode": 404, "body": json.dumps({"message": "not found"})}',
                '    return {"statusCode": 200, "body": json.dumps(result, default=str)}',
            ]
        return lines

    def handler(self) -> List[str]:
        style = self.spec.style
        entry = self.spec.entry
        body = self.body_lines()
        if style == "class":
            return [
                f"class {camel(self.spec.module)}Handler:",
                f'    """Handles {self.spec.trigger} events for {self.service.name}."""',
                "",
                "    def __init__(self):",
                f'        self.table = {self.boto}.resource("dynamodb").Table(TABLE_NAME)',
                "",
                "    def __call__(self, event, context):",
                "        table = self.table",
                f'        sqs = {self.boto}.client("sqs")',
                *["    " + line for line in body],
                "",
                "",
                f"{entry} = {camel(self.spec.module)}Handler()",
            ]
        if style == "async":
            if self.rng.random() < 0.5:  # an async def handler: Lambda's Python runtime cannot
                return [f"async def {entry}(event, context):", *body]
            return [
                "async def handle(event, context):",
                *body,
                "",
                "",
                f"def {entry}(event, context):",
                "    return asyncio.run(handle(event, context))",
            ]
        if style == "router":
            return [
                "ROUTES = {}",
                "",
                "",
                "def route(method, path):",
                "    def register(function):",
                "        ROUTES[(method, path)] = function",
                "        return function",
                "    return register",
                "",
                "",
                f'@route("GET", "/{self.noun}s/{{id}}")',
                "def read(event, context):",
                *body,
                "",
                "",
                f"def {entry}(event, context):",
                '    key = (event.get("httpMethod"), event.get("resource"))',
                "    target = ROUTES.get(key)",
                "    if target is None:",
                '        return {"statusCode": 405, "body": ""}',
                "    return target(event, context)",
            ]
        head = []
        if style == "powertools":
            head = ["@logger.inject_lambda_context", "@tracer.capture_lambda_handler"]
        return [*head, f"def {entry}(event, context):",
                f'    """Entry point: {self.spec.trigger} events for {self.service.name}."""', *body]

    def write(self) -> str:
        rng = self.rng
        # Most handlers are short and a few are long: log-normal around 110 lines, clipped.
        target = int(min(MAX_LINES, max(MIN_LINES, rng.lognormvariate(math.log(110), 0.55))))
        doc = [f'"""{self.service.name}: {self.spec.module.replace("_", " ")} '
               f'({self.spec.trigger} trigger)."""', ""]
        self._imports = self.imports()
        head = doc + self._imports + self.module_state()
        blocks: List[List[str]] = []
        count = len(head)
        # The handler's length is known only after helpers exist; estimate it generously.
        reserve = 40
        index = 0
        while count + reserve < target or len(blocks) < 1:
            block = self.helper(index)
            if count + len(block) + 2 + reserve > MAX_LINES:
                break
            blocks.append(block)
            count += len(block) + 2
            index += 1
        handler = self.handler()
        lines = list(head)
        for block in blocks:
            lines += ["", ""] + block
        lines += ["", ""] + handler
        # Pad short modules with more helpers after the handler, as real modules often do.
        while len(lines) < MIN_LINES or len(lines) < target - 12:
            block = self.helper(index)
            if len(lines) + len(block) + 2 > MAX_LINES:
                break
            lines += ["", ""] + block
            index += 1
        return "\n".join(lines) + "\n"


# -- templates --------------------------------------------------------------------------------


def function_id(spec: HandlerSpec) -> str:
    return camel(spec.module) + "Function"


def sam_template(rng: random.Random, service: Service) -> str:
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Transform: AWS::Serverless-2016-10-31",
        f"Description: {service.name} service",
        "",
        "Globals:",
        "  Function:",
        f"    Runtime: {service.runtime}",
        "    MemorySize: 256",
        "    Tracing: Active",
        "    Environment:",
        "      Variables:",
        "        TABLE_NAME: !Ref Table",
        "        QUEUE_URL: !Ref Queue",
        "",
        "Parameters:",
        "  Stage:",
        "    Type: String",
        "    Default: dev",
        "",
        "Resources:",
        "  Table:",
        "    Type: AWS::DynamoDB::Table",
        "    Properties:",
        "      BillingMode: PAY_PER_REQUEST",
        "      AttributeDefinitions:",
        "        - AttributeName: pk",
        "          AttributeType: S",
        "      KeySchema:",
        "        - AttributeName: pk",
        "          KeyType: HASH",
        "      StreamSpecification:",
        "        StreamViewType: NEW_IMAGE",
        "",
        "  Queue:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        f"      VisibilityTimeout: {rng.choice((30, 60, 180, 900))}",
        "",
        "  Bucket:",
        "    Type: AWS::S3::Bucket",
        "",
        "  Topic:",
        "    Type: AWS::SNS::Topic",
        "",
    ]
    for spec in service.handlers:
        lines += [
            f"  {function_id(spec)}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            "      CodeUri: src/",
            f"      Handler: {spec.module}.{spec.entry}",
        ]
        if rng.random() < 0.75:
            timeout = rng.choice((10, 15, 30, 60)) if spec.trigger == "api" else rng.choice((30, 60, 300))
            lines.append(f"      Timeout: {timeout}")
        if rng.random() < 0.3:
            lines += ["      Environment:", "        Variables:",
                      "          BUCKET_NAME: !Ref Bucket",
                      "          TOPIC_ARN: !Ref Topic"]
            if rng.random() < 0.1:
                lines.append("          PARTNER_TOKEN: sk_live_51HqLyjWDarjtT1zdp7dcXYZ")
        roll = rng.random()
        lines.append("      Policies:")
        if roll < 0.1:
            lines += ["        - S3CrudPolicy:", "            BucketName: '*'"]
        elif roll < 0.2:
            lines += ["        - Statement:", "            - Effect: Allow",
                      "              Action: 'dynamodb:*'", "              Resource: '*'"]
        else:
            lines += ["        - DynamoDBCrudPolicy:", "            TableName: !Ref Table",
                      "        - SQSSendMessagePolicy:", "            QueueName: !GetAtt Queue.QueueName"]
        lines += sam_events(spec)
        lines.append("")
    lines += ["Outputs:", "  TableName:", "    Value: !Ref Table", "  QueueUrl:",
              "    Value: !Ref Queue"]
    return "\n".join(lines) + "\n"


def sam_events(spec: HandlerSpec) -> List[str]:
    name = camel(spec.trigger)
    head = ["      Events:", f"        {name}:"]
    if spec.trigger == "api":
        return head + ["          Type: Api", "          Properties:",
                       f"            Path: /{spec.module.replace('_', '/')}",
                       "            Method: post" if spec.module.startswith("create") else
                       "            Method: get"]
    if spec.trigger == "sqs":
        return head + ["          Type: SQS", "          Properties:",
                       "            Queue: !GetAtt Queue.Arn", "            BatchSize: 10"]
    if spec.trigger == "s3":
        return head + ["          Type: S3", "          Properties:", "            Bucket: !Ref Bucket",
                       "            Events: s3:ObjectCreated:*"]
    if spec.trigger == "sns":
        return head + ["          Type: SNS", "          Properties:", "            Topic: !Ref Topic"]
    if spec.trigger == "eventbridge":
        return head + ["          Type: EventBridgeRule", "          Properties:",
                       "            Pattern:", "              source:",
                       f"                - {spec.module.split('_')[1]}.service"]
    if spec.trigger == "dynamodb_stream":
        return head + ["          Type: DynamoDB", "          Properties:",
                       "            Stream: !GetAtt Table.StreamArn",
                       "            StartingPosition: TRIM_HORIZON"]
    return head + ["          Type: Schedule", "          Properties:",
                   "            Schedule: rate(15 minutes)"]


def cloudformation_template(rng: random.Random, service: Service) -> str:
    """Plain CloudFormation (no SAM transform): functions, one role, inline code location."""
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        f"Description: {service.name} service (plain CloudFormation)",
        "",
        "Parameters:",
        "  ArtifactBucket:",
        "    Type: String",
        "  ArtifactKey:",
        "    Type: String",
        "",
        "Resources:",
        "  Queue:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        f"      VisibilityTimeout: {rng.choice((30, 120, 600))}",
        "",
        "  Role:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        "      AssumeRolePolicyDocument:",
        "        Version: '2012-10-17'",
        "        Statement:",
        "          - Effect: Allow",
        "            Principal:",
        "              Service: lambda.amazonaws.com",
        "            Action: sts:AssumeRole",
        "      ManagedPolicyArns:",
        "        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]
    if rng.random() < 0.2:
        lines.append("        - arn:aws:iam::aws:policy/AdministratorAccess")
    lines += [
        "      Policies:",
        "        - PolicyName: data",
        "          PolicyDocument:",
        "            Version: '2012-10-17'",
        "            Statement:",
        "              - Effect: Allow",
        "                Action:",
        "                  - sqs:SendMessage",
        "                  - sqs:ReceiveMessage",
        "                  - sqs:DeleteMessage",
        "                  - sqs:GetQueueAttributes",
        "                Resource: !GetAtt Queue.Arn",
        "",
    ]
    for spec in service.handlers:
        fid = function_id(spec)
        lines += [
            f"  {fid}:",
            "    Type: AWS::Lambda::Function",
            "    Properties:",
            f"      Runtime: {service.runtime}",
            f"      Handler: {spec.module}.{spec.entry}",
            "      Role: !GetAtt Role.Arn",
            "      Code:",
            "        S3Bucket: !Ref ArtifactBucket",
            "        S3Key: !Ref ArtifactKey",
            f"      Timeout: {rng.choice((10, 30, 60))}",
            "      Environment:",
            "        Variables:",
            "          QUEUE_URL: !Ref Queue",
            "          TABLE_NAME: !Sub '${AWS::StackName}-table'",
            "",
        ]
        if spec.trigger == "sqs":
            lines += [
                f"  {fid}Mapping:",
                "    Type: AWS::Lambda::EventSourceMapping",
                "    Properties:",
                f"      FunctionName: !Ref {fid}",
                "      EventSourceArn: !GetAtt Queue.Arn",
                "      BatchSize: 10",
                "",
            ]
    lines += ["Outputs:", "  QueueArn:", "    Value: !GetAtt Queue.Arn"]
    return "\n".join(lines) + "\n"


def serverless_template(rng: random.Random, service: Service) -> str:
    lines = [
        f"service: {service.name}",
        "frameworkVersion: '3'",
        "",
        "provider:",
        "  name: aws",
        f"  runtime: {service.runtime}",
        "  region: ${opt:region, 'us-east-1'}",
        "  stage: ${opt:stage, 'dev'}",
        "  memorySize: 256",
        "  environment:",
        "    TABLE_NAME: ${self:service}-${sls:stage}",
        "    QUEUE_URL: { Ref: Queue }",
        "  iam:",
        "    role:",
        "      statements:",
        "        - Effect: Allow",
        "          Action:",
        "            - dynamodb:GetItem",
        "            - dynamodb:PutItem",
        "            - dynamodb:Query",
        "            - dynamodb:UpdateItem",
        "          Resource: { 'Fn::GetAtt': [Table, Arn] }",
    ]
    if rng.random() < 0.2:
        lines += ["        - Effect: Allow", "          Action: 's3:*'", "          Resource: '*'"]
    lines += ["", "functions:"]
    for spec in service.handlers:
        lines += [f"  {spec.module.replace('_', '-')}:", f"    handler: src/{spec.module}.{spec.entry}"]
        if rng.random() < 0.7:
            lines.append(f"    timeout: {rng.choice((6, 10, 30, 60))}")
        events = {
            "api": ["      - http:", f"          path: /{spec.module.replace('_', '/')}",
                    "          method: get"],
            "sqs": ["      - sqs:", "          arn: { 'Fn::GetAtt': [Queue, Arn] }",
                    "          batchSize: 10"],
            "s3": ["      - s3:", f"          bucket: {service.name}-uploads-${{sls:stage}}",
                   "          event: s3:ObjectCreated:*"],
            "sns": ["      - sns:", f"          topicName: {service.name}-events"],
            "eventbridge": ["      - eventBridge:", "          pattern:", "            source:",
                            f"              - {service.name}"],
            "dynamodb_stream": ["      - stream:", "          type: dynamodb",
                                "          arn: { 'Fn::GetAtt': [Table, StreamArn] }"],
            "schedule": ["      - schedule: rate(1 hour)"],
        }[spec.trigger]
        lines += ["    events:"] + events
    lines += [
        "",
        "resources:",
        "  Resources:",
        "    Table:",
        "      Type: AWS::DynamoDB::Table",
        "      Properties:",
        "        TableName: ${self:provider.environment.TABLE_NAME}",
        "        BillingMode: PAY_PER_REQUEST",
        "        AttributeDefinitions:",
        "          - AttributeName: pk",
        "            AttributeType: S",
        "        KeySchema:",
        "          - AttributeName: pk",
        "            KeyType: HASH",
        "        StreamSpecification:",
        "          StreamViewType: NEW_IMAGE",
        "    Queue:",
        "      Type: AWS::SQS::Queue",
        "      Properties:",
        f"        VisibilityTimeout: {rng.choice((30, 60, 360))}",
    ]
    return "\n".join(lines) + "\n"


def terraform_template(rng: random.Random, service: Service) -> str:
    ident = service.name.replace("-", "_")
    lines = [
        'terraform {',
        '  required_providers {',
        '    aws = {',
        '      source  = "hashicorp/aws"',
        '      version = "~> 5.0"',
        '    }',
        '  }',
        '}',
        '',
        'variable "stage" {',
        '  type    = string',
        '  default = "dev"',
        '}',
        '',
        'data "archive_file" "src" {',
        '  type        = "zip"',
        '  source_dir  = "${path.module}/src"',
        f'  output_path = "${{path.module}}/build/{service.name}.zip"',
        '}',
        '',
        f'resource "aws_dynamodb_table" "{ident}" {{',
        f'  name         = "{service.name}-${{var.stage}}"',
        '  billing_mode = "PAY_PER_REQUEST"',
        '  hash_key     = "pk"',
        '',
        '  attribute {',
        '    name = "pk"',
        '    type = "S"',
        '  }',
        '}',
        '',
        f'resource "aws_sqs_queue" "{ident}" {{',
        f'  name                       = "{service.name}-${{var.stage}}"',
        f'  visibility_timeout_seconds = {rng.choice((30, 60, 300))}',
        '}',
        '',
        'resource "aws_iam_role" "lambda" {',
        f'  name = "{service.name}-lambda-${{var.stage}}"',
        '  assume_role_policy = jsonencode({',
        '    Version = "2012-10-17"',
        '    Statement = [{',
        '      Effect    = "Allow"',
        '      Principal = { Service = "lambda.amazonaws.com" }',
        '      Action    = "sts:AssumeRole"',
        '    }]',
        '  })',
        '}',
        '',
        'resource "aws_iam_role_policy" "lambda" {',
        '  role = aws_iam_role.lambda.id',
        '  policy = jsonencode({',
        '    Version = "2012-10-17"',
        '    Statement = [{',
        '      Effect   = "Allow"',
        ('      Action   = ["dynamodb:*"]' if rng.random() < 0.2 else
         '      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]'),
        f'      Resource = [aws_dynamodb_table.{ident}.arn]',
        '    }]',
        '  })',
        '}',
        '',
    ]
    for spec in service.handlers:
        name = spec.module
        lines += [
            f'resource "aws_lambda_function" "{name}" {{',
            f'  function_name    = "{service.name}-{name.replace("_", "-")}-${{var.stage}}"',
            '  filename         = data.archive_file.src.output_path',
            '  source_code_hash = data.archive_file.src.output_base64sha256',
            f'  handler          = "{spec.module}.{spec.entry}"',
            f'  runtime          = "{service.runtime}"',
            '  role             = aws_iam_role.lambda.arn',
        ]
        if rng.random() < 0.7:
            lines.append(f'  timeout          = {rng.choice((10, 30, 60, 120))}')
        lines += [
            '',
            '  environment {',
            '    variables = {',
            f'      TABLE_NAME = aws_dynamodb_table.{ident}.name',
            f'      QUEUE_URL  = aws_sqs_queue.{ident}.url',
            '    }',
            '  }',
            '}',
            '',
        ]
        if spec.trigger == "sqs":
            lines += [
                f'resource "aws_lambda_event_source_mapping" "{name}" {{',
                f'  event_source_arn = aws_sqs_queue.{ident}.arn',
                f'  function_name    = aws_lambda_function.{name}.arn',
                '  batch_size       = 10',
                '}',
                '',
            ]
        elif spec.trigger == "schedule":
            lines += [
                f'resource "aws_cloudwatch_event_rule" "{name}" {{',
                f'  name                = "{service.name}-{name.replace("_", "-")}"',
                '  schedule_expression = "rate(15 minutes)"',
                '}',
                '',
                f'resource "aws_cloudwatch_event_target" "{name}" {{',
                f'  rule = aws_cloudwatch_event_rule.{name}.name',
                f'  arn  = aws_lambda_function.{name}.arn',
                '}',
                '',
            ]
    return "\n".join(lines).rstrip("\n") + "\n"


TEMPLATE_FILES = {
    "sam": ("template.yaml", sam_template),
    "cloudformation": ("template.yaml", cloudformation_template),
    "serverless": ("serverless.yml", serverless_template),
    "terraform": ("main.tf", terraform_template),
}


# -- writing ----------------------------------------------------------------------------------


def generate(size: int, seed: int = 0) -> Dict[str, str]:
    """Every file of the corpus as {relative path: text}, in a deterministic order."""
    if size < 1:
        raise ValueError("size must be at least 1")
    rng = random.Random(f"lambdalint-bench:{seed}:{size}")
    files: Dict[str, str] = {}
    for service in plan_services(rng, size):
        folder = f"services/{service.name}"
        template_name, render = TEMPLATE_FILES[service.kind]
        files[f"{folder}/{template_name}"] = render(rng, service)
        for spec in service.handlers:
            files[f"{folder}/src/{spec.module}.py"] = HandlerWriter(rng, service, spec).write()
    return files


def manifest_of(size: int, seed: int, files: Dict[str, str]) -> Manifest:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    paths = sorted(files)
    return Manifest(
        size=size,
        seed=seed,
        python=[p for p in paths if p.endswith(".py")],
        cloudformation=[p for p in paths if p.endswith("template.yaml")],
        serverless=[p for p in paths if p.endswith("serverless.yml")],
        terraform=[p for p in paths if p.endswith(".tf")],
        digest=digest.hexdigest(),
    )


def generator_key() -> str:
    """Changes whenever this file changes, so a cached corpus from an older generator is rebuilt."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


def write_corpus(root: Path, size: int, seed: int = 0) -> Manifest:
    """Write the corpus under ``root`` (emptied first) and its MANIFEST.json last."""
    files = generate(size, seed)
    if root.exists():
        shutil.rmtree(root)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    manifest = manifest_of(size, seed, files)
    (root / "MANIFEST.json").write_text(manifest.to_json())
    return manifest


def ensure_corpus(base: Path, size: int, seed: int = 0) -> Tuple[Path, Manifest]:
    """The corpus of ``size`` under ``base``, built once per generator version and reused."""
    root = base / f"corpus-{size}-s{seed}-{generator_key()}"
    marker = root / "MANIFEST.json"
    if marker.is_file():
        return root, Manifest.from_json(marker.read_text())
    return root, write_corpus(root, size, seed)


def main(argv: List[str]) -> None:
    if len(argv) not in (2, 3):
        sys.exit("usage: python bench/corpus.py SIZE [FOLDER]")
    size = int(argv[1])
    root = Path(argv[2]) if len(argv) == 3 else Path(f"corpus-{size}")
    manifest = write_corpus(root, size)
    lines = [len((root / p).read_text().splitlines()) for p in manifest.python]
    print(f"{root}: {len(manifest.python)} handlers ({min(lines)}-{max(lines)} lines, "
          f"{sum(lines)} in all), {len(manifest.cloudformation)} CloudFormation/SAM, "
          f"{len(manifest.serverless)} Serverless, {len(manifest.terraform)} Terraform; "
          f"sha256 {manifest.digest[:16]}")


if __name__ == "__main__":
    main(sys.argv)
