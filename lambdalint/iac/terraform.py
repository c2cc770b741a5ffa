"""Terraform modules (the ``.tf`` files of one folder) as one :class:`Template`.

Parsing uses python-hcl2's grammar, but reads its *raw* lark parse tree
(:func:`hcl2.parses_to_tree`) rather than the dict that :func:`hcl2.loads` builds: the parser
propagates positions, so every expression node and token carries its exact line and column
(``meta.line``/``meta.column``, exclusive end), including each entry of a list and each key of
an object. The dict form only offers ``__start_line__``/``__end_line__`` per block or attribute,
which cannot tell which line of a multi-line ``actions = [...]`` holds ``"s3:*"``. Cost
(python-hcl2 8.1, lark 1.3): importing and loading the cached parser ~0.3 s once, then ~0.35 ms
per line parsed (a 2,300-line module: 0.8 s parse, 0.1 s to build the model).

Heredoc policies (``<<EOF`` JSON) are re-parsed with the same grammar as an HCL object
expression (JSON objects are valid HCL object syntax, and a heredoc is a Terraform template, so
``${aws_s3_bucket.b.arn}`` inside it is an interpolation either way); positions of that second
parse are shifted to the heredoc's place in the file.

Values: a variable with a default resolves to its default, one without to :class:`Unknown`;
``locals`` resolve when their expression does; ``aws_s3_bucket.b.arn`` becomes
``Reference("aws_s3_bucket.b", "arn")`` and ``data.x.y.z`` ``Reference("data.x.y", "z")``; a
string mixing text and references is :class:`Interpolated` (text ``"${aws_s3_bucket.b.arn}/*"``);
``c ? a : b`` whose condition is not known is a :class:`Conditional` named by its source text.
A scalar read through a variable or local keeps the span where it is *used* (the ``timeout =``
line); entries of a list or map keep the span (and file) where they are written.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from lark import Token, Tree

from lambdalint.iac import iam_json
from lambdalint.iac.model import (
    Bucket,
    Conditional,
    EventSource,
    Function,
    Interpolated,
    Located,
    Permissions,
    Policy,
    Queue,
    Reference,
    Role,
    Statement,
    Template,
    Unknown,
)
from lambdalint.model import Span

ParseError = Tuple[str, Span, str]

#: roots of a traversal that are not resources
_SPECIAL_ROOTS = frozenset({"var", "local", "path", "data", "module", "each", "count", "self", "terraform"})
_FUNCTION_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$")
_HEREDOC_HEAD = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n")
#: the event source mapping's source, by the referenced resource type
_MAPPING_KIND_BY_TYPE = {
    "aws_sqs_queue": "sqs",
    "aws_kinesis_stream": "kinesis",
    "aws_dynamodb_table": "dynamodb",
    "aws_msk_cluster": "msk",
    "aws_msk_serverless_cluster": "msk",
    "aws_mq_broker": "mq",
}
#: ... or by the service of a literal ARN
_MAPPING_KIND_BY_SERVICE = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "msk", "mq": "mq"}
#: aws_lambda_permission principals that mean an asynchronous invoker
_ASYNC_PRINCIPALS = {
    "s3.amazonaws.com": "s3",
    "sns.amazonaws.com": "sns",
    "events.amazonaws.com": "eventbridge",
    "scheduler.amazonaws.com": "schedule",
    "logs.amazonaws.com": "cloudwatch-logs",
    "iot.amazonaws.com": "iot",
}
#: event kinds that one permission could stand for (an EventBridge rule may be a schedule)
_KIND_FAMILY = {"schedule": "eventbridge"}
#: other resources holding an identity policy document, and its attribute
_OTHER_IDENTITY_POLICIES = (
    ("aws_iam_user_policy", "policy"),
    ("aws_iam_group_policy", "policy"),
    ("aws_ssoadmin_permission_set_inline_policy", "inline_policy"),
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f"}


@dataclass
class TerraformTemplate(Template):
    """A Terraform module. ``resource_lines`` is keyed by address (``aws_lambda_function.x``)
    and its lines are those of the file ``resource_paths[address]`` names."""

    resource_paths: Dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- parse tree access


@dataclass
class _Source:
    """Where a parse tree comes from: the file, and the text its character offsets index."""

    path: str
    text: str


@dataclass
class _Block:
    kind: str
    labels: List[str]
    source: _Source
    span: Span
    header: Span
    attrs: Dict[str, Tree] = field(default_factory=dict)  # name -> the attribute node
    blocks: List["_Block"] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path

    def expr(self, name: str) -> Optional[Any]:
        node = self.attrs.get(name)
        return node.children[-1] if node is not None else None

    def children(self, kind: str) -> List["_Block"]:
        return [block for block in self.blocks if block.kind == kind]

    def child(self, kind: str) -> Optional["_Block"]:
        found = self.children(kind)
        return found[0] if found else None

    def dynamic(self, kind: str) -> Optional["_Block"]:
        """A ``dynamic "kind"`` block (see :meth:`_Module.generated`)."""
        return next((b for b in self.blocks if b.kind == "dynamic" and b.labels == [kind]), None)


def _span(node: Any) -> Span:
    if isinstance(node, Token):
        return Span(node.line, node.column, node.end_line, node.end_column)
    meta = node.meta
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _trees(node: Tree) -> List[Tree]:
    """Child trees, without comments and newlines."""
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _unwrap(node: Any) -> Any:
    """The expression inside ``expr_term`` wrappers (parentheses included)."""
    while isinstance(node, Tree) and node.data == "expr_term":
        inner = _trees(node)
        if len(inner) != 1:
            break
        node = inner[0]
    return node


def _heredoc_token(node: Any) -> Optional[Token]:
    node = _unwrap(node)
    if isinstance(node, Tree) and node.data in ("heredoc_template", "heredoc_template_trim"):
        return next((c for c in node.children if isinstance(c, Token)), None)
    return None


def _name(node: Any) -> str:
    """The text of an identifier / keyword / literal_value node (a block or attribute name)."""
    if isinstance(node, Token):
        return str(node)
    for child in node.children:
        if isinstance(child, Token):
            return str(child)
        return _name(child)
    return ""


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: List[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            marker = text[i + 1]
            if marker in _ESCAPES:
                out.append(_ESCAPES[marker])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(marker)
            digits = text[i + 2 : i + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF and not 0xD800 <= code < 0xE000:
                    out.append(chr(code))
                    i += 2 + width
                    continue
        out.append(char)
        i += 1
    return "".join(out)


def _block(node: Tree, source: _Source) -> _Block:
    kind = ""
    labels: List[str] = []
    body: Optional[Tree] = None
    lbrace: Optional[Token] = None
    for child in node.children:
        if isinstance(child, Token):
            if child.type == "LBRACE":
                lbrace = child
            continue
        if child.data == "body":
            body = child
        elif child.data == "new_line_or_comment":
            continue
        elif not kind:
            kind = _name(child)
        elif child.data == "string":
            labels.append("".join(_unescape(str(t)) for p in child.children if isinstance(p, Tree) for t in p.children if isinstance(t, Token)))
        else:
            labels.append(_name(child))
    span = _span(node)
    header = Span(span.line, span.column, lbrace.end_line, lbrace.end_column) if lbrace is not None else span
    block = _Block(kind, labels, source, span, header)
    if body is not None:
        for child in _trees(body):
            if child.data == "attribute":
                block.attrs.setdefault(_name(child.children[0]), child)
            elif child.data == "block":
                block.blocks.append(_block(child, source))
    return block


def _shift_positions(tree: Tree, lines: int, first_line_columns: int) -> None:
    """Move every position of ``tree`` down ``lines`` lines (and line 1 left ``first_line_columns``
    columns): the tree was parsed from text that starts at that place of the file."""

    def line_col(line: int, column: int) -> Tuple[int, int]:
        return line + lines, column - first_line_columns if line == 1 else column

    for sub in tree.iter_subtrees():
        meta = sub.meta
        if getattr(meta, "empty", True):
            continue
        meta.line, meta.column = line_col(meta.line, meta.column)
        meta.end_line, meta.end_column = line_col(meta.end_line, meta.end_column)
        for child in sub.children:
            if isinstance(child, Token) and child.line is not None:
                child.line, child.column = line_col(child.line, child.column)
                child.end_line, child.end_column = line_col(child.end_line, child.end_column)


def _heredoc_lines(token: Token) -> Optional[List[str]]:
    """The lines of a heredoc's body as written (indentation kept), or None if malformed."""
    text = str(token).replace("\r\n", "\n")
    head = _HEREDOC_HEAD.match(text)
    if head is None:
        return None
    lines = text[head.end() :].split("\n")
    while lines and not lines[-1].strip():  # the token ends with the newline after the marker
        lines.pop()
    if not lines or lines[-1].strip() != head.group(2):
        return None
    return lines[:-1]


