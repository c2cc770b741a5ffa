"""Building blocks for Python fixes: where a new module-level statement may go, which names
are free, whether an expression can be evaluated once at import time."""

from __future__ import annotations

import re
from typing import Callable, Iterable, Optional, Set

import libcst as cst

from lambdalint.model import Edit, Span

#: The ways code reads configuration from the environment. Evaluated at import time they
#: move a missing variable's KeyError from the invocation to the cold start.
ENVIRONMENT_READS = frozenset({"os.environ", "os.getenv", "os.environ.get"})


def _contains_import(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return any(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
    if isinstance(statement, (cst.Try, cst.If)):  # ``try: import x`` / ``if TYPE_CHECKING``
        body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
        return any(_contains_import(inner) for inner in body)
    return False


def _binds(statement: cst.CSTNode, names: Set[str]) -> bool:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return statement.name.value in names
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets = []
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                targets = [small.target]
            for target in targets:
                for name in _names_in(target):
                    if name in names:
                        return True
    if isinstance(statement, (cst.If, cst.Try, cst.With, cst.For)):
        code = cst.Module([]).code_for_node(statement)
        return any(re.search(rf"\b{re.escape(name)}\b\s*=[^=]", code) for name in names)
    return False


def _names_in(target: cst.BaseExpression) -> Iterable[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_in(element.value)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def module_insertion_line(module: cst.Module, needed: Set[str], end_line_of: Callable[[cst.CSTNode], int]) -> int:
    """The 1-based line before which a new module-level statement can be inserted: after the
    docstring, every top-level import and every top-level statement that binds a ``needed``
    name (so the new statement can use them)."""
    last = 0
    for index, statement in enumerate(module.body):
        if (index == 0 and _is_docstring(statement)) or _contains_import(statement) or _binds(statement, needed):
            last = end_line_of(statement)
    return last + 1


def insertion_edit(line: int, text: str, *, after_blank: bool = True) -> Edit:
    """Insert ``text`` (one or more whole lines) at the start of ``line``."""
    content = ("\n" if after_blank else "") + text.rstrip("\n") + "\n"
    return Edit(Span(line, 1, line, 1), content)


def free_name(source: str, preferred: str) -> str:
    """``preferred``, or ``preferred_2``..., whichever appears nowhere in ``source`` (so that it
    can be neither shadowed nor shadow anything)."""
    candidate = preferred
    counter = 2
    while re.search(rf"(?<![\w.]){re.escape(candidate)}\b", source):
        candidate = f"{preferred}_{counter}"
        counter += 1
    return candidate


def identifier_from(text: str) -> str:
    """A Python identifier made from ``text`` (``"secrets-manager"`` -> ``secrets_manager``)."""
    name = re.sub(r"\W+", "_", text).strip("_").lower()
    return name if name and not name[0].isdigit() else f"_{name}"


def import_time_safety(
    expression: cst.BaseExpression,
    module_names: Set[str],
    qualified: Callable[[cst.CSTNode], Set[str]],
) -> Optional[str]:
    """Can ``expression`` be evaluated once at import time instead of per call?

    ``"safe"`` for literals and module-level names (and calls of module-level callables with
    such arguments), ``"unsafe"`` when it also reads the environment (a missing variable then
    fails the cold start instead of the invocation), None when it depends on anything else
    (locals, the event, ``**kwargs``)."""
    verdict = "safe"

    def visit(node: cst.BaseExpression) -> bool:
        nonlocal verdict
        if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
            return True
        if isinstance(node, cst.ConcatenatedString):
            return visit(node.left) and visit(node.right)
        if isinstance(node, cst.Name):
            return node.value in module_names or node.value in ("True", "False", "None")
        if isinstance(node, cst.Attribute):
            root = node
            while isinstance(root, cst.Attribute):
                root = root.value
            return isinstance(root, cst.Name) and root.value in module_names
        if isinstance(node, cst.Subscript):
            if qualified(node.value) & ENVIRONMENT_READS:
                verdict = "unsafe"
                return all(
                    isinstance(element.slice, cst.Index) and visit(element.slice.value)
                    for element in node.slice
                )
            return False
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(not isinstance(e, cst.StarredElement) and visit(e.value) for e in node.elements)
        if isinstance(node, cst.Dict):
            return all(
                isinstance(e, cst.DictElement) and visit(e.key) and visit(e.value) for e in node.elements
            )
        if isinstance(node, cst.Call):
            if qualified(node.func) & ENVIRONMENT_READS:
                verdict = "unsafe"
            elif not visit(node.func):
                return False
            return all(arg.star == "" and visit(arg.value) for arg in node.args)
        return False

    return verdict if visit(expression) else None
