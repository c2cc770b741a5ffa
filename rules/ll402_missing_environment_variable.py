"""LL402 missing-environment-variable."""

from __future__ import annotations

from typing import List, Optional, Set, Tuple

import libcst as cst

from lambdalint.model import Related, Severity
from lambdalint.project import LAMBDA_RESERVED_ENVIRONMENT, in_main_block
from lambdalint.python.analysis import FunctionInfo
from lambdalint.rule import Example, PythonRule

_TEMPLATE = (
    "Transform: AWS::Serverless-2016-10-31\n"
    "Globals:\n"
    "  Function:\n"
    "    Runtime: python3.12\n"
    "    Timeout: 10\n"
    "    Environment:\n"
    "      Variables:\n"
    "        LOG_LEVEL: INFO\n"
    "Resources:\n"
    "  Orders:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties:\n"
    "      CodeUri: src/\n"
    "      Handler: app.handler\n"
    "      Environment:\n"
    "        Variables:\n"
    "          TABLE_NAME: !Ref Table\n"
    "  Table:\n"
    "    Type: AWS::DynamoDB::Table\n"
)


#: where a function's variables are defined, in each format's words
_WHERE = {
    "sam": "in the function's Environment.Variables (or Globals)",
    "cloudformation": "in the function's Environment.Variables",
    "serverless": "in the function's `environment` (or `provider.environment`)",
    "terraform": "in the function's `environment { variables = ... }` block",
}