def _heredoc_text(token: Token) -> Optional[str]:
    """The string a heredoc stands for (``<<-`` strips the common indentation)."""
    lines = _heredoc_lines(token)
    if lines is None:
        return None
    if token.type == "HEREDOC_TEMPLATE_TRIM":
        indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
        cut = min(indents) if indents else 0
        lines = [line[cut:] for line in lines]
    return "".join(line + "\n" for line in lines)


def _heredoc_span(token: Token) -> Span:
    text = str(token).rstrip("\r\n")
    last = text.rsplit("\n", 1)[-1]
    end_line = token.line + text.count("\n")
    return Span(token.line, token.column, end_line, len(last) + 1 if "\n" in text else token.column + len(text))


# --------------------------------------------------------------------------- the module


class _Module:
    """The blocks of one module and the evaluation of their expressions."""

    def __init__(self) -> None:
        self.blocks: Dict[str, _Block] = {}  # address -> block (resources and data sources)
        self.order: List[str] = []
        self.variables: Dict[str, _Block] = {}
        #: values terraform.tfvars / *.auto.tfvars assign (Terraform loads them automatically)
        self.assigned: Dict[str, Tuple[Tree, _Source]] = {}
        self.locals: Dict[str, Tuple[Tree, _Source]] = {}
        self._resolving: Set[str] = set()
        self._absent: Dict[str, bool] = {}

    # ---- collection

    def add_file(self, tree: Tree, source: _Source) -> None:
        for node in _trees(tree.children[0]) if tree.children else ():
            if node.data != "block":
                continue
            block = _block(node, source)
            if block.kind == "resource" and len(block.labels) == 2:
                address = "%s.%s" % tuple(block.labels)
            elif block.kind == "data" and len(block.labels) == 2:
                address = "data.%s.%s" % tuple(block.labels)
            elif block.kind == "variable" and len(block.labels) == 1:
                self.variables.setdefault(block.labels[0], block)
                continue
            elif block.kind == "locals":
                for name, attribute in block.attrs.items():
                    self.locals.setdefault(name, (attribute.children[-1], source))
                continue
            else:
                continue
            if address not in self.blocks:  # a duplicate is a Terraform error: keep the first
                self.blocks[address] = block
                self.order.append(address)

    def add_tfvars(self, tree: Tree, source: _Source) -> None:
        for node in _trees(tree.children[0]) if tree.children else ():
            if node.data == "attribute":
                self.assigned[_name(node.children[0])] = (node.children[-1], source)

    def variable_value(self, name: str) -> Tuple[Optional[Any], Optional[_Source], str]:
        """The expression a variable takes (an auto-loaded tfvars assignment, else its
        default) and its source; or None and why not."""
        variable = self.variables.get(name)
        if variable is None:
            return None, None, "variable %r is not declared in this module" % name
        if name in self.assigned:
            return self.assigned[name][0], self.assigned[name][1], ""
        default = variable.expr("default")
        if default is None:
            return None, None, "variable %r has no default" % name
        return default, variable.source, ""

    def of_type(self, kind: str) -> Iterator[Tuple[str, _Block]]:
        """The resources (or ``data.TYPE`` sources) of a type that may exist."""
        prefix = kind + "."
        for address in self.order:
            if address.startswith(prefix) and address.count(".") == kind.count(".") + 1:
                block = self.get(address)
                if block is not None:
                    yield address, block

    def get(self, address: str) -> Optional[_Block]:
        """The block at ``address``, unless its ``count`` or ``for_each`` says it is not created
        (``count = var.enabled ? 1 : 0`` with the variable's default false, ``for_each = {}``)."""
        block = self.blocks.get(address)
        if block is None:
            return None
        if address not in self._absent:
            count = self.attr(block, "count")
            each = self.attr(block, "for_each")
            self._absent[address] = (count is not None and count.value == 0 and not isinstance(count.value, bool)) or (
                each is not None and isinstance(each.value, (list, dict)) and not each.value
            )
        return None if self._absent[address] else block

    def generated(self, block: Optional[_Block], kind: str) -> Optional[_Block]:
        """``block``'s ``dynamic "kind"`` block, unless its ``for_each`` is known to be empty:
        whether it generates anything is then only known at plan time."""
        found = block.dynamic(kind) if block is not None else None
        if found is None:
            return None
        each = self.attr(found, "for_each")
        if each is not None and isinstance(each.value, (list, dict)) and not each.value:
            return None
        return found

    # ---- evaluation

    def attr(self, block: _Block, name: str) -> Optional[Located]:
        """The argument ``name`` of ``block``; None when it is absent or null (Terraform treats
        ``x = null`` as not set: the provider's default applies). A null *branch* of a
        conditional stays, as ``Located(None)``, like CloudFormation's ``AWS::NoValue``."""
        node = block.expr(name)
        if node is None:
            return None
        value = self.value(node, block.source)
        return None if value.value is None else value

    def value(self, node: Any, source: _Source) -> Located:
        span = _span(node) if not isinstance(node, Token) or node.line is not None else Span(1, 1, 1, 1)
        try:
            value = self._evaluate(node, source)
        except RecursionError:
            value = Unknown("expression nested too deeply")
        heredoc = _heredoc_token(node)
        if heredoc is not None:  # the token runs on to the newline after its closing marker
            span = _heredoc_span(heredoc)
        if isinstance(value, Located):  # resolved through a variable or local: the use site
            return Located(value.value, span, source.path)
        return Located(value, span, source.path)

    def text(self, node: Any, source: _Source) -> str:
        if isinstance(node, Token):
            return str(node)
        meta = node.meta
        return source.text[meta.start_pos : meta.end_pos]

    def _evaluate(self, node: Any, source: _Source) -> Any:
        if isinstance(node, Token):
            return Unknown("unexpected token %r" % str(node))
        kind = node.data
        if kind == "expr_term":
            first = node.children[0] if node.children else None
            if isinstance(first, Token) and first.type == "LPAR":
                return self._evaluate(_trees(node)[0], source)
            inner = _trees(node)
            if len(inner) == 1:
                return self._evaluate(inner[0], source)
            return Unknown("unsupported expression")
        if kind == "int_lit":
            return int(str(node.children[0]))
        if kind == "float_lit":
            return float(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False, "null": None}[str(node.children[0])]
        if kind == "string":
            return self._string(node, source)
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc_value(node.children[0])
        if kind == "tuple":
            return [self.value(child, source) for child in _trees(node)]
        if kind == "object":
            return self._object(node, source)
        if kind == "function_call":
            return self._call(node, source)
        if kind in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            return self._traversal(node, source)
        if kind == "identifier":
            return Unknown("`%s` is only known when Terraform evaluates it" % _name(node))
        if kind == "conditional":
            return self._conditional(node, source)
        if kind == "binary_op":
            return self._binary(node, source)
        if kind == "unary_op":
            return self._unary(node, source)
        return Unknown("`%s` is only known when Terraform evaluates it" % self.text(node, source))

    def _heredoc_value(self, token: Token) -> Any:
        found = _heredoc_text(token)
        if found is None:
            return Unknown("malformed heredoc")
        body = found.replace("$${", "\0").replace("%%{", "\1")
        if "${" in body or "%{" in body:
            return Unknown("heredoc template with interpolations")
        return body.replace("\0", "${").replace("\1", "%{")

    def _string(self, node: Tree, source: _Source) -> Any:
        parts = [c for c in node.children if isinstance(c, Tree)]
        if len(parts) == 1 and isinstance(parts[0].children[0], Tree) and parts[0].children[0].data == "interpolation":
            # "${x}" is x itself
            return self._interpolation(parts[0].children[0], source)
        out: List[str] = []
        references: List[Reference] = []
        known = True
        for part in parts:
            child = part.children[0]
            if isinstance(child, Token):
                if child.type == "STRING_CHARS":
                    out.append(_unescape(str(child)))
                else:  # $${ and %%{ are the literal ${ and %{
                    out.append(str(child)[1:])
                continue
            if child.data != "interpolation":
                return Unknown("string template with directives")
            value = self._interpolation(child, source)
            value = value.value if isinstance(value, Located) else value
            if isinstance(value, bool):
                out.append("true" if value else "false")
            elif isinstance(value, (str, int, float)):
                out.append(str(value))
            elif isinstance(value, Reference):
                out.append("${%s}" % _reference_text(value))
                references.append(value)
                known = False
            elif isinstance(value, Interpolated):
                out.append(value.text)
                references.extend(value.references)
                known = False
            else:
                out.append("${%s}" % self.text(_trees(child)[0], source).strip())
                known = False
        text = "".join(out)
        if known:
            return text
        return Interpolated("string built from values Terraform computes: %s" % text, text, tuple(references))

    def _interpolation(self, node: Tree, source: _Source) -> Any:
        inner = _trees(node)
        if not inner:
            return Unknown("empty interpolation")
        return self._evaluate(inner[0], source)

    def _object(self, node: Tree, source: _Source) -> Any:
        result: Dict[str, Located] = {}
        for element in _trees(node):
            if element.data != "object_elem":
                continue
            key_node, value_node = _trees(element)[0], _trees(element)[-1]
            key = self._key(key_node, source)
            if key is None:
                continue  # a computed key: leave it out rather than guess
            result[key] = self.value(value_node, source)
        return result

    def _key(self, node: Tree, source: _Source) -> Optional[str]:
        inner = _trees(node)
        target = inner[0] if inner else node
        if target.data == "keyword":
            return _name(target)
        if target.data == "expr_term":
            children = _trees(target)
            if len(children) == 1 and children[0].data == "identifier" and not isinstance(target.children[0], Token):
                return _name(children[0])  # a bare name is the key itself, not a reference
        value = self._evaluate(target, source)
        value = value.value if isinstance(value, Located) else value
        return value if isinstance(value, str) else None

    # ---- function calls and operators

    def _call(self, node: Tree, source: _Source) -> Any:
        name = _name(_trees(node)[0])
        arguments = [t for t in _trees(node) if t.data == "arguments"]
        args = [self.value(a, source) for a in _trees(arguments[0])] if arguments else []
        if name in ("tostring", "tolist", "toset", "tomap") and len(args) == 1:
            return args[0].value
        if name == "tonumber" and len(args) == 1:
            value = args[0].value
            if isinstance(value, str):
                try:
                    return int(value)
                except ValueError:
                    try:
                        return float(value)
                    except ValueError:
                        return Unknown("tonumber(%r)" % value)
            return value
        values = [a.value for a in args]
        if name == "lookup" and len(args) in (2, 3) and isinstance(values[0], dict) and isinstance(values[1], str):
            if values[1] in values[0]:
                return values[0][values[1]].value
            if len(args) == 3:
                return values[2]
        if name == "coalesce" and args:
            for value in values:
                if isinstance(value, (Unknown, Conditional, Reference)):
                    break  # the first non-null value is only known at plan time
                if value is not None and value != "":
                    return value
        if name in ("min", "max") and args and all(_is_number(v) for v in values):
            return min(values) if name == "min" else max(values)
        if name in ("lower", "upper") and len(args) == 1 and isinstance(values[0], str):
            return values[0].lower() if name == "lower" else values[0].upper()
        if name == "join" and len(args) == 2 and isinstance(values[0], str) and isinstance(values[1], list):
            parts = [entry.value for entry in values[1]]
            if all(isinstance(part, str) for part in parts):
                return values[0].join(parts)
        if name == "format" and args and isinstance(values[0], str):
            formatted = _format(values[0], values[1:])
            if formatted is not None:
                return formatted
        if name == "concat" and args and all(isinstance(a.value, list) for a in args):
            return [entry for a in args for entry in a.value]
        if name == "merge" and args and all(isinstance(a.value, dict) for a in args):
            merged: Dict[str, Located] = {}
            for a in args:
                merged.update(a.value)
            return merged
        return Unknown("`%s(...)` is only known when Terraform evaluates it" % name)

    def _conditional(self, node: Tree, source: _Source) -> Any:
        condition, first, second = _trees(node)
        test = self._evaluate(condition, source)
        test = test.value if isinstance(test, Located) else test
        if isinstance(test, bool):
            chosen = self._evaluate(first if test else second, source)
            return chosen.value if isinstance(chosen, Located) else chosen
        return Conditional(
            self.text(condition, source).strip(), (self.value(first, source), self.value(second, source))
        )

    def _binary(self, node: Tree, source: _Source) -> Any:
        trees = _trees(node)
        left = self._scalar(trees[0], source)
        term = trees[1]
        operator = _name(_trees(term)[0]).strip()
        right = self._scalar(_trees(term)[-1], source)
        if operator in ("==", "!="):
            if isinstance(left, Unknown) or isinstance(right, Unknown) or isinstance(left, (Reference, Conditional)) or isinstance(right, (Reference, Conditional)):
                return Unknown("comparison of values Terraform computes")
            return (left == right) if operator == "==" else (left != right)
        if operator in ("&&", "||"):
            if isinstance(left, bool) and isinstance(right, bool):
                return (left and right) if operator == "&&" else (left or right)
            return Unknown("logic on values Terraform computes")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        if not numbers:
            return Unknown("arithmetic on values Terraform computes")
        try:
            if operator == "+":
                return left + right
            if operator == "-":
                return left - right
            if operator == "*":
                return left * right
            if operator == "/":
                result = left / right
                return int(result) if result == int(result) else result
            if operator == "%":
                return left % right
            if operator in ("<", ">", "<=", ">="):
                return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
        except (ZeroDivisionError, OverflowError):
            pass
        return Unknown("operator %s" % operator)

    def _unary(self, node: Tree, source: _Source) -> Any:
        operator = next((str(c) for c in node.children if isinstance(c, Token)), "")
        value = self._scalar(_trees(node)[0], source)
        if operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        if operator == "!" and isinstance(value, bool):
            return not value
        return Unknown("operator %s on a value Terraform computes" % operator)

    def _scalar(self, node: Any, source: _Source) -> Any:
        value = self._evaluate(node, source)
        return value.value if isinstance(value, Located) else value

    # ---- references

    def _steps(self, node: Tree) -> Tuple[Any, List[Tuple[str, Any]]]:
        """``a.b[0].c`` as its root node and its steps (("attr", name) / ("index", node) /
        ("splat", None)); a node that is no traversal is its own root, with no steps."""
        steps: List[Tuple[str, Any]] = []
        current: Any = node
        while isinstance(current, Tree):
            if current.data == "expr_term":
                inner = _trees(current)
                if len(inner) != 1 or isinstance(current.children[0], Token):
                    break
                current = inner[0]
                continue
            if current.data == "get_attr_expr_term":
                base, attribute = _trees(current)
                steps.append(("attr", _name(_trees(attribute)[0])))
                current = base
            elif current.data == "index_expr_term":
                base, index = _trees(current)
                if index.data == "short_index":
                    token = next(c for c in index.children if isinstance(c, Token) and c.type == "INT_LITERAL")
                    steps.append(("literal-index", int(str(token))))
                else:
                    steps.append(("index", _trees(index)[0]))
                current = base
            elif current.data in ("attr_splat_expr_term", "full_splat_expr_term"):
                steps.append(("splat", None))
                current = _trees(current)[0]
            else:
                break
        steps.reverse()
        return current, steps

    def _traversal(self, node: Tree, source: _Source) -> Any:
        root, steps = self._steps(node)
        if not isinstance(root, Tree) or root.data != "identifier":
            base = self.value(root, source)
            return self._apply(base, steps, source)
        name = _name(root)
        text = self.text(node, source).strip()
        if name == "var" and steps and steps[0][0] == "attr":
            found, where, why = self.variable_value(steps[0][1])
            if found is None:
                return Unknown(why)
            return self._resolved("var." + steps[0][1], found, where, steps[1:], source)
        if name == "local" and steps and steps[0][0] == "attr":
            found = self.locals.get(steps[0][1])
            if found is None:
                return Unknown("local %r is not defined in this module" % steps[0][1])
            return self._resolved("local." + steps[0][1], found[0], found[1], steps[1:], source)
        if name == "path" and steps and steps[0] in (("attr", "module"), ("attr", "root")) and len(steps) == 1:
            return "."
        if name == "data":
            return self._reference("data.", 2, steps, text)
        if name in _SPECIAL_ROOTS or "_" not in name:
            return Unknown("`%s` is only known when Terraform evaluates it" % text)
        return self._reference(name + ".", 1, steps, text)

    def _reference(self, prefix: str, names: int, steps: List[Tuple[str, Any]], text: str) -> Any:
        """``TYPE.NAME[i].ATTR`` (``names`` 1, after the root TYPE) or ``data.TYPE.NAME.ATTR``
        (``names`` 2) as a Reference; anything reaching further in is computed."""
        head = steps[:names]
        if len(head) != names or any(kind != "attr" for kind, _ in head):
            return Unknown("`%s` is only known when Terraform evaluates it" % text)
        target = prefix + ".".join(name for _, name in head)
        rest = steps[names:]
        # count / for_each instances are the same resource for our purposes
        while rest and rest[0][0] in ("index", "literal-index"):
            rest = rest[1:]
        if not rest:
            return Reference(target)
        if len(rest) == 1 and rest[0][0] == "attr":
            return Reference(target, rest[0][1])
        return Unknown("`%s` is only known when Terraform evaluates it" % text)

    def _resolved(self, key: str, node: Any, where: _Source, steps: List[Tuple[str, Any]], use: _Source) -> Any:
        if key in self._resolving:
            return Unknown("%s refers to itself" % key)
        self._resolving.add(key)
        try:
            base = self.value(node, where)
        finally:
            self._resolving.discard(key)
        return self._apply(base, steps, use)

    def _apply(self, base: Located, steps: List[Tuple[str, Any]], source: _Source) -> Any:
        current = base
        for kind, argument in steps:
            value = current.value
            if kind == "attr" and isinstance(value, dict) and argument in value:
                current = value[argument]
            elif kind == "literal-index" and isinstance(value, list) and -len(value) <= argument < len(value):
                current = value[argument]
            elif kind == "index":
                key = self._scalar(argument, source)
                if isinstance(value, dict) and isinstance(key, str) and key in value:
                    current = value[key]
                elif isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and -len(value) <= key < len(value):
                    current = value[key]
                else:
                    return Unknown("an element Terraform selects at plan time")
            else:
                return Unknown("an element Terraform selects at plan time")
        return current  # a Located: value() re-spans it to the use site


