"""What a value in the code *is*, as far as static reading can tell: the text of a string
literal (through implicit concatenation and f-strings), the literal a name was bound to once,
whether a value comes from configuration (``os.environ``, SSM, Secrets Manager), placeholders,
and whether a file is a test.

It also says what a call *is* (:func:`call_names`): the callee's qualified names plus, for a
method, what made its receiver, through names bound once, ``with ... as`` targets, inline calls
and ``self`` attributes, using the module's scopes (:mod:`lambdalint.python.names`; so a
parameter that shares a module-level client's name does not resolve to that client).

The config/secret and timeout rules (LL201, LL202, LL301, LL302) share these; every helper is
conservative: when it cannot be sure, it answers "unknown" (``None``/``False``/empty) so that
the rule stays quiet. Helpers take the calling visitor's ``get_metadata``, which must serve
``ModuleNames`` and ``ParentNodeProvider`` (every rule's does, through
:class:`~lambdalint.python.analysis.LazyStructureMetadata`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import ParentNodeProvider

from lambdalint.python.names import ModuleNames

#: ``get_metadata(provider, node, default)`` of a libcst visitor
GetMetadata = Callable[..., object]

#: stands for the part of a string that is only known at run time (an f-string hole)
HOLE = "\x00"

# -- string literals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StringValue:
    """A string literal's text, split into known parts and holes (``None``) that are filled at
    run time: ``f"arn:aws:sns:{region}:1234:t"`` is ``("arn:aws:sns:", None, ":1234:t")``."""

    parts: Tuple[Optional[str], ...]
    is_bytes: bool = False

    @property
    def text(self) -> Optional[str]:
        """The whole text when it is fully known, else ``None``."""
        if any(part is None for part in self.parts):
            return None
        return "".join(self.parts)  # type: ignore[arg-type]

    @property
    def has_holes(self) -> bool:
        return any(part is None for part in self.parts)

    def with_holes(self) -> str:
        """The text with each hole as :data:`HOLE` (for pattern matching that must not treat a
        hole as known text)."""
        return "".join(HOLE if part is None else part for part in self.parts)


def string_value(node: cst.CSTNode) -> Optional[StringValue]:
    """The value of a string literal node, or ``None`` when ``node`` is not one."""
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst parsed it, so it evaluates
            return None
        if isinstance(value, bytes):
            return StringValue((value.decode("latin-1"),), is_bytes=True)
        return StringValue((value,))
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if left is None or right is None:
            return None
        return StringValue(left.parts + right.parts, left.is_bytes or right.is_bytes)
    if isinstance(node, cst.FormattedString):
        parts: List[Optional[str]] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                # the raw source text: good enough for the patterns we look for (no escapes
                # appear in ARNs, keys or URLs); ``{{`` stands for a literal brace
                parts.append(part.value.replace("{{", "{").replace("}}", "}"))
            else:
                parts.append(None)
        return StringValue(tuple(parts))
    return None


#: ``{}``, ``{0}``, ``{name}``, ``{name!r:>10}``, ``%s``, ``%(name)s`` — not ``{"json": 1}``
_TEMPLATE_FIELD = re.compile(r"\{[\w.\[\]]*(?:![rsa])?(?::[^{}]*)?\}|%\([^)]*\)[sdr]|%[sdr]")


def template_text(value: StringValue) -> str:
    """:meth:`StringValue.with_holes`, with ``str.format``/``%`` fields also made holes: in
    ``"arn:aws:s3:::{}/*".format(bucket)`` the bucket is not known text."""
    return _TEMPLATE_FIELD.sub(HOLE, value.with_holes())


def is_outermost_string(node: cst.CSTNode, get_metadata: GetMetadata) -> bool:
    """False for the halves of an implicit concatenation (the whole is looked at instead)."""
    parent = get_metadata(ParentNodeProvider, node, None)
    return not isinstance(parent, cst.ConcatenatedString)


def is_docstring_or_bare(node: cst.CSTNode, get_metadata: GetMetadata) -> bool:
    """True for a string that is a statement by itself (a docstring or a stray comment-like
    string): it configures nothing."""
    parent = get_metadata(ParentNodeProvider, node, None)
    return isinstance(parent, cst.Expr)


# -- names bound once --------------------------------------------------------------------------


def single_assignment(name: cst.Name, get_metadata: GetMetadata) -> Optional[cst.BaseExpression]:
    """The value expression of the only binding ``name`` (a use) can refer to, when that
    binding is a plain ``name = value``, ``name: T = value``, ``(name := value)`` or
    ``with value as name`` (context managers that return themselves); ``None``
    when the name is rebound, imported, a parameter, a loop variable, or unknown."""
    names: ModuleNames = get_metadata(ModuleNames, name)  # type: ignore[assignment]
    target = names.single_binding(name)
    if target is None:
        return None
    return _bound_value(target, get_metadata)


def _bound_value(target: cst.Name, get_metadata: GetMetadata) -> Optional[cst.BaseExpression]:
    parent = get_metadata(ParentNodeProvider, target, None)
    if isinstance(parent, cst.NamedExpr) and parent.target is target:
        return parent.value
    if isinstance(parent, cst.AnnAssign) and parent.target is target:
        return parent.value
    if isinstance(parent, cst.AsName) and parent.name is target:
        holder = get_metadata(ParentNodeProvider, parent, None)
        if isinstance(holder, cst.WithItem):
            return holder.item  # ``with factory() as name``: the factory's result
        return None
    if isinstance(parent, cst.AssignTarget) and parent.target is target:
        statement = get_metadata(ParentNodeProvider, parent, None)
        if isinstance(statement, cst.Assign):
            return statement.value
    return None


@dataclass(frozen=True)
class Resolved:
    """An expression followed through names bound once: ``value`` is what it evaluates to as
    far as we can tell, ``via`` the names it went through (outermost first)."""

    value: cst.BaseExpression
    via: Tuple[cst.Name, ...] = ()

    @property
    def constant(self) -> Optional[cst.Name]:
        """The last name of the chain: the constant whose definition holds the literal."""
        return self.via[-1] if self.via else None


def resolve(expression: cst.BaseExpression, get_metadata: GetMetadata, depth: int = 4) -> Resolved:
    """Follow ``expression`` through names bound exactly once (``BUCKET = "x"``;
    ``Bucket=BUCKET``) and ``self``/``cls`` attributes bound once in their class, at most
    ``depth`` hops."""
    via: List[cst.Name] = []
    current = expression
    while len(via) < depth:
        if isinstance(current, cst.Name):
            value = single_assignment(current, get_metadata)
            name = current
        elif isinstance(current, cst.Attribute):
            value = self_attribute_value(current, get_metadata)  # self.TABLE, cls.TABLE
            name = current.attr
        else:
            break
        if value is None:
            break
        via.append(name)
        current = value
    return Resolved(current, tuple(via))


def literal_leaves(expression: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The alternatives an expression may evaluate to: both arms of ``a if c else b``, both
    sides of ``a or b``; the expression itself otherwise."""
    if isinstance(expression, cst.IfExp):
        yield from literal_leaves(expression.body)
        yield from literal_leaves(expression.orelse)
    elif isinstance(expression, cst.BooleanOperation):
        yield from literal_leaves(expression.left)
        yield from literal_leaves(expression.right)
    else:
        yield expression


