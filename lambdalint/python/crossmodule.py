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
import re
import sys
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import libcst as cst

from lambdalint.model import Span
from lambdalint.python.analysis import FactCollector, FunctionInfo, ModuleFacts

if TYPE_CHECKING:
    from lambdalint.project import LinkedFunction

#: the extension key under which the collector rides on the shared traversal
EXTENSION_KEY = "lambdalint.python.crossmodule"
#: the key of the request-taint extension (lambdalint.python.taint.flow_facts)
TAINT_KEY = "lambdalint.python.taint"

#: Python's own modules (3.10+ knows them; 3.9 gets the common ones): an absolute import of one
#: of these is the standard library, even when the project holds a file of the same name
_STDLIB_FALLBACK = frozenset(
    """abc argparse array ast asyncio base64 binascii bisect builtins bz2 calendar cgi cmath code
    codecs collections concurrent configparser contextlib contextvars copy csv ctypes dataclasses
    datetime decimal difflib dis email encodings enum errno fnmatch fractions ftplib functools gc
    getpass gettext glob graphlib gzip hashlib heapq hmac html http imaplib importlib inspect io
    ipaddress itertools json keyword linecache locale logging lzma mailbox math mimetypes
    multiprocessing netrc numbers operator os pathlib pickle platform plistlib pprint profile
    queue random re reprlib resource sched secrets select selectors shelve shlex shutil signal
    site smtplib socket socketserver sqlite3 ssl stat statistics string struct subprocess sys
    sysconfig tarfile tempfile textwrap threading time timeit token tokenize trace traceback
    types typing unicodedata unittest urllib uuid warnings weakref xml xmlrpc zipfile zlib
    zoneinfo""".split()
)
STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | _STDLIB_FALLBACK

Origin = Tuple[str, ...]


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