def _without_instance_keys(root: Any, steps: List[Tuple[str, Any]]) -> List[Tuple[str, Any]]:
    """``data.T.N[0].json`` / ``T.N["k"].attr`` as if written without the instance key (a
    ``count``/``for_each`` instance is the same block for our purposes)."""
    if not isinstance(root, Tree) or root.data != "identifier":
        return steps
    name = _name(root)
    if name == "data":
        position = 2
    elif name in _SPECIAL_ROOTS or "_" not in name:
        return steps
    else:
        position = 1
    kept = list(steps)
    while len(kept) > position and kept[position][0] in ("index", "literal-index") and all(k == "attr" for k, _ in kept[:position]):
        del kept[position]
    return kept


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _format(spec: str, values: List[Any]) -> Optional[str]:
    """Terraform's ``format`` for the plain verbs ``%s``, ``%d`` and ``%%``; None otherwise."""
    out: List[str] = []
    remaining = list(values)
    i = 0
    while i < len(spec):
        char = spec[i]
        if char != "%":
            out.append(char)
            i += 1
            continue
        verb = spec[i + 1 : i + 2]
        if verb == "%":
            out.append("%")
        elif verb == "s" and remaining and isinstance(remaining[0], (str, int, float)) and not isinstance(remaining[0], bool):
            out.append(str(remaining.pop(0)))
        elif verb == "d" and remaining and isinstance(remaining[0], int) and not isinstance(remaining[0], bool):
            out.append(str(remaining.pop(0)))
        else:
            return None  # widths, other verbs, unknown arguments
        i += 2
    return "".join(out) if not remaining else None


