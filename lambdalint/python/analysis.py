"""Facts about one Python module, gathered in the single shared traversal.

The engine runs :class:`FactCollector` first in the batched traversal, so that while a rule
visits a node it can ask which function it is in; questions about the whole module (which
functions are handlers, what each handler reaches) are answered after the traversal, when
:meth:`ModuleFacts.finish` has run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from lambdalint.python.names import ModuleNames, parent_map

try:
    from lambdalint.python.positions import Positions
except ImportError:  # pragma: no cover - a libcst that moved the internals positions.py uses
    Positions = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from lambdalint.project import LinkedFunction
    from lambdalint.python.entries import CrossEntry

from lambdalint.config import HandlerPattern  # noqa: E402 - re-exported for rules and tests

#: Function names that AWS's own templates and blueprints use for handlers.
CONVENTIONAL_HANDLER_NAMES = frozenset({"lambda_handler", "handler"})

#: Powertools decorators that only make sense on a handler (matched by their last name, since
#: they are methods of user-made ``Logger``/``Tracer``/``Metrics`` objects).
HANDLER_DECORATORS = frozenset(
    {
        "inject_lambda_context",
        "capture_lambda_handler",
        "log_metrics",
        "event_source",
        "process_partial_response",
    }
)

#: Decorators after which a function body runs once per distinct argument tuple, not once per
#: invocation.
MEMOISING_DECORATORS = frozenset(
    {"functools.cache", "functools.lru_cache", "functools.cached_property", "cachetools.cached"}
)

_FunctionNode = (cst.FunctionDef, cst.Lambda)


def qualified_names(node: cst.CSTNode, provider_get) -> Set[str]:
    """The qualified names of ``node`` (empty when it has none), from the module's
    :class:`~lambdalint.python.names.ModuleNames` (``provider_get`` is a visitor's
    ``get_metadata``, which serves it under the ``ModuleNames`` key)."""
    return provider_get(ModuleNames, node).qualified_names(node)


@dataclass
class FunctionInfo:
    """One ``def`` (or ``async def``) of the module."""

    node: cst.FunctionDef
    qualname: str
    parent: Optional["FunctionInfo"]
    class_name: Optional[str]
    decorators: Set[str] = field(default_factory=set)
    #: Qualified names of the module's own functions this one calls or refers to.
    references: Set[str] = field(default_factory=set)
    #: names this function declares ``global`` or ``nonlocal``
    global_names: Set[str] = field(default_factory=set)
    #: local ``name = factory(...)`` bindings: name -> qualified names of the factory
    call_bindings: Dict[str, Set[str]] = field(default_factory=dict)
    #: the same bindings' call expressions (for their arguments: a boto3 client's service)
    call_sites: Dict[str, cst.Call] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def parameter_names(self) -> List[str]:
        params = [p.name.value for p in self.node.params.params]
        if self.class_name is not None and params and params[0] in ("self", "cls"):
            params = params[1:]
        return params

    @property
    def is_module_level(self) -> bool:
        return self.parent is None and self.class_name is None

    @property
    def is_memoised(self) -> bool:
        return any(d in MEMOISING_DECORATORS for d in self.decorators)


class ModuleFacts:
    """What the engine knows about one module; rules read it, never recompute it."""

    def __init__(
        self,
        path: str,
        source: str,
        module: cst.Module,
        handler_patterns: Sequence[HandlerPattern] = (),
        relative_path: Optional[str] = None,
        links: Sequence["LinkedFunction"] = (),
        entries: Sequence["CrossEntry"] = (),
    ) -> None:
        self.path = path
        #: functions of this module that handlers of other modules call per invocation
        #: (see lambdalint.python.crossmodule); they are reach roots, not handlers
        self.entries: Tuple["CrossEntry", ...] = tuple(entries)
        self.entry_functions: List[FunctionInfo] = []
        self._entries_by_function: Dict[str, List["CrossEntry"]] = {}
        #: the template functions whose handler is in this module (see lambdalint.project)
        self.links: Tuple["LinkedFunction", ...] = tuple(links)
        #: the path relative to the config root, which handler patterns are matched against
        self.relative_path = relative_path or path
        self.source = source
        self.module = module
        self.handler_patterns = tuple(handler_patterns)
        self.functions: Dict[str, FunctionInfo] = {}
        #: module-level ``name = SomeClass(...)`` bindings, so ``name.method()`` resolves.
        self.module_instances: Dict[str, str] = {}
        #: module-level ``handler = SomeClass().method`` style aliases to handler methods.
        self.handler_aliases: Dict[str, str] = {}
        self.classes: Set[str] = set()
        self.module_level_names: Set[str] = set()
        #: module-level ``name = factory(...)`` bindings: name -> qualified names of the factory
        self.module_call_bindings: Dict[str, Set[str]] = {}
        self.module_call_sites: Dict[str, cst.Call] = {}
        self.handlers: List[FunctionInfo] = []
        self._reached: Set[str] = set()
        self._reach_by_handler: Dict[str, Set[str]] = {}
        #: qualified names called at module scope (``CONFIG = load()``): they run at cold start
        self.import_time_calls: Set[str] = set()
        self._import_time: Set[str] = set()
        self._parents: Optional[Dict[cst.CSTNode, cst.CSTNode]] = None
        self._names: Optional[ModuleNames] = None
        #: set by the engine (positions no longer need it: see :meth:`position_of`)
        self.wrapper: Optional[MetadataWrapper] = None
        self._positions: Optional[Mapping[cst.CSTNode, Any]] = None
        self.finished = False
        #: handler qualname -> what a template says feeds it (an ``EventSourceInfo`` from
        #: :mod:`lambdalint.python.event_sources`); it overrides the guess made from the code.
        self.event_source_overrides: Dict[str, Any] = {}

    # -- built by the collector ------------------------------------------------------------

    def add_function(self, info: FunctionInfo) -> None:
        self.functions[info.qualname] = info

    def finish(self) -> None:
        """Decide which functions are handlers and what they reach."""
        self.handlers = [f for f in self.functions.values() if self._is_handler(f)]
        linked_names = {link.function for link in self.links}
        for alias, alias_target in self.handler_aliases.items():
            if self.links and alias not in linked_names:
                continue
            target = self.functions.get(alias_target)
            if target is not None and target not in self.handlers:
                self.handlers.append(target)
        self.handlers.sort(key=lambda f: f.qualname)
        self._find_entry_functions()
        self._reached = self._reach_from(self.roots)
        self._import_time = self._reach_from(
            f for name in self.import_time_calls for f in [self.functions.get(name)] if f is not None
        )
        self.finished = True

    def _find_entry_functions(self) -> None:
        for entry in self.entries:
            name = entry.function
            names = [f"{name}.__init__", f"{name}.__post_init__"] if name in self.classes else [name]
            for qualname in names:
                function = self.functions.get(qualname)
                if function is None or (function.parent is not None):
                    continue
                self._entries_by_function.setdefault(qualname, []).append(entry)
                if function not in self.entry_functions:
                    self.entry_functions.append(function)
        self.entry_functions.sort(key=lambda f: f.qualname)
        if self.entry_functions:
            from lambdalint.python.event_sources import EventSourceInfo

            for function in self.entry_functions:
                if function in self.handlers or function.qualname in self.event_source_overrides:
                    continue
                entries = self._entries_by_function[function.qualname]
                sources: List[str] = []
                for entry in entries:
                    if not entry.idempotent:  # deduplicated by the caller: not delivered twice here
                        sources.extend(s for s in entry.sources if s not in sources)
                info = EventSourceInfo(function.qualname, (), origin="template" if any(e.links for e in entries) else "code-guess")
                if sources:
                    probe = EventSourceInfo(function.qualname, tuple(sources))
                    if probe.at_least_once:
                        first = probe.at_least_once_source
                        chosen = next(e for e in entries if first in e.sources and not e.idempotent)
                    else:
                        chosen = next(e for e in entries if e.sources and not e.idempotent)
                    ordered = tuple(sorted(sources, key=lambda s: (s != probe.at_least_once_source,)))
                    info = EventSourceInfo(
                        function.qualname, ordered, chosen.source_origin or "code-guess", chosen.evidence,
                        None, chosen.template_location,
                    )
                self.event_source_overrides[function.qualname] = info

    @property
    def roots(self) -> List[FunctionInfo]:
        """What runs per invocation from the outside: the handlers, then the entries."""
        return self.handlers + [f for f in self.entry_functions if f not in self.handlers]

    @property
    def all_links(self) -> Tuple["LinkedFunction", ...]:
        """The template functions that run any of this module's code: its own handlers' links
        and those of the handlers in other modules that call into it."""
        found = list(self.links)
        for entries in self._entries_by_function.values():
            for entry in entries:
                found.extend(link for link in entry.links if link not in found)
        return tuple(found)

    def entries_of(self, function: FunctionInfo) -> Tuple["CrossEntry", ...]:
        """The calls from other modules' handlers that enter this module at ``function``."""
        return tuple(self._entries_by_function.get(function.qualname, ()))

    def via(self, function: FunctionInfo, source: Optional[str] = None) -> Optional[str]:
        """For an entry: which handler of which module calls it ("handler `main` (src/app.py)"),
        preferring one fed by ``source`` (an event source kind) when given."""
        entries = self._entries_by_function.get(function.qualname)
        if not entries:
            return None
        fed = [e for e in entries if source in e.sources] if source else []
        return min(e.via for e in (fed or entries))

    def _is_handler(self, function: FunctionInfo) -> bool:
        if any(p.matches(self.relative_path, function.qualname) for p in self.handler_patterns):
            return True
        if function.parent is not None:
            return False
        if self.links:
            # A template names this module's handlers: they decide, not naming conventions.
            return function.is_module_level and any(link.function == function.name for link in self.links)
        if self.is_test_module:
            # pytest functions take ``event``/``context`` fixtures and call handlers: they are
            # not handlers themselves (hoisting a client out of a ``@mock_aws`` test breaks it)
            return False
        if function.is_module_level and function.name in CONVENTIONAL_HANDLER_NAMES:
            return True
        if function.parameter_names[:2] == ["event", "context"]:
            return True
        return any(d.rsplit(".", 1)[-1] in HANDLER_DECORATORS for d in function.decorators)

    @property
    def is_test_module(self) -> bool:
        """Whether the module is a test file by the usual names (``test_*.py``, ``tests/``...)."""
        from lambdalint.python.values import is_test_file

        return self.relative_path is not None and is_test_file(self.relative_path)

    def _reach_from(self, roots: Iterable[FunctionInfo]) -> Set[str]:
        reached: Set[str] = set()
        pending = [f.qualname for f in roots]
        while pending:
            qualname = pending.pop()
            function = self.functions.get(qualname)
            if qualname in reached or function is None:
                continue
            if function.is_memoised and function not in self.handlers:
                continue
            reached.add(qualname)
            pending.extend(function.references)
        return reached

    # -- asked by rules --------------------------------------------------------------------

    @property
    def names(self) -> ModuleNames:
        """What every name of the module refers to (built on first use)."""
        if self._names is None:
            self._names = ModuleNames(self.module)
        return self._names

    def parent_of(self, node: cst.CSTNode, scope: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The parent of ``node`` inside ``scope`` (a function node, or the module), or None at
        its top and outside it.

        The module's parent map is made on first use by a plain walk
        (:func:`~lambdalint.python.names.parent_map`), not libcst's ParentNodeProvider, whose
        traversal costs more than a tenth of a file's time."""
        parents = self._parents
        if parents is None:
            parents = self._parents = parent_map(self.module)
        if node is scope:
            return None
        parent = parents.get(node)
        if scope is not self.module:
            ancestor = parent
            while ancestor is not None and ancestor is not scope:
                ancestor = parents.get(ancestor)
            if ancestor is None:
                return None
        return parent

    def position_of(self, node: cst.CSTNode) -> Any:
        """The CodeRange of ``node`` that libcst's PositionProvider would give; positions are
        computed for the whole module on the first call only (by
        :class:`~lambdalint.python.positions.Positions`, a few times cheaper than the provider),
        so a file without findings never pays for them."""
        if self._positions is None:
            if Positions is not None:
                self._positions = Positions(self.module)
            else:  # libcst's own provider: slower, the same answers
                wrapper = self.wrapper or MetadataWrapper(self.module, unsafe_skip_copy=True)
                self._positions = wrapper.resolve(PositionProvider)
        return self._positions[node]

    def call_names(self, func: cst.BaseExpression, names: Set[str], function: Optional[FunctionInfo]) -> Set[str]:
        """What a called expression may be: libcst's qualified ``names`` for it, plus, for
        ``var.method`` where ``var = factory(...)`` in the function or at module level,
        ``factory.method`` (so ``s = requests.Session(); s.get()`` is ``requests.Session.get``)."""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return names
        variable = func.value.value
        factories = None
        if function is not None:
            factories = function.call_bindings.get(variable)
        if factories is None:
            factories = self.module_call_bindings.get(variable)
        if not factories:
            return names
        return names | {f"{factory}.{func.attr.value}" for factory in factories}

    def is_reached_per_invocation(self, function: Optional[FunctionInfo]) -> bool:
        """True when ``function`` runs on every invocation of some handler of this module."""
        assert self.finished, "reach is known only after the traversal"
        return function is not None and function.qualname in self._reached

    def links_of(self, handler: FunctionInfo) -> Tuple["LinkedFunction", ...]:
        """The template functions implemented by ``handler`` (directly or through an alias)."""
        names = {handler.name} | {alias for alias, target in self.handler_aliases.items() if target == handler.qualname}
        found = [link for link in self.links if link.function in names]
        for entry in self._entries_by_function.get(handler.qualname, ()):
            found.extend(link for link in entry.links if link not in found)
        return tuple(found)

    def reached_from(self, handler: FunctionInfo) -> Set[str]:
        """Qualified names of the functions ``handler`` reaches (itself included)."""
        found = self._reach_by_handler.get(handler.qualname)
        if found is None:
            found = self._reach_by_handler[handler.qualname] = self._reach_from([handler])
        return found

    def links_running(self, function: Optional[FunctionInfo]) -> Tuple["LinkedFunction", ...]:
        """The template functions whose invocations run ``function`` (None: module scope, which
        runs at every cold start of every function of the module)."""
        if function is None or self.runs_at_import(function):
            return self.all_links
        found: List["LinkedFunction"] = []
        for handler in self.roots:
            if function.qualname in self.reached_from(handler):
                found.extend(link for link in self.links_of(handler) if link not in found)
        return tuple(found)

    def runs_at_import(self, function: Optional[FunctionInfo]) -> bool:
        """Module scope, or a function that module scope calls (directly or not): code that runs
        at every cold start."""
        return function is None or function.qualname in self._import_time

    def call_site(self, name: str, function: Optional[FunctionInfo]) -> Optional[cst.Call]:
        """The call that bound ``name`` (``s3 = boto3.client("s3")``) in ``function`` or at
        module scope."""
        if function is not None and name in function.call_sites:
            return function.call_sites[name]
        return self.module_call_sites.get(name)

    def handler_reaching(self, function: FunctionInfo) -> Optional[FunctionInfo]:
        """A handler from which ``function`` is reached (the first by name), for messages; or
        an entry (see :meth:`via`) when only a handler of another module reaches it."""
        for handler in self.roots:
            if function.qualname in self.reached_from(handler):
                return handler
        return None


_NO_DEFAULT = object()


class LazyStructureMetadata:
    """Answers ``get_metadata(ParentNodeProvider | PositionProvider, node)`` from
    :class:`ModuleFacts`, computed on first use, instead of making every file pay for both
    providers before the traversal; ``get_metadata(ModuleNames, node)`` is the module's name
    resolution (which replaces libcst's scope and qualified-name providers). Mix it into
    visitors that have a ``facts`` attribute."""

    facts: "ModuleFacts"

    def get_metadata(self, key, node, default=_NO_DEFAULT):  # type: ignore[override]
        if key is ModuleNames:
            return self.facts.names
        if key is ParentNodeProvider:
            parent = self.facts.parent_of(node, self.facts.module)
            if parent is None:
                if default is _NO_DEFAULT:
                    raise KeyError(f"{type(node).__name__} has no parent")
                return default
            return parent
        if key is PositionProvider:
            try:
                return self.facts.position_of(node)
            except KeyError:
                if default is _NO_DEFAULT:
                    raise
                return default
        if default is _NO_DEFAULT:
            return super().get_metadata(key, node)  # type: ignore[misc]
        return super().get_metadata(key, node, default)  # type: ignore[misc]


#: visitor class -> the names of its ``visit_*``/``leave_*`` methods
_VISITOR_METHOD_NAMES: Dict[type, Tuple[str, ...]] = {}


def visitor_methods(visitor: cst.BatchableCSTVisitor) -> Dict[str, Callable[..., Any]]:
    """What ``visitor.get_visitors()`` returns, with the method names found once per class:
    libcst looks them up with ``inspect.getmembers`` on every instance, which costs more than
    a small module's whole traversal once a dozen rules run."""
    kind = type(visitor)
    names = _VISITOR_METHOD_NAMES.get(kind)
    if names is None:
        names = _VISITOR_METHOD_NAMES[kind] = tuple(cst.BatchableCSTVisitor.get_visitors(visitor))
    return {name: getattr(visitor, name) for name in names}


class FactCollector(LazyStructureMetadata, cst.BatchableCSTVisitor):
    """Records functions, classes, references and the function stack during the traversal."""

    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self._functions: List[FunctionInfo] = []
        self._classes: List[str] = []
        #: per function on the stack: local ``name = SomeClass(...)`` bindings
        self._local_instances: List[Dict[str, str]] = []
        #: analyses that ride on this traversal, by key (see :meth:`extension`)
        self._extensions: Dict[str, cst.BatchableCSTVisitor] = {}
        self._visitors_taken = False

    @property
    def current_function(self) -> Optional[FunctionInfo]:
        return self._functions[-1] if self._functions else None

    def _qualname_of(self, node: cst.CSTNode) -> Optional[str]:
        names = qualified_names(node, self.get_metadata)
        return min(names) if names else None

    # extensions: shared analyses collected in the same traversal ---------------------------------

    def extension(
        self, key: str, factory: Callable[["FactCollector"], cst.BatchableCSTVisitor]
    ) -> Any:
        """The collector registered under ``key``, made by ``factory(self)`` on first request.

        Rules ask for the analyses they need from their ``__init__`` (before the traversal);
        however many rules ask, each analysis is collected once per module, in this
        traversal, after this collector's own ``visit_*`` (so :attr:`current_function` is
        already up to date) and before its ``leave_*``. Extensions read metadata through this
        collector, so they may depend only on its ``METADATA_DEPENDENCIES``."""
        found = self._extensions.get(key)
        if found is None:
            assert not self._visitors_taken, f"extension {key!r} requested after the traversal began"
            found = self._extensions[key] = factory(self)
        return found

    def get_visitors(self):  # type: ignore[override]
        self._visitors_taken = True
        visitors = visitor_methods(self)
        for extension in self._extensions.values():
            for name, method in visitor_methods(extension).items():
                own = visitors.get(name)
                if own is None:
                    visitors[name] = method
                elif name.startswith("leave_"):
                    visitors[name] = self._chained(method, own)
                else:
                    visitors[name] = self._chained(own, method)
        return visitors

    @staticmethod
    def _chained(first: Callable[..., Any], second: Callable[..., Any]) -> Callable[..., None]:
        def both(*args: Any) -> None:
            first(*args)
            second(*args)

        return both

    # classes and functions -----------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self._qualname_of(node.name) or node.name.value
        self._classes.append(qualname)
        self.facts.classes.add(qualname)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualname = self._qualname_of(node.name) or node.name.value
        parent = self.current_function
        in_class = self._classes[-1] if self._classes and qualname.startswith(
            self._classes[-1] + "."
        ) and "." not in qualname[len(self._classes[-1]) + 1 :] else None
        decorators: Set[str] = set()
        for decorator in node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                expression = expression.func
            decorators |= qualified_names(expression, self.get_metadata)
            if isinstance(expression, cst.Attribute):
                decorators.add(expression.attr.value)
        info = FunctionInfo(node, qualname, parent, in_class, decorators)
        self.facts.add_function(info)
        self._functions.append(info)
        self._local_instances.append({})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._local_instances.pop()

    # module-level bindings -----------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        if self.current_function is None and not self._classes:
            for alias in node.names:
                bound = alias.asname.name if alias.asname else alias.name
                while isinstance(bound, cst.Attribute):  # ``import a.b`` binds ``a``
                    bound = bound.value
                if isinstance(bound, cst.Name):
                    self.facts.module_level_names.add(bound.value)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.current_function is None and not self._classes and not isinstance(
            node.names, cst.ImportStar
        ):
            for alias in node.names:
                bound = alias.asname.name if alias.asname else alias.name
                if isinstance(bound, cst.Name):
                    self.facts.module_level_names.add(bound.value)

    def visit_Call(self, node: cst.Call) -> None:
        if self.current_function is None and not self._classes:
            for qualname in qualified_names(node.func, self.get_metadata):
                if qualname in self.facts.classes:
                    self.facts.import_time_calls.update({f"{qualname}.__init__", f"{qualname}.__post_init__"})
                else:
                    self.facts.import_time_calls.add(qualname)

    def visit_Global(self, node: cst.Global) -> None:
        if self.current_function is not None:
            self.current_function.global_names.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        if self.current_function is not None:
            self.current_function.global_names.update(item.name.value for item in node.names)

    def visit_Assign(self, node: cst.Assign) -> None:
        class_name = self._instantiated_class(node.value)
        factory = (
            qualified_names(node.value.func, self.get_metadata)
            if isinstance(node.value, cst.Call)
            else set()
        )
        for target in node.targets:
            if not isinstance(target.target, cst.Name):
                continue
            name = target.target.value
            if factory:
                function = self.current_function
                if function is not None:
                    function.call_bindings[name] = factory
                    function.call_sites[name] = node.value
                else:
                    self.facts.module_call_bindings[name] = factory
                    self.facts.module_call_sites[name] = node.value
            if self.current_function is None and not self._classes:
                self.facts.module_level_names.add(name)
                if class_name:
                    self.facts.module_instances[name] = class_name
                alias = self._handler_alias(node.value)
                if alias:
                    self.facts.handler_aliases[name] = alias
            elif self.current_function is not None and class_name:
                self._local_instances[-1][name] = class_name

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if (
            self.current_function is None
            and not self._classes
            and isinstance(node.target, cst.Name)
        ):
            self.facts.module_level_names.add(node.target.value)

    def _instantiated_class(self, value: cst.BaseExpression) -> Optional[str]:
        if isinstance(value, cst.Call):
            qualname = self._qualname_of(value.func)
            if qualname in self.facts.classes:
                return qualname
        return None

    def _handler_alias(self, value: cst.BaseExpression) -> Optional[str]:
        """``Handler().handle`` -> ``Handler.handle``; ``Handler()`` -> ``Handler.__call__``;
        ``Handler.handle`` (a static or class method) -> ``Handler.handle``."""
        if isinstance(value, cst.Attribute):
            owner = self._instantiated_class(value.value)
            if owner is None and isinstance(value.value, cst.Name):
                owner = self.facts.module_instances.get(value.value.value)
                if owner is None and value.value.value in self.facts.classes:
                    owner = value.value.value
            if owner:
                return f"{owner}.{value.attr.value}"
        owner = self._instantiated_class(value)
        if owner:
            return f"{owner}.__call__"
        return None

    # references between the module's functions -----------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        function = self.current_function
        if function is None or not self.facts.names.may_name_a_definition(node):
            return
        for qualname in qualified_names(node, self.get_metadata):
            if qualname == function.qualname:
                continue
            if qualname in self.facts.classes:
                # Instantiating a class runs its initialiser.
                function.references.update({f"{qualname}.__init__", f"{qualname}.__post_init__"})
            else:
                function.references.add(qualname)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        function = self.current_function
        if function is None or not isinstance(node.value, cst.Name):
            return
        owner = node.value.value
        method = node.attr.value
        if owner in ("self", "cls") and function.class_name:
            function.references.add(f"{function.class_name}.{method}")
            return
        class_name = self._local_instances[-1].get(owner) or self.facts.module_instances.get(owner)
        if class_name:
            function.references.add(f"{class_name}.{method}")
        elif owner in self.facts.classes:
            function.references.add(f"{owner}.{method}")


def _mentions(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", code) is not None


def is_cached_across_invocations(node: cst.CSTNode, function: FunctionInfo, facts: ModuleFacts) -> bool:
    """True when ``node`` is computed only when module or object state does not hold it yet:
    the lazy-global pattern (``global _c; if _c is None: _c = make()``), a dict cache keyed by a
    guard (``if k not in _cache: _cache[k] = make()``), or ``_c = _c or make()``."""
    code = facts.module.code_for_node

    def get_parent(child: cst.CSTNode) -> Optional[cst.CSTNode]:
        return facts.parent_of(child, function.node)

    child: cst.CSTNode = node
    assignment = None
    while True:
        parent = get_parent(child)
        if parent is None or parent is function.node:
            return False
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and child is parent.value:
            assignment = parent
            break
        if isinstance(parent, (cst.SimpleStatementLine, cst.IndentedBlock)):
            return False
        child = parent
    targets = (
        [t.target for t in assignment.targets]
        if isinstance(assignment, cst.Assign)
        else [assignment.target]
    )
    for target in targets:
        root = target
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        if not isinstance(root, cst.Name):
            continue
        if isinstance(target, cst.Name):
            stateful = target.value in function.global_names
        else:
            stateful = root.value in facts.module_level_names or root.value in ("self", "cls") or (
                root.value in facts.classes
            )
        if not stateful:
            continue
        target_code = code(target)
        guard_names = {target_code} | ({root.value} if isinstance(target, cst.Subscript) else set())
        # ``_c = _c or make()``
        value = assignment.value
        if (
            isinstance(value, cst.BooleanOperation)
            and isinstance(value.operator, cst.Or)
            and code(value.left) == target_code
        ):
            return True
        # an enclosing ``if`` that tests the state
        ancestor = get_parent(assignment)
        while ancestor is not None and ancestor is not function.node:
            if isinstance(ancestor, (cst.If, cst.While)) and any(
                _mentions(code(ancestor.test), name) for name in guard_names
            ):
                return True
            ancestor = get_parent(ancestor)
    return False
