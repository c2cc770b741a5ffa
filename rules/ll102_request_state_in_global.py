"""LL102 request-state-in-global."""

from __future__ import annotations

from typing import Optional, Set

import libcst as cst

from lambdalint.python.analysis import FunctionInfo
from lambdalint.python.taint import (
    EMPTY,
    FlowFacts,
    FunctionFlow,
    Taint,
    best_origin,
    flow_facts,
    format_origin,
    root_name,
)
from lambdalint.rule import Example, PythonRule

#: methods that store their arguments in the receiver (``put`` is left out: it is also
#: ``s3.Object(...).put``, an upload, not a container write)
STORING_METHODS = frozenset(
    {"append", "appendleft", "add", "update", "extend", "extendleft", "insert", "setdefault", "__setitem__"}
)
#: receiver steps that still denote the same container: ``CACHE.setdefault(k, []).append(x)``
_PASS_THROUGH = frozenset({"setdefault", "get", "__getitem__"})

#: libraries whose calls fetch data from elsewhere: a value they return is a response, not the
#: request, even when the request chose what to ask for
_FETCHING_MODULES = ("requests.", "httpx.", "urllib3.", "urllib.request.", "aiohttp.")

_MUTABLE_FACTORIES = frozenset(
    {"builtins.list", "builtins.dict", "builtins.set", "collections.defaultdict", "collections.OrderedDict",
     "collections.deque", "collections.Counter"}
)