def _reference_text(reference: Reference) -> str:
    return reference.target + ("." + reference.attribute if reference.attribute else "")


# --------------------------------------------------------------------------- the loader


def load_terraform(files: Sequence[Tuple[str, bytes]]) -> Tuple[Optional[Template], List[ParseError]]:
    """Load the ``.tf`` files of one folder (one module): ``(display path, content)`` pairs.

    ``terraform.tfvars`` and ``*.auto.tfvars`` may be given too: Terraform loads them into a
    root module automatically, so their values win over variable defaults (other ``.tfvars``
    are only used with ``-var-file`` and are ignored).

    Returns the module's template (None when it declares no function, role or IAM policy) and
    one ``(path, span, message)`` per file that python-hcl2 cannot parse; the other files are
    still loaded.
    """
    import hcl2  # imported here: building the parser costs ~0.1 s, only paid with .tf files

    module = _Module()
    errors: List[ParseError] = []
    tf_files = [(path, content) for path, content in files if not path.endswith(".tfvars")]
    named = [(posixpath.basename(path.replace("\\", "/")), path, content) for path, content in files]
    # terraform.tfvars first, then *.auto.tfvars in lexical order: a later assignment wins
    auto_vars = sorted(
        ((name != "terraform.tfvars", name), path, content)
        for name, path, content in named
        if name == "terraform.tfvars" or name.endswith(".auto.tfvars")
    )
    for _, path, content in auto_vars:
        text = content.decode("utf-8-sig", errors="replace")
        try:
            module.add_tfvars(hcl2.parses_to_tree(text), _Source(path, text))
        except Exception as error:
            errors.append(_parse_error(path, text, error))
    for path, content in tf_files:
        text = content.decode("utf-8-sig", errors="replace")
        try:
            tree = hcl2.parses_to_tree(text)
        except Exception as error:  # lark's errors, and the post-lexer's RuntimeError
            errors.append(_parse_error(path, text, error))
            # one broken block should not hide the others: parse the top-level blocks one by
            # one, each padded with newlines so that its lines stay those of the file
            for start, end in _top_level_blocks(text):
                line = text.count("\n", 0, start)
                chunk = "\n" * line + text[start:end]
                try:
                    tree = hcl2.parses_to_tree(chunk)
                except Exception:
                    continue
                module.add_file(tree, _Source(path, chunk))
            continue
        module.add_file(tree, _Source(path, text))
    if not tf_files:
        return None, errors
    try:
        template = _Builder(module, [path for path, _ in tf_files]).build()
    except RecursionError:  # absurdly nested expressions: say nothing rather than crash the run
        template = None
    return template, errors


