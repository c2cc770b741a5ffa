"""Request taint: which values of a module derive from a handler's ``event`` and ``context``.

The facts are collected during the engine's one shared traversal (:class:`FlowCollector`, an
extension of :class:`~lambdalint.python.analysis.FactCollector`) and resolved lazily, once per
module, on the first question a rule asks after the traversal (:class:`FlowFacts`). LL102,
LL303 and LL304 all read the same :class:`FlowFacts`; get it with :func:`flow_facts` from a
rule's ``__init__``.

The analysis is flow-insensitive per function: a local name is tainted by every value ever
assigned to it in that function. Taint follows local assignments, augmented assignments, tuple
unpacking, ``for`` and comprehension targets, ``with ... as``, walrus, ``match`` captures,
f-strings and calls; it flows into the parameters of the module's own functions called with
tainted arguments, and out of them through their ``return`` values, transitively, to a fixed
point.

A taint is a set of *origins*. An origin is the access path from a handler parameter, e.g.
``("app.handler", "event", "Records", "*", "s3", "bucket", "name")``: ``"*"`` is an element
of a sequence (a loop variable, ``[0]``), ``"~"`` marks a transformation (a call, an f-string,
arithmetic) after which the value is derived from, but no longer equal to, what was read, and
``"?"`` a key that is not a literal. Rules use the paths to tell *which* request data flows
where (the trigger bucket's name, a message id) and event-source guessing uses every path a
handler reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

import libcst as cst

from lambdalint.python.analysis import FactCollector, FunctionInfo, ModuleFacts, qualified_names
from lambdalint.python.names import parameters
from lambdalint.python.sdk import BOTO3_FACTORIES, BOTO3_SESSIONS

Origin = Tuple[str, ...]
Taint = FrozenSet[Origin]
EMPTY: Taint = frozenset()

#: a transformed value / a sequence element / a key that is not a literal
DERIVED, ELEMENT, UNKNOWN_KEY = "~", "*", "?"

#: longest origin path kept (deeper reads are cut and marked derived) and most origins per name
MAX_PATH = 14
MAX_ORIGINS = 48

#: ``context`` attributes that are the same for every invocation of an execution environment:
#: reading them is not reading request data.
STATIC_CONTEXT_ATTRIBUTES = frozenset(
    {
        "function_name",
        "function_version",
        "invoked_function_arn",
        "memory_limit_in_bytes",
        "log_group_name",
        "log_stream_name",
    }
)

#: calls whose result carries no request data worth tracking (a size, a type, a truth value)
SANITIZERS = frozenset(
    {
        "builtins.len",
        "builtins.isinstance",
        "builtins.issubclass",
        "builtins.bool",
        "builtins.hasattr",
        "builtins.type",
        "builtins.id",
        "builtins.callable",
    }
)

#: calls that return the same value, as far as its identity goes (the same bucket name)
IDENTITY_CALLS = frozenset(
    {"builtins.str", "urllib.parse.unquote_plus", "urllib.parse.unquote", "typing.cast"}
)

#: methods that put their arguments into the receiver
MUTATING_METHODS = frozenset(
    {
        "append",
        "appendleft",
        "add",
        "update",
        "extend",
        "extendleft",
        "insert",
        "setdefault",
        "__setitem__",
        "push",
        "put",
        "put_nowait",
    }
)

#: calls whose result is new on every attempt: a key or token built from them never repeats
FRESH_CALLS = frozenset(
    {
        "uuid.uuid1",
        "uuid.uuid4",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.perf_counter",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "secrets.token_bytes",
        "random.random",
        "random.randint",
        "random.getrandbits",
        "os.urandom",
        "ulid.new",
        "ulid.ULID",
    }
)

#: the clock among :data:`FRESH_CALLS`: a date in a key may be a partition, not a new name
CLOCK_CALLS = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.perf_counter",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
    }
)

#: Powertools event handler resolvers: ``app.resolve(event, context)`` serves an API, and
#: the functions registered with ``@app.get(...)`` run per invocation with ``app.current_event``
API_RESOLVERS = frozenset(
    {
        "APIGatewayRestResolver",
        "APIGatewayHttpResolver",
        "ALBResolver",
        "LambdaFunctionUrlResolver",
        "VPCLatticeResolver",
        "VPCLatticeV2Resolver",
        "ApiGatewayResolver",
    }
)
ROUTE_DECORATORS = frozenset({"get", "post", "put", "delete", "patch", "head", "options", "route"})
#: what a resolver exposes of the invocation it serves
RESOLVER_ATTRIBUTES = {"current_event": "event", "lambda_context": "context"}

#: keyword arguments that carry a record handler: its first parameter is a record of the event
RECORD_HANDLER_KEYWORDS = frozenset({"record_handler"})

#: resource sub-objects: (service, method of the resource or sub-object) -> the object made
RESOURCE_OBJECTS = {
    ("dynamodb", "Table"): "Table",
    ("s3", "Bucket"): "Bucket",
    ("s3", "Object"): "Object",
    ("s3", "ObjectSummary"): "Object",
    ("sqs", "Queue"): "Queue",
    ("sqs", "get_queue_by_name"): "Queue",
    ("sns", "Topic"): "Topic",
}
HTTP_SESSIONS = {
    "requests.Session": "requests",
    "requests.session": "requests",
    "requests.sessions.Session": "requests",
    "httpx.Client": "httpx",
    "httpx.AsyncClient": "httpx",
    "aiohttp.ClientSession": "aiohttp",
    "urllib3.PoolManager": "urllib3",
}


@dataclass(frozen=True)
class SdkObject:
    """What an expression holds, when it was made by a known factory: ``kind`` is
    ``client``/``resource``/``Table``/``BatchWriter``/``Bucket``/``Object``/``Queue``/``Topic``/``session``
    (a boto3 Session) or ``http`` (an HTTP session), ``service`` the AWS service name (or the
    HTTP library)."""

    kind: str
    service: str


# -- small helpers over origins ------------------------------------------------------------------


def _extend(taint: Taint, component: str) -> Taint:
    out = set()
    for origin in taint:
        if len(origin) >= MAX_PATH:
            out.add(origin if origin[-1] == DERIVED else origin + (DERIVED,))
        else:
            out.add(origin + (component,))
    return frozenset(out)


def derived(taint: Taint) -> Taint:
    """``taint`` after a transformation: the value depends on, but no longer equals, its origins."""
    return frozenset(o if o[-1] == DERIVED else o + (DERIVED,) for o in taint)


def _cap(taint: Iterable[Origin]) -> Taint:
    items = set(taint)
    if len(items) <= MAX_ORIGINS:
        return frozenset(items)
    return frozenset(sorted(items, key=lambda o: (len(o), o))[:MAX_ORIGINS])


def format_origin(origin: Origin) -> str:
    """``event["Records"][*]["body"]``-style text for an origin, for messages; a transformed
    value is named by what it was derived from: ``data derived from event["body"]``."""
    text = origin[1]
    for component in origin[2:]:
        if component == DERIVED:
            return f"data derived from {text}"
        if component == ELEMENT:
            text += "[*]"
        elif component == UNKNOWN_KEY:
            text += "[?]"
        elif origin[1] == "context" and component.isidentifier():
            text += f".{component}"
        else:
            text += f'["{component}"]'
    return text


def best_origin(taint: Taint) -> Optional[Origin]:
    """The origin to name in a message: the shortest, then alphabetically first."""
    return min(taint, key=lambda o: (len(o), o)) if taint else None


def literal_string(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """The value of a plain string literal (also implicitly concatenated ones)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_string(node.left), literal_string(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def keyword(call: cst.Call, name: str) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def positional(call: cst.Call, index: int) -> Optional[cst.BaseExpression]:
    args = [a for a in call.args if a.keyword is None and not a.star]
    return args[index].value if index < len(args) else None


def argument(call: cst.Call, name: str, index: Optional[int] = None) -> Optional[cst.BaseExpression]:
    """A call's argument by keyword, else by position."""
    found = keyword(call, name)
    if found is None and index is not None:
        found = positional(call, index)
    return found


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """Names bound by an assignment target (through tuples, lists and starred)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def root_name(node: cst.BaseExpression) -> Optional[cst.Name]:
    """``a`` for ``a.b[c].d``."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def _subscript_key(node: cst.Subscript) -> str:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return DERIVED
    index = node.slice[0].slice.value
    text = literal_string(index)
    if text is not None:
        return text
    if isinstance(index, cst.Integer) or (
        isinstance(index, cst.UnaryOperation) and isinstance(index.expression, cst.Integer)
    ):
        return ELEMENT
    return UNKNOWN_KEY


# -- what the traversal records ------------------------------------------------------------------


@dataclass
class FunctionFlow:
    """The flow facts of one function, as recorded during the traversal."""

    info: FunctionInfo
    #: (target, value, kind): kind "=" (also walrus), "+=" (augmented), "for", "with"
    assigns: List[Tuple[cst.BaseExpression, cst.BaseExpression, str]] = field(default_factory=list)
    returns: List[cst.BaseExpression] = field(default_factory=list)
    #: ``yield value`` expressions: a generator's elements
    yields: List[cst.BaseExpression] = field(default_factory=list)
    calls: List[cst.Call] = field(default_factory=list)
    #: subscripts, attributes and ``"k" in x`` tests: what the function reads
    accesses: List[cst.CSTNode] = field(default_factory=list)
    #: ``match`` subjects and their case patterns
    matches: List[Tuple[cst.BaseExpression, cst.MatchPattern]] = field(default_factory=list)
    #: names bound in this function (parameters included, ``global`` names excluded)
    local_names: Set[str] = field(default_factory=set)
    #: names declared ``global`` (not ``nonlocal``)
    global_names: Set[str] = field(default_factory=set)
    #: ``subscript = value`` / ``attribute = value`` / ``x += value`` writes, for LL102
    stores: List[Tuple[cst.BaseExpression, Optional[cst.BaseExpression], cst.CSTNode]] = field(
        default_factory=list
    )


class FlowCollector(cst.BatchableCSTVisitor):
    """Records, during the shared traversal, what :class:`FlowFacts` resolves afterwards."""

    def __init__(self, collector: FactCollector) -> None:
        super().__init__()
        self.collector = collector
        self.flow = FlowFacts(collector)
        self._class_depth = 0

    def get_metadata(self, key, node, default=None):  # type: ignore[override]
        return self.collector.get_metadata(key, node, default)

    def _current(self) -> Optional[FunctionFlow]:
        function = self.collector.current_function
        if function is None:
            return None
        return self.flow.function_flow(function)

    # scopes ---------------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        flow = self._current()
        if flow is None:
            return
        flow.local_names.update(param.name.value for param in parameters(node.params))
        parent = flow.info.parent
        if parent is not None:
            # a nested def binds its name in the enclosing function
            self.flow.function_flow(parent).local_names.add(node.name.value)
        elif flow.info.class_name is None:
            # ``@app.get("/orders")``: a route of a (maybe) Powertools resolver
            for decorator in node.decorators:
                expression = decorator.decorator
                if (
                    isinstance(expression, cst.Call)
                    and isinstance(expression.func, cst.Attribute)
                    and isinstance(expression.func.value, cst.Name)
                    and expression.func.attr.value in ROUTE_DECORATORS
                ):
                    self.flow.routes.setdefault(expression.func.value.value, []).append(flow.info.qualname)

    def visit_Global(self, node: cst.Global) -> None:
        flow = self._current()
        if flow is not None:
            flow.global_names.update(item.name.value for item in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        self._imported(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._imported(node)

    def _imported(self, node) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        names = set()
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                names.add(alias.asname.name.value)
            else:
                names.add(self.collector.facts.module.code_for_node(alias.name).split(".")[0])
        flow = self._current()
        if flow is not None:
            flow.local_names.update(names)
        elif self._class_depth == 0:
            self.flow.module_imports.update(names)

    # bindings -------------------------------------------------------------------------------

    def _bind(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression], kind: str, node: cst.CSTNode) -> None:
        flow = self._current()
        if flow is None:
            if value is None:
                return
            if self._class_depth == 0:
                for name in target_names(target):
                    self.flow.module_bindings.setdefault(name, []).append(value)
            elif self._class_depth and isinstance(target, cst.Name):
                owner = self.collector._classes[-1] if self.collector._classes else None
                if owner:
                    self.flow.attribute_bindings.setdefault((owner, target.value), []).append(value)
            return
        if value is not None:
            flow.assigns.append((target, value, kind))
            # ``global _table; _table = boto3.resource(...).Table(...)``: a module binding too
            if isinstance(target, cst.Name) and target.value in flow.global_names and kind in ("=", "with"):
                self.flow.module_bindings.setdefault(target.value, []).append(value)
        for name in target_names(target):
            if name not in flow.global_names:
                flow.local_names.add(name)
        if isinstance(target, (cst.Subscript, cst.Attribute)) or (
            kind == "+=" and isinstance(target, cst.Name)
        ) or (isinstance(target, cst.Name) and target.value in flow.global_names):
            flow.stores.append((target, value, node))
        # ``self.table = boto3.resource(...).Table(...)`` in a method: remember per class
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value in ("self", "cls")
            and flow.info.class_name
            and value is not None
        ):
            key = (flow.info.class_name, target.attr.value)
            self.flow.attribute_bindings.setdefault(key, []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value, "=", node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value, "=", node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, node.value, "+=", node)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, node.iter, "for", node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, node.iter, "for", node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, node.item, "with", node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value, "=", node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        flow = self._current()
        if flow is not None and node.name is not None:
            flow.local_names.update(target_names(node.name.name))

    def visit_Return(self, node: cst.Return) -> None:
        flow = self._current()
        if flow is not None and node.value is not None:
            flow.returns.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        flow = self._current()
        if flow is not None and isinstance(node.value, cst.BaseExpression):
            flow.yields.append(node.value)

    def visit_Match(self, node: cst.Match) -> None:
        flow = self._current()
        if flow is None:
            return
        for case in node.cases:
            flow.matches.append((node.subject, case.pattern))
            for name in _pattern_names(case.pattern):
                flow.local_names.add(name)

    # uses -------------------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        flow = self._current()
        if flow is not None:
            flow.calls.append(node)
        elif self._class_depth == 0:
            self.flow.module_calls.append(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        flow = self._current()
        if flow is not None:
            flow.accesses.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        flow = self._current()
        if flow is not None:
            flow.accesses.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        flow = self._current()
        if flow is not None and any(
            isinstance(t.operator, (cst.In, cst.NotIn)) for t in node.comparisons
        ):
            flow.accesses.append(node)


def _pattern_names(pattern: cst.MatchPattern) -> Iterator[str]:
    if isinstance(pattern, cst.MatchAs):
        if pattern.name is not None:
            yield pattern.name.value
        if pattern.pattern is not None:
            yield from _pattern_names(pattern.pattern)
    elif isinstance(pattern, cst.MatchStar) and pattern.name is not None:
        yield pattern.name.value
    elif isinstance(pattern, cst.MatchMapping):
        for element in pattern.elements:
            yield from _pattern_names(element.pattern)
        if pattern.rest is not None:
            yield pattern.rest.value
    elif isinstance(pattern, (cst.MatchSequence, cst.MatchList, cst.MatchTuple)):
        for element in pattern.patterns:
            inner = element.value if isinstance(element, cst.MatchSequenceElement) else element
            yield from _pattern_names(inner)
    elif isinstance(pattern, cst.MatchClass):
        for element in (*pattern.patterns, *pattern.kwds):
            yield from _pattern_names(element.pattern)
    elif isinstance(pattern, cst.MatchOr):
        for element in pattern.patterns:
            yield from _pattern_names(element.pattern)


# -- the resolved facts --------------------------------------------------------------------------


class FlowFacts:
    """Request taint and value provenance for one module, resolved on first use."""

    def __init__(self, collector: FactCollector) -> None:
        self.collector = collector
        self.facts: ModuleFacts = collector.facts
        self.flows: Dict[str, FunctionFlow] = {}
        self.module_bindings: Dict[str, List[cst.BaseExpression]] = {}
        self.module_imports: Set[str] = set()
        self.module_calls: List[cst.Call] = []
        #: module-level name of a resolver -> qualnames of the functions routed by it
        self.routes: Dict[str, List[str]] = {}
        self._routes_by_caller: Dict[str, List[str]] = {}
        self._resolver_roles: Dict[str, Taint] = {}
        self._reached: Optional[Set[str]] = None
        #: (class qualname, attribute) -> values assigned to ``self.attr`` or in the class body
        self.attribute_bindings: Dict[Tuple[str, str], List[cst.BaseExpression]] = {}
        self._env: Dict[str, Dict[str, Taint]] = {}
        self._returns: Dict[str, Taint] = {}
        #: (callee qualname, parameter) -> (argument, calling function)
        self._arguments: Dict[Tuple[str, str], List[Tuple[cst.BaseExpression, FunctionInfo]]] = {}
        #: (function passed as ``record_handler=``, the function that passes it)
        self._record_handlers: List[Tuple[FunctionInfo, FunctionInfo]] = []
        #: who calls each function / the functions nested in each, for the worklist
        self._callers: Dict[str, Set[str]] = {}
        self._children: Dict[str, Set[str]] = {}
        self._outgoing: Dict[str, List[Tuple[str, str, cst.BaseExpression]]] = {}
        self._changed: Set[Tuple[str, str]] = set()
        #: generator qualname -> (element index or -1 for the whole value, origin) it yields
        self._yields: Dict[str, FrozenSet[Tuple[int, Origin]]] = {}
        #: (class qualname, attribute) -> what methods store in ``self.attribute``
        self._attributes: Dict[Tuple[str, str], Taint] = {}
        self._resolved = False
        #: function qualname -> id(expression) -> its taint
        self._cache: Dict[str, Dict[int, Taint]] = {}

    def function_flow(self, info: FunctionInfo) -> FunctionFlow:
        flow = self.flows.get(info.qualname)
        if flow is None:
            flow = self.flows[info.qualname] = FunctionFlow(info)
        return flow

    def qualified_names(self, node: cst.CSTNode) -> Set[str]:
        return qualified_names(node, self.collector.get_metadata)

    # resolution -------------------------------------------------------------------------------

    def _resolve(self) -> None:
        if self._resolved:
            return
        assert self.facts.finished, "taint is known only after the traversal"
        self._resolved = True
        for handler in self.facts.handlers:
            params = handler.parameter_names
            env = self._env.setdefault(handler.qualname, {})
            for role, name in zip(("event", "context"), params[:2]):
                env[name] = frozenset({(handler.qualname, role)})
        self._seed_entries()
        try:
            self._collect_arguments()
            self._propagate()
        except RecursionError:  # absurdly nested expressions: keep what is known so far
            pass
        self._cache.clear()

    def _seed_entries(self) -> None:
        """The parameters of functions that other modules' handlers call with request data
        (lambdalint.python.crossmodule): their origins start at the entry function itself, so
        that rules find its template links and event source as they would a handler's."""
        for function in getattr(self.facts, "entry_functions", ()):
            if function in self.facts.handlers:
                continue
            params = [p.name.value for p in (*function.node.params.posonly_params, *function.node.params.params)]
            if function.class_name is not None and params and params[0] in ("self", "cls"):
                params = params[1:]
            keywords = set(params) | {p.name.value for p in function.node.params.kwonly_params}
            env = self._env.setdefault(function.qualname, {})
            for entry in self.facts.entries_of(function):
                for slot, paths in entry.tainted:
                    if slot.startswith("kw:"):
                        name = slot[3:] if slot[3:] in keywords else None
                    else:
                        index = int(slot)
                        name = params[index] if index < len(params) else None
                    if name is not None:
                        taint = _cap((function.qualname, *path) for path in paths)
                        env[name] = _cap(env.get(name, EMPTY) | taint)

    def _collect_arguments(self) -> None:
        for flow in self.flows.values():
            caller = flow.info.qualname
            if flow.info.parent is not None:
                self._children.setdefault(flow.info.parent.qualname, set()).add(caller)
            for call in flow.calls:
                callee = self.callee(call, flow.info)
                if callee is not None:
                    function, skip_first = callee
                    self._callers.setdefault(function.qualname, set()).add(caller)
                    for param, arg in self._parameter_map(call, function, skip_first):
                        self._arguments.setdefault((function.qualname, param), []).append((arg, flow.info))
                        self._outgoing.setdefault(caller, []).append((function.qualname, param, arg))
                # ``process_partial_response(record_handler=fn)``: ``fn`` gets each record
                for arg in call.args:
                    if arg.keyword is not None and arg.keyword.value in RECORD_HANDLER_KEYWORDS:
                        target = self._function_named(arg.value, flow.info)
                        if target is not None and target.parameter_names:
                            self._record_handlers.append((target, flow.info))

    def _propagate(self) -> None:
        """A worklist to the fixed point: a function is (re)visited when its parameters, its
        own locals, an enclosing function's locals or a callee's return value changed.
        Callers come before callees (breadth-first from the handlers)."""
        order = [f.qualname for f in self.reach(self.facts.roots) if f.qualname in self.flows]
        order += [q for q in self.flows if q not in set(order)]
        pending = list(order)
        queued = set(pending)
        budget = 40 * len(order) + 100  # the lattice is finite; this only bounds pathologies
        while pending and budget > 0:
            budget -= 1
            qualname = pending.pop(0)
            queued.discard(qualname)
            self._changed.clear()
            self._visit(self.flows[qualname])
            for changed, kind in list(self._changed):
                if kind == "env":
                    targets = {changed} | self._descendants(changed)
                elif kind == "attribute":  # ``self.x`` of a class: its methods read it
                    targets = {q for q, f in self.flows.items() if f.info.class_name == changed}
                else:  # a return value: every caller reads it
                    targets = set(self._callers.get(changed, ()))
                for target in targets:
                    self._cache.pop(target, None)
                    if target in self.flows and target not in queued:
                        pending.append(target)
                        queued.add(target)

    def _descendants(self, qualname: str) -> Set[str]:
        out: Set[str] = set()
        stack = list(self._children.get(qualname, ()))
        while stack:
            child = stack.pop()
            if child not in out:
                out.add(child)
                stack.extend(self._children.get(child, ()))
        return out

    def _visit(self, flow: FunctionFlow) -> None:
        function = flow.info
        qualname = function.qualname
        env = self._env.setdefault(qualname, {})
        for target, value, kind in flow.assigns:
            if kind == "for" and _is_enumerate(value, self) and isinstance(target, cst.Tuple) and (
                len(target.elements) == 2
            ):
                # ``for index, record in enumerate(records)``: the index is a number
                taint = _extend(self.taint(value.args[0].value, function), ELEMENT)  # type: ignore[union-attr]
                if taint:
                    self._assign(env, target.elements[1].value, None, taint, "=", flow)
                continue
            if kind == "for" and isinstance(value, cst.Call):
                elements = self._generated(value, function, target)
                if elements is not None:
                    # ``for bucket, key in records_of(event)``: what the generator yields
                    targets = target.elements if isinstance(target, (cst.Tuple, cst.List)) else None
                    if targets is not None:
                        for element, element_taint in zip(targets, elements):
                            if element_taint:
                                self._assign(env, element.value, None, element_taint, "=", flow)
                    elif elements[0]:
                        self._assign(env, target, None, elements[0], "=", flow)
                    continue
            taint = self.taint(value, function)
            if kind == "for":
                taint = _extend(taint, ELEMENT)
            elif kind == "with":
                taint = derived(taint)
            if taint:
                self._assign(env, target, value, taint, kind, flow)
        for subject, pattern in flow.matches:
            taint = self.taint(subject, function)
            if taint:
                self._match(env, pattern, taint)
        for call in flow.calls:
            # ``items.append(record)``: the local container now holds request data
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in MUTATING_METHODS:
                root = root_name(call.func.value)
                if root is not None and root.value in flow.local_names and call.args:
                    taint = derived(frozenset().union(*(self.taint(a.value, function) for a in call.args)))
                    if taint:
                        self._join(env, root.value, taint)
        if flow.yields:
            yielded: Set[Tuple[int, Origin]] = set()
            for value in flow.yields:
                if isinstance(value, cst.Tuple) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
                    for index, element in enumerate(value.elements):
                        yielded.update((index, o) for o in self.taint(element.value, function))
                else:
                    yielded.update((-1, o) for o in self.taint(value, function))
            if not yielded <= self._yields.get(qualname, frozenset()):
                self._yields[qualname] = frozenset(self._yields.get(qualname, frozenset()) | yielded)
                self._changed.add((qualname, "return"))
        returned = frozenset().union(*(self.taint(r, function) for r in flow.returns)) if flow.returns else EMPTY
        if returned and not returned <= self._returns.get(qualname, EMPTY):
            self._returns[qualname] = _cap(self._returns.get(qualname, EMPTY) | returned)
            self._changed.add((qualname, "return"))
        for callee, param, arg in self._outgoing.get(qualname, ()):
            taint = self.taint(arg, function)
            if taint:
                self._join(self._env.setdefault(callee, {}), param, taint)
        for target, caller in self._record_handlers:
            if caller is not function:
                continue
            # the records of whatever reaches ``caller`` as its event
            taint = frozenset(o + ("Records", ELEMENT) for o in self._handler_roots(caller) if o[1] == "event")
            if taint:
                self._join(self._env.setdefault(target.qualname, {}), target.parameter_names[0], taint)

    def _handler_roots(self, function: FunctionInfo) -> Taint:
        env = self._env.get(function.qualname, {})
        return frozenset(o[:2] for taint in env.values() for o in taint)

    def _join(self, env: Dict[str, Taint], name: str, taint: Taint) -> bool:
        old = env.get(name, EMPTY)
        if taint <= old:
            return False
        new = _cap(old | taint)
        env[name] = new
        if new == old:
            return False
        owner = self._env_owner(env)
        self._changed.add((owner, "env"))
        # cached taints in this function (and its closures) may read this name
        for target in {owner} | self._descendants(owner):
            self._cache.pop(target, None)
        return True

    def _env_owner(self, env: Dict[str, Taint]) -> str:
        for qualname, candidate in self._env.items():
            if candidate is env:
                return qualname
        raise KeyError("environment of no function")

    def _assign(self, env, target, value, taint, kind, flow: FunctionFlow) -> bool:
        if isinstance(target, cst.Name):
            if target.value in flow.global_names:
                return False
            return self._join(env, target.value, taint)
        if isinstance(target, (cst.Tuple, cst.List)):
            changed = False
            values = value.elements if kind == "=" and isinstance(value, (cst.Tuple, cst.List)) else None
            if values is not None and len(values) == len(target.elements) and not any(
                isinstance(e, cst.StarredElement) for e in (*values, *target.elements)
            ):
                for element, item in zip(target.elements, values):
                    item_taint = self.taint(item.value, flow.info)
                    if item_taint and self._assign(env, element.value, item.value, item_taint, "=", flow):
                        changed = True
                return changed
            # ``bucket, key = location(record)`` where ``location`` returns a tuple
            if kind == "=" and isinstance(value, cst.Call):
                per_element = self._returned_elements(value, flow.info, len(target.elements))
                if per_element is not None:
                    for element, element_taint in zip(target.elements, per_element):
                        if element_taint and self._assign(env, element.value, None, element_taint, "=", flow):
                            changed = True
                    return changed
            # ``for i, record in enumerate(records)``: the loop tuple's elements
            element_taint = derived(taint) if kind != "for" else taint
            for element in target.elements:
                inner = element.value
                if isinstance(inner, cst.StarredElement):
                    inner = inner.value
                if self._assign(env, inner, None, element_taint, "=", flow):
                    changed = True
            return changed
        if isinstance(target, cst.StarredElement):
            return self._assign(env, target.value, None, taint, kind, flow)
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            root = root_name(target)
            if root is not None and root.value in ("self", "cls") and flow.info.class_name:
                # ``self.event = event``: every method of the class reads it as ``self.event``
                if isinstance(target, cst.Attribute) and target.value is root:
                    return self._join_attribute(flow.info.class_name, target.attr.value, taint)
                return False
            # ``item["user"] = event["user"]``: the local object now holds request data
            if root is not None and root.value in flow.local_names and root.value not in flow.global_names:
                return self._join(env, root.value, derived(taint))
        return False

    def _join_attribute(self, class_name: str, attribute: str, taint: Taint) -> bool:
        key = (class_name, attribute)
        old = self._attributes.get(key, EMPTY)
        if taint <= old:
            return False
        self._attributes[key] = _cap(old | taint)
        self._changed.add((class_name, "attribute"))
        for flow in self.flows.values():
            if flow.info.class_name == class_name:
                self._cache.pop(flow.info.qualname, None)
        return True

    def _generated(self, call: cst.Call, caller: FunctionInfo, target: cst.BaseExpression) -> Optional[List[Taint]]:
        """What iterating ``call`` gives when it calls a generator of the module: per element
        of a tuple ``target`` (or one taint for a plain target); ``None`` when not a generator."""
        callee = self.callee(call, caller)
        if callee is None or not self.flows.get(callee[0].qualname, FunctionFlow(callee[0])).yields:
            return None
        yielded = self._yields.get(callee[0].qualname, frozenset())
        whole = frozenset(o for i, o in yielded if i == -1)
        if isinstance(target, (cst.Tuple, cst.List)):
            return [
                frozenset(o for i, o in yielded if i == index) | derived(whole)
                for index in range(len(target.elements))
            ]
        return [whole | derived(frozenset(o for i, o in yielded if i >= 0))]

    def _returned_elements(self, call: cst.Call, caller: FunctionInfo, size: int) -> Optional[List[Taint]]:
        """Per element, the taint of the tuples a module function returns (``None`` unless
        every ``return`` of it is a tuple of ``size`` plain elements)."""
        callee = self.callee(call, caller)
        if callee is None:
            return None
        flow = self.flows.get(callee[0].qualname)
        if flow is None or not flow.returns:
            return None
        out: List[Taint] = [EMPTY] * size
        for returned in flow.returns:
            if not isinstance(returned, (cst.Tuple, cst.List)) or len(returned.elements) != size or any(
                isinstance(e, cst.StarredElement) for e in returned.elements
            ):
                return None
            for index, element in enumerate(returned.elements):
                out[index] = out[index] | self.taint(element.value, callee[0])
        return out

    def _match(self, env: Dict[str, Taint], pattern: cst.MatchPattern, taint: Taint) -> bool:
        changed = False
        if isinstance(pattern, cst.MatchAs):
            if pattern.name is not None and self._join(env, pattern.name.value, taint):
                changed = True
            if pattern.pattern is not None and self._match(env, pattern.pattern, taint):
                changed = True
        elif isinstance(pattern, cst.MatchMapping):
            for element in pattern.elements:
                key = literal_string(element.key)
                inner = _extend(taint, key if key is not None else UNKNOWN_KEY)
                if self._match(env, element.pattern, inner):
                    changed = True
            if pattern.rest is not None and self._join(env, pattern.rest.value, derived(taint)):
                changed = True
        elif isinstance(pattern, (cst.MatchSequence, cst.MatchList, cst.MatchTuple)):
            for element in pattern.patterns:
                if isinstance(element, cst.MatchStar):
                    if element.name is not None and self._join(env, element.name.value, taint):
                        changed = True
                elif self._match(env, element.value, _extend(taint, ELEMENT)):
                    changed = True
        elif isinstance(pattern, cst.MatchClass):
            for element in pattern.patterns:
                if self._match(env, element.pattern, derived(taint)):
                    changed = True
            for element in pattern.kwds:
                if self._match(env, element.pattern, _extend(taint, element.key.value)):
                    changed = True
        elif isinstance(pattern, cst.MatchOr):
            for element in pattern.patterns:
                if self._match(env, element.pattern, taint):
                    changed = True
        return changed

    # calls between the module's functions ---------------------------------------------------------

    def _function_named(self, node: cst.BaseExpression, caller: FunctionInfo) -> Optional[FunctionInfo]:
        for name in sorted(self.qualified_names(node)):
            if name in self.facts.functions:
                return self.facts.functions[name]
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            owner = node.value.value
            if owner in ("self", "cls") and caller.class_name:
                return self.facts.functions.get(f"{caller.class_name}.{node.attr.value}")
        return None

    def callee(self, call: cst.Call, caller: FunctionInfo) -> Optional[Tuple[FunctionInfo, bool]]:
        """The module's own function that ``call`` runs, and whether its first parameter is
        bound implicitly (``self.m(x)``, ``obj.m(x)``, ``Cls(x)`` -> ``__init__``)."""
        func = call.func
        for name in sorted(self.qualified_names(func)):
            function = self.facts.functions.get(name)
            if function is not None:
                implicit = function.class_name is not None and _first_param(function) == "cls"
                return function, implicit
            if name in self.facts.classes:
                init = self.facts.functions.get(f"{name}.__init__")
                return (init, True) if init is not None else None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            owner, method = func.value.value, func.attr.value
            class_name = None
            if owner in ("self", "cls") and caller.class_name:
                class_name = caller.class_name
            elif owner in self.facts.module_instances and owner not in self.function_flow(caller).local_names:
                class_name = self.facts.module_instances[owner]
            if class_name is not None:
                function = self.facts.functions.get(f"{class_name}.{method}")
                if function is not None:
                    return function, _first_param(function) in ("self", "cls")
        return None

    @staticmethod
    def _parameter_map(call: cst.Call, function: FunctionInfo, skip_first: bool) -> Iterator[Tuple[str, cst.BaseExpression]]:
        params = function.node.params
        positional_params = [p.name.value for p in (*params.posonly_params, *params.params)]
        if skip_first and positional_params:
            positional_params = positional_params[1:]
        keyword_params = set(positional_params) | {p.name.value for p in params.kwonly_params}
        index = 0
        for arg in call.args:
            if arg.star:
                continue
            if arg.keyword is None:
                if index < len(positional_params):
                    yield positional_params[index], arg.value
                index += 1
            elif arg.keyword.value in keyword_params:
                yield arg.keyword.value, arg.value

    # the taint of an expression ----------------------------------------------------------------

    def taint(self, node: cst.BaseExpression, function: FunctionInfo) -> Taint:
        """The origins of the value of ``node``, evaluated in ``function``."""
        cache = self._cache.setdefault(function.qualname, {})
        found = cache.get(id(node))
        if found is None:
            found = self._evaluate(node, function)
            # a nested evaluation may have dropped this function's cache: store in the current one
            self._cache.setdefault(function.qualname, {})[id(node)] = found
        return found

    def origins(self, node: cst.BaseExpression, function: Optional[FunctionInfo]) -> Taint:
        """Public, after the traversal: the origins of ``node`` in ``function``."""
        if function is None:
            return EMPTY
        try:
            self._resolve()
            return self.taint(node, function)
        except RecursionError:  # absurdly nested expressions: know nothing rather than crash
            return EMPTY

    def is_local(self, name: str, function: Optional[FunctionInfo]) -> bool:
        """Whether ``name`` read in ``function`` is bound by it or an enclosing function (not
        declared ``global`` on the way), rather than at module level."""
        current = function
        while current is not None:
            scope = self.flows.get(current.qualname)
            if scope is not None and name in scope.global_names:
                return False
            if scope is not None and name in scope.local_names:
                return True
            current = current.parent
        return False

    def is_tainted(self, node: cst.BaseExpression, function: Optional[FunctionInfo]) -> bool:
        return bool(self.origins(node, function))

    def _lookup(self, name: str, function: FunctionInfo) -> Taint:
        current: Optional[FunctionInfo] = function
        while current is not None:
            flow = self.flows.get(current.qualname)
            bound = flow is not None and name in flow.local_names and name not in flow.global_names
            if bound or current is function and name in self._env.get(current.qualname, {}):
                return self._env.get(current.qualname, {}).get(name, EMPTY)
            if flow is not None and name in flow.global_names:
                return EMPTY
            current = current.parent
        return EMPTY

    def _evaluate(self, node: cst.BaseExpression, function: FunctionInfo) -> Taint:
        taint = self.taint
        if isinstance(node, cst.Name):
            return self._lookup(node.value, function)
        if isinstance(node, cst.Attribute):
            owner = node.value
            if (
                isinstance(owner, cst.Name)
                and node.attr.value in RESOLVER_ATTRIBUTES
                and owner.value in self.routes
                and not self._lookup(owner.value, function)
                and self.is_resolver(owner.value)
            ):
                return self._resolver_role(owner.value, RESOLVER_ATTRIBUTES[node.attr.value])
            base = taint(node.value, function)
            if isinstance(owner, cst.Name) and owner.value in ("self", "cls") and function.class_name:
                base = EMPTY  # ``self`` itself is no request data; what was stored on it may be
                stored = self._attributes.get((function.class_name, node.attr.value), EMPTY)
                if stored:
                    return stored
            if not base:
                return EMPTY
            attr = node.attr.value
            if attr in STATIC_CONTEXT_ATTRIBUTES:
                base = frozenset(o for o in base if o[1:] != ("context",))
            return _extend(base, attr)
        if isinstance(node, cst.Subscript):
            base = taint(node.value, function)
            return _extend(base, _subscript_key(node)) if base else EMPTY
        if isinstance(node, cst.Call):
            return self._evaluate_call(node, function)
        if isinstance(node, (cst.BooleanOperation,)):
            return taint(node.left, function) | taint(node.right, function)
        if isinstance(node, cst.IfExp):
            return taint(node.body, function) | taint(node.orelse, function)
        if isinstance(node, (cst.Await, cst.NamedExpr, cst.StarredElement)):
            return taint(node.value if not isinstance(node, cst.Await) else node.expression, function)
        if isinstance(node, cst.BinaryOperation):
            return derived(taint(node.left, function) | taint(node.right, function))
        if isinstance(node, cst.UnaryOperation):
            return derived(taint(node.expression, function))
        if isinstance(node, cst.Comparison):
            parts = [taint(node.left, function), *(taint(c.comparator, function) for c in node.comparisons)]
            return derived(frozenset().union(*parts))
        if isinstance(node, cst.FormattedString):
            if (
                len(node.parts) == 1
                and isinstance(node.parts[0], cst.FormattedStringExpression)
                and node.parts[0].conversion is None
                and node.parts[0].format_spec is None
            ):
                return taint(node.parts[0].expression, function)  # ``f"{bucket}"`` is ``bucket``
            parts = [
                taint(p.expression, function)
                for p in node.parts
                if isinstance(p, cst.FormattedStringExpression)
            ]
            return derived(frozenset().union(*parts)) if parts else EMPTY
        if isinstance(node, cst.ConcatenatedString):
            return derived(taint(node.left, function) | taint(node.right, function))
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            parts = [taint(e.value, function) for e in node.elements]
            return derived(frozenset().union(*parts)) if parts else EMPTY
        if isinstance(node, cst.Dict):
            parts: List[Taint] = []
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    parts += [taint(element.key, function), taint(element.value, function)]
                else:
                    parts.append(taint(element.value, function))
            return derived(frozenset().union(*parts)) if parts else EMPTY
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return derived(taint(node.elt, function))
        if isinstance(node, cst.DictComp):
            return derived(taint(node.key, function) | taint(node.value, function))
        return EMPTY

    def _evaluate_call(self, node: cst.Call, function: FunctionInfo) -> Taint:
        names = self.qualified_names(node.func)
        if names & SANITIZERS:
            return EMPTY
        args = [self.taint(a.value, function) for a in node.args]
        if names & IDENTITY_CALLS and args:
            return args[0]
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = self.taint(func.value, function)
            if receiver and func.attr.value == "get" and node.args:
                key = literal_string(node.args[0].value)
                found = _extend(receiver, key if key is not None else UNKNOWN_KEY)
                return found | frozenset().union(*args[1:]) if len(args) > 1 else found
            if receiver and func.attr.value in ("copy", "strip", "lower", "upper", "lstrip", "rstrip", "casefold"):
                return receiver if func.attr.value == "copy" else derived(receiver)
        else:
            receiver = EMPTY
        callee = self.callee(node, function)
        if callee is not None:
            yielded = frozenset(o for _, o in self._yields.get(callee[0].qualname, frozenset()))
            return self._returns.get(callee[0].qualname, EMPTY) | derived(yielded)
        return derived(receiver.union(*args)) if (receiver or any(args)) else EMPTY

    # reads, for event-source guessing -------------------------------------------------------------

    def reads(self, handler: FunctionInfo) -> List[Tuple[Origin, cst.CSTNode]]:
        """Every path read from ``handler``'s event, anywhere the taint flows, with the node
        that reads it (sorted by path, so the first evidence is stable)."""
        self._resolve()
        found: Dict[Origin, cst.CSTNode] = {}
        for flow in self.flows.values():
            for node in flow.accesses:
                for origin in self._read_origins(node, flow.info):
                    if origin[0] == handler.qualname and origin[1] == "event":
                        found.setdefault(origin, node)
            for call in flow.calls:
                if isinstance(call.func, cst.Attribute) and call.func.attr.value == "get":
                    for origin in self.taint(call, flow.info):
                        if origin[0] == handler.qualname and origin[1] == "event":
                            found.setdefault(origin, call)
            for subject, pattern in flow.matches:
                for origin in self._pattern_reads(pattern, self.taint(subject, flow.info)):
                    if origin[0] == handler.qualname and origin[1] == "event":
                        found.setdefault(origin, subject)
        return sorted(found.items(), key=lambda item: item[0])

    def _read_origins(self, node: cst.CSTNode, function: FunctionInfo) -> Taint:
        if isinstance(node, cst.Comparison):
            out: Set[Origin] = set()
            left = node.left
            for comparison in node.comparisons:
                key = literal_string(left)
                if key is not None and isinstance(comparison.operator, (cst.In, cst.NotIn)):
                    out |= _extend(self.taint(comparison.comparator, function), key)
                left = comparison.comparator
            return frozenset(out)
        return self.taint(node, function)  # type: ignore[arg-type]

    def _pattern_reads(self, pattern: cst.MatchPattern, taint: Taint) -> Set[Origin]:
        out: Set[Origin] = set()
        if not taint:
            return out
        if isinstance(pattern, cst.MatchMapping):
            for element in pattern.elements:
                key = literal_string(element.key)
                inner = _extend(taint, key if key is not None else UNKNOWN_KEY)
                out |= inner
                out |= self._pattern_reads(element.pattern, inner)
        elif isinstance(pattern, (cst.MatchSequence, cst.MatchList, cst.MatchTuple)):
            for element in pattern.patterns:
                if isinstance(element, cst.MatchSequenceElement):
                    out |= self._pattern_reads(element.value, _extend(taint, ELEMENT))
        elif isinstance(pattern, cst.MatchAs) and pattern.pattern is not None:
            out |= self._pattern_reads(pattern.pattern, taint)
        elif isinstance(pattern, cst.MatchOr):
            for element in pattern.patterns:
                out |= self._pattern_reads(element.pattern, taint)
        elif isinstance(pattern, cst.MatchClass):
            for element in pattern.kwds:
                inner = _extend(taint, element.key.value)
                out |= inner | self._pattern_reads(element.pattern, inner)
        return out

    # what an expression holds: SDK clients, tables, buckets, HTTP sessions ----------------------

    def bindings(self, name: str, function: Optional[FunctionInfo]) -> List[Tuple[cst.BaseExpression, Optional[FunctionInfo]]]:
        """The expressions assigned to ``name`` as seen from ``function``: locally (or in an
        enclosing function), else at module level; for a parameter, the arguments callers pass."""
        current = function
        while current is not None:
            flow = self.flows.get(current.qualname)
            if flow is not None and name in flow.global_names:
                break
            if flow is not None and name in flow.local_names:
                values = [
                    (value, current)
                    for target, value, kind in flow.assigns
                    if kind in ("=", "with") and name in target_names(target)
                ]
                if not values:
                    values = [(arg, caller) for arg, caller in self._arguments.get((current.qualname, name), [])]
                    if not values:
                        default = _parameter_default(current, name)
                        if default is not None:
                            values = [(default, current)]
                return values
            current = current.parent
        return [(value, None) for value in self.module_bindings.get(name, [])]

    def sdk_object(self, node: cst.BaseExpression, function: Optional[FunctionInfo], depth: int = 0) -> Optional[SdkObject]:
        """The SDK object (or HTTP session) that ``node`` holds, when a factory call made it."""
        self._resolve_if_possible()
        if depth > 8:
            return None
        if isinstance(node, cst.Await):
            return self.sdk_object(node.expression, function, depth + 1)
        if isinstance(node, cst.Name):
            for value, scope in self.bindings(node.value, function):
                found = self.sdk_object(value, scope, depth + 1)
                if found is not None:
                    return found
            return None
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            owner = node.value.value
            class_name = None
            if owner in ("self", "cls") and function is not None and function.class_name:
                class_name = function.class_name
            elif owner in self.facts.classes:
                class_name = owner
            if class_name is not None:
                for value in self.attribute_bindings.get((class_name, node.attr.value), []):
                    found = self.sdk_object(value, self._method_scope(value, class_name), depth + 1)
                    if found is not None:
                        return found
            return None
        if isinstance(node, cst.BooleanOperation):
            return self.sdk_object(node.left, function, depth + 1) or self.sdk_object(node.right, function, depth + 1)
        if not isinstance(node, cst.Call):
            return None
        names = self.qualified_names(node.func)
        for name in sorted(names):
            if name in BOTO3_FACTORIES:
                service = literal_string(argument(node, "service_name", 0))
                return SdkObject(BOTO3_FACTORIES[name], service) if service else None
            if name in BOTO3_SESSIONS:
                return SdkObject("session", "boto3")
            if name in HTTP_SESSIONS:
                return SdkObject("http", HTTP_SESSIONS[name])
        func = node.func
        if isinstance(func, cst.Attribute):
            owner = self.sdk_object(func.value, function, depth + 1)
            method = func.attr.value
            if owner is None:
                callee = self.callee(node, function) if function is not None else None
                return None if callee is None else self._returned_object(callee[0], depth)
            if owner.kind == "session" and method in ("client", "resource"):
                service = literal_string(argument(node, "service_name", 0))
                return SdkObject(method, service) if service else None
            if owner.kind == "Table" and method == "batch_writer":
                return SdkObject("BatchWriter", owner.service)
            if owner.kind in ("resource", "Bucket"):
                made = RESOURCE_OBJECTS.get((owner.service, method))
                if made:
                    return SdkObject(made, owner.service)
            return None
        # a factory function of the module: ``def table(): return boto3.resource(...).Table(...)``
        callee = self.callee(node, function) if function is not None else self._module_callee(node)
        if callee is not None:
            return self._returned_object(callee[0], depth)
        return None

    def _returned_object(self, function: FunctionInfo, depth: int) -> Optional[SdkObject]:
        flow = self.flows.get(function.qualname)
        for value in flow.returns if flow else ():
            found = self.sdk_object(value, function, depth + 1)
            if found is not None:
                return found
        return None

    def _module_callee(self, node: cst.Call) -> Optional[Tuple[FunctionInfo, bool]]:
        for name in sorted(self.qualified_names(node.func)):
            if name in self.facts.functions:
                return self.facts.functions[name], False
        return None

    def _method_scope(self, value: cst.BaseExpression, class_name: str) -> Optional[FunctionInfo]:
        for flow in self.flows.values():
            if flow.info.class_name == class_name and any(v is value for _, v, _ in flow.assigns):
                return flow.info
        return None

    def _resolve_if_possible(self) -> None:
        if self.facts.finished:
            self._resolve()

    def is_fresh(
        self,
        node: Optional[cst.BaseExpression],
        function: Optional[FunctionInfo],
        depth: int = 0,
        *,
        clock: bool = True,
    ) -> bool:
        """True when ``node`` is new on every attempt: built from ``uuid4()``, randomness or
        (unless ``clock=False``) the clock, also through local variables."""
        if node is None or depth > 6:
            return False
        if isinstance(node, cst.Call):
            names = self.qualified_names(node.func) & FRESH_CALLS
            if names and (clock or not names <= CLOCK_CALLS):
                return True
        if isinstance(node, cst.Name):
            return any(
                self.is_fresh(value, scope, depth + 1, clock=clock)
                for value, scope in self.bindings(node.value, function)
            )
        if isinstance(node, cst.Lambda):
            return False
        if isinstance(node, (cst.Attribute, cst.Arg)):
            return self.is_fresh(node.value, function, depth, clock=clock)
        return any(self.is_fresh(child, function, depth, clock=clock) for child in node.children)

    # reach ------------------------------------------------------------------------------------

    def reach(self, roots: Iterable[FunctionInfo], stop=None) -> List[FunctionInfo]:
        """Functions reached from ``roots`` through calls and references within the module,
        not entering (nor including) functions for which ``stop(function)`` is true and
        skipping memoised ones, as :meth:`ModuleFacts.is_reached_per_invocation` does."""
        seen: Set[str] = set()
        order: List[FunctionInfo] = []
        pending = [f.qualname for f in roots]
        while pending:
            qualname = pending.pop(0)
            function = self.facts.functions.get(qualname)
            if function is None or qualname in seen:
                continue
            seen.add(qualname)
            if stop is not None and stop(function):
                continue
            if function.is_memoised and function not in self.facts.handlers:
                continue
            order.append(function)
            pending.extend(sorted(function.references))
            pending.extend(self._routes_called_by(function))
        return order

    # Powertools event handler resolvers -------------------------------------------------------

    def is_resolver(self, name: str) -> bool:
        """``name`` is bound at module level to a Powertools event handler resolver."""
        return any(
            isinstance(value, cst.Call)
            and any(n.rsplit(".", 1)[-1] in API_RESOLVERS for n in self.qualified_names(value.func))
            for value in self.module_bindings.get(name, ())
        )

    def _resolvers_called_by(self, function: FunctionInfo) -> List[str]:
        flow = self.flows.get(function.qualname)
        found: List[str] = []
        for call in flow.calls if flow else ():
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value == "resolve"
                and isinstance(func.value, cst.Name)
                and func.value.value not in flow.local_names  # type: ignore[union-attr]
                and self.is_resolver(func.value.value)
                and func.value.value not in found
            ):
                found.append(func.value.value)
        return found

    def _routes_called_by(self, function: FunctionInfo) -> List[str]:
        """The routes that ``function`` dispatches to with ``app.resolve(event, context)``."""
        found = self._routes_by_caller.get(function.qualname)
        if found is None:
            found = [
                route for app in self._resolvers_called_by(function) for route in self.routes.get(app, ())
            ]
            self._routes_by_caller[function.qualname] = found
        return found

    def _resolver_role(self, app: str, role: str) -> Taint:
        """``app.current_event`` / ``app.lambda_context``: the event or context of every
        handler that resolves with ``app``."""
        key = f"{app}\0{role}"
        found = self._resolver_roles.get(key)
        if found is None:
            found = frozenset(
                (handler.qualname, role)
                for handler in self.facts.handlers
                if any(app in self._resolvers_called_by(f) for f in self.reach([handler]))
            )
            self._resolver_roles[key] = found
        return found

    def is_reached_per_invocation(self, function: Optional[FunctionInfo]) -> bool:
        """:meth:`ModuleFacts.is_reached_per_invocation`, plus the routes that handlers
        dispatch to through a Powertools resolver (and what those reach)."""
        if function is None:
            return False
        if self.facts.is_reached_per_invocation(function):
            return True
        if self._reached is None:
            self._reached = {f.qualname for f in self.reach(self.facts.roots)}
        return function.qualname in self._reached


def _is_enumerate(node: cst.BaseExpression, flow: "FlowFacts") -> bool:
    return (
        isinstance(node, cst.Call)
        and bool(node.args)
        and "builtins.enumerate" in flow.qualified_names(node.func)
    )


def _first_param(function: FunctionInfo) -> Optional[str]:
    params = (*function.node.params.posonly_params, *function.node.params.params)
    return params[0].name.value if params else None


def _parameter_default(function: FunctionInfo, name: str) -> Optional[cst.BaseExpression]:
    params = function.node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return param.default
    return None


def flow_facts(context) -> FlowFacts:
    """The module's :class:`FlowFacts`, collected once in the shared traversal however many
    rules ask. Call it from a rule's ``__init__`` (before the traversal)."""
    collector: FlowCollector = context.collector.extension("lambdalint.python.taint", FlowCollector)
    return collector.flow


__all__ = [
    "EMPTY",
    "FlowCollector",
    "FlowFacts",
    "FunctionFlow",
    "MUTATING_METHODS",
    "Origin",
    "SdkObject",
    "Taint",
    "argument",
    "best_origin",
    "derived",
    "flow_facts",
    "format_origin",
    "keyword",
    "literal_string",
    "positional",
    "root_name",
]
