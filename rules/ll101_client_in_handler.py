"""LL101 client-in-handler."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from lambdalint.model import Edit, Fix, FixSafety
from lambdalint.python.analysis import FunctionInfo, is_cached_across_invocations
from lambdalint.python.edits import (
    free_name,
    identifier_from,
    import_time_safety,
    insertion_edit,
    module_insertion_line,
)
from lambdalint.python.sdk import BOTO3_FACTORIES, BOTO3_SESSIONS
from lambdalint.python.taint import FlowFacts, flow_facts
from lambdalint.python.values import ENVIRONMENT_MAPPINGS, is_environment_read
from lambdalint.rule import Example, PythonRule

#: qualified name of the factory -> what it makes, for the message
CLIENT_FACTORIES: Dict[str, str] = {
    **{
        name: f"a boto3 {kind}" if name.startswith("boto3.") else f"a botocore {kind}"
        for name, kind in BOTO3_FACTORIES.items()
    },
    "requests.Session": "a requests Session",
    "requests.session": "a requests Session",
    "requests.sessions.Session": "a requests Session",
    "httpx.Client": "an httpx Client",
    "httpx.AsyncClient": "an httpx AsyncClient",
    "urllib3.PoolManager": "a urllib3 PoolManager",
    "urllib3.ProxyManager": "a urllib3 ProxyManager",
    "urllib3.poolmanager.PoolManager": "a urllib3 PoolManager",
    "pymysql.connect": "a MySQL connection",
    "pymysql.Connect": "a MySQL connection",
    "pymysql.connections.Connection": "a MySQL connection",
    "mysql.connector.connect": "a MySQL connection",
    "psycopg2.connect": "a PostgreSQL connection",
    "psycopg2.pool.SimpleConnectionPool": "a PostgreSQL connection pool",
    "psycopg.connect": "a PostgreSQL connection",
    "psycopg.Connection.connect": "a PostgreSQL connection",
    "psycopg.AsyncConnection.connect": "a PostgreSQL connection",
    "pg8000.connect": "a PostgreSQL connection",
    "redis.Redis": "a Redis client",
    "redis.StrictRedis": "a Redis client",
    "redis.from_url": "a Redis client",
    "redis.Redis.from_url": "a Redis client",
    "redis.client.Redis": "a Redis client",
    "pymongo.MongoClient": "a MongoDB client",
    "pymongo.mongo_client.MongoClient": "a MongoDB client",
    "sqlalchemy.create_engine": "a SQLAlchemy engine",
    "sqlalchemy.engine.create_engine": "a SQLAlchemy engine",
}

#: calls whose result is as constant as their arguments: conversions, configuration objects,
#: sessions. Any other call (``sts.assume_role(...)``, a helper of the module) is computed per
#: invocation, and a client configured from its result belongs to that invocation.
CONSTANT_CALLS = frozenset(
    {
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.frozenset",
        "botocore.config.Config",
        "botocore.client.Config",
        "botocore.session.get_session",
        "json.loads",
        *BOTO3_SESSIONS,
    }
)


class ClientInHandler(PythonRule):
    """An SDK, HTTP or database client created on every invocation.

    ## What it does
    Flags boto3/botocore clients and resources, `requests.Session`, `httpx.Client`,
    `urllib3.PoolManager`, and database or cache connections (pymysql, psycopg, redis, pymongo,
    SQLAlchemy engines) created inside a handler or inside a function the handler calls,
    directly or through other functions of the module, or of the project's other modules
    that it imports and calls (`from .clients import make_table`, `import helpers;
    helpers.table()`: a few hops deep; not methods of objects from other modules, functions
    passed by reference, or modules outside the run).

    Imports are resolved, so `import boto3 as b; b.client("s3")` and
    `from boto3 import client as make` are found. Creation at module scope, the lazy global
    pattern (`global _c; if _c is None: _c = boto3.client(...)`), factories memoised with
    `functools.cache`/`lru_cache` and code under `if __name__ == "__main__":` are not per
    invocation and are not flagged.

    A client that has to be made per request is not flagged either: when its arguments (or
    those of the `boto3.Session(...)` it is made from) depend on the event or the context, or
    on a value the invocation computes (a parameter, a local bound to the credentials
    `sts.assume_role(...)` returned, a region or endpoint read from the request, a loop
    variable), hoisting it would be wrong. Arguments made of literals, module-level names and
    `os.environ` reads (directly or through a local bound to one) are the same on every
    invocation, and the client is flagged.

    Blind spots: a client keyed by a per-request value could still be cached in a dict (one per
    tenant or region); the rule does not suggest it. A local bound to a call the rule does not
    know to be constant (a helper of the module) counts as per invocation.

    ## Why is this bad in Lambda
    Lambda reuses an execution environment for many invocations, and everything at module
    scope survives between them. A client made in the handler is rebuilt on every request:
    boto3 loads and parses its service model (tens of milliseconds and megabytes of memory),
    and every HTTP or database client opens new TCP and TLS connections instead of reusing
    warm ones. You pay that latency and billed duration on every call, and a database sees a
    new connection per request.

    ## Example
    ```python
    import boto3

    def lambda_handler(event, context):
        s3 = boto3.client("s3")
        return s3.get_object(Bucket=event["bucket"], Key=event["key"])
    ```

    ## Use instead
    ```python
    import boto3

    s3 = boto3.client("s3")

    def lambda_handler(event, context):
        return s3.get_object(Bucket=event["bucket"], Key=event["key"])
    ```

    ## Fix safety
    Hoisting is safe when the client's arguments are literals or module-level names: the same
    client is built, once. Clients configured from the event or from per-invocation values are
    not reported, so never moved. A client made inside a `try:` gets an unsafe fix: at module
    scope an error of its constructor would fail the cold start instead of being handled.
    """

    id = "LL101"
    name = "client-in-handler"
    fix_safety = FixSafety.SAFE

    INVALID = (
        Example(
            "import boto3\n\ndef lambda_handler(event, context):\n"
            "    s3 = boto3.client('s3')\n    return s3.list_buckets()\n",
            lines=(4,),
        ),
        Example(
            "import boto3 as b\nfrom boto3 import client as mk\n\n"
            "def handler(event, context):\n    b.client('s3')\n    mk('sqs')\n"
            "    b.resource('dynamodb')\n",
            lines=(5, 6, 7),
        ),
        Example(
            "import boto3.session\n\ndef handler(event, context):\n"
            "    return boto3.session.Session().client('s3')\n",
            lines=(4,),
        ),
        Example(
            "import boto3\n\ndef handler(event, context):\n"
            "    session = boto3.Session(region_name='eu-west-1')\n"
            "    return session.client('s3')\n",
            lines=(5,),
        ),
        # reached through helpers, transitively
        Example(
            "import requests\nimport redis\n\ndef fetch(url):\n"
            "    return requests.Session().get(url, timeout=3)\n\n"
            "def load(event):\n    cache = redis.Redis(host='cache')\n    return fetch(event['url'])\n\n"
            "def lambda_handler(event, context):\n    return load(event)\n",
            lines=(5, 8),
        ),
        Example(
            "import httpx, urllib3, pymysql, psycopg2, psycopg, pymongo\n"
            "import sqlalchemy\nfrom redis import from_url\n\n"
            "async def handler(event, context):\n"
            "    async with httpx.AsyncClient() as c:\n        pass\n"
            "    urllib3.PoolManager()\n    pymysql.connect(host='db')\n"
            "    psycopg2.connect('dsn')\n    psycopg.connect('dsn')\n"
            "    pymongo.MongoClient('mongodb://db')\n    sqlalchemy.create_engine('sqlite://')\n"
            "    from_url('redis://cache')\n",
            lines=(6, 8, 9, 10, 11, 12, 13, 14),
        ),
        # class-based handler: the method and what it calls
        Example(
            "import boto3\n\nclass Handler:\n    def handle(self, event, context):\n"
            "        return self._table().get_item(Key={'id': event['id']})\n\n"
            "    def _table(self):\n        return boto3.resource('dynamodb').Table('t')\n\n"
            "handler = Handler().handle\n",
            lines=(8,),
        ),
        # a nested function called from the handler
        Example(
            "import boto3\n\ndef handler(event, context):\n    def sqs():\n"
            "        return boto3.client('sqs')\n    return sqs().send_message(QueueUrl='q', MessageBody='b')\n",
            lines=(5,),
        ),
        # a conventional name is enough, whatever the parameters are called
        Example(
            "import boto3\n\ndef lambda_handler(evt, ctx):\n    return boto3.client('s3')\n",
            lines=(4,),
        ),
        # a handler found by its Powertools decorator
        Example(
            "import boto3\nfrom aws_lambda_powertools import Logger\nlogger = Logger()\n\n"
            "@logger.inject_lambda_context\ndef main(evt, ctx):\n    return boto3.client('s3')\n",
            lines=(7,),
        ),
        # a cache check that does not guard the creation
        Example(
            "import boto3\n_client = None\n\ndef handler(event, context):\n    global _client\n"
            "    if event.get('fresh'):\n        pass\n    _client = boto3.client('s3')\n",
            lines=(8,),
        ),
        # a local read from the environment is the same on every invocation
        Example(
            "import os\nimport boto3\n\ndef handler(event, context):\n"
            "    region = os.environ['REGION']\n"
            "    return boto3.client('s3', region_name=region)\n",
            lines=(6,),
        ),
        # a helper parameter that every caller passes a literal
        Example(
            "import boto3\n\ndef make(region):\n    return boto3.client('ec2', region_name=region)\n\n"
            "def handler(event, context):\n    return make('eu-west-1')\n",
            lines=(4,),
        ),
        # a wrapper whose callers pass only constants, also through **kwargs
        Example(
            "import boto3\n\ndef make(service, **kw):\n    return boto3.client(service, **kw)\n\n"
            "def handler(event, context):\n    return make('sqs', region_name='eu-west-1')\n",
            lines=(4,),
        ),
        # a handler named in the config
        Example(
            "import boto3\n\ndef process(payload, ctx):\n    return boto3.client('s3')\n",
            lines=(4,),
            path="src/jobs/worker.py",
            config={"handlers": ["src/jobs/*.py:process"]},
        ),
    )
    VALID = (
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef lambda_handler(event, context):\n"
            "    return s3.list_buckets()\n"
        ),
        # lazy global caching
        Example(
            "import boto3 as b\n_client = None\n\ndef get_client():\n    global _client\n"
            "    if _client is None:\n        _client = b.client('s3')\n    return _client\n\n"
            "def handler(event, context):\n    return get_client().list_buckets()\n"
        ),
        Example(
            "import boto3\n_clients = {}\n\ndef client(name):\n    if name not in _clients:\n"
            "        _clients[name] = boto3.client(name)\n    return _clients[name]\n\n"
            "def handler(event, context):\n    return client('s3')\n"
        ),
        Example(
            "import boto3\n_table = None\n\ndef handler(event, context):\n    global _table\n"
            "    _table = _table or boto3.resource('dynamodb').Table('t')\n"
        ),
        Example(
            "import boto3\n\nclass Repo:\n    _client = None\n\n    @classmethod\n    def client(cls):\n"
            "        if cls._client is None:\n            cls._client = boto3.client('s3')\n"
            "        return cls._client\n\ndef handler(event, context):\n    return Repo.client()\n"
        ),
        # memoised factories
        Example(
            "import functools\nimport boto3\n\n@functools.lru_cache(maxsize=None)\n"
            "def ddb():\n    return boto3.resource('dynamodb')\n\n"
            "def handler(event, context):\n    return ddb().Table('t')\n"
        ),
        Example(
            "from functools import cache as memo\nimport requests\n\n@memo\ndef http():\n"
            "    return requests.Session()\n\ndef handler(event, context):\n    return http()\n"
        ),
        # not reached from any handler
        Example(
            "import boto3\n\ndef admin_script():\n    return boto3.client('iam')\n\n"
            "def handler(event, context):\n    return 1\n\nif __name__ == '__main__':\n"
            "    boto3.client('s3').list_buckets()\n    admin_script()\n"
        ),
        # a module without handlers: a library of helpers for scripts
        Example("import boto3\n\ndef make():\n    return boto3.client('s3')\n"),
        # names that look like factories but are not the libraries
        Example(
            "from myapp import boto3_like as boto3\n\ndef handler(event, context):\n"
            "    return boto3.client('s3')\n"
        ),
        Example(
            "class Session:\n    pass\n\ndef handler(event, context):\n    s = Session()\n"
            "    return s.client('x')\n"
        ),
        # clients that belong to the request: assumed-role credentials, a region from the event
        Example(
            "import boto3\nsts = boto3.client('sts')\n\ndef handler(event, context):\n"
            "    creds = sts.assume_role(RoleArn=event['role'], RoleSessionName='s')['Credentials']\n"
            "    s3 = boto3.client('s3', aws_access_key_id=creds['AccessKeyId'],\n"
            "                      aws_secret_access_key=creds['SecretAccessKey'])\n"
            "    ec2 = boto3.client('ec2', region_name=event['region'])\n"
            "    session = boto3.Session(aws_session_token=creds['SessionToken'])\n"
            "    return s3, ec2, session.client('dynamodb')\n"
        ),
        # credentials computed per invocation even from constant arguments (they expire)
        Example(
            "import boto3\nROLE = 'arn:aws:iam::123456789012:role/r'\nsts = boto3.client('sts')\n\n"
            "def handler(event, context):\n"
            "    creds = sts.assume_role(RoleArn=ROLE, RoleSessionName='s')\n"
            "    return boto3.client('s3', aws_access_key_id=creds['Credentials']['AccessKeyId'])\n"
        ),
        Example(
            "import boto3\n\ndef make(service, **kw):\n    return boto3.client(service, **kw)\n\n"
            "def handler(event, context):\n    return make('sqs', region_name=event['region'])\n"
        ),
        Example(
            "import boto3\nREGIONS = ['eu-west-1', 'us-east-1']\n\ndef handler(event, context):\n"
            "    return [boto3.client('ec2', region_name=r).describe_vpcs() for r in REGIONS]\n"
        ),
        # a local variable named like the module-level client
        Example(
            "import boto3\ns3 = boto3.client('s3')\n\ndef handler(event, context):\n"
            "    s3_ = s3\n    return s3_.list_buckets()\n"
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._candidates: List[Tuple[cst.Call, FunctionInfo, str, str]] = []
        self.flow: FlowFacts = flow_facts(context)

    def visit_Call(self, node: cst.Call) -> None:
        function = self.current_function
        if function is None:
            return
        names = self.facts.call_names(node.func, self.qualified_names(node.func), function)
        factory = next((n for n in sorted(names) if n in CLIENT_FACTORIES), None)
        if factory is None:
            return
        made = CLIENT_FACTORIES[factory]
        if is_cached_across_invocations(node, function, self.facts):
            return
        self._candidates.append((node, function, made, factory))

    def finish(self) -> None:
        for node, function, made, factory in self._candidates:
            if not self.facts.is_reached_per_invocation(function):
                continue
            if self._configured_per_request(node, function):
                continue
            self.report(
                node,
                self._message(made, function),
                hint=self._hint(made),
                fix=self._hoist(node, function, factory),
            )

    # -- clients that belong to the request ---------------------------------------------------

    def _configured_per_request(self, node: cst.Call, function: FunctionInfo) -> bool:
        """True when the call's arguments, or the object it is a method of (``session.client``),
        depend on the request or on a value computed by the invocation."""
        parts: List[cst.BaseExpression] = [arg.value for arg in node.args]
        if isinstance(node.func, cst.Attribute):
            parts.append(node.func.value)
        return any(
            self.flow.is_tainted(part, function) or not self._constant(part, function, 0)
            for part in parts
        )

    @staticmethod
    def _star_parameter_of(name: str, function: FunctionInfo) -> Optional[FunctionInfo]:
        """The function (``function`` or an enclosing one) whose ``*args``/``**kwargs`` is
        ``name``."""
        current: Optional[FunctionInfo] = function
        while current is not None:
            params = current.node.params
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param) and star.name.value == name:
                    return current
            current = current.parent
        return None

    def _callers_pass_constants(self, function: FunctionInfo, depth: int) -> bool:
        """``def make(service, **kw): return boto3.client(service, **kw)``: what ``kw`` holds
        is whatever the module's callers pass; constant when every call passes constants (and
        there is at least one call)."""
        sites = [
            (call, flow.info)
            for flow in list(self.flow.flows.values())
            for call in flow.calls
            if (self.flow.callee(call, flow.info) or (None,))[0] is function
        ]
        return bool(sites) and all(
            not self.flow.is_tainted(arg.value, caller) and self._constant(arg.value, caller, depth + 1)
            for call, caller in sites
            for arg in call.args
        )

    def _constant(self, node: cst.BaseExpression, function: FunctionInfo, depth: int) -> bool:
        """True when ``node`` evaluates to the same value on every invocation: literals,
        module-level names, environment reads, and conversions or configuration objects made
        of those, also through locals bound to such values. Unsure is not constant."""
        if depth > 4:
            return False
        if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.ConcatenatedString)):
            return True
        if isinstance(node, cst.Name):
            if not self.flow.is_local(node.value, function):
                return True  # module level, imported or builtin: evaluated once
            star = self._star_parameter_of(node.value, function)
            if star is not None:
                return self._callers_pass_constants(star, depth)
            bindings = self.flow.bindings(node.value, function)
            return bool(bindings) and all(
                where is not None
                and not self.flow.is_tainted(value, where)
                and self._constant(value, where, depth + 1)
                for value, where in bindings
            )
        if isinstance(node, cst.Attribute):
            return self._constant(node.value, function, depth)
        if isinstance(node, cst.Subscript):
            if self.qualified_names(node.value) & ENVIRONMENT_MAPPINGS:
                return True
            return self._constant(node.value, function, depth) and all(
                isinstance(element.slice, cst.Index) and self._constant(element.slice.value, function, depth)
                for element in node.slice
            )
        if isinstance(node, cst.Call):
            if is_environment_read(node, self.qualified_names):
                return True
            if not self.qualified_names(node.func) & CONSTANT_CALLS:
                return False
            return all(not arg.star and self._constant(arg.value, function, depth) for arg in node.args)
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            return all(
                not isinstance(e, cst.StarredElement) and self._constant(e.value, function, depth)
                for e in node.elements
            )
        if isinstance(node, cst.Dict):
            return all(
                isinstance(e, cst.DictElement)
                and self._constant(e.key, function, depth)
                and self._constant(e.value, function, depth)
                for e in node.elements
            )
        if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
            return self._constant(node.left, function, depth) and self._constant(node.right, function, depth)
        if isinstance(node, cst.UnaryOperation):
            return self._constant(node.expression, function, depth)
        if isinstance(node, cst.IfExp):
            return all(self._constant(n, function, depth) for n in (node.test, node.body, node.orelse))
        if isinstance(node, cst.Comparison):
            return self._constant(node.left, function, depth) and all(
                self._constant(c.comparator, function, depth) for c in node.comparisons
            )
        if isinstance(node, cst.FormattedString):
            return all(
                self._constant(p.expression, function, depth)
                for p in node.parts
                if isinstance(p, cst.FormattedStringExpression)
            )
        return False

    # -- the fix ---------------------------------------------------------------------------------

    def _hoist(self, node: cst.Call, function: FunctionInfo, factory: str) -> Optional[Fix]:
        """Replace the call with a module-level client: an existing one made by an identical
        call, or a new one inserted after the imports and the names its arguments use.

        Only boto3/botocore clients: they hold no state a handler would close or reset, while
        hoisting a database connection or an HTTP session changes when it is closed."""
        if not factory.startswith(("boto3.", "botocore.")):
            return None
        if isinstance(self.facts.parent_of(node, function.node), cst.WithItem):
            return None
        module = self.facts.module
        replace_span = self.span_of(node)
        for statement in module.body:
            if (
                isinstance(statement, cst.SimpleStatementLine)
                and len(statement.body) == 1
                and isinstance(statement.body[0], cst.Assign)
                and len(statement.body[0].targets) == 1
                and isinstance(statement.body[0].targets[0].target, cst.Name)
                and statement.body[0].value.deep_equals(node)
            ):
                existing = statement.body[0].targets[0].target.value
                return Fix(
                    f"Reuse the module-level `{existing}`",
                    FixSafety.SAFE,
                    (Edit(replace_span, existing),),
                )
        safety = import_time_safety(node, self.facts.module_level_names, self.qualified_names)
        if safety is None:
            return None
        if self._inside_try(node, function):
            # the handler catches what the constructor raises; at module scope it would fail
            # the cold start instead: the author decides
            safety = "unsafe"
        service = self._service_name(node)
        kind = "resource" if factory.endswith(".resource") else "client"
        name = free_name(self.facts.source, f"{identifier_from(service)}_{kind}" if service else kind)
        used = {n.value for n in _names_within(node)} & self.facts.module_level_names
        line = module_insertion_line(module, used, lambda st: self.context.position_of(st).end.line)
        return Fix(
            f"Create it once at module scope as `{name}`",
            FixSafety.SAFE if safety == "safe" else FixSafety.UNSAFE,
            (
                insertion_edit(line, f"{name} = {module.code_for_node(node)}"),
                Edit(replace_span, name),
            ),
        )

    def _inside_try(self, node: cst.CSTNode, function: FunctionInfo) -> bool:
        ancestor = self.facts.parent_of(node, function.node)
        while ancestor is not None:
            if isinstance(ancestor, (cst.Try, cst.TryStar)):
                return True
            ancestor = self.facts.parent_of(ancestor, function.node)
        return False

    @staticmethod
    def _service_name(node: cst.Call) -> Optional[str]:
        for arg in node.args:
            if (arg.keyword is None or arg.keyword.value == "service_name") and isinstance(
                arg.value, cst.SimpleString
            ):
                value = arg.value.evaluated_value
                return value if isinstance(value, str) else None
            if arg.keyword is None:
                return None
        return None

    def _message(self, made: str, function: FunctionInfo) -> str:
        handler: Optional[FunctionInfo] = self.facts.handler_reaching(function)
        where = f"handler `{function.qualname}`"
        if handler is not None and handler is not function:
            where = f"`{function.qualname}`, which handler `{handler.qualname}` calls"
        via = self.facts.via(handler) if handler is not None and handler not in self.facts.handlers else None
        if via is not None:
            where = f"`{function.qualname}`, which {via} calls" if handler is function else (
                f"`{function.qualname}`, reached from `{handler.qualname}`, which {via} calls"
            )
        return f"{made[0].upper()}{made[1:]} is created on every invocation, in {where}"

    @staticmethod
    def _hint(made: str) -> str:
        return (
            f"create {made} once at module scope (or lazily in a global) so that warm "
            "invocations reuse it and its connections"
        )


def _names_within(node: cst.CSTNode):
    """Every Name node under ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current
        stack.extend(current.children)
