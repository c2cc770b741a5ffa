"""lambdalint.python.positions gives every node the range libcst's PositionProvider gives it."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from lambdalint.python.positions import Positions

CODE = '''\
"""Doc."""
import boto3  # comment

@decorator(
    arg=1,
)
async def handler(event, context) -> dict:
    s3 = (boto3
          .client("s3"))
    text = """two
lines"""
    if (x := event.get("a")) and x[0]:
        return {"k": [i for i in x], **event}
    return f"{text!r:>{10}}" + 'b' 'c'

class K(Base, metaclass=M):
    a: int = 1; b = 2
    def m(self, *args, y=3, **kw): pass
'''


@pytest.mark.parametrize(
    "code",
    [
        CODE,
        CODE.rstrip("\n"),  # no trailing newline
        CODE.replace("\n", "\r\n"),  # CRLF
        'x = 1\r\ny = "a\\\r\nb"\rz = 3\r\n',  # mixed newlines, one inside a string
        "",
        "\n\n# only a comment\n",
    ],
)
def test_same_ranges_as_libcst(code):
    module = cst.parse_module(code)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    assert len(expected) > 0
    for node, code_range in expected.items():
        assert positions[node] == code_range, type(node).__name__


def test_a_node_of_another_module_has_no_position():
    positions = Positions(cst.parse_module("x = 1\n"))
    with pytest.raises(KeyError):
        positions[cst.Name("x")]


def test_without_lambdalint_positions_libcst_provider_answers_the_same(monkeypatch):
    """positions.py uses libcst internals (CodegenState, CodePosition); should a libcst release
    move them, the analysis falls back to libcst's PositionProvider with the same answers."""
    from lambdalint.python import analysis
    from lambdalint.python.analysis import ModuleFacts

    code = "import boto3\n\n\ndef handler(event, context):\n    s3 = boto3.client('s3')\n    return s3\n"
    module = cst.parse_module(code)
    call = module.body[1].body.body[0].body[0].value
    ours = ModuleFacts("app.py", code, module).position_of(call)
    monkeypatch.setattr(analysis, "Positions", None)
    fallback = ModuleFacts("app.py", code, module).position_of(call)
    assert (ours.start.line, ours.start.column, ours.end.line, ours.end.column) == (5, 9, 5, 27)
    assert fallback == ours
