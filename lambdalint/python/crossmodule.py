"""Per-invocation reach across the project's own modules.

A handler that does ``from .db import save`` and calls ``save(...)`` on every invocation runs
``db.save`` on every invocation too, with the handler's template link (environment, policies,
triggers, timeout). Each module's lint exports such calls (:class:`CrossEntry`, one per root —
a handler, or a function that is itself an entry — and called function), with the request
taint of their arguments; the engine resolves the imported names to the run's own Python files
(:func:`resolve_entry`, static only: files on disk, never an import), and lints the called
module again with those functions as per-invocation *entries* (not handlers: LL401 does not
check their signatures). Entries of entries are followed a bounded number of hops
(``lambdalint.engine.MAX_HOPS``).

Followed: ``from .db import save``, ``from . import db; db.save()``, ``from pkg.db import save
as persist``, ``import helpers; helpers.save()``, ``import pkg.db; pkg.db.save()``, imports at
module scope or in the calling function, and a class of another module instantiated
(``Repo(...)`` runs ``Repo.__init__``). Not followed: star imports, imports under ``if
TYPE_CHECKING:``, absolute imports of a standard-library name (the runtime has imported its
own ``json``/``logging`` before the handler's folder could shadow it), functions passed by
reference instead of called (``record_handler=save``), methods called on an object of another
module (``repo.save()``), re-exports through a package ``__init__``, and calls made only at
import time (those are cold-start code, not per invocation).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from lambdalint.python.analysis import FactCollector, FunctionInfo, ModuleFacts
# the data and file resolution live in lambdalint.python.entries (no libcst: the cache needs them)
from lambdalint.python.names import parameters
from lambdalint.python.entries import STDLIB_MODULES, CrossEntry, Origin, resolve_entry  # noqa: F401

#: the extension key under which the collector rides on the shared traversal
EXTENSION_KEY = "lambdalint.python.crossmodule"
#: the key of the request-taint extension (lambdalint.python.taint.flow_facts)
TAINT_KEY = "lambdalint.python.taint"


@dataclass(frozen=True)
class ImportRef:
    """What an imported name is bound to: module ``module`` (``level`` dots before it) or its
    attribute ``name``."""

    level: int
    module: str
    name: Optional[str] = None

    def path(self, attributes: Sequence[str]) -> Tuple[str, ...]:
        """The dotted path (after the leading dots) of ``bound.attr1.attr2``."""
        parts = [p for p in self.module.split(".") if p]
        if self.name is not None:
            parts.append(self.name)
        return tuple(parts) + tuple(attributes)


# -- collecting imports and calls in the shared traversal ----------------------------------------


@dataclass
class _FunctionImports:
    imports: Dict[str, ImportRef] = field(default_factory=dict)
    bound: Set[str] = field(default_factory=set)
    #: (bound name, attributes, call) of every ``name(...)`` / ``name.a.b(...)`` call
    calls: List[Tuple[str, Tuple[str, ...], cst.Call]] = field(default_factory=list)


class ImportCollector(cst.BatchableCSTVisitor):
    """Module and function imports, local bindings and calls by name, for :func:`exported`."""

    def __init__(self, collector: FactCollector) -> None:
        super().__init__()
        self.collector = collector
        self.module_imports: Dict[str, ImportRef] = {}
        #: names that module scope binds otherwise too (``def save``, ``save = wrap(save)``):
        #: which binding a call sees is not known, so such names are not followed
        self.module_rebound: Set[str] = set()
        self.functions: Dict[str, _FunctionImports] = {}
        self._type_checking = 0
        self._type_checking_nodes: Set[cst.If] = set()
        self._class_depth = 0

    def _scope(self, function: Optional[FunctionInfo]) -> Optional[_FunctionImports]:
        if function is None:
            return None
        found = self.functions.get(function.qualname)
        if found is None:
            found = self.functions[function.qualname] = _FunctionImports()
        return found

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        name = test.attr.value if isinstance(test, cst.Attribute) else test.value if isinstance(test, cst.Name) else ""
        if name == "TYPE_CHECKING":
            self._type_checking += 1
            self._type_checking_nodes.add(node)

    def leave_If(self, original_node: cst.If) -> None:
        if original_node in self._type_checking_nodes:
            self._type_checking -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self._scope(self.collector.current_function)
        if scope is not None:
            scope.bound.add(node.name.value)
        elif self._class_depth == 0:
            self.module_rebound.add(node.name.value)
        self._class_depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.collector.current_function
        if function is None:
            return
        if function.parent is None and function.class_name is None:
            self.module_rebound.add(node.name.value)
        parent = self._scope(function.parent)
        if parent is not None:
            parent.bound.add(node.name.value)
        scope = self._scope(function)
        scope.bound.update(param.name.value for param in parameters(node.params))

    def _record_import(self, bound: str, ref: ImportRef) -> None:
        if self._type_checking:
            return
        scope = self._scope(self.collector.current_function)
        if scope is not None:
            scope.imports[bound] = ref
        elif self._class_depth == 0:
            self.module_imports[bound] = ref

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._record_import(alias.asname.name.value, ImportRef(0, dotted))
            else:  # ``import a.b`` binds ``a``
                top = dotted.split(".")[0]
                self._record_import(top, ImportRef(0, top))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = _dotted(node.module) if node.module is not None else ""
        if module is None:
            return
        level = len(node.relative)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            bound = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else alias.name.value
            self._record_import(bound, ImportRef(level, module, alias.name.value))

    def _bind_target(self, target: cst.BaseExpression) -> None:
        scope = self._scope(self.collector.current_function)
        if scope is None:
            if isinstance(target, cst.Name) and self._class_depth == 0:
                self.module_rebound.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)) and self._class_depth == 0:
                for element in target.elements:
                    self._bind_target(element.value)
            return
        if isinstance(target, cst.Name):
            scope.bound.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self._scope(self.collector.current_function)
        if scope is None:
            return
        attributes: List[str] = []
        func = node.func
        while isinstance(func, cst.Attribute):
            attributes.insert(0, func.attr.value)
            func = func.value
        if isinstance(func, cst.Name):
            scope.calls.append((func.value, tuple(attributes), node))


def _dotted(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head is not None else None
    return None


def collector_for(collector: FactCollector) -> ImportCollector:
    """The module's :class:`ImportCollector`, riding on the shared traversal."""
    return collector.extension(EXTENSION_KEY, ImportCollector)