def _top_level_blocks(text: str) -> List[Tuple[int, int]]:
    """Character ranges of the top-level blocks of an HCL file, found by matching braces
    outside strings, comments and heredocs; each range starts at the beginning of a line."""
    blocks: List[Tuple[int, int]] = []
    depth = 0
    start: Optional[int] = None
    stack: List[Any] = []  # "str" inside a quoted string; an int: inside ${...} opened at that depth
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if stack and stack[-1] == "str":
            if char == "\\":
                i += 2
                continue
            if char == '"' or char == "\n":  # a newline ends an unterminated string
                stack.pop()
            elif text.startswith("${", i) or text.startswith("%{", i):
                stack.append(depth)
                depth += 1
                i += 1
            i += 1
            continue
        if char == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        heredoc = _HEREDOC_HEAD.match(text, i) if text.startswith("<<", i) else None
        if heredoc is not None:
            closing = re.compile(r"^[ \t]*%s[ \t]*\r?$" % re.escape(heredoc.group(2)), re.M).search(text, heredoc.end())
            i = n if closing is None else closing.end()
            continue
        if start is None and depth == 0 and not char.isspace():
            start = text.rfind("\n", 0, i) + 1
        if char == '"':
            stack.append("str")
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth = max(depth - 1, 0)
            if stack and stack[-1] == depth:
                stack.pop()  # the end of an interpolation: back inside its string
            elif depth == 0 and char == "}" and start is not None:
                blocks.append((start, i + 1))
                start = None
        i += 1
    return blocks


def _parse_error(path: str, text: str, error: Exception) -> ParseError:
    line = getattr(error, "line", None)
    column = getattr(error, "column", None)
    if not isinstance(line, int) or line < 1:
        line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        column = 1
    column = column if isinstance(column, int) and column >= 1 else 1
    token = getattr(error, "token", None)
    lines = text.splitlines()
    rest = lines[line - 1][column - 1 :].strip() if line <= len(lines) else ""
    if token is not None and getattr(token, "type", "") == "$END":
        message = "invalid HCL: unexpected end of file (an unclosed block, string or bracket?)"
    elif getattr(error, "line", None) is not None:
        # lark's token text can run past the real culprit: quote the source instead
        message = "invalid HCL: unexpected %s" % ("`%s`" % rest[:30] if rest else "end of line")
    else:
        message = "invalid HCL: %s" % (str(error).strip().splitlines() or ["cannot parse"])[0][:120]
    return path, Span(line, column, line, column + 1), message


