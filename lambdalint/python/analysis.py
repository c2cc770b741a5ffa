"""Facts about one Python module, gathered in the single shared traversal.

The engine runs :class:`FactCollector` first in the batched traversal, so that while a rule
visits a node it can ask which function it is in; questions about the whole module (which
functions are handlers, what each handler reaches) are answered after the traversal, when
:meth:`ModuleFacts.finish` has run.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import (
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
)

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
    """The qualified names libcst resolved for ``node`` (empty when it has none)."""
    return {qn.name for qn in provider_get(QualifiedNameProvider, node, set())}


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


@dataclass(frozen=True)
class HandlerPattern:
    """A ``handlers = ["src/*.py:main"]`` entry from the config."""

    path_glob: str
    function: str

    @classmethod
    def parse(cls, text: str) -> "HandlerPattern":
        path, sep, function = text.rpartition(":")
        if not sep or not path or not function:
            raise ValueError(f"handler pattern {text!r} must look like 'path/glob.py:function'")
        return cls(path, function)

    def matches(self, relative_path: str, qualname: str) -> bool:
        return fnmatch.fnmatch(relative_path, self.path_glob) and (
            qualname == self.function or fnmatch.fnmatch(qualname, self.function)
        )


class ModuleFacts:
    """What the engine knows about one module; rules read it, never recompute it."""

    def __init__(
        self,
        path: str,
        source: str,
        module: cst.Module,
        handler_patterns: Sequence[HandlerPattern] = (),
        relative_path: Optional[str] = None,
    ) -> None:
        self.path = path
        #: the path relative to the config root, which handler patterns are matched against
        self.relative_path = relative_path or path
        self.source = source
        self.module = module
        self.handler_patterns = tuple(handler_patterns)
        self.functions: Dict[str, FunctionInfo] = {}
        self._by_node: Dict[cst.FunctionDef, FunctionInfo] = {}
        #: module-level ``name = SomeClass(...)`` bindings, so ``name.method()`` resolves.
        self.module_instances: Dict[str, str] = {}
        #: module-level ``handler = SomeClass().method`` style aliases to handler methods.
        self.handler_aliases: Dict[str, str] = {}
        self.classes: Set[str] = set()
        self.module_level_names: Set[str] = set()
        #: module-level ``name = factory(...)`` bindings: name -> qualified names of the factory
        self.module_call_bindings: Dict[str, Set[str]] = {}
        self.handlers: List[FunctionInfo] = []
        self._reached: Set[str] = set()
        self.finished = False

    # -- built by the collector ------------------------------------------------------------

    def add_function(self, info: FunctionInfo) -> None:
        self.functions[info.qualname] = info
        self._by_node[info.node] = info

    def info_for(self, node: cst.FunctionDef) -> Optional[FunctionInfo]:
        return self._by_node.get(node)

    def finish(self) -> None:
        """Decide which functions are handlers and what they reach."""
        self.handlers = [f for f in self.functions.values() if self._is_handler(f)]
        for alias_target in self.handler_aliases.values():
            target = self.functions.get(alias_target)
            if target is not None and target not in self.handlers:
                self.handlers.append(target)
        self.handlers.sort(key=lambda f: f.qualname)
        self._reached = self._reach_from(self.handlers)
        self.finished = True

    def _is_handler(self, function: FunctionInfo) -> bool:
        if any(p.matches(self.relative_path, function.qualname) for p in self.handler_patterns):
            return True
        if function.parent is not None:
            return False
        if function.is_module_level and function.name in CONVENTIONAL_HANDLER_NAMES:
            return True
        if function.parameter_names[:2] == ["event", "context"]:
            return True
        return any(d.rsplit(".", 1)[-1] in HANDLER_DECORATORS for d in function.decorators)

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

    def handler_reaching(self, function: FunctionInfo) -> Optional[FunctionInfo]:
        """A handler from which ``function`` is reached (the first by name), for messages."""
        for handler in self.handlers:
            if function.qualname in self._reach_from([handler]):
                return handler
        return None


class FactCollector(cst.BatchableCSTVisitor):
    """Records functions, classes, references and the function stack during the traversal."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, ParentNodeProvider, PositionProvider)

    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self._functions: List[FunctionInfo] = []
        self._classes: List[str] = []
        #: per function on the stack: local ``name = SomeClass(...)`` bindings
        self._local_instances: List[Dict[str, str]] = []

    @property
    def current_function(self) -> Optional[FunctionInfo]:
        return self._functions[-1] if self._functions else None

    def _qualname_of(self, node: cst.CSTNode) -> Optional[str]:
        names = qualified_names(node, self.get_metadata)
        return min(names) if names else None

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
                bindings = (
                    self.current_function.call_bindings
                    if self.current_function is not None
                    else self.facts.module_call_bindings
                )
                bindings[name] = factory
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
        if function is None:
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


def enclosing_functions(node: cst.CSTNode, get_parent) -> Tuple[cst.FunctionDef, ...]:
    """The ``def`` nodes around ``node``, innermost first."""
    found: List[cst.FunctionDef] = []
    current: Optional[cst.CSTNode] = node
    while current is not None:
        current = get_parent(current)
        if isinstance(current, cst.FunctionDef):
            found.append(current)
    return tuple(found)


def _mentions(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", code) is not None


def is_cached_across_invocations(
    node: cst.CSTNode, function: FunctionInfo, facts: ModuleFacts, get_parent
) -> bool:
    """True when ``node`` is computed only when module or object state does not hold it yet:
    the lazy-global pattern (``global _c; if _c is None: _c = make()``), a dict cache keyed by a
    guard (``if k not in _cache: _cache[k] = make()``), or ``_c = _c or make()``."""
    code = facts.module.code_for_node
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