# -- what a module exports -----------------------------------------------------------------------


def _import_of(
    collected: ImportCollector, facts: ModuleFacts, function: FunctionInfo, name: str
) -> Optional[ImportRef]:
    """The import that ``name`` refers to in ``function``: its own, an enclosing function's, or
    the module's; None when a local binding shadows it first."""
    scope: Optional[FunctionInfo] = function
    while scope is not None:
        found = collected.functions.get(scope.qualname)
        if found is not None:
            if name in found.imports:
                return found.imports[name]
            if name in found.bound:
                return None
        scope = scope.parent
    if name in collected.module_rebound:
        return None
    return collected.module_imports.get(name)


def exported(
    facts: ModuleFacts, collector: FactCollector, module_file: str, roots_of_code: Sequence[str]
) -> List[CrossEntry]:
    """The calls to imported functions that this module's roots (handlers and entries) make
    per invocation, one :class:`CrossEntry` per (root, import target)."""
    collected: Optional[ImportCollector] = collector._extensions.get(EXTENSION_KEY)  # type: ignore[attr-defined]
    if collected is None or not facts.finished:
        return []
    taint_collector = collector._extensions.get(TAINT_KEY)  # type: ignore[attr-defined]
    flow = getattr(taint_collector, "flow", None)
    found: Dict[Tuple[str, int, Tuple[str, ...], bool], CrossEntry] = {}
    #: (level, target) -> whether a file on disk holds it: third-party calls are dropped early
    on_disk: Dict[Tuple[int, Tuple[str, ...]], bool] = {}
    for root in facts.roots:
        reached = flow.reach([root]) if flow is not None else [
            facts.functions[q] for q in sorted(facts.reached_from(root)) if q in facts.functions
        ]
        unguarded: Optional[Set[str]] = None
        if not any(collected.functions.get(f.qualname) and collected.functions[f.qualname].calls for f in reached):
            continue
        base: Optional[CrossEntry] = None
        for function in reached:
            scope = collected.functions.get(function.qualname)
            for name, attributes, call in scope.calls if scope is not None else ():
                ref = _import_of(collected, facts, function, name)
                if ref is None:
                    continue
                target = ref.path(attributes)
                if ref.level == 0 and target and target[0] in STDLIB_MODULES:
                    continue
                if len(target) < 2 and ref.level == 0:
                    continue
                if (ref.level, target) not in on_disk:
                    probe = CrossEntry(ref.level, target, "", caller_file=module_file, roots=tuple(roots_of_code))
                    on_disk[(ref.level, target)] = resolve_entry(probe, os.path.exists) is not None
                if not on_disk[(ref.level, target)]:
                    continue  # boto3, requests, ...: not a file of the project
                if unguarded is None and flow is not None:
                    wrapped = wrapped_by_idempotent_function(flow)
                    unguarded = {
                        f.qualname for f in flow.reach([root], stop=lambda f: _is_idempotent(f) or f.qualname in wrapped)
                    }
                if base is None:
                    base = _base_entry(facts, flow, root, module_file, roots_of_code)
                tainted = _tainted_arguments(flow, call, function, root) if flow is not None else ()
                idempotent = unguarded is not None and function.qualname not in unguarded
                key = (root.qualname, ref.level, target, idempotent)
                previous = found.get(key)
                if previous is not None:
                    tainted = _merge_taint(previous.tainted, tainted)
                found[key] = replace(base, level=ref.level, target=target, tainted=tainted, idempotent=idempotent)
    return [found[key] for key in sorted(found)]


