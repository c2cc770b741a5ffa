"""Name resolution for one module: which binding a name refers to and its qualified names.

It answers what rules used to ask libcst's ``ScopeProvider`` and ``QualifiedNameProvider``
(which together cost most of a file's time) from one walk of the module that records, per
scope, every binding, and per name, the scope it is read in. The answers follow libcst's
(the tests pin findings that depend on them):

- scopes: module, class (not visible from nested functions), function and lambda
  (``f.<locals>``), comprehension (``<comprehension>``; the first iterable is read outside);
- bindings: imports (``import a.b`` binds ``a.b`` and ``a``), ``def``, ``class``, parameters,
  assignment targets (unpacking, ``+=``, annotated), ``for``/``with``/``except`` targets,
  comprehension targets, walrus; ``global``/``nonlocal`` send a function's bindings of a name
  to the module or the enclosing function; anything else is a builtin if Python has it;
- a name read refers to the bindings of the first scope (inner to outer) that binds it; in
  its own scope, only to the bindings made before it (else, as libcst, the enclosing ones);
- qualified names: ``boto3.client`` for ``from boto3 import client`` (relative imports keep
  their dots), ``Handler.handle``, ``outer.<locals>.inner``, ``builtins.len``; an attribute
  chain is named after the longest prefix that is bound (``boto3.client("s3").get_object`` is
  ``boto3.client.get_object``, as in libcst).
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.helpers import get_full_name_for_node

EMPTY: FrozenSet[str] = frozenset()

_IMPORT, _LOCAL, _BUILTIN = "import", "local", "builtin"
_MODULE, _FUNCTION, _CLASS, _COMPREHENSION, _BUILTINS = range(5)


def parameters(params: cst.Parameters) -> List[cst.Param]:
    """Every parameter a ``def`` or ``lambda`` binds, in order (``*args`` and ``**kwargs`` too)."""
    return [
        *params.posonly_params,
        *params.params,
        *([params.star_arg] if isinstance(params.star_arg, cst.Param) else []),
        *params.kwonly_params,
        *([params.star_kwarg] if params.star_kwarg is not None else []),
    ]


class Scope:
    __slots__ = ("kind", "parent", "prefix", "bindings", "overwrites", "count", "_resolved")

    def __init__(self, kind: int, parent: Optional["Scope"], prefix: str) -> None:
        self.kind = kind
        self.parent = parent
        #: what the qualified names of its bindings start with ("" at module level)
        self.prefix = prefix
        self.bindings: Dict[str, List["Binding"]] = {}
        #: ``global``/``nonlocal`` names: name -> the scope that holds their bindings
        self.overwrites: Dict[str, "Scope"] = {}
        #: how many binding statements were finished so far (orders bindings and reads)
        self.count = 0
        self._resolved: Dict[str, Sequence["Binding"]] = {}

    def child_prefix(self, name: Optional[str], kind: int) -> str:
        if kind == _CLASS:
            parts = (self.prefix, name)
        elif kind == _COMPREHENSION:
            parts = (self.prefix, "<comprehension>")
        else:
            parts = (self.prefix, name, "<locals>")
        return ".".join(part for part in parts if part)

    def target_for(self, name: str) -> "Scope":
        """The scope that a binding of ``name`` made here lands in."""
        scope: Scope = self
        while scope.kind != _MODULE and name in scope.overwrites:
            scope = _visible(scope.overwrites[name])
        return scope


def _visible(scope: "Scope") -> "Scope":
    """``scope`` or, when it is a class, the first enclosing scope that is not one: nested
    functions do not see class bodies."""
    while scope.kind == _CLASS:
        scope = scope.parent  # type: ignore[assignment]
    return scope


class Binding:
    __slots__ = ("kind", "name", "scope", "node", "index")

    def __init__(self, kind: str, name: str, scope: Scope, node: cst.CSTNode, index: int) -> None:
        self.kind = kind
        self.name = name
        self.scope = scope
        #: the store ``Name``, the ``def``/``class``, the ``Param`` or the import statement
        self.node = node
        self.index = index

    def qualified_names(self, full_name: str) -> List[Tuple[str, str]]:
        """(name, source) pairs for ``full_name`` read through this binding."""
        if self.kind == _LOCAL:
            prefix = self.scope.prefix
            return [(f"{prefix}.{full_name}" if prefix else full_name, _LOCAL)]
        if self.kind == _BUILTIN:
            return [(f"builtins.{self.name}", _BUILTIN)]
        return _import_names(self.node, full_name)  # type: ignore[arg-type]


def _import_names(node: Union[cst.Import, cst.ImportFrom], full_name: str) -> List[Tuple[str, str]]:
    module = ""
    if isinstance(node, cst.ImportFrom):
        if node.module is not None:
            module = get_full_name_for_node(node.module) or ""
        if node.relative:
            module = "." * len(node.relative) + module
    found: List[Tuple[str, str]] = []
    if isinstance(node.names, cst.ImportStar):
        return found
    for alias in node.names:
        imported = get_full_name_for_node(alias.name)
        if not imported:
            continue
        parts = imported.split(".")
        # ``import a.b.c``: the longest of a.b.c, a.b, a that ``full_name`` starts with
        for end in range(len(parts), 0, -1):
            real = ".".join(parts[:end])
            bound = real
            if module.endswith("."):
                real = module + real
            elif module:
                real = f"{module}.{real}"
            if alias.asname is not None:
                bound = get_full_name_for_node(alias.asname.name) or bound
            if full_name.startswith(bound):
                rest = full_name[len(bound):]
                if rest and not rest.startswith("."):
                    continue
                rest = rest.lstrip(".")
                found.append((f"{real}.{rest}" if rest else real, _IMPORT))
                break
    return found


_BUILTIN_SCOPE = Scope(_BUILTINS, None, "")
_builtin_bindings: Dict[str, Sequence[Binding]] = {}


def _builtin(name: str) -> Sequence[Binding]:
    """The binding of a builtin, shared by every module (misses are not kept: the table stays
    as small as the builtins module however many files a process lints)."""
    found = _builtin_bindings.get(name)
    if found is None:
        if not hasattr(builtins, name):
            return ()
        found = _builtin_bindings[name] = (Binding(_BUILTIN, name, _BUILTIN_SCOPE, cst.Name(name), -1),)
    return found


def _resolve(scope: Scope, name: str) -> Sequence[Binding]:
    """Every binding of ``name`` that a read in ``scope`` may refer to (order aside)."""
    if scope is _BUILTIN_SCOPE:
        return _builtin(name)
    found = scope._resolved.get(name)
    if found is not None:
        return found
    current: Optional[Scope] = scope
    result: Sequence[Binding] = ()
    while current is not None:
        if current.kind == _BUILTINS:
            result = _builtin(name)
            break
        if current.kind != _MODULE and name in current.overwrites:
            current = _visible(current.overwrites[name])
            continue
        bound = current.bindings.get(name)
        if bound:
            result = bound
            break
        current = _visible(current.parent) if current.parent is not None else None  # type: ignore[arg-type]
    scope._resolved[name] = result
    return result


#: fields that hold only whitespace and punctuation
_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "comma", "colon", "dot", "equal", "lbrace", "lbracket", "rbrace",
        "rbracket", "semicolon", "leading_lines", "lines_after_decorators", "header", "footer",
        "trailing_whitespace", "newline", "first_colon", "second_colon", "asynchronous",
        "empty_lines", "operator", "separator", "trailing_comma", "relative", "comment",
        "default_indent", "default_newline", "encoding", "has_trailing_newline", "star",
        "posonly_ind", "indent", "conversion",
    }
)
#: the parent map keeps operators and keywords (``async``) too
_PARENT_SKIPPED_FIELDS = _SKIPPED_FIELDS - {"operator", "asynchronous", "star", "relative", "posonly_ind"}
_fields_of: Dict[type, Tuple[str, ...]] = {}
_parent_fields_of: Dict[type, Tuple[str, ...]] = {}


def _child_fields(kind: type, cache: Dict[type, Tuple[str, ...]] = _fields_of, skipped: FrozenSet[str] = _SKIPPED_FIELDS) -> Tuple[str, ...]:
    found = cache.get(kind)
    if found is None:
        found = cache[kind] = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in skipped and not f.name.startswith("whitespace")
        )
    return found


class ModuleNames:
    """The bindings of one module, and what each name in it refers to."""

    def __init__(self, module: cst.Module) -> None:
        self.module_scope = Scope(_MODULE, _BUILTIN_SCOPE, "")
        #: Name/Attribute/def/class -> (scope it is read in, binding count then, is a read)
        self._where: Dict[cst.CSTNode, Tuple[Scope, int, bool]] = {}
        self._cache: Dict[cst.CSTNode, Tuple[Tuple[str, str], ...]] = {}
        #: the names that ``def``, ``class`` and imports bind, anywhere in the module
        self.defined_or_imported: Set[str] = set()
        self._walk_body(module.body, self.module_scope)

    # -- questions -------------------------------------------------------------------------

    def may_name_a_definition(self, name: cst.Name) -> bool:
        """False when no qualified name of ``name`` can be that of a ``def`` or ``class`` of
        the module: a local or builtin qualified name ends with the name itself, so it must be
        the name of some ``def``/``class``; an imported one can be anything, so imported names
        stay in. A cheap test before :meth:`qualified_names` for visitors of every name."""
        return name.value in self.defined_or_imported

    def qualified_names(self, node: cst.CSTNode) -> Set[str]:
        return {name for name, _ in self._named(node)}

    def imported_names(self, node: cst.CSTNode) -> Set[str]:
        return {name for name, source in self._named(node) if source == _IMPORT}

    def referents(self, name: cst.Name) -> Optional[Sequence[Binding]]:
        """The bindings a read of ``name`` refers to (None when ``name`` is not a read)."""
        where = self._where.get(name)
        if where is None or not where[2]:
            return None
        scope, index, _ = where
        bound = _resolve(scope, name.value)
        before = [b for b in bound if b.scope is not scope or b.index < index]
        if not before and bound:
            # read before any binding of its own scope: libcst falls back to the enclosing one
            return list(_resolve(scope.parent, name.value)) if scope.parent is not None else []
        return before

    def single_binding(self, name: cst.Name) -> Optional[cst.Name]:
        """The target ``Name`` of the only binding a read of ``name`` refers to, when that
        binding is an assignment-like one (not an import, ``def``, parameter or builtin)."""
        bound = self.referents(name)
        if bound is None or len(bound) != 1:
            return None
        (binding,) = bound
        if binding.kind != _LOCAL or not isinstance(binding.node, cst.Name):
            return None
        return binding.node

    def _named(self, node: cst.CSTNode) -> Tuple[Tuple[str, str], ...]:
        found = self._cache.get(node)
        if found is None:
            found = self._cache[node] = tuple(self._compute(node))
        return found

    def _compute(self, node: cst.CSTNode) -> List[Tuple[str, str]]:
        root = node
        while True:
            if isinstance(root, cst.Call):
                root = root.func
            elif isinstance(root, cst.Subscript):
                root = root.value
            elif isinstance(root, cst.Decorator):
                root = root.decorator
            else:
                break
        where = self._where.get(root)
        if where is None:
            return []
        scope, _, is_read = where
        if is_read and isinstance(root, cst.Name) and root is node:
            found: List[Tuple[str, str]] = []
            for binding in self.referents(root) or ():
                for pair in binding.qualified_names(binding.name):
                    if pair not in found:
                        found.append(pair)
            return found
        full_name = get_full_name_for_node(node)
        if full_name is None:
            return []
        prefix: Optional[str] = full_name
        bound: Sequence[Binding] = ()
        while prefix:
            bound = _resolve(scope, prefix)
            if bound:
                break
            cut = prefix.rfind(".")
            prefix = None if cut == -1 else prefix[:cut]
        for binding in bound:
            if binding.kind != _BUILTIN and _binds(node, binding.node):
                return binding.qualified_names(full_name)
        found = []
        for binding in bound:
            for pair in binding.qualified_names(full_name):
                if pair not in found:
                    found.append(pair)
        return found

    # -- the walk --------------------------------------------------------------------------

    def _bind(self, scope: Scope, name: str, node: cst.CSTNode, kind: str = _LOCAL) -> None:
        target = scope.target_for(name)
        target.bindings.setdefault(name, []).append(Binding(kind, name, target, node, target.count))

    def _walk_body(self, statements: Sequence[cst.CSTNode], scope: Scope) -> None:
        for statement in statements:
            self._walk(statement, scope)

    def _walk(self, node: cst.CSTNode, scope: Scope) -> None:
        kind = type(node)
        if kind is cst.Name:
            self._where[node] = (scope, scope.count, True)
            return
        special = _SPECIAL.get(kind)
        if special is not None:
            special(self, node, scope)
            return
        for field in _child_fields(kind):
            value = getattr(node, field)
            if isinstance(value, cst.CSTNode):
                self._walk(value, scope)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self._walk(item, scope)

    def _store(self, target: cst.CSTNode, scope: Scope) -> None:
        """Walk an assignment target: its names are bound, the rest is read."""
        kind = type(target)
        if kind is cst.Name:
            self._where[target] = (scope, scope.count, False)
            self._bind(scope, target.value, target)  # type: ignore[attr-defined]
        elif kind in (cst.Tuple, cst.List):
            for element in target.elements:  # type: ignore[attr-defined]
                self._store(element.value, scope)
        elif kind is cst.StarredElement:
            self._store(target.value, scope)  # type: ignore[attr-defined]
        else:
            self._walk(target, scope)

    def _attribute(self, node: cst.Attribute, scope: Scope) -> None:
        self._where[node] = (scope, scope.count, False)
        self._walk(node.value, scope)  # ``attr`` has no scope: it names no binding

    def _arg(self, node: cst.Arg, scope: Scope) -> None:
        self._walk(node.value, scope)  # the keyword is not a name use

    def _assign(self, node: cst.Assign, scope: Scope) -> None:
        for target in node.targets:
            self._store(target.target, scope)
        self._walk(node.value, scope)
        scope.count += 1

    def _ann_assign(self, node: cst.AnnAssign, scope: Scope) -> None:
        self._store(node.target, scope)
        self._walk(node.annotation, scope)
        if node.value is not None:
            self._walk(node.value, scope)
        scope.count += 1

    def _aug_assign(self, node: cst.AugAssign, scope: Scope) -> None:
        self._store(node.target, scope)
        self._walk(node.value, scope)
        scope.count += 1

    def _named_expr(self, node: cst.NamedExpr, scope: Scope) -> None:
        self._store(node.target, scope)
        self._walk(node.value, scope)
        scope.count += 1

    def _for(self, node: cst.For, scope: Scope) -> None:
        self._store(node.target, scope)
        scope.count += 1
        self._walk(node.iter, scope)
        self._walk(node.body, scope)
        if node.orelse is not None:
            self._walk(node.orelse, scope)

    def _with_item(self, node: cst.WithItem, scope: Scope) -> None:
        self._walk(node.item, scope)
        if node.asname is not None:
            self._store(node.asname.name, scope)
            scope.count += 1  # the AsName
        scope.count += 1

    def _except(self, node: cst.ExceptHandler, scope: Scope) -> None:
        if node.type is not None:
            self._walk(node.type, scope)
        if node.name is not None:
            self._store(node.name.name, scope)
            scope.count += 1
        self._walk(node.body, scope)

    def _import(self, node: Union[cst.Import, cst.ImportFrom], scope: Scope) -> None:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                for name in _dotted_names(bound):
                    self._bind(scope, name, node, _IMPORT)
                    self.defined_or_imported.add(name)
        scope.count += 1

    def _global(self, node: Union[cst.Global, cst.Nonlocal], scope: Scope) -> None:
        if scope.kind != _MODULE:
            holder = self.module_scope if isinstance(node, cst.Global) else scope.parent
            for item in node.names:
                scope.overwrites[item.name.value] = holder  # type: ignore[assignment]
        scope.count += 1

    def _params(self, params: cst.Parameters, inner: Scope, outer: Scope) -> None:
        for param in parameters(params):
            self._where[param.name] = (inner, inner.count, False)
            self._bind(inner, param.name.value, param)
            if param.default is not None:
                self._walk(param.default, outer)
            if param.annotation is not None:
                self._walk(param.annotation, outer)
        inner.count += 1

    def _function(self, node: cst.FunctionDef, scope: Scope) -> None:
        name = node.name.value
        self._bind(scope, name, node)
        self.defined_or_imported.add(name)
        self._where[node.name] = (scope, scope.count, False)
        self._where[node] = (scope, scope.count, False)
        inner = Scope(_FUNCTION, scope, scope.child_prefix(name, _FUNCTION))
        self._params(node.params, inner, scope)
        self._walk(node.body, inner)
        for decorator in node.decorators:
            self._walk(decorator.decorator, scope)
        if node.returns is not None:
            self._walk(node.returns.annotation, scope)
        scope.count += 1

    def _lambda(self, node: cst.Lambda, scope: Scope) -> None:
        inner = Scope(_FUNCTION, scope, scope.child_prefix(None, _FUNCTION))
        self._params(node.params, inner, scope)
        self._walk(node.body, inner)

    def _class(self, node: cst.ClassDef, scope: Scope) -> None:
        name = node.name.value
        self._bind(scope, name, node)
        self.defined_or_imported.add(name)
        self._where[node.name] = (scope, scope.count, False)
        self._where[node] = (scope, scope.count, False)
        for decorator in node.decorators:
            self._walk(decorator.decorator, scope)
        for arg in (*node.bases, *node.keywords):
            self._walk(arg.value, scope)
        inner = Scope(_CLASS, scope, scope.child_prefix(name, _CLASS))
        body = node.body
        self._walk_body(body.body if isinstance(body, cst.IndentedBlock) else body.body, inner)
        scope.count += 1

    def _comprehension(
        self, node: Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp], scope: Scope
    ) -> None:
        for_in = node.for_in
        self._walk(for_in.iter, scope)  # the first iterable is evaluated outside
        inner = Scope(_COMPREHENSION, scope, scope.child_prefix(None, _COMPREHENSION))
        self._store(for_in.target, inner)
        inner.count += 1
        for condition in for_in.ifs:
            self._walk(condition.test, inner)
        if for_in.inner_for_in is not None:
            self._comp_for(for_in.inner_for_in, inner)
        if isinstance(node, cst.DictComp):
            self._walk(node.key, inner)
            self._walk(node.value, inner)
        else:
            self._walk(node.elt, inner)

    def _comp_for(self, node: cst.CompFor, scope: Scope) -> None:
        self._store(node.target, scope)
        self._walk(node.iter, scope)
        for condition in node.ifs:
            self._walk(condition.test, scope)
        if node.inner_for_in is not None:
            self._comp_for(node.inner_for_in, scope)
        scope.count += 1

    def _skip(self, node: cst.CSTNode, scope: Scope) -> None:
        return None


def _dotted_names(node: cst.BaseExpression) -> List[str]:
    """``a.b.c`` -> ["a.b.c", "a.b", "a"] (the names an ``import a.b.c`` binds)."""
    full = get_full_name_for_node(node)
    if not full:
        return []
    parts = full.split(".")
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def _binds(node: cst.CSTNode, bound: cst.CSTNode) -> bool:
    """``node`` is the binding ``bound`` itself (or one of the names of an import)."""
    if node is bound:
        return True
    if isinstance(bound, (cst.Import, cst.ImportFrom)) and not isinstance(bound.names, cst.ImportStar):
        return any(
            alias.name is node or (alias.asname is not None and alias.asname.name is node)
            for alias in bound.names
        )
    return False


_SPECIAL = {
    cst.Attribute: ModuleNames._attribute,
    cst.Arg: ModuleNames._arg,
    cst.Assign: ModuleNames._assign,
    cst.AnnAssign: ModuleNames._ann_assign,
    cst.AugAssign: ModuleNames._aug_assign,
    cst.NamedExpr: ModuleNames._named_expr,
    cst.For: ModuleNames._for,
    cst.WithItem: ModuleNames._with_item,
    cst.ExceptHandler: ModuleNames._except,
    cst.ExceptStarHandler: ModuleNames._except,
    cst.Import: ModuleNames._import,
    cst.ImportFrom: ModuleNames._import,
    cst.Global: ModuleNames._global,
    cst.Nonlocal: ModuleNames._global,
    cst.FunctionDef: ModuleNames._function,
    cst.Lambda: ModuleNames._lambda,
    cst.ClassDef: ModuleNames._class,
    cst.ListComp: ModuleNames._comprehension,
    cst.SetComp: ModuleNames._comprehension,
    cst.GeneratorExp: ModuleNames._comprehension,
    cst.DictComp: ModuleNames._comprehension,
    cst.SimpleString: ModuleNames._skip,
    cst.Integer: ModuleNames._skip,
    cst.Float: ModuleNames._skip,
    cst.Imaginary: ModuleNames._skip,
    cst.Ellipsis: ModuleNames._skip,
}


def parent_map(root: cst.CSTNode) -> Dict[cst.CSTNode, cst.CSTNode]:
    """child -> parent for every node under ``root`` except whitespace and punctuation (which
    no rule asks about); a plain walk, several times cheaper than a libcst traversal."""
    parents: Dict[cst.CSTNode, cst.CSTNode] = {}
    stack: List[cst.CSTNode] = [root]
    pop, push = stack.pop, stack.append
    node_type = cst.CSTNode
    while stack:
        node = pop()
        kind = type(node)
        fields = _parent_fields_of.get(kind)
        if fields is None:
            fields = _child_fields(kind, _parent_fields_of, _PARENT_SKIPPED_FIELDS)
        for field in fields:
            value = getattr(node, field)
            if isinstance(value, node_type):
                parents[value] = node
                push(value)
            elif type(value) in (tuple, list):
                for item in value:
                    if isinstance(item, node_type):
                        parents[item] = node
                        push(item)
    return parents