class MissingEnvironmentVariable(PythonRule):
    """Code reads an environment variable that the function's template does not define.

    ## What it does
    For handlers that a template names (SAM/CloudFormation, Serverless, Terraform), flags
    `os.environ["NAME"]` reads — at module scope, in the handler, or in any function the
    handler calls, also in the project's other modules that it imports and calls per
    invocation (and at the module scope of those, which runs at its cold start) — of a variable that the template does not define for that function
    (Globals and Serverless `provider.environment` included). Reads with a default
    (`os.environ.get("NAME", ...)`, `os.getenv`), reads inside `try` or after an `if` that
    checks the variable in the same function, variables that the module sets itself
    (`os.environ["NAME"] = ...`, `setdefault`; `os.environ.update` and dotenv silence the
    whole module), variables that Lambda
    sets itself (`AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, ...) and functions whose environment
    is not fully known (a whole map from a parameter or a file) are not flagged, nor is code
    under `if __name__ == "__main__":`, which Lambda never runs.

    ## Why is this bad in Lambda
    The missing variable raises `KeyError`: at module scope it fails every cold start
    (`Runtime.ImportModuleError`), in the handler every invocation. Tests usually set the
    variable, so only the deployed function breaks.

    ## Example
    ```python
    BUCKET = os.environ["OUTPUT_BUCKET"]   # the template defines only TABLE_NAME
    ```

    ## Use instead
    ```yaml
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        OUTPUT_BUCKET: !Ref Output
    ```

    ## Fix safety
    No automatic fix: the value belongs in the template, and only the author knows it.
    """

    id = "LL402"
    name = "missing-environment-variable"
    severity = Severity.ERROR

    INVALID = (
        Example(
            "import os\n\nBUCKET = os.environ['OUTPUT_BUCKET']\n\n\ndef handler(event, context):\n"
            "    table = os.environ['TABLE_NAME']\n    return helper(table)\n\n\n"
            "def helper(table):\n    return os.environ['QUEUE_URL'], table\n",
            lines=(3, 12),
            path="src/app.py",
            files={"template.yaml": _TEMPLATE},
        ),
    )
    VALID = (
        Example(
            "import os\nfrom os import environ as env\n\nLEVEL = os.environ['LOG_LEVEL']\n"
            "REGION = os.environ['AWS_REGION']\nOPTIONAL = os.environ.get('FEATURE_FLAG', 'off')\n"
            "ALSO = os.getenv('OTHER')\n\n\ndef handler(event, context):\n"
            "    try:\n        debug = os.environ['DEBUG']\n    except KeyError:\n        debug = ''\n"
            "    return env['TABLE_NAME'], debug\n\n\ndef unused():\n    return os.environ['NOT_SET']\n",
            path="src/app.py",
            files={"template.yaml": _TEMPLATE},
        ),
        # no template names this module: nothing to compare with
        Example("import os\nBUCKET = os.environ['OUTPUT_BUCKET']\n\ndef handler(event, context):\n    return BUCKET\n"),
        # the whole environment comes from a parameter: not fully known
        Example(
            "import os\n\ndef handler(event, context):\n    return os.environ['ANYTHING']\n",
            path="src/app.py",
            files={"template.yaml": _TEMPLATE.replace(
                "      Environment:\n        Variables:\n          TABLE_NAME: !Ref Table\n",
                "      Environment: !Ref EnvironmentMap\n",
            )},
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reads: List[Tuple[str, cst.Subscript, Optional[FunctionInfo]]] = []
        #: variables the module sets itself (``os.environ["X"] = ...``, ``setdefault``)
        self._set: Set[str] = set()
        #: the module fills the environment in ways we cannot list (``update``, dotenv)
        self._filled_unknown = False
        #: (function qualname or None, variable) tested by an ``if`` in that scope
        self._tested: Set[Tuple[Optional[str], str]] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if not (self.facts.links or self.facts.entries):
            return
        names = self.qualified_names(node.func)
        if any(n.startswith("dotenv.") for n in names) or "os.environ.update" in names:
            self._filled_unknown = True
        elif "os.environ.setdefault" in names and node.args and isinstance(node.args[0].value, cst.SimpleString):
            value = node.args[0].value.evaluated_value
            if isinstance(value, str):
                self._set.add(value)

    def visit_If(self, node: cst.If) -> None:
        """``if "X" not in os.environ: return`` and ``if not os.environ.get("X"): raise``: the
        author checks the variable before reading it (anywhere in this scope)."""
        if not (self.facts.links or self.facts.entries):
            return
        test = self.facts.module.code_for_node(node.test)
        if "environ" not in test and "getenv" not in test:
            return
        scope = self.current_function.qualname if self.current_function is not None else None
        for string in _strings(node.test):
            self._tested.add((scope, string))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not (self.facts.links or self.facts.entries) or "os.environ" not in self.qualified_names(node.value):
            return
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        key = node.slice[0].slice.value
        if not isinstance(key, cst.SimpleString):
            return
        name = key.evaluated_value
        if isinstance(name, str) and name not in LAMBDA_RESERVED_ENVIRONMENT:
            self._reads.append((name, node, self.current_function))

    def finish(self) -> None:
        if self._filled_unknown:
            return
        for name, node, function in self._reads:
            if self._is_assignment_target(node, function):
                self._set.add(name)
        for name, node, function in self._reads:
            scope = function.qualname if function is not None else None
            if name in self._set or (scope, name) in self._tested or self._guarded(node, function):
                continue
            if function is None and in_main_block(self.facts, node):
                continue  # `if __name__ == "__main__":` never runs in Lambda
            if self._is_assignment_target(node, function):
                continue
            lacking = [
                link for link in self.facts.links_running(function)
                if link.environment is not None and name not in link.environment
            ]
            if not lacking:
                continue
            names = ", ".join(f"`{link.logical_id}` ({link.location})" for link in lacking)
            where = "at every cold start" if self.facts.runs_at_import(function) else "when this line runs"
            self.report(
                node,
                f"`{name}` is not in the environment of {names}: `os.environ` raises KeyError {where}",
                hint=f"define `{name}` {_WHERE.get(lacking[0].template_format, _WHERE['sam'])}, or read it with `os.environ.get`",
                related=[
                    Related(link.template_path, link.span, f"function `{link.logical_id}` defines no `{name}`")
                    for link in lacking
                ],
            )

    def _scope(self, function: Optional[FunctionInfo]) -> cst.CSTNode:
        return function.node if function is not None else self.facts.module

    def _guarded(self, node: cst.CSTNode, function: Optional[FunctionInfo]) -> bool:
        """Inside a ``try`` (the KeyError may be handled) or an ``if`` that tests the variable."""
        scope = self._scope(function)
        child, parent = node, self.facts.parent_of(node, scope)
        while parent is not None:
            if isinstance(parent, cst.Try) and child is parent.body:
                return True
            if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test and "environ" in self.facts.module.code_for_node(parent.test):
                return True
            child, parent = parent, self.facts.parent_of(parent, scope)
        return False

    def _is_assignment_target(self, node: cst.CSTNode, function: Optional[FunctionInfo]) -> bool:
        """``os.environ["X"] = ...`` sets the variable; it does not read it."""
        parent = self.facts.parent_of(node, self._scope(function))
        if isinstance(parent, cst.AssignTarget) or isinstance(parent, cst.Del):
            return True
        return isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node


def _strings(node: cst.CSTNode) -> List[str]:
    """The string literals in an expression."""
    found: List[str] = []

    class _Collect(cst.CSTVisitor):
        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            value = string.evaluated_value
            if isinstance(value, str):
                found.append(value)

    node.visit(_Collect())
    return found