# -- configuration reads -----------------------------------------------------------------------

#: calls that read process configuration: their result is not a hardcoded value, and a literal
#: default passed to them is a fallback, not configuration
ENVIRONMENT_READS = frozenset(
    {
        "os.environ.get",
        "os.environ.setdefault",
        "os.getenv",
        "os.environ.pop",
        "os.getenvb",
    }
)

ENVIRONMENT_MAPPINGS = frozenset({"os.environ", "os.environb"})

#: method names whose results come from a parameter or secret store (boto3 SSM / Secrets
#: Manager clients, AWS Lambda Powertools ``parameters``), whatever the receiver is called
STORE_READ_METHODS = frozenset(
    {
        "get_parameter",
        "get_parameters",
        "get_parameters_by_path",
        "get_secret_value",
        "batch_get_secret_value",
        "get_secret",
        "get_secrets",
        "get_app_config",
    }
)


def is_environment_read(
    expression: cst.BaseExpression, names_of: Callable[[cst.CSTNode], Set[str]]
) -> bool:
    """``os.environ["X"]``, ``os.environ.get("X", ...)``, ``os.getenv(...)`` (however ``os``
    or ``environ`` was imported)."""
    if isinstance(expression, cst.Subscript):
        return bool(names_of(expression.value) & ENVIRONMENT_MAPPINGS)
    if isinstance(expression, cst.Call):
        return bool(names_of(expression.func) & ENVIRONMENT_READS)
    return False