#: Powertools' idempotency decorators (as LL303 knows them), by their last name
IDEMPOTENT_DECORATORS = frozenset({"idempotent", "idempotent_function"})


def _is_idempotent(function: FunctionInfo) -> bool:
    return any(d.rsplit(".", 1)[-1] in IDEMPOTENT_DECORATORS for d in function.decorators)


def wrapped_by_idempotent_function(flow: Any) -> Set[str]:
    """Functions of the module passed to ``idempotent_function(...)(fn)`` anywhere in it: LL303
    counts them as guarded wherever they are called, and so do the entries they export."""
    wrapped: Set[str] = set()
    calls: List[cst.Call] = list(flow.module_calls)
    for function_flow in flow.flows.values():
        calls.extend(function_flow.calls)
    for call in calls:
        if not isinstance(call.func, cst.Call):
            continue
        names = flow.qualified_names(call.func.func)
        if not any(n.rsplit(".", 1)[-1] in IDEMPOTENT_DECORATORS for n in names):
            continue
        for arg in call.args:
            for name in flow.qualified_names(arg.value):
                if name in flow.facts.functions:
                    wrapped.add(name)
    return wrapped


def _base_entry(
    facts: ModuleFacts, flow: Any, root: FunctionInfo, module_file: str, roots_of_code: Sequence[str]
) -> CrossEntry:
    via = facts.via(root) or f"handler `{root.qualname}` ({facts.path})"
    sources: Tuple[str, ...] = ()
    origin = evidence = ""
    location = None
    if flow is not None:
        from lambdalint.python.event_sources import event_source

        info = event_source(flow, root)
        sources, origin, evidence, location = info.sources, info.origin, info.evidence, info.template_location
        if origin == "code-guess" and evidence:
            evidence = f"{evidence} in {facts.path}"
    return CrossEntry(
        0, (), via, facts.links_of(root), sources, origin, evidence, location, (),
        caller_file=module_file, roots=tuple(roots_of_code),
    )


def _tainted_arguments(flow: Any, call: cst.Call, function: FunctionInfo, root: FunctionInfo) -> Tuple[Tuple[str, Tuple[Origin, ...]], ...]:
    out: List[Tuple[str, Tuple[Origin, ...]]] = []
    index = 0
    for arg in call.args:
        if arg.star:
            break  # later positions are unknown
        slot = f"kw:{arg.keyword.value}" if arg.keyword is not None else str(index)
        if arg.keyword is None:
            index += 1
        try:
            taint = flow.taint(arg.value, function)
        except RecursionError:  # pragma: no cover - absurd nesting
            continue
        paths = sorted({o[1:] for o in taint if o and o[0] == root.qualname and len(o) > 1})
        if paths:
            out.append((slot, tuple(paths)))
    return tuple(out)


def _merge_taint(a, b):
    merged: Dict[str, Set[Origin]] = {}
    for slot, paths in (*a, *b):
        merged.setdefault(slot, set()).update(paths)
    return tuple((slot, tuple(sorted(paths))) for slot, paths in sorted(merged.items()))