@dataclass(frozen=True)
class CrossEntry:
    """A function of another module that a root of this one calls per invocation.

    Made by the calling module with ``level``/``target`` (the import as written); the engine
    fills in ``module_file`` and ``function`` once it has found the file."""

    level: int
    target: Tuple[str, ...]
    #: for messages: "handler `main` (src/pkg/handler.py)"
    via: str
    #: the template functions whose invocations run this call
    links: Tuple["LinkedFunction", ...] = ()
    #: what feeds those invocations (an ``EventSourceInfo`` without its node)
    sources: Tuple[str, ...] = ()
    source_origin: str = ""
    evidence: str = ""
    template_location: Optional[Tuple[str, Span]] = None
    #: request taint of the arguments: ("0", paths) for positional, ("kw:name", paths) keywords;
    #: a path starts at the role (``("event", "Records", "*", "body")``)
    tainted: Tuple[Tuple[str, Tuple[Origin, ...]], ...] = ()
    #: every path from the root to the call passes a Powertools ``@idempotent`` function: the
    #: call's effects are deduplicated there, so the entry does not make the callee at-least-once
    idempotent: bool = False
    #: the module the call is written in (absolute, normalised) and its code roots
    caller_file: str = ""
    roots: Tuple[str, ...] = ()
    #: filled in by the engine
    module_file: str = ""
    function: str = ""

    def sort_key(self) -> Tuple[str, ...]:
        return (self.module_file, self.function, self.caller_file, self.via, repr(self.target))


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
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            scope.bound.add(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bound.add(star.name.value)

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


# -- resolving an export to a file of the run ----------------------------------------------------


def code_roots(module_file: str, links: Iterable["LinkedFunction"], exists) -> Tuple[str, ...]:
    """Where absolute imports of ``module_file`` are looked up: the code folder of each linked
    template function (the handler's module path removed from the file's), else the folder
    above the module's top package (the module's own folder when it is in no package)."""
    roots: List[str] = []
    folder = os.path.dirname(module_file)
    for link in links:
        handler = link.handler.rsplit(".", 1)[0] if "." in link.handler else link.handler
        depth = len([p for p in re.split(r"[./]", handler) if p]) - 1
        root = folder
        for _ in range(max(depth, 0)):
            root = os.path.dirname(root)
        if root not in roots:
            roots.append(root)
    if not roots:
        root = folder
        while exists(os.path.join(root, "__init__.py")) and os.path.dirname(root) != root:
            root = os.path.dirname(root)
        roots.append(root)
    return tuple(roots)


def _module_file(base: str, parts: Sequence[str], exists) -> Optional[str]:
    stem = os.path.join(base, *parts) if parts else base
    if parts and exists(stem + ".py"):
        return stem + ".py"
    init = os.path.join(stem, "__init__.py")
    return init if exists(init) else None


def resolve_entry(entry: CrossEntry, exists) -> Optional[CrossEntry]:
    """``entry`` with the file and function it calls, when a file of the run holds them:
    the longest module prefix of the dotted target that is a file wins, the rest is the
    function's qualified name in it."""
    if entry.level:
        base = os.path.dirname(entry.caller_file)
        for _ in range(entry.level - 1):
            base = os.path.dirname(base)
        bases: Tuple[str, ...] = (base,)
    else:
        bases = entry.roots
    target = entry.target
    for base in bases:
        for split in range(len(target) - 1, -1, -1):
            if split == 0 and not entry.level:
                break  # ``import x`` names a module, not a function in a folder
            module = _module_file(base, target[:split], exists)
            if module is None:
                continue
            if os.path.normcase(module) == os.path.normcase(entry.caller_file):
                return None  # the module's own functions: already within its reach
            return replace(entry, module_file=module, function=".".join(target[split:]))
    return None


# -- (de)serialising, for the cache and the worker pool ------------------------------------------


def entry_data(entry: CrossEntry) -> Dict[str, Any]:
    from lambdalint import cache

    return {
        "level": entry.level,
        "target": list(entry.target),
        "via": entry.via,
        "links": [cache.link_data(link) for link in entry.links],
        "sources": list(entry.sources),
        "source_origin": entry.source_origin,
        "evidence": entry.evidence,
        "template_location": None if entry.template_location is None else [
            entry.template_location[0], cache._span_data(entry.template_location[1])
        ],
        "tainted": [[slot, [list(p) for p in paths]] for slot, paths in entry.tainted],
        "idempotent": entry.idempotent,
        "caller_file": entry.caller_file,
        "roots": list(entry.roots),
        "module_file": entry.module_file,
        "function": entry.function,
    }


def entry_from(data: Mapping[str, Any]) -> CrossEntry:
    from lambdalint import cache

    location = data["template_location"]
    return CrossEntry(
        int(data["level"]),
        tuple(data["target"]),
        data["via"],
        tuple(cache.link_from(link) for link in data["links"]),
        tuple(data["sources"]),
        data["source_origin"],
        data["evidence"],
        None if location is None else (location[0], cache._span(location[1])),
        tuple((slot, tuple(tuple(p) for p in paths)) for slot, paths in data["tainted"]),
        bool(data["idempotent"]),
        data["caller_file"],
        tuple(data["roots"]),
        data["module_file"],
        data["function"],
    )


# -- a quick look at a file's imports, for --shard ---------------------------------------------

_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,]+)", re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE)


def imported_modules(text: str, module_file: str, roots: Sequence[str], exists) -> Set[str]:
    """The files of the run that ``text`` may import (found with a regular expression, a
    superset of what :func:`exported` follows: imports under ``if TYPE_CHECKING`` or in strings
    count too). ``--shard`` keeps a module in the shard of the handlers that import it."""
    targets: List[Tuple[int, Tuple[str, ...]]] = []
    for match in _IMPORT.finditer(text):
        for part in match.group(1).split(","):
            dotted = part.split(" as ")[0].strip()
            if dotted:
                targets.append((0, tuple(dotted.split("."))))
    for match in _FROM.finditer(text):
        level = len(match.group(1))
        module = tuple(p for p in match.group(2).split(".") if p)
        for name in match.group(3).strip("() \t\n").split(","):
            name = name.split(" as ")[0].strip()
            if name and name != "*" and name.isidentifier():
                targets.append((level, module + (name,)))
            elif name == "*":
                targets.append((level, module))
    found: Set[str] = set()
    for level, target in targets:
        if not target or (level == 0 and target[0] in STDLIB_MODULES):
            continue
        probe = CrossEntry(level, target + ("*",), "", caller_file=module_file, roots=tuple(roots))
        resolved = resolve_entry(probe, exists)
        if resolved is not None:
            found.add(resolved.module_file)
    return found
