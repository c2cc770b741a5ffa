"""lambdalint.python.names: our own name resolution, which replaced libcst's ScopeProvider and
QualifiedNameProvider. Its answers are pinned case by case, and compared node for node with
libcst's on programs that exercise every kind of scope and binding."""

from __future__ import annotations

import textwrap
from typing import Dict, List, Optional, Set

import libcst as cst
import pytest
from libcst.metadata import (
    Assignment,
    MetadataWrapper,
    ParentNodeProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from lambdalint.python import values
from lambdalint.python.names import ModuleNames, parent_map


def parse(code: str) -> cst.Module:
    return cst.parse_module(textwrap.dedent(code))


def calls(module: cst.Module) -> Dict[str, cst.Call]:
    """Every call of the module by its source text (the last one wins)."""
    found: Dict[str, cst.Call] = {}

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            found[module.code_for_node(node)] = node

    module.visit(Finder())
    return found


def names_of(code: str) -> Dict[str, Set[str]]:
    """call text -> the qualified names of its callee."""
    module = parse(code)
    resolver = ModuleNames(module)
    return {text: resolver.qualified_names(call.func) for text, call in calls(module).items()}


def test_imports_aliases_relative_and_dotted():
    found = names_of(
        """
        import boto3
        import botocore.config as bc
        import os.path
        from requests import Session as S
        from .helpers import load
        from ..pkg.mod import thing
        from . import sibling
        boto3.client("s3")
        bc.Config()
        os.path.join("a")
        S()
        load()
        thing()
        sibling.run()
        """
    )
    assert found['boto3.client("s3")'] == {"boto3.client"}
    assert found["bc.Config()"] == {"botocore.config.Config"}
    assert found['os.path.join("a")'] == {"os.path.join"}
    assert found["S()"] == {"requests.Session"}
    assert found["load()"] == {".helpers.load"}
    assert found["thing()"] == {"..pkg.mod.thing"}
    assert found["sibling.run()"] == {".sibling.run"}


def test_a_parameter_shadows_the_module_it_is_named_after():
    found = names_of(
        """
        import requests

        def handler(event, requests):
            requests.get(event)

        def other():
            requests.post("u")
        """
    )
    assert found["requests.get(event)"] == {"handler.<locals>.requests.get"}
    assert found['requests.post("u")'] == {"requests.post"}


def test_conditional_bindings_give_several_names():
    found = names_of(
        """
        try:
            from ujson import loads
        except ImportError:
            from json import loads

        def handler(event, context):
            return loads(event)
        """
    )
    assert found["loads(event)"] == {"ujson.loads", "json.loads"}


def test_module_functions_methods_locals_and_builtins():
    found = names_of(
        """
        class Handler:
            def handle(self, event):
                return enumerate(event)

        def outer():
            def inner():
                pass
            inner()
            return Handler().handle({})
        """
    )
    assert found["enumerate(event)"] == {"builtins.enumerate"}
    assert found["inner()"] == {"outer.<locals>.inner"}
    assert found["Handler()"] == {"Handler"}
    assert found["Handler().handle({})"] == {"Handler.handle"}


def test_class_bodies_are_not_seen_from_methods_and_comprehensions_have_their_own_scope():
    found = names_of(
        """
        from app import make

        class K:
            make = staticmethod(lambda: 1)

            def method(self):
                return make()

        values = [make() for make in (len,)]
        """
    )
    assert found["make()"] == {"<comprehension>.make"}
    module = parse(
        """
        from app import make

        class K:
            make = staticmethod(lambda: 1)

            def method(self):
                return make()
        """
    )
    call = calls(module)["make()"]
    assert ModuleNames(module).qualified_names(call.func) == {"app.make"}


def test_global_sends_a_function_binding_to_the_module():
    module = parse(
        """
        import boto3
        client = None

        def handler(event, context):
            global client
            client = boto3.client("s3")
            return client.get_object()
        """
    )
    resolver = ModuleNames(module)
    call = calls(module)["client.get_object()"]
    assert resolver.qualified_names(call.func) == {"client.get_object"}
    # two module-level bindings (None and the client): not a single assignment
    assert resolver.single_binding(call.func.value) is None


def read(module: cst.Module, name: str, occurrence: int = -1) -> cst.Name:
    """The ``occurrence``-th Name node ``name`` that is read (in source order)."""
    found: List[cst.Name] = []
    resolver = ModuleNames(module)

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name and resolver.referents(node) is not None:
                found.append(node)

    module.visit(Finder())
    return found[occurrence]


def bound_value(code: str, name: str, occurrence: int = -1) -> Optional[str]:
    """What :func:`values.single_assignment` says the read of ``name`` is bound to."""
    module = parse(code)
    resolver = ModuleNames(module)
    parents = parent_map(module)

    def get_metadata(key, node, default=None):
        return resolver if key is ModuleNames else parents.get(node, default)

    value = values.single_assignment(read(module, name, occurrence), get_metadata)
    return None if value is None else module.code_for_node(value)


def test_single_binding_is_the_one_assignment_made_before_the_read():
    code = """
        TABLE = "orders"
        print(TABLE)
        TABLE = "other"
        print(TABLE)

        def handler(event, context):
            return TABLE
        """
    assert bound_value(code, "TABLE", 0) == '"orders"'
    # after the second assignment both are seen; a function sees every module binding
    assert bound_value(code, "TABLE", 1) is None
    assert bound_value(code, "TABLE", 2) is None


def test_single_binding_refuses_parameters_imports_loops_and_rebinding():
    assert bound_value("from x import T\nprint(T)\n", "T") is None
    assert bound_value("def f(T):\n    return T\n", "T") is None
    assert bound_value("for T in x:\n    print(T)\n", "T") is None
    assert bound_value("T = 1\nT += 1\nprint(T)\n", "T") is None
    assert bound_value("def f():\n    T = make()\n    return T\n", "T") == "make()"


@pytest.mark.parametrize(
    "code",
    [
        """
        import os.path, a.b.c as abc
        from . import sibling
        from ..pkg.mod import thing as other
        from typing import *
        import requests
        x = 1
        def f(requests, *args, y=x, **kw):
            global client
            client = requests.Session()
            z = [requests for requests in args if requests]
            w = (q := 3)
            lam = lambda requests=requests: requests.get
            def g():
                nonlocal z
                z = 2
                return z, x, client, os.path.join("a"), abc.d, sibling.s, other.o
            class K:
                requests = 1
                def m(self): return requests, self.requests
            for i, (j, *k) in enumerate(args): print(i, j, k)
            with open(x) as fh, open(y) as (a, b): print(fh, a)
            try: pass
            except ValueError as err: print(err)
            del x
            return g
        x = x + 1
        print(x, requests.get, "a".join, str.join(",", []), f()[0].attr, f(1).g.h)
        class C(Base, metaclass=Meta):
            attr = requests
            def method(self, event, context): return attr, C.method, self.method
            @staticmethod
            @functools.lru_cache(maxsize=1)
            def s(): return requests.post(url, timeout=1)
        total = 0
        total += 1
        ann: int = 5
        if cond:
            from boto3 import client as make
        else:
            def make(): pass
        make("s3")
        def late(): return later_name
        later_name = os.environ["X"]
        d = {k: v for k, v in items.items() if k for v2 in v}
        g = (n for n in range(3))
        """,
        """
        def handler(event, context):
            print(records)
            records = event["Records"]
            total = sum(r["n"] for r in records)
            records = [r for r in records if r]
            return records, total
        """,
    ],
)
def test_same_answers_as_libcst(code):
    module = parse(code)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    qualified = wrapper.resolve(QualifiedNameProvider)
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    resolver = ModuleNames(module)
    ours = parent_map(module)
    checked = 0
    for node in list(qualified):
        if not isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.FunctionDef, cst.ClassDef)):
            continue
        value = qualified[node]
        value = value() if callable(value) else value
        assert resolver.qualified_names(node) == {q.name for q in value}, module.code_for_node(node)
        assert resolver.imported_names(node) == {
            q.name for q in value if q.source is QualifiedNameSource.IMPORT
        }, module.code_for_node(node)
        if isinstance(node, cst.Name):
            assert resolver.single_binding(node) is _libcst_single(scopes.get(node), node)
        assert ours.get(node) is parents.get(node)
        checked += 1
    assert checked > 20


def _libcst_single(scope, name: cst.Name) -> Optional[cst.Name]:
    if scope is None or name.value not in scope.accesses:
        return None
    referents: Set[object] = set()
    found = False
    for access in scope.accesses[name.value]:
        if access.node is name:
            found = True
            referents |= set(access.referents)
    if not found or len(referents) != 1:
        return None
    (assignment,) = referents
    if not isinstance(assignment, Assignment) or not isinstance(assignment.node, cst.Name):
        return None
    return assignment.node
