"""Read YAML and JSON templates into trees of :class:`~lambdalint.iac.model.Located` values.

Every mapping becomes a :class:`LocatedMap` (a ``dict`` of str -> Located that also remembers
where each *key* is written, so a resource's logical id line is known), every sequence a list of
Located, every scalar a str/int/float/bool/None. CloudFormation short-form tags (``!Ref``,
``!GetAtt``, ``!Sub``...) become their long form (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``).

YAML is composed into PyYAML's node graph with the safe loaders (libyaml's ``CSafeLoader`` when it
is installed: about ten times faster, and its nodes carry the same marks) and converted here;
nothing is ever constructed from a tag, so no loader can run code. Aliases may share one node many
times over: the expanded size is measured on the graph first, and a document that would expand
past :data:`MAX_ALIAS_EXPANSION` extra values (an alias bomb) or that refers to itself is an error,
never a memory blow-up.

JSON goes through a small position-tracking parser built on the json module's own string scanner:
PyYAML rejects tab indentation and is slow on large files, and JSON positions then come out exact.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any, Dict, List, Optional

import yaml

from lambdalint.iac.model import Located
from lambdalint.model import Span

try:  # libyaml: the same node graph and marks, much faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: How many values aliases may add beyond those written out. Real templates reuse a handful of
#: anchors; a "billion laughs" document needs millions.
MAX_ALIAS_EXPANSION = 100_000

#: Short-form tag -> long-form key.
SHORT_FORMS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not", "FindInMap",
            "Base64", "Cidr", "ImportValue", "GetAZs", "Transform",
            # AWS::LanguageExtensions
            "ToJsonString", "Length",
        )
    },
}

_YAML = "tag:yaml.org,2002:"


class TemplateSyntaxError(Exception):
    """A template that is not valid YAML/JSON (reported as LL001 at ``span``)."""

    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


class LocatedMap(Dict[str, Located]):
    """A mapping of str -> :class:`Located` that also knows where each key is written."""

    def __init__(self) -> None:
        super().__init__()
        self.key_spans: Dict[str, Span] = {}

    def key_span(self, key: str) -> Optional[Span]:
        return self.key_spans.get(key)


# -- YAML ----------------------------------------------------------------------------------------


def _node_span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _mark_span(mark: Any) -> Span:
    if mark is None:
        return Span(1, 1, 1, 1)
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)


def load_yaml(text: str) -> Located:
    """The first document of ``text`` as a Located tree (an empty document is ``None``).

    Later documents (``---``) are not read: a template is one document, and a stray trailing
    ``---`` must not make it unreadable."""
    try:
        node = next(iter(yaml.compose_all(text, Loader=_Loader)), None)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "cannot be parsed"
        if error.problem and error.context:
            message = f"{error.problem} ({error.context})"
        raise TemplateSyntaxError(_mark_span(mark), f"invalid YAML: {message}") from None
    except yaml.YAMLError as error:  # e.g. "expected a single document"
        raise TemplateSyntaxError(Span(1, 1, 1, 1), f"invalid YAML: {error}") from None
    except (ValueError, RecursionError) as error:
        raise TemplateSyntaxError(Span(1, 1, 1, 1), f"invalid YAML: {error}") from None
    if node is None:
        return Located(None, Span(1, 1, 1, 1))
    _check_expansion(node)
    try:
        return _YamlConverter().convert(node)
    except RecursionError:
        raise TemplateSyntaxError(_node_span(node), "invalid YAML: nested too deeply") from None


def _check_expansion(root: yaml.Node) -> None:
    """Refuse graphs that refer to themselves or that aliases would blow up."""
    sizes: Dict[int, int] = {}
    active = set()
    extra = 0  # values that aliases add, so far

    def size(node: yaml.Node, parent: yaml.Node) -> int:
        nonlocal extra
        key = id(node)
        if key in sizes:  # a node seen before: an alias repeats all of it
            extra += sizes[key]
            if extra > MAX_ALIAS_EXPANSION:
                # reported at the collection whose aliases pass the limit
                raise TemplateSyntaxError(
                    _node_span(parent),
                    f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra values: "
                    "refusing an alias bomb",
                )
            return sizes[key]
        if key in active:
            raise TemplateSyntaxError(_node_span(node), "invalid YAML: an alias refers to itself")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child, node)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                total += size(key_node, node) + size(value_node, node)
        active.discard(key)
        sizes[key] = total
        return total

    try:
        size(root, root)
    except RecursionError:
        raise TemplateSyntaxError(_node_span(root), "invalid YAML: nested too deeply") from None


class _YamlConverter:
    def __init__(self) -> None:
        self._constructor = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node) -> Located:
        span = _node_span(node)
        tag = node.tag
        if tag in SHORT_FORMS:
            return self._short_form(node, span)
        if isinstance(node, yaml.MappingNode):
            return Located(self._mapping(node), span)
        if isinstance(node, yaml.SequenceNode):
            return Located([self.convert(child) for child in node.value], span)
        return Located(self._scalar(node), span)

    def _short_form(self, node: yaml.Node, span: Span) -> Located:
        long_form = SHORT_FORMS[node.tag]
        if isinstance(node, yaml.ScalarNode):
            # the argument of a tag is a plain string ("!Ref Bucket", "!GetAZs ''")
            argument = Located(node.value, span)
            if long_form == "Fn::GetAtt":
                resource, dot, attribute = node.value.partition(".")
                argument = Located(
                    [Located(resource, span), Located(attribute if dot else "", span)], span
                )
        elif isinstance(node, yaml.SequenceNode):
            argument = Located([self.convert(child) for child in node.value], span)
        else:
            argument = Located(self._mapping(node), span)
        mapping = LocatedMap()
        mapping[long_form] = argument
        mapping.key_spans[long_form] = span
        return Located(mapping, span)

    def _mapping(self, node: yaml.MappingNode) -> LocatedMap:
        mapping = LocatedMap()
        merged: List[LocatedMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                merged.extend(self._merge_sources(value_node))
                continue
            key = self._key(key_node)
            mapping[key] = self.convert(value_node)
            mapping.key_spans[key] = _node_span(key_node)
        # "<<: *defaults": explicit keys win, earlier merge sources win over later ones
        for source in merged:
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.key_spans[key] = source.key_spans.get(key, value.span)
        return mapping

    def _merge_sources(self, node: yaml.Node) -> List[LocatedMap]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        return [self._mapping(n) for n in nodes if isinstance(n, yaml.MappingNode)]

    def _key(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        # complex keys never occur in templates; keep a stable text for them
        return yaml.dump(self._plain(self.convert(node)), default_flow_style=True).strip()

    def _plain(self, item: Located) -> Any:
        if isinstance(item.value, dict):
            return {k: self._plain(v) for k, v in item.value.items()}
        if isinstance(item.value, list):
            return [self._plain(v) for v in item.value]
        return item.value

    def _scalar(self, node: yaml.Node) -> Any:
        tag = node.tag
        value = node.value
        if not isinstance(node, yaml.ScalarNode):
            return value
        try:
            if tag == _YAML + "int":
                return self._constructor.construct_yaml_int(node)
            if tag == _YAML + "float":
                return self._constructor.construct_yaml_float(node)
            if tag == _YAML + "bool":
                return self._constructor.construct_yaml_bool(node)
            if tag == _YAML + "null":
                return None
        except (ValueError, yaml.constructor.ConstructorError):
            return value
        # str, timestamps (AWSTemplateFormatVersion: 2010-09-09 stays the text it is written
        # as), binary and unknown tags: the text as written
        return value


# -- JSON ----------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


def load_json(text: str) -> Located:
    """``text`` (a JSON document) as a Located tree with exact positions."""
    return _JsonParser(text).parse()


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self.position(start), *self.position(end))

    def error(self, offset: int, message: str) -> TemplateSyntaxError:
        line, column = self.position(min(offset, len(self.text)))
        return TemplateSyntaxError(Span(line, column, line, column + 1), f"invalid JSON: {message}")

    def skip(self, offset: int) -> int:
        return _WHITESPACE.match(self.text, offset).end()

    def parse(self) -> Located:
        offset = self.skip(1 if self.text.startswith("\ufeff") else 0)
        try:
            value, offset = self.value(offset)
        except RecursionError:
            raise self.error(offset, "nested too deeply") from None
        offset = self.skip(offset)
        if offset != len(self.text):
            raise self.error(offset, "extra data after the document")
        return value

    def value(self, offset: int) -> tuple:
        text = self.text
        if offset >= len(text):
            raise self.error(offset, "unexpected end of file")
        char = text[offset]
        if char == "{":
            return self.object(offset)
        if char == "[":
            return self.array(offset)
        if char == '"':
            string, end = self.string(offset)
            return Located(string, self.span(offset, end)), end
        match = _NUMBER.match(text, offset)
        if match and match.end() > offset:
            literal = match.group()
            number = float(literal) if match.group(1) or match.group(2) else int(literal)
            return Located(number, self.span(offset, match.end())), match.end()
        for word, constant in _LITERALS.items():
            if text.startswith(word, offset):
                end = offset + len(word)
                return Located(constant, self.span(offset, end)), end
        raise self.error(offset, f"unexpected character {char!r}")

    def string(self, offset: int) -> tuple:
        try:
            return json.decoder.scanstring(self.text, offset + 1, True)
        except json.JSONDecodeError as error:
            raise self.error(error.pos, error.msg) from None

    def object(self, start: int) -> tuple:
        mapping = LocatedMap()
        offset = self.skip(start + 1)
        if self.text.startswith("}", offset):
            return Located(mapping, self.span(start, offset + 1)), offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.error(offset, "expected a string key")
            key, key_end = self.string(offset)
            key_span = self.span(offset, key_end)
            offset = self.skip(key_end)
            if not self.text.startswith(":", offset):
                raise self.error(offset, "expected ':' after a key")
            value, offset = self.value(self.skip(offset + 1))
            mapping[key] = value  # a duplicate key keeps the last value, like json.loads
            mapping.key_spans[key] = key_span
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("}", offset):
                return Located(mapping, self.span(start, offset + 1)), offset + 1
            raise self.error(offset, "expected ',' or '}'")

    def array(self, start: int) -> tuple:
        items: List[Located] = []
        offset = self.skip(start + 1)
        if self.text.startswith("]", offset):
            return Located(items, self.span(start, offset + 1)), offset + 1
        while True:
            value, offset = self.value(offset)
            items.append(value)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("]", offset):
                return Located(items, self.span(start, offset + 1)), offset + 1
            raise self.error(offset, "expected ',' or ']'")


def looks_like_json(text: str) -> bool:
    stripped = text.lstrip("\ufeff \t\r\n")
    return stripped.startswith("{") or stripped.startswith("[")


def load_document(text: str, path: str = "") -> Located:
    """A YAML or JSON document: JSON when the file is ``.json`` or its text starts like JSON
    (falling back to YAML for a ``.yaml``/``.template`` file that only looks like it)."""
    if path.endswith(".json"):
        return load_json(text)
    if looks_like_json(text):
        try:
            return load_json(text)
        except TemplateSyntaxError:
            pass  # flow-style YAML, perhaps; YAML reports its own error
    return load_yaml(text)


def plain(item: Any) -> Any:
    """The plain Python value of a Located tree (for tests and debugging)."""
    if isinstance(item, Located):
        item = item.value
    if isinstance(item, dict):
        return {key: plain(value) for key, value in item.items()}
    if isinstance(item, list):
        return [plain(value) for value in item]
    return item