def is_external_read(
    expression: cst.BaseExpression, names_of: Callable[[cst.CSTNode], Set[str]]
) -> bool:
    """True when ``expression`` is read at run time from the environment, SSM Parameter Store
    or Secrets Manager, possibly wrapped: ``json.loads(sm.get_secret_value(...)["SecretString"])
    ["password"]``, ``int(os.environ["N"])``, ``os.environ.get("X") or "default"``."""
    current = expression
    for _ in range(16):
        if is_environment_read(current, names_of):
            return True
        if isinstance(current, cst.Call):
            func = current.func
            if isinstance(func, cst.Attribute) and func.attr.value in STORE_READ_METHODS:
                return True
            if isinstance(func, cst.Name) and func.value in STORE_READ_METHODS:
                return True
            # a wrapper such as json.loads(...), str(...), int(...): look at its first argument
            if current.args and current.args[0].keyword is None and not current.args[0].star:
                current = current.args[0].value
                continue
            if isinstance(func, cst.Attribute):
                current = func.value  # a method on a read value: os.environ["X"].split(",")
                continue
            return False
        if isinstance(current, (cst.Subscript, cst.Attribute)):
            current = current.value
            continue
        if isinstance(current, (cst.BooleanOperation, cst.IfExp)):
            return any(
                is_external_read(leaf, names_of)
                for leaf in literal_leaves(current)
                if leaf is not current
            )
        return False
    return False


def mentions_config(
    expression: cst.BaseExpression,
    names_of: Callable[[cst.CSTNode], Set[str]],
    get_metadata: GetMetadata,
    depth: int = 3,
) -> bool:
    """True when ``expression`` reads configuration somewhere inside, also through names bound
    once (``IS_LOCAL = os.environ.get("AWS_SAM_LOCAL") == "true"``; ``if IS_LOCAL``)."""
    found = False

    class _Finder(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> Optional[bool]:
            nonlocal found
            found = found or is_environment_read(node, names_of)
            return not found

        def visit_Call(self, node: cst.Call) -> Optional[bool]:
            nonlocal found
            found = found or is_external_read(node, names_of)
            return not found

        def visit_Name(self, node: cst.Name) -> Optional[bool]:
            nonlocal found
            if depth > 0 and not found:
                value = single_assignment(node, get_metadata)
                if value is not None:
                    found = mentions_config(value, names_of, get_metadata, depth - 1)
            return False

    expression.visit(_Finder())
    return found


def is_config_default(node: cst.CSTNode, get_metadata: GetMetadata, names_of) -> bool:
    """True when ``node`` is the fallback of a configuration read: the default argument of
    ``os.environ.get``/``os.getenv``, or the right side of ``os.environ.get("X") or node``."""
    child: cst.CSTNode = node
    parent = get_metadata(ParentNodeProvider, child, None)
    if isinstance(parent, cst.Arg):
        call = get_metadata(ParentNodeProvider, parent, None)
        return (
            isinstance(call, cst.Call)
            and is_environment_read(call, names_of)
            and call.args[0] is not parent
        )
    if isinstance(parent, cst.BooleanOperation) and parent.right is child:
        return is_external_read(parent.left, names_of)
    if isinstance(parent, cst.IfExp) and child in (parent.body, parent.orelse):
        other = parent.orelse if child is parent.body else parent.body
        return is_external_read(other, names_of)
    return False


# -- where a node sits -------------------------------------------------------------------------


def ancestors(node: cst.CSTNode, get_metadata: GetMetadata) -> Iterator[cst.CSTNode]:
    current = get_metadata(ParentNodeProvider, node, None)
    while current is not None:
        yield current
        current = get_metadata(ParentNodeProvider, current, None)


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    if not isinstance(test.comparisons[0].operator, cst.Equal):
        return False
    names = {n.value for n in (left, right) if isinstance(n, cst.Name)}
    strings = {
        s.evaluated_value for s in (left, right) if isinstance(s, cst.SimpleString)
    }
    return names == {"__name__"} and strings == {"__main__"}


def in_main_guard(node: cst.CSTNode, get_metadata: GetMetadata) -> bool:
    """True inside ``if __name__ == "__main__":``: local tryout code, never run in Lambda."""
    return any(
        isinstance(ancestor, cst.If) and is_main_guard(ancestor.test)
        for ancestor in ancestors(node, get_metadata)
    )


# -- placeholders ------------------------------------------------------------------------------

_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme", "change-me", "change_me", "changeit", "replaceme", "replace-me",
        "replace_me", "todo", "tbd", "fixme", "dummy", "fake", "mock", "test", "testing",
        "example", "sample", "placeholder", "none", "null", "nil", "undefined", "secret",
        "password", "passwd", "token", "apikey", "api_key", "api-key", "redacted", "hidden",
        "masked", "foo", "bar", "foobar", "default", "required", "optional", "string",
        "your_password", "yourpassword", "my_password", "mypassword", "notasecret",
        "not-a-secret", "not_a_secret", "unused", "empty", "xxx", "n/a", "na", "bearer",
        "basic", "pass", "my_pass", "mypass", "username", "user",
    }
)
_PLACEHOLDER_PATTERNS = (
    re.compile(r"^\s*$"),
    re.compile(r"^<[^<>]*>$"),  # <token>
    re.compile(r"^\$\{[^}]*\}$|^\$[A-Z_][A-Z0-9_]*$"),  # ${TOKEN}, $TOKEN
    re.compile(r"^\{\{[^}]*\}\}$|^\{[A-Za-z_][\w.]*\}$"),  # {{ token }}, {token}
    re.compile(r"^%\([^)]*\)s$|^%s$"),
    re.compile(r"^([x*#.?_-])\1{2,}$", re.IGNORECASE),  # xxx, ****, ...
    re.compile(r"^(x+|\*+)[-_]?(x+|\*+)?$", re.IGNORECASE),
    re.compile(r"\byour[-_ ]?\w*[-_ ]?(here|key|token|password|secret|name|id)\b", re.IGNORECASE),
    re.compile(r"[-_ ](here|goes[-_ ]here)$", re.IGNORECASE),
    re.compile(r"^(dummy|fake|test|mock|sample|example|placeholder|changeme)[-_]", re.IGNORECASE),
    re.compile(r"[-_](dummy|fake|test|mock|sample|example|placeholder|changeme)$", re.IGNORECASE),
    re.compile(r"EXAMPLE"),  # AWS's documented example keys: AKIAIOSFODNN7EXAMPLE
    re.compile(r"^[^A-Za-z0-9]*$"),  # only punctuation: ":****", "---"
    re.compile(r"\*{3,}|\u2022{3,}"),  # masked: "ab****", "•••"
)


