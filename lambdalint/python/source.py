"""Turn a Python file's bytes into a libcst module, or into the reason it cannot be one."""

from __future__ import annotations

import ast
import codecs
import io
import itertools
import re
import tokenize
from dataclasses import dataclass
from typing import Union

import libcst as cst

from lambdalint.model import Span


@dataclass(frozen=True)
class PythonSource:
    text: str
    encoding: str
    has_bom: bool
    module: cst.Module


@dataclass(frozen=True)
class Unparsable:
    """Why a file is not Python that libcst can read, and where."""

    span: Span
    message: str


def _span_at(line: int, column: int) -> Span:
    return Span(line, column, line, column + 1)


def _position_of_byte(data: bytes, offset: int) -> Span:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return _span_at(line, column)


_SAFE_BRACKET_DEPTH = 150
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_BRACKET_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def _max_bracket_depth(text: str) -> int:
    """An upper bound on bracket nesting (brackets inside strings count too): cheap, and
    enough to keep pathological input away from libcst's native parser."""
    brackets = _NOT_BRACKETS.sub("", text)
    return max(itertools.accumulate(_BRACKET_STEP[c] for c in brackets), default=0)


def load_python(data: bytes) -> Union[PythonSource, Unparsable]:
    """Decode (PEP 263 encoding declarations, BOM) and parse ``data``."""
    if b"\x00" in data:
        return Unparsable(_position_of_byte(data, data.index(b"\x00")), "binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as undecodable:
            # no (usable) declaration, and not UTF-8, Python's default: point at the byte
            return Unparsable(
                _position_of_byte(data, undecodable.start),
                f"file is not valid utf-8: cannot decode byte 0x{data[undecodable.start]:02x}",
            )
        return Unparsable(_span_at(1, 1), f"invalid encoding declaration: {error.msg}")
    has_bom = data.startswith(codecs.BOM_UTF8)
    payload = data[len(codecs.BOM_UTF8):] if has_bom else data
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        text = payload.decode(codec)
    except UnicodeDecodeError as error:
        offset = error.start + (len(codecs.BOM_UTF8) if has_bom else 0)
        return Unparsable(
            _position_of_byte(data, offset),
            f"file is not valid {codec}: cannot decode byte 0x{payload[error.start]:02x}",
        )
    if _max_bracket_depth(text) > _SAFE_BRACKET_DEPTH:
        # libcst's native parser recurses per bracket and can overflow the C stack on
        # pathological nesting; CPython refuses such code anyway (its limit is 200), so let
        # CPython's parser give the verdict first.
        try:
            ast.parse(text)
        except SyntaxError as error:
            return Unparsable(
                _span_at(error.lineno or 1, max(error.offset or 1, 1)), f"syntax error: {error.msg}"
            )
        except (ValueError, RecursionError, MemoryError):
            return Unparsable(_span_at(1, 1), "syntax error: too deeply nested for Python's parser")
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _syntax_error(text, error)
    except (RecursionError, MemoryError) as error:  # pathological nesting
        return Unparsable(_span_at(1, 1), f"cannot parse: {type(error).__name__}")
    return PythonSource(text=text, encoding=codec, has_bom=has_bom, module=module)



def _syntax_error(text: str, error: cst.ParserSyntaxError) -> Unparsable:
    """Python's own parser places most errors better than libcst's (at the missing ``:``
    rather than at the next token), so ask it first; it only builds an AST, runs nothing."""
    try:
        ast.parse(text)
    except SyntaxError as python_error:
        if python_error.lineno:
            column = max(python_error.offset or 1, 1)
            return Unparsable(_span_at(python_error.lineno, column), f"syntax error: {python_error.msg}")
    except (ValueError, RecursionError, MemoryError):
        pass
    line = max(error.raw_line, 1)
    return Unparsable(_span_at(line, error.raw_column + 1), f"syntax error: {error.message}")