class RequestStateInGlobal(PythonRule):
    """Request data stored in module state that outlives the invocation.

    ## What it does
    Flags data derived from a handler's `event` or `context` (followed through variables,
    loops, f-strings, `json.loads`, helpers' parameters and return values — also the
    parameters of functions in the project's other modules that a handler calls with request
    data, though not their return values back into the handler) when code reached
    on every invocation writes it into state that survives the invocation: a `global`
    rebinding, a module-level container (`CACHE[event["id"]] = ...`, `SEEN.append(record)`,
    `.add`/`.update`/`.extend`/`.setdefault`), an attribute of a module-level object or
    imported module (also `os.environ`), a class attribute (`ClassName.attr = ...`,
    `self.__class__.attr = ...`, `cls.attr = ...`), a container held by the instance behind a
    class-based handler (`self.seen.append(...)` when `handler = Handler().handle`), or a
    mutable default argument. Routes of a Powertools resolver (`@app.post(...)`) count as run
    on every invocation when a handler calls `app.resolve(event, context)`, and
    `app.current_event` is that handler's event.

    Not flagged: module-level clients and configuration; caches filled with values that do not
    come from the request (`_secrets["db"] = fetch_secret("db")`); invocation counters
    (`_invocations += 1`); local variables that share a global's name; `self.attr = ...` in a
    class-based handler (overwritten by every invocation before use); Powertools
    `logger.append_keys(...)`, `tracer.put_annotation(...)` and metrics calls, whose state is
    per-invocation by design when `inject_lambda_context(clear_state=True)` is used; buffers
    that the same function empties on every run (`BUFFER.clear()`, `global B; B = []`); values
    that only say how large or what type the request was (`len(event["Records"])`); `context`
    attributes that are the same for every invocation (`context.function_name`). A bounded
    cache is quiet: one the same function empties when it grows (`if len(_rates) > 100:
    _rates.clear()`) or a function memoised with `functools.lru_cache(maxsize=...)`.

    When only the *key* of a module-level cache is request data and the value is not (a rate
    fetched with `requests.get`, an item read with boto3, or a value computed without the
    request), the finding says what it is: an unbounded cache keyed by user input, which
    grows across warm invocations until the function runs out of memory. The fix is to bound
    it, not to make it local.

    ## Why is this bad in Lambda
    Lambda reuses an execution environment for many invocations, one after another, often for
    different users. Module state is shared by all of them: a `global` set from one request is
    what the next request sees if it does not set it again (a user acting with another's
    identity), and containers that collect request data grow with every invocation until the
    function runs out of memory and leak one tenant's data to the next.

    ## Example
    ```python
    CURRENT_USER = None
    SEEN = []

    def lambda_handler(event, context):
        global CURRENT_USER
        CURRENT_USER = event["requestContext"]["authorizer"]["principalId"]
        SEEN.append(event["id"])
    ```

    ## Use instead
    ```python
    def lambda_handler(event, context):
        user = event["requestContext"]["authorizer"]["principalId"]
        seen = [event["id"]]
        return process(user, seen)
    ```

    ## Fix safety
    No automatic fix: whether the state is a deliberate cache, and how to bound it, is a
    design decision.
    """

    id = "LL102"
    name = "request-state-in-global"

    INVALID = (
        Example(
            "CURRENT_USER = None\n\ndef lambda_handler(event, context):\n    global CURRENT_USER\n"
            "    CURRENT_USER = event['requestContext']['authorizer']['principalId']\n"
            "    return CURRENT_USER\n",
            lines=(5,),
        ),
        Example(
            "CACHE = {}\nSEEN = []\nIDS = set()\n\ndef handler(event, context):\n"
            "    CACHE[event['id']] = True\n    for record in event['Records']:\n"
            "        SEEN.append(record)\n        IDS.add(record['messageId'])\n",
            lines=(6, 8, 9),
        ),
        # through a helper's parameter, a walrus and an f-string
        Example(
            "import json\nRECENT = {}\n\ndef remember(order):\n"
            "    RECENT.update({f\"order-{order['id']}\": order})\n\n"
            "def handler(event, context):\n    if (body := json.loads(event['body'])):\n"
            "        remember(body)\n",
            lines=(5,),
        ),
        # class attributes
        Example(
            "class Handler:\n    current_user = None\n\n    def handle(self, event, context):\n"
            "        self.__class__.current_user = event['user']\n"
            "        Handler.last_request = context.aws_request_id\n\nhandler = Handler().handle\n",
            lines=(5, 6),
        ),
        # request data read back from ``self`` in another method
        Example(
            "class Handler:\n    def __init__(self):\n        self.seen = {}\n\n"
            "    def handle(self, event, context):\n        self.event = event\n        self.remember()\n\n"
            "    def remember(self):\n        self.seen[self.event['id']] = True\n\nhandler = Handler().handle\n",
            lines=(10,),
        ),
        # a Powertools route: it runs per invocation, ``app.current_event`` is the event
        Example(
            "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
            "app = APIGatewayRestResolver()\nLAST_ORDER = {}\n\n@app.post('/orders')\n"
            "def create_order():\n    order = app.current_event.json_body\n"
            "    LAST_ORDER.update(order)\n    return {'id': order['id']}\n\n"
            "def lambda_handler(event, context):\n    return app.resolve(event, context)\n",
            lines=(8,),
        ),
        # a mutable default argument that accumulates records
        Example(
            "def collect(record, seen=[]):\n    seen.append(record['body'])\n    return seen\n\n"
            "def handler(event, context):\n    for r in event['Records']:\n        collect(r)\n",
            lines=(2,),
        ),
        # the setdefault idiom, a counter of request data, and os.environ
        Example(
            "import os\nBY_TENANT = {}\nTOTAL = 0\n\ndef lambda_handler(evt, ctx):\n    global TOTAL\n"
            "    BY_TENANT.setdefault(evt['tenant'], []).append(evt['item'])\n"
            "    TOTAL += evt['amount']\n    os.environ['TENANT'] = evt['tenant']\n",
            lines=(7, 8, 9),
        ),
    )
    VALID = (
        # module-level clients and config
        Example(
            "import os, boto3\ns3 = boto3.client('s3')\nBUCKET = os.environ['BUCKET']\n\n"
            "def handler(event, context):\n    return s3.get_object(Bucket=BUCKET, Key=event['key'])\n"
        ),
        # a cache of secrets keyed by constant names
        Example(
            "import boto3\n_sm = boto3.client('secretsmanager')\n_secrets = {}\n\n"
            "def fetch_secret(name):\n    return _sm.get_secret_value(SecretId=name)['SecretString']\n\n"
            "def secret(name):\n    if name not in _secrets:\n        _secrets[name] = fetch_secret(name)\n"
            "    return _secrets[name]\n\n"
            "def handler(event, context):\n    password = secret('db')\n    return event['id']\n"
        ),
        # an invocation counter for cold-start logging
        Example(
            "_invocations = 0\n\ndef handler(event, context):\n    global _invocations\n"
            "    _invocations += 1\n    cold = _invocations == 1\n"
            "    print({'cold_start': cold, 'records': len(event['Records'])})\n"
        ),
        # local variables named like globals
        Example(
            "CACHE = {}\nSEEN = []\n\ndef handler(event, context):\n    CACHE = {}\n"
            "    CACHE[event['id']] = event\n    SEEN = []\n    SEEN.append(event)\n    return CACHE, SEEN\n"
        ),
        # Powertools logger keys, static context attributes, instance attributes
        Example(
            "from aws_lambda_powertools import Logger\nlogger = Logger()\nFUNCTION = None\n\n"
            "class Handler:\n    def handle(self, event, context):\n        global FUNCTION\n"
            "        FUNCTION = context.function_name\n"
            "        logger.append_keys(request_id=context.aws_request_id)\n"
            "        self.event = event\n        return self.event['id']\n\nhandler = Handler().handle\n"
        ),
        # a buffer emptied on every invocation
        Example(
            "BUFFER = []\n\ndef flush(items):\n    return len(items)\n\n"
            "def handler(event, context):\n    BUFFER.clear()\n    for r in event['Records']:\n"
            "        BUFFER.append(r['body'])\n    return flush(BUFFER)\n"
        ),
        # the event kept on ``self`` does not make every attribute request data
        Example(
            "class Handler:\n    def __init__(self):\n        self.cache = {}\n"
            "        self.settings = {'stage': 'prod'}\n\n    def handle(self, event, context):\n"
            "        self.event = event\n        self.cache['settings'] = self.settings\n"
            "        return self.event['id']\n\nhandler = Handler().handle\n"
        ),
        # routes of a resolver that no handler resolves with, and a route without request data
        Example(
            "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
            "app = APIGatewayRestResolver()\nadmin = APIGatewayRestResolver()\nHITS = {}\n\n"
            "@admin.get('/dump')\ndef dump():\n    HITS.update(admin.current_event.query_string_parameters)\n\n"
            "@app.get('/health')\ndef health():\n    HITS['health'] = HITS.get('health', 0) + 1\n"
            "    return {'ok': True}\n\n"
            "def lambda_handler(event, context):\n    return app.resolve(event, context)\n"
        ),
        # not reached from a handler
        Example(
            "SEEN = []\n\ndef admin(event):\n    SEEN.append(event)\n\n"
            "def handler(event, context):\n    return 1\n"
        ),
        # a closure's list, not module state
        Example(
            "def handler(event, context):\n    found = []\n    def keep(r):\n        found.append(r)\n"
            "    for record in event['Records']:\n        keep(record)\n    return found\n"
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.flow: FlowFacts = flow_facts(context)
        #: inner calls of ``CACHE.setdefault(k, []).append(x)``, reported with the outer one
        self._consumed: Set[int] = set()

    def finish(self) -> None:
        flow = self.flow
        for function_flow in list(flow.flows.values()):
            function = function_flow.info
            if not flow.is_reached_per_invocation(function):
                continue
            for target, value, node in function_flow.stores:
                self._check_store(function_flow, target, value)
            for call in function_flow.calls:
                self._check_call(function_flow, call)

    # writes --------------------------------------------------------------------------------------

    def _check_store(self, flow: FunctionFlow, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        function = flow.info
        taint = self.flow.origins(value, function) if value is not None else EMPTY
        if isinstance(target, cst.Name):
            if target.value in flow.global_names and taint:
                self._report(target, taint, f"global `{target.value}`")
            return
        keys = EMPTY
        node: cst.BaseExpression = target
        while isinstance(node, cst.Subscript):
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    keys |= self.flow.origins(element.slice.value, function)
            node = node.value
        where = self._state(flow, node, attribute_target=isinstance(target, cst.Attribute))
        if where is None or not (taint or keys) or self._reset_in(flow, node):
            return
        if keys and value is not None and (not taint or self._fetched(value, function)):
            # ``_rates[currency] = fetch(currency)``: a memo cache whose key is request data
            self._report_cache(target, keys, where)
            return
        self._report(target, taint | keys, where)

    def _check_call(self, flow: FunctionFlow, call: cst.Call) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in STORING_METHODS:
            return
        if id(call) in self._consumed:
            return
        function = flow.info
        taint = EMPTY
        for arg in call.args:
            taint |= self.flow.origins(arg.value, function)
        receiver = func.value
        # ``CACHE.setdefault(key, [])...`` / ``CACHE[key].append``: the same container
        while True:
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) and (
                receiver.func.attr.value in _PASS_THROUGH
            ):
                for arg in receiver.args:
                    taint |= self.flow.origins(arg.value, function)
                self._consumed.add(id(receiver))
                receiver = receiver.func.value
            elif isinstance(receiver, cst.Subscript):
                for element in receiver.slice:
                    if isinstance(element.slice, cst.Index):
                        taint |= self.flow.origins(element.slice.value, function)
                receiver = receiver.value
            else:
                break
        if not taint:
            return
        where = self._state(flow, receiver, attribute_target=False)
        if where is None or self._reset_in(flow, receiver):
            return
        if func.attr.value == "setdefault" and receiver is func.value and len(call.args) == 2:
            # ``CACHE.setdefault(currency, fetch(currency))``: the memo idiom, keyed by the request
            key, value = call.args[0].value, call.args[1].value
            keys = self.flow.origins(key, function)
            if keys and (not self.flow.is_tainted(value, function) or self._fetched(value, function)):
                self._report_cache(call, keys, where)
                return
        self._report(call, taint, where)

    # what state a written expression is ------------------------------------------------------------

    def _state(self, flow: FunctionFlow, node: cst.BaseExpression, *, attribute_target: bool) -> Optional[str]:
        """How to name the long-lived state that ``node`` (the written object, or for an
        attribute assignment the attribute) is, or ``None`` when it is local."""
        function = flow.info
        code = self.facts.module.code_for_node
        if isinstance(node, cst.Attribute):
            owner = node.value
            if self.flow.qualified_names(node) & {"os.environ", "os.environb"}:
                return "the process environment (`os.environ`)"
            # self.__class__.x / type(self).x / cls.x / ClassName.x
            if (
                isinstance(owner, cst.Attribute)
                and owner.attr.value == "__class__"
                and isinstance(owner.value, cst.Name)
                and owner.value.value == "self"
            ) or (
                isinstance(owner, cst.Call)
                and isinstance(owner.func, cst.Name)
                and owner.func.value == "type"
                and len(owner.args) == 1
            ):
                return f"class attribute `{function.class_name or 'the class'}.{node.attr.value}`" if attribute_target else (
                    f"class attribute `{code(node)}`"
                )
            if isinstance(owner, cst.Name):
                name = owner.value
                if name == "cls" and function.class_name and _first_param(function) == "cls":
                    return f"class attribute `{function.class_name}.{node.attr.value}`"
                if name == "self" and function.class_name:
                    if attribute_target:
                        return None  # overwritten by each invocation before use; see the doc
                    if self._has_module_instance(function.class_name):
                        return (
                            f"`self.{node.attr.value}`, held by the `{function.class_name}` instance that "
                            "serves every invocation"
                        )
                    return None
                if name in self.facts.classes and not self.flow.is_local(name, flow.info):
                    return f"class attribute `{name}.{node.attr.value}`"
                if self._is_module_level(flow, name):
                    return f"`{code(node)}`, an attribute of module-level `{name}`"
            if not attribute_target:
                # ``STATE.items.append(x)``: the root decides
                root = root_name(node)
                if root is not None and self._is_module_level(flow, root.value):
                    return f"`{code(node)}`, held by module-level `{root.value}`"
            return None
        if isinstance(node, cst.Name):
            name = node.value
            if self._is_module_level(flow, name):
                return f"module-level `{name}`"
            if self._is_mutable_default(flow, name):
                return f"the mutable default of parameter `{name}`"
        return None

    def _reset_in(self, flow: FunctionFlow, container: cst.BaseExpression) -> bool:
        """The same function empties the container on every run (``BUFFER.clear()``, or
        ``global BUFFER; BUFFER = []``): a per-invocation buffer, not state that accumulates."""
        if not isinstance(container, cst.Name):
            return False
        name = container.value
        for call in flow.calls:
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value == "clear"
                and isinstance(func.value, cst.Name)
                and func.value.value == name
                and not call.args
            ):
                return True
        return name in flow.global_names and any(
            isinstance(target, cst.Name) and target.value == name and kind == "="
            for target, _, kind in flow.assigns
        )

    def _is_module_level(self, flow: FunctionFlow, name: str) -> bool:
        if name in flow.global_names:
            return True
        if self.flow.is_local(name, flow.info):
            return False
        return (
            name in self.facts.module_level_names
            or name in self.flow.module_imports
            or name in self.flow.module_bindings
        )

    def _is_mutable_default(self, flow: FunctionFlow, name: str) -> bool:
        params = flow.info.node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value != name or param.default is None:
                continue
            default = param.default
            mutable = isinstance(default, (cst.List, cst.Dict, cst.Set)) or (
                isinstance(default, cst.Call) and bool(self.flow.qualified_names(default.func) & _MUTABLE_FACTORIES)
            )
            rebound = any(
                isinstance(target, cst.Name) and target.value == name for target, _, _ in flow.assigns
            )
            return mutable and not rebound
        return False

    def _has_module_instance(self, class_name: str) -> bool:
        return class_name in self.facts.module_instances.values() or any(
            alias.startswith(class_name + ".") for alias in self.facts.handler_aliases.values()
        )

    def _fetched(self, node: cst.BaseExpression, function: FunctionInfo, depth: int = 0) -> bool:
        """True when ``node`` is a response fetched from elsewhere (an HTTP call, an AWS SDK
        call, a helper that returns one), possibly unwrapped (``.json()["rate"]``): the request
        may have chosen what to ask for, but the value is not request data."""
        if depth > 4:
            return False
        current = node
        for _ in range(12):
            if isinstance(current, (cst.Subscript, cst.Attribute)):
                current = current.value
            elif isinstance(current, cst.Await):
                current = current.expression
            elif isinstance(current, cst.Call):
                if any(n.startswith(_FETCHING_MODULES) for n in self.flow.qualified_names(current.func)):
                    return True
                func = current.func
                if isinstance(func, cst.Attribute):
                    if self.flow.sdk_object(func.value, function) is not None:
                        return True
                    current = func.value  # a method of a response: ``.json()``, ``.read()``
                    continue
                callee = self.flow.callee(current, function)
                if callee is None:
                    return False
                returns = self.flow.flows.get(callee[0].qualname)
                values = returns.returns if returns else []
                return bool(values) and all(self._fetched(v, callee[0], depth + 1) for v in values)
            elif isinstance(current, cst.Name):
                if not self.flow.is_local(current.value, function):
                    return False
                bindings = self.flow.bindings(current.value, function)
                return bool(bindings) and all(
                    scope is not None and self._fetched(v, scope, depth + 1) for v, scope in bindings
                )
            else:
                return False
        return False

    # reporting -------------------------------------------------------------------------------------

    def _report(self, node: cst.CSTNode, taint: Taint, where: str) -> None:
        origin = best_origin(taint)
        data = format_origin(origin) if origin else "request data"
        self.report(
            node,
            f"Request data ({data}) is stored in {where}, which outlives this invocation: later "
            "invocations in the same execution environment see it",
            hint=(
                "keep per-request data in local variables and pass it as arguments; a cache that "
                "must be global should be keyed and bounded so that one request's data cannot "
                "reach another"
            ),
        )


    def _report_cache(self, node: cst.CSTNode, keys: Taint, where: str) -> None:
        origin = best_origin(keys)
        data = format_origin(origin) if origin else "request data"
        self.report(
            node,
            f"{where[0].upper()}{where[1:]} is a cache keyed by request data ({data}) that nothing "
            "bounds: every distinct key adds an entry that stays across warm invocations, so it "
            "grows with what callers send until the function runs out of memory",
            hint=(
                "bound the cache: memoise the function with `functools.lru_cache(maxsize=...)`, "
                "or check its size before adding (`if len(cache) > 1000: cache.clear()`)"
            ),
        )


def _first_param(function: FunctionInfo) -> Optional[str]:
    params = (*function.node.params.posonly_params, *function.node.params.params)
    return params[0].name.value if params else None