def is_placeholder(text: str) -> bool:
    """An obviously fake value: empty, ``changeme``, ``<token>``, ``${TOKEN}``, ``xxx``,
    ``your-api-key-here``, AWS's documented ``...EXAMPLE`` keys."""
    stripped = text.strip()
    if stripped.lower() in _PLACEHOLDER_WORDS:
        return True
    return any(pattern.search(stripped) for pattern in _PLACEHOLDER_PATTERNS)


# -- test files --------------------------------------------------------------------------------

#: file-name patterns (no ``/``) match the base name; ``name/`` matches any folder of the path
DEFAULT_TEST_PATTERNS: Tuple[str, ...] = (
    "test_*.py",
    "*_test.py",
    "tests.py",
    "conftest.py",
    "tests/",
    "test/",
)


def is_test_file(relative_path: str, patterns: Sequence[str] = DEFAULT_TEST_PATTERNS) -> bool:
    """True when ``relative_path`` is a test module by ``patterns`` (see
    :data:`DEFAULT_TEST_PATTERNS`); other patterns with a ``/`` are globs on the whole path."""
    path = relative_path.replace("\\", "/").lstrip("./")
    folders, _, base = path.rpartition("/")
    folder_parts = folders.split("/") if folders else []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            continue
        if pattern.endswith("/") and "/" not in pattern[:-1]:
            if any(fnmatch.fnmatch(part, pattern[:-1]) for part in folder_parts):
                return True
        elif "/" in pattern:
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, "*/" + pattern):
                return True
        elif fnmatch.fnmatch(base, pattern):
            return True
    return False


# -- calls -------------------------------------------------------------------------------------


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    """``f(**options)``: any keyword may be in there."""
    return any(arg.star == "**" for arg in call.args)


def has_star_args(call: cst.Call) -> bool:
    return any(arg.star == "*" for arg in call.args)


def positional_count(call: cst.Call) -> int:
    return sum(1 for arg in call.args if arg.keyword is None and not arg.star)


def is_none(expression: cst.BaseExpression) -> bool:
    return isinstance(expression, cst.Name) and expression.value == "None"