class _Builder:
    def __init__(self, module: _Module, paths: List[str]) -> None:
        self.m = module
        self.template = TerraformTemplate(path=paths[0], format="terraform", files=list(paths))
        self.functions: Dict[str, Function] = {}
        self.function_names: Dict[str, Function] = {}
        self.iam_policies: Dict[str, Policy] = {}  # aws_iam_policy address -> Policy
        self.roles_by_name: Dict[str, Role] = {}
        self.documents: Dict[str, Tuple[List[Statement], bool]] = {}  # data policy documents
        self.used_documents: Set[str] = set()
        #: per data-document statement (by id): its sid, and whether it names principals
        self.sids: Dict[int, Any] = {}
        self.with_principals: Set[int] = set()

    def build(self) -> Optional[Template]:
        t = self.template
        for address in self.m.order:
            block = self.m.blocks[address]
            t.resource_lines[address] = (block.span.line, block.span.end_line)
            t.resource_paths[address] = block.path
        self._policies()
        self._roles()
        self._role_policies()
        self._attachments()
        self._unattached_documents()
        self._buckets_and_queues()
        self._functions()
        self._event_sources()
        self._permissions()
        self._invoke_configs()
        if not (t.functions or t.roles or t.policies):
            return None
        return t

    # ---- IAM

    def _statements(self, node: Any, source: _Source, depth: int = 0) -> Tuple[List[Statement], bool]:
        """The statements of a policy given as jsonencode({...}), heredoc or quoted JSON, or
        ``data.aws_iam_policy_document.x.json`` (also through a local or variable default)."""
        if node is None or depth > 8:
            return [], False
        heredoc = _heredoc_token(node)
        if heredoc is not None:
            return self._heredoc_statements(heredoc, source)
        inner = _unwrap(node)
        if not isinstance(inner, Tree):
            return [], False
        if inner.data == "function_call":
            name = _name(_trees(inner)[0])
            arguments = [t for t in _trees(inner) if t.data == "arguments"]
            args = _trees(arguments[0]) if arguments else []
            if name == "jsonencode" and len(args) == 1:
                return iam_json.statements_from_document(self.m.value(args[0], source), source.path)
            return [], False
        if inner.data == "string":
            parts = [c for c in inner.children if isinstance(c, Tree)]
            if len(parts) == 1 and isinstance(parts[0].children[0], Tree) and parts[0].children[0].data == "interpolation":
                return self._statements(_trees(parts[0].children[0])[0], source, depth + 1)
            value = self.m.value(inner, source)
            if isinstance(value.value, str):
                return self._quoted_statements(value)
            return [], False
        root, steps = self.m._steps(inner)
        steps = _without_instance_keys(root, steps)
        if isinstance(root, Tree) and root.data == "identifier" and steps and steps[0][0] == "attr":
            name = _name(root)
            if name == "data" and len(steps) == 3 and steps[0][1] == "aws_iam_policy_document" and steps[2] in (("attr", "json"), ("attr", "minified_json")):
                address = "data.aws_iam_policy_document.%s" % steps[1][1]
                self.used_documents.add(address)
                return self._document(address)
            if name == "local" and len(steps) == 1 and steps[0][1] in self.m.locals:
                found, where = self.m.locals[steps[0][1]]
                return self._statements(found, where, depth + 1)
            if name == "var" and len(steps) == 1:
                found, where, _ = self.m.variable_value(steps[0][1])
                if found is not None:
                    return self._statements(found, where, depth + 1)
            if name == "aws_iam_policy" and len(steps) == 2 and steps[1] == ("attr", "policy"):
                policy = self.iam_policies.get("aws_iam_policy.%s" % steps[0][1])
                if policy is not None:
                    return list(policy.statements), policy.complete
        return [], False

    def _heredoc_statements(self, token: Token, source: _Source) -> Tuple[List[Statement], bool]:
        document = self._heredoc_document(token, source)
        if document is None:
            return [], False
        return iam_json.statements_from_document(document, source.path)

    def _heredoc_document(self, token: Token, source: _Source) -> Optional[Located]:
        """A JSON heredoc as a Located tree whose positions are the file's; None when the body
        is not an object expression (template directives, bare interpolations, not JSON)."""
        import hcl2

        lines = _heredoc_lines(token)
        if lines is None:
            return None
        # the body as written, indentation kept, so that columns stay those of the file
        body = "".join(line + "\n" for line in lines)
        first_line = token.line + 1
        prefix = "__policy__ = "
        try:
            tree = hcl2.parses_to_tree(prefix + body)
        except Exception:
            return None
        _shift_positions(tree, first_line - 1, len(prefix))
        attributes = [n for n in _trees(tree.children[0]) if n.data == "attribute"]
        if len(attributes) != 1:
            return None
        return self.m.value(attributes[0].children[-1], _Source(source.path, prefix + body))

    def _quoted_statements(self, value: Located) -> Tuple[List[Statement], bool]:
        """A policy written as one quoted JSON string: every entry is on that string's line."""
        try:
            data = json.loads(value.value)
        except ValueError:
            return [], False

        def located(item: Any) -> Located:
            if isinstance(item, dict):
                return Located({str(k): located(v) for k, v in item.items()}, value.span, value.path)
            if isinstance(item, list):
                return Located([located(v) for v in item], value.span, value.path)
            return Located(item, value.span, value.path)

        return iam_json.statements_from_document(located(data), value.path)

    def _document(self, address: str) -> Tuple[List[Statement], bool]:
        """The statements of a ``data "aws_iam_policy_document"``."""
        if address in self.documents:
            return self.documents[address]
        self.documents[address] = ([], False)  # a cycle reads as unknown
        block = self.m.get(address)
        if block is None:
            return [], False
        complete = "statement" not in block.attrs and self.m.generated(block, "statement") is None
        statements: List[Statement] = []
        for name in ("source_policy_documents", "source_json"):
            for entry in self._entry_nodes(block, name):
                found, known = self._statements(entry, block.source)
                statements.extend(found)
                complete = complete and known
        own = [self._document_statement(b) for b in block.children("statement")]
        statements = self._override(statements, own)
        complete = complete and all(s.complete for s in own)
        for name in ("override_policy_documents", "override_json"):
            for entry in self._entry_nodes(block, name):
                found, known = self._statements(entry, block.source)
                statements = self._override(statements, found)
                complete = complete and known
        self.documents[address] = (statements, complete)
        return statements, complete

    def _override(self, statements: List[Statement], overrides: List[Statement]) -> List[Statement]:
        """A statement of ``override_policy_documents`` (or of the document itself, over its
        ``source_policy_documents``) replaces the one with the same ``sid``."""
        result = list(statements)
        for statement in overrides:
            sid = self.sids.get(id(statement))
            same = [i for i, s in enumerate(result) if sid is not None and self.sids.get(id(s)) == sid]
            if same:
                result[same[0]] = statement
            else:
                result.append(statement)
        return result

    def _entry_nodes(self, block: _Block, name: str) -> List[Any]:
        node = block.expr(name)
        if node is None:
            return []
        inner = _trees(node)
        if isinstance(node, Tree) and node.data == "expr_term" and len(inner) == 1 and inner[0].data == "tuple":
            return _trees(inner[0])
        return [node]

    def _document_statement(self, block: _Block) -> Statement:
        effect = self.m.attr(block, "effect") or Located("Allow", block.header, block.path)
        statement = Statement(span=block.span, effect=effect, path=block.path)
        complete = True
        if not (isinstance(effect.value, Conditional) or effect.value in ("Allow", "Deny")):
            complete = False
        for name in ("actions", "not_actions", "resources", "not_resources"):
            value = self.m.attr(block, name)
            if value is None:
                continue
            found, known = iam_json.entries(value)
            getattr(statement, name).extend(found)
            complete = complete and known
        generated = [d for d in block.children("dynamic") if self.m.generated(block, d.labels[0] if d.labels else "") is not None]
        if generated:
            complete = False
        # a condition that may be generated counts: rules then stay on the safe side
        statement.has_condition = bool(block.children("condition")) or any(d.labels == ["condition"] for d in generated)
        sid = self.m.attr(block, "sid")
        statement.complete = complete
        if sid is not None and isinstance(sid.value, str) and sid.value:
            self.sids[id(statement)] = sid.value
        if block.children("principals") or block.children("not_principals") or any(d.labels in (["principals"], ["not_principals"]) for d in generated):
            self.with_principals.add(id(statement))
        return statement

    def _trusted_services(self, node: Any, source: _Source) -> Set[str]:
        inner = _unwrap(node)
        heredoc = _heredoc_token(node)
        if isinstance(inner, Tree) and heredoc is None:
            root, steps = self.m._steps(inner)
            steps = _without_instance_keys(root, steps)
            if isinstance(root, Tree) and root.data == "identifier" and _name(root) == "data" and len(steps) == 3 and steps[0] == ("attr", "aws_iam_policy_document"):
                address = "data.aws_iam_policy_document.%s" % steps[1][1]
                block = self.m.get(address)
                self.used_documents.add(address)
                services: Set[str] = set()
                for statement in block.children("statement") if block else ():
                    effect = self.m.attr(statement, "effect")
                    if effect is not None and effect.value != "Allow":
                        continue
                    for principals in statement.children("principals"):
                        kind = self.m.attr(principals, "type")
                        identifiers = self.m.attr(principals, "identifiers")
                        if kind is None or kind.value != "Service" or identifiers is None:
                            continue
                        found, _ = iam_json.entries(identifiers)
                        services.update(e.value for e in found if isinstance(e.value, str))
                return services
            if inner.data == "function_call" and _name(_trees(inner)[0]) == "jsonencode":
                arguments = [t for t in _trees(inner) if t.data == "arguments"]
                args = _trees(arguments[0]) if arguments else []
                if len(args) == 1:
                    return iam_json.trusted_services(self.m.value(args[0], source))
        if heredoc is not None:
            document = self._heredoc_document(heredoc, source)
            if document is not None:
                return iam_json.trusted_services(document)
        return set()

    def _policy(self, address: str, block: _Block, name: str, node: Any, span: Span) -> Policy:
        statements, complete = self._statements(node, block.source)
        return Policy(name=name, span=span, path=block.path, statements=statements, complete=complete)

    def _policies(self) -> None:
        for address, block in self.m.of_type("aws_iam_policy"):
            policy = self._policy(address, block, address, block.expr("policy"), block.header)
            self.iam_policies[address] = policy
            self.template.policies.append(policy)
        # identity policies of users, groups and SSO permission sets: IAM policies of the module
        for kind, attribute in _OTHER_IDENTITY_POLICIES:
            for address, block in self.m.of_type(kind):
                self.template.policies.append(self._policy(address, block, address, block.expr(attribute), block.header))

    def _roles(self) -> None:
        for address, block in self.m.of_type("aws_iam_role"):
            role = Role(logical_id=address, span=block.header, path=block.path)
            trust = block.expr("assume_role_policy")
            if trust is not None:
                role.trusted_services = self._trusted_services(trust, block.source)
            if self.m.generated(block, "inline_policy") is not None:
                role.permissions.complete = False
            for inline in block.children("inline_policy"):
                if inline.expr("policy") is None:
                    continue  # `inline_policy {}` only tells Terraform to remove the others
                name = self.m.attr(inline, "name")
                label = "%s.inline_policy[%s]" % (address, name.value if name is not None and isinstance(name.value, str) else "?")
                role.permissions.policies.append(self._policy(address, inline, label, inline.expr("policy"), inline.header))
            managed = self.m.attr(block, "managed_policy_arns")
            if managed is not None:
                entries, known = iam_json.entries(managed)
                role.permissions.complete = role.permissions.complete and known
                for entry in entries:
                    self._attach_managed(role, entry)
            self.template.roles[address] = role
            name = self.m.attr(block, "name")
            if name is not None and isinstance(name.value, str):
                self.roles_by_name.setdefault(name.value, role)

    def _attach_managed(self, role: Role, entry: Located) -> None:
        value = entry.value
        if isinstance(value, Reference) and value.target.startswith("aws_iam_policy."):
            policy = self.iam_policies.get(value.target)
            if policy is not None:
                if policy not in role.permissions.policies:
                    role.permissions.policies.append(policy)
                return
        role.permissions.managed_policies.append(entry)
        aws_managed = isinstance(value, Interpolated) and ":iam::aws:policy/" in value.text
        if isinstance(value, Reference) or (isinstance(value, Unknown) and not aws_managed):
            role.permissions.complete = False  # a policy we cannot read

    def _role_of(self, value: Optional[Located]) -> Optional[Role]:
        if value is None:
            return None
        target = value.value
        if isinstance(target, Reference):
            return self.template.roles.get(target.target)
        if isinstance(target, str):
            name = target.rsplit("/", 1)[-1] if target.startswith("arn:") else target
            return self.roles_by_name.get(name)
        return None

    def _role_policies(self) -> None:
        for address, block in self.m.of_type("aws_iam_role_policy"):
            policy = self._policy(address, block, address, block.expr("policy"), block.header)
            role = self._role_of(self.m.attr(block, "role"))
            if role is not None:
                role.permissions.policies.append(policy)
            else:
                self.template.policies.append(policy)

    def _attachments(self) -> None:
        for address, block in self.m.of_type("aws_iam_role_policy_attachment"):
            arn = self.m.attr(block, "policy_arn")
            role = self._role_of(self.m.attr(block, "role"))
            if role is not None and arn is not None:
                self._attach_managed(role, arn)
        for address, block in self.m.of_type("aws_iam_policy_attachment"):
            arn = self.m.attr(block, "policy_arn")
            roles = self.m.attr(block, "roles")
            if roles is None or arn is None:
                continue
            for entry in iam_json.entries(roles)[0]:
                role = self._role_of(entry)
                if role is not None:
                    self._attach_managed(role, arn)

    def _unattached_documents(self) -> None:
        """Identity policy documents no modelled resource uses still count as IAM policies of
        the module; trust and resource policies (every statement names principals) do not."""
        documents = list(self.m.of_type("data.aws_iam_policy_document"))
        for address, _ in documents:
            self._document(address)  # marks the documents each one builds on as used
        for address, block in documents:
            if address in self.used_documents:
                continue
            statements, complete = self._document(address)
            if statements and all(id(s) in self.with_principals for s in statements):
                continue
            self.template.policies.append(
                Policy(name=address, span=block.header, path=block.path, statements=statements, complete=complete)
            )

    # ---- buckets, queues, functions

    def _buckets_and_queues(self) -> None:
        for address, block in self.m.of_type("aws_s3_bucket"):
            self.template.buckets[address] = Bucket(address, block.header, block.path, name=self.m.attr(block, "bucket"))
        for address, block in self.m.of_type("aws_sqs_queue"):
            fifo = self.m.attr(block, "fifo_queue")
            name = self.m.attr(block, "name")
            self.template.queues[address] = Queue(
                address,
                block.header,
                block.path,
                visibility_timeout=self.m.attr(block, "visibility_timeout_seconds"),
                fifo=fifo is not None and fifo.value is True,
                name=name.value if name is not None and isinstance(name.value, str) else None,
            )

    def _functions(self) -> None:
        for address, block in self.m.of_type("aws_lambda_function"):
            function = Function(logical_id=address, span=block.header, path=block.path, default_timeout=3)
            function.handler = self.m.attr(block, "handler")
            function.runtime = self.m.attr(block, "runtime")
            function.timeout = self.m.attr(block, "timeout")
            function.code_uri = self._code(block)
            environment = block.child("environment")
            if environment is not None:
                variables = self.m.attr(environment, "variables")
                if variables is not None and isinstance(variables.value, dict):
                    function.environment = dict(variables.value)
                elif variables is not None:
                    function.environment_complete = False  # var.env, merge(...), a for expression
            elif self.m.generated(block, "environment") is not None:
                function.environment_complete = False  # a dynamic "environment" block
            dead_letter = block.child("dead_letter_config")
            if dead_letter is not None:
                function.dead_letter = self.m.attr(dead_letter, "target_arn")
            elif self.m.generated(block, "dead_letter_config") is not None:
                function.dead_letter = _unknown_block(self.m.generated(block, "dead_letter_config"))
            function.role = self.m.attr(block, "role")
            role = self._role_of(function.role)
            if role is not None and isinstance(function.role.value, Reference):
                function.permissions = role.permissions
            else:
                # an ARN, a variable, a data source: the role is defined elsewhere
                function.permissions = Permissions(complete=False)
            self.template.functions.append(function)
            self.functions[address] = function
            name = self.m.attr(block, "function_name")
            if name is not None and isinstance(name.value, str):
                self.function_names.setdefault(name.value, function)

    def _code(self, block: _Block) -> Optional[Located]:
        """Where the code is: the source of the ``archive_file`` that builds ``filename``, else
        ``filename`` itself (a path relative to the module)."""
        filename = self.m.attr(block, "filename")
        archive = None
        if filename is not None and isinstance(filename.value, Reference) and filename.value.target.startswith("data.archive_file."):
            archive = self.m.get(filename.value.target)
        elif filename is not None and isinstance(filename.value, str):
            wanted = posixpath.normpath(filename.value)
            for _, candidate in self.m.of_type("data.archive_file"):
                output = self.m.attr(candidate, "output_path")
                if output is not None and isinstance(output.value, str) and posixpath.normpath(output.value) == wanted:
                    archive = candidate
                    break
        if archive is None:
            digest = self.m.attr(block, "source_code_hash")
            if digest is not None and isinstance(digest.value, Reference) and digest.value.target.startswith("data.archive_file."):
                archive = self.m.get(digest.value.target)
        if archive is not None:
            for name in ("source_dir", "source_file"):
                source = self.m.attr(archive, name)
                if source is not None:
                    return _normalized(source)
        if filename is not None:
            return _normalized(filename)
        return None

    def _function_of(self, value: Optional[Located], depth: int = 0) -> Optional[Function]:
        if value is None or depth > 3:
            return None
        target = value.value
        if isinstance(target, Interpolated):
            # e.g. a REST integration's "arn:aws:apigateway:${region}:lambda:path/2015-03-31/
            # functions/${aws_lambda_function.f.arn}/invocations": the one function it names
            found = {id(f): f for f in (self._function_of(Located(r, value.span, value.path), depth + 1) for r in target.references) if f is not None}
            return next(iter(found.values())) if len(found) == 1 else None
        if isinstance(target, Reference):
            if target.target in self.functions:
                return self.functions[target.target]
            if target.target.startswith("aws_lambda_alias."):
                alias = self.m.get(target.target)
                if alias is not None:
                    return self._function_of(self.m.attr(alias, "function_name"), depth + 1)
            return None
        if isinstance(target, str):
            match = _FUNCTION_ARN.match(target)
            return self.function_names.get(match.group(1) if match else target)
        return None

    # ---- event sources

    def _add_event(self, function: Optional[Function], event: EventSource) -> None:
        if function is not None:
            function.events.append(event)

    def _event_sources(self) -> None:
        m = self.m
        for address, block in m.of_type("aws_lambda_event_source_mapping"):
            source = m.attr(block, "event_source_arn")
            kind = _mapping_kind(source)
            if block.child("self_managed_event_source") is not None:
                kind = "kafka"
            elif source is None and block.expr("queues") is not None:
                kind = "mq"
            self._add_event(
                self._function_of(m.attr(block, "function_name")),
                EventSource(kind, address, block.header, block.path, source=source),
            )
        for address, block in m.of_type("aws_s3_bucket_notification"):
            bucket = m.attr(block, "bucket")
            for entry in block.children("lambda_function"):
                self._add_event(
                    self._function_of(m.attr(entry, "lambda_function_arn")),
                    EventSource(
                        "s3",
                        address,
                        entry.header,
                        entry.path,
                        source=bucket,
                        prefix=m.attr(entry, "filter_prefix"),
                        suffix=m.attr(entry, "filter_suffix"),
                        s3_events=m.attr(entry, "events"),
                    ),
                )
        for address, block in m.of_type("aws_sns_topic_subscription"):
            protocol = m.attr(block, "protocol")
            if protocol is None or protocol.value != "lambda":
                continue
            self._add_event(
                self._function_of(m.attr(block, "endpoint")),
                EventSource("sns", address, block.header, block.path, source=m.attr(block, "topic_arn")),
            )
        for address, block in m.of_type("aws_cloudwatch_event_target"):
            rule = m.attr(block, "rule")
            self._add_event(
                self._function_of(m.attr(block, "arn")),
                EventSource(self._rule_kind(rule), address, block.header, block.path, source=rule),
            )
        for address, block in m.of_type("aws_scheduler_schedule"):
            target = block.child("target")
            if target is not None:
                self._add_event(
                    self._function_of(m.attr(target, "arn")),
                    EventSource("schedule", address, block.header, block.path, source=m.attr(block, "schedule_expression")),
                )
        for address, block in m.of_type("aws_cloudwatch_log_subscription_filter"):
            self._add_event(
                self._function_of(m.attr(block, "destination_arn")),
                EventSource("cloudwatch-logs", address, block.header, block.path, source=m.attr(block, "log_group_name")),
            )
        for address, block in m.of_type("aws_lambda_function_url"):
            self._add_event(
                self._function_of(m.attr(block, "function_name")),
                EventSource("function-url", address, block.header, block.path),
            )
        for address, block in m.of_type("aws_apigatewayv2_integration"):
            kind = "http-api"
            api = m.attr(block, "api_id")
            api_block = m.get(api.value.target) if api is not None and isinstance(api.value, Reference) else None
            if api_block is not None:
                protocol = m.attr(api_block, "protocol_type")
                if protocol is not None and protocol.value == "WEBSOCKET":
                    kind = "websocket"
            self._integration(address, block, kind, m.attr(block, "integration_uri"), api)
        for address, block in m.of_type("aws_api_gateway_integration"):
            self._integration(address, block, "api", m.attr(block, "uri"), m.attr(block, "rest_api_id"))

    def _integration(self, address: str, block: _Block, kind: str, uri: Optional[Located], api: Optional[Located]) -> None:
        timeout = self.m.attr(block, "timeout_milliseconds")
        if timeout is not None and isinstance(timeout.value, (int, float)) and not isinstance(timeout.value, bool):
            seconds = timeout.value / 1000
            timeout = Located(int(seconds) if seconds == int(seconds) else seconds, timeout.span, timeout.path)
        self._add_event(
            self._function_of(uri),
            EventSource(kind, address, block.header, block.path, source=api, integration_timeout=timeout),
        )

    def _rule_kind(self, rule: Optional[Located]) -> str:
        target = rule.value if rule is not None else None
        if isinstance(target, Interpolated) and len(target.references) == 1:
            target = target.references[0]
        if isinstance(target, Reference) and target.target.startswith("aws_cloudwatch_event_rule."):
            block = self.m.get(target.target)
            if block is not None and block.expr("schedule_expression") is not None:
                return "schedule"
        return "eventbridge"

    def _permissions(self) -> None:
        """An asynchronous invoker only a permission names (no notification, subscription or
        target in the module describes it)."""
        for address, block in self.m.of_type("aws_lambda_permission"):
            principal = self.m.attr(block, "principal")
            if principal is None or not isinstance(principal.value, str):
                continue
            kind = _ASYNC_PRINCIPALS.get(principal.value)
            function = self._function_of(self.m.attr(block, "function_name"))
            if kind is None or function is None:
                continue
            source = self.m.attr(block, "source_arn")
            if kind == "eventbridge":
                kind = self._rule_kind(source)
            family = _KIND_FAMILY.get(kind, kind)
            if any(_KIND_FAMILY.get(e.kind, e.kind) == family for e in function.events):
                continue
            event = EventSource(kind, address, block.header, block.path, source=source)
            if kind == "s3":
                # the bucket notification is outside this module: its key filters are unknown
                unknown = Located(Unknown("the bucket notification is not in this module"), block.header, block.path)
                event.prefix = event.suffix = unknown
            function.events.append(event)

    def _invoke_configs(self) -> None:
        for address, block in self.m.of_type("aws_lambda_function_event_invoke_config"):
            function = self._function_of(self.m.attr(block, "function_name"))
            if function is None:
                continue
            destinations = block.child("destination_config")
            failure = destinations.child("on_failure") if destinations is not None else None
            if failure is not None:
                function.on_failure = self.m.attr(failure, "destination")
                continue
            generated = self.m.generated(block, "destination_config") or self.m.generated(destinations, "on_failure")
            if generated is not None and function.on_failure is None:
                function.on_failure = _unknown_block(generated)


def _unknown_block(block: _Block) -> Located:
    return Located(Unknown("a dynamic %s block: generated or not at plan time" % block.labels[0]), block.header, block.path)


def _mapping_kind(source: Optional[Located]) -> str:
    target = source.value if source is not None else None
    if isinstance(target, Interpolated) and len(target.references) == 1:
        target = target.references[0]
    if isinstance(target, Reference):
        parts = target.target.split(".")
        return _MAPPING_KIND_BY_TYPE.get(parts[1] if parts[0] == "data" else parts[0], "other")
    if isinstance(target, str):
        parts = target.split(":")
        if len(parts) > 2 and parts[0] == "arn":
            return _MAPPING_KIND_BY_SERVICE.get(parts[2], "other")
    return "other"


def _normalized(path: Located) -> Located:
    if isinstance(path.value, str):
        return Located(posixpath.normpath(path.value), path.span, path.path)
    return path
