"""Line and column of nodes, as libcst's ``PositionProvider`` gives them, for less.

``PositionProvider`` regenerates the module's code and, for every token, splits it on newlines
to keep a running line and column, and for every node builds two ``CodePosition`` objects and a
``CodeRange``: about a third of a file's time once it has a finding. Here the code is
regenerated with only a mark per node (the number of tokens emitted before and after it);
a mark becomes a line and column when a rule asks for that node, by a binary search over the
offsets of the newlines. The ranges are the same as libcst's (syntactic positions: a node's
own overrides, the trailing newline of the file counted).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from contextlib import contextmanager
from itertools import accumulate
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")


class _Marks(CodegenState):
    """A codegen state that records, per node, the token counts at its start and end."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.ranges: Dict[cst.CSTNode, Tuple[int, int]] = {}
        self._starts: List[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.ranges:  # a syntactic range recorded inside wins
            self.ranges[node] = (start, len(self.tokens))

    def pop_trailing_newline(self) -> None:
        """Kept: libcst's positions count the file's last newline although the code drops it."""

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        start = len(self.tokens)
        try:
            yield
        finally:
            end = len(self.tokens)
            if start_node is not None:
                start = self.ranges[start_node][0]
            if end_node is not None:
                end = self.ranges[end_node][1]
            self.ranges[node] = (start, end)


class Positions:
    """node -> ``CodeRange`` for every node of ``module`` (``KeyError`` for a node without one,
    as with libcst's provider)."""

    def __init__(self, module: cst.Module) -> None:
        marks = _Marks(module)
        module._codegen(marks)
        self._ranges = marks.ranges
        tokens = marks.tokens
        self._offsets = [0, *accumulate(map(len, tokens))]
        # libcst counts newlines token by token; a newline token is never split in two, so
        # counting them on the joined text gives the same lines (``\r\n``, ``\r`` and ``\n``)
        text = "".join(tokens)
        self._line_starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]

    def _position(self, index: int) -> CodePosition:
        offset = self._offsets[index]
        line = bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start, end = self._ranges[node]
        return CodeRange(self._position(start), self._position(end))

    def __contains__(self, node: object) -> bool:
        return node in self._ranges