def identifier_of(target: cst.BaseExpression) -> Optional[str]:
    """The name a value is stored under: ``x``, ``self.x``, ``cfg["x"]``."""
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index):
            value = string_value(index.value)
            if value is not None:
                return value.text
    return None


def imported_names(node: cst.CSTNode, get_metadata: GetMetadata) -> Set[str]:
    """The qualified names of ``node`` that come from an import (not from local bindings,
    parameters or ``self`` attributes, which are named ``f.<locals>.x``)."""
    names: ModuleNames = get_metadata(ModuleNames, node)  # type: ignore[assignment]
    return names.imported_names(node)


def call_names(
    call: cst.Call,
    names_of: Callable[[cst.CSTNode], Set[str]],
    get_metadata: GetMetadata,
    depth: int = 4,
) -> Set[str]:
    """What a call may be: the qualified names of the callee, plus ``factory.method``
    when the callee is a method of an object whose making we can see, through any chain of
    names bound once, ``with ... as`` targets, inline calls and ``self`` attributes bound once
    in the class: ``s = requests.Session(); s.get()`` and ``self.http.get()`` with
    ``self.http = requests.Session()`` are ``requests.Session.get``;
    ``boto3.Session().client("s3").put_object`` is ``boto3.Session.client.put_object``.

    Unlike a name-only lookup, a parameter or loop variable that shares a module-level
    object's name resolves to nothing."""
    func = call.func
    names = set(names_of(func))
    if isinstance(func, cst.Attribute) and depth > 0:
        for base in object_factories(func.value, names_of, get_metadata, depth - 1):
            names.add(f"{base}.{func.attr.value}")
    return names


def object_factories(
    expression: cst.BaseExpression,
    names_of: Callable[[cst.CSTNode], Set[str]],
    get_metadata: GetMetadata,
    depth: int = 4,
) -> Set[str]:
    """The qualified names of the calls that made the object ``expression`` refers to."""
    made: Optional[cst.BaseExpression] = None
    if isinstance(expression, cst.Call):
        made = expression
    elif isinstance(expression, cst.Name):
        made = single_assignment(expression, get_metadata)
    elif isinstance(expression, cst.Attribute):
        made = self_attribute_value(expression, get_metadata)
    if isinstance(made, cst.Call):
        return call_names(made, names_of, get_metadata, depth)
    return set()


_CLASS_ATTRIBUTES: Dict[int, Tuple[cst.ClassDef, Dict[str, List[cst.BaseExpression]]]] = {}


def self_attribute_value(
    node: cst.Attribute, get_metadata: GetMetadata
) -> Optional[cst.BaseExpression]:
    """For ``self.x``/``cls.x`` inside a class, the value of the only assignment to that
    attribute in the class (``self.x = ...`` in any method, or ``x = ...`` in the class body)."""
    if not (isinstance(node.value, cst.Name) and node.value.value in ("self", "cls")):
        return None
    klass = next((a for a in ancestors(node, get_metadata) if isinstance(a, cst.ClassDef)), None)
    if klass is None:
        return None
    cached = _CLASS_ATTRIBUTES.get(id(klass))
    if cached is None or cached[0] is not klass:
        if len(_CLASS_ATTRIBUTES) > 256:
            _CLASS_ATTRIBUTES.clear()
        cached = (klass, _class_attribute_assignments(klass))
        _CLASS_ATTRIBUTES[id(klass)] = cached
    found = cached[1].get(node.attr.value, [])
    return found[0] if len(found) == 1 else None


def _class_attribute_assignments(klass: cst.ClassDef) -> Dict[str, List[cst.BaseExpression]]:
    assignments: Dict[str, List[cst.BaseExpression]] = {}

    def record(target: cst.BaseExpression, value: Optional[cst.BaseExpression], in_body: bool) -> None:
        if in_body and isinstance(target, cst.Name):
            key = target.value
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value in ("self", "cls")
        ):
            key = target.attr.value
        else:
            return
        # an assignment without a value we can see still counts: it makes the attribute ambiguous
        assignments.setdefault(key, []).append(value if value is not None else cst.Name("None"))

    class _Collector(cst.CSTVisitor):
        def __init__(self) -> None:
            self.depth = 0  # 0: the class body; >0: inside its methods

        def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
            return node is klass  # nested classes have their own attributes

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.depth += 1

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self.depth -= 1

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                record(target.target, node.value, self.depth == 0)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            record(node.target, node.value, self.depth == 0)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            record(node.target, None, self.depth == 0)

    klass.visit(_Collector())
    return assignments
