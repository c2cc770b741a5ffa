"""LL401 handler-not-found."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from lambdalint.model import Related, Severity, Span
from lambdalint.project import LinkedFunction, closest_name
from lambdalint.rule import Example, PythonRule

_SAM = (
    "Transform: AWS::Serverless-2016-10-31\n"
    "Resources:\n"
    "  Orders:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties:\n"
    "      CodeUri: src/\n"
    "      Handler: {handler}\n"
    "      Runtime: python3.12\n"
    "      Timeout: 10\n"
)


class HandlerNotFound(PythonRule):
    """A template names a handler that does not exist, or cannot be called as one.

    ## What it does
    Follows every function's `Handler` in a SAM/CloudFormation template (with its `CodeUri`),
    a `serverless.yml` (relative to the file) or Terraform (`handler` with the `archive_file`
    the function is built from) to the Python file and function it names, and reports at the
    template's `Handler` line when:

    - the code folder or the module file does not exist (the hint names the closest module);
    - the module defines no such function (the hint names the closest one);
    - the function cannot take Lambda's two positional arguments `(event, context)`, or is
      `async def` (the Python runtime calls the handler without awaiting it);
    - the handler module is loaded as a top-level module (`Handler: api.handler`, not
      `orders/api.handler` or `orders.api.handler`) but imports relatively at module scope
      (`from .db import save`): reported at the import, since Python raises `ImportError:
      attempted relative import with no known parent package` at every cold start. An import
      inside `try:` (the usual fallback to an absolute import) or under an `if` is not flagged.

    Functions whose code is elsewhere (an S3 URI, a container image, a zip built by another
    tool, a build folder not built yet), inline code, and runtimes other than Python are not
    checked; nor is a missing name in a module that makes names dynamically (`import *`,
    `globals()`, `exec`, a module `__getattr__`). A function's `Metadata` ignore list applies.

    ## Why is this bad in Lambda
    The deployment succeeds, and every invocation then fails with `Runtime.ImportModuleError`
    or `Runtime.HandlerNotFound` — usually discovered in production, after a rename or a move
    that the template did not follow.

    ## Example
    ```yaml
    Handler: app.lambda_handler   # but src/app.py defines `handler`
    ```

    ## Use instead
    ```yaml
    Handler: app.handler
    ```

    ## Fix safety
    No automatic fix: whether the template or the code is wrong is the author's call.
    """

    id = "LL401"
    name = "handler-not-found"
    severity = Severity.ERROR

    INVALID = (
        Example(
            _SAM.format(handler="app.lambda_handler"),
            lines=(7,),
            path="template.yaml",
            files={"src/app.py": "def handler(event, context):\n    return 1\n"},
        ),
        Example(
            _SAM.format(handler="orders.handler"),
            lines=(7,),
            path="template.yaml",
            files={"src/order.py": "def handler(event, context):\n    return 1\n"},
        ),
        Example(
            _SAM.format(handler="app.handler"),
            lines=(7,),
            path="template.yaml",
            files={"src/app.py": "def handler(event):\n    return 1\n"},
        ),
        Example(
            _SAM.format(handler="app.handler"),
            lines=(7,),
            path="template.yaml",
            files={"src/app.py": "async def handler(event, context):\n    return 1\n"},
        ),
        Example(
            _SAM.format(handler="app.handler").replace("CodeUri: src/", "CodeUri: source/"),
            lines=(7,),
            path="template.yaml",
            files={"src/app.py": "def handler(event, context):\n    return 1\n"},
        ),
        Example(
            "service: orders\nprovider:\n  name: aws\n  runtime: python3.12\n  timeout: 10\n"
            "functions:\n  create:\n    handler: src/handlers/orders.create\n",
            lines=(8,),
            path="serverless.yml",
            files={"src/handlers/orders.py": "def create_order(event, context):\n    return 1\n"},
        ),
        # a top-level handler module that imports relatively
        Example(
            "from .db import save\n\n\ndef handler(event, context):\n    return save()\n",
            lines=(1,),
            path="src/api.py",
            files={"template.yaml": _SAM.format(handler="api.handler"), "src/db.py": "def save():\n    return 1\n"},
        ),
    )
    VALID = (
        # the same import where Lambda loads the module through its package, or as a fallback
        Example(
            "from .db import save\n\n\ndef handler(event, context):\n    return save()\n",
            path="src/pkg/api.py",
            files={"template.yaml": _SAM.format(handler="pkg/api.handler"), "src/pkg/db.py": "def save():\n    return 1\n"},
        ),
        Example(
            "try:\n    from .db import save\nexcept ImportError:\n    from db import save\n\n\n"
            "def handler(event, context):\n    return save()\n",
            path="src/api.py",
            files={"template.yaml": _SAM.format(handler="api.handler"), "src/db.py": "def save():\n    return 1\n"},
        ),
        Example(
            _SAM.format(handler="app.handler"),
            path="template.yaml",
            files={"src/app.py": "def handler(event, context):\n    return 1\n"},
        ),
        # dotted packages, an alias of a class-based handler, a re-exported function
        Example(
            _SAM.format(handler="pkg.api.handler") + _SAM.format(handler="worker.main").replace(
                "Transform: AWS::Serverless-2016-10-31\nResources:\n", ""
            ).replace("  Orders:", "  Worker:") + _SAM.format(handler="reexport.handler").replace(
                "Transform: AWS::Serverless-2016-10-31\nResources:\n", ""
            ).replace("  Orders:", "  Again:"),
            path="template.yaml",
            files={
                "src/pkg/__init__.py": "",
                "src/pkg/api.py": "def handler(event, context, *rest):\n    return 1\n",
                "src/worker.py": "class Worker:\n    def run(self, event, context):\n        return 1\n\nmain = Worker().run\n",
                "src/reexport.py": "from pkg.api import handler\n",
            },
        ),
        # code that is not on this disk, and another runtime
        Example(
            _SAM.format(handler="app.handler").replace("CodeUri: src/", "CodeUri: s3://bucket/app.zip")
            + "  Node:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            "      CodeUri: web/\n      Handler: index.handler\n      Runtime: nodejs20.x\n      Timeout: 5\n",
            path="template.yaml",
        ),
        # defaults for the extra parameters are fine
        Example(
            _SAM.format(handler="app.handler"),
            path="template.yaml",
            files={"src/app.py": "def handler(event, context=None, debug=False):\n    return 1\n"},
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        #: the module makes names in ways we cannot list (`import *`, `globals()`, `exec`,
        #: a module `__getattr__`): a missing name is not certain
        self._dynamic_names = False
        #: relative imports that are statements of the module itself (not in try/if/def)
        self._relative_imports: list = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            self._dynamic_names = True
        if node.relative and self.current_function is None:
            line = self.parent_of(node)
            if isinstance(line, cst.SimpleStatementLine) and isinstance(self.parent_of(line), cst.Module):
                self._relative_imports.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value in ("globals", "exec"):
            self._dynamic_names = True

    def finish(self) -> None:
        if not self.facts.links:
            return
        if "__getattr__" in self.facts.module_level_names or any(
            f.name == "__getattr__" and f.is_module_level for f in self.facts.functions.values()
        ):
            self._dynamic_names = True
        functions = {f.name: f for f in self.facts.functions.values() if f.is_module_level}
        defined = set(functions) | self.facts.module_level_names | {
            c for c in self.facts.classes if "." not in c
        }
        for link in self.facts.links:
            if self.id in link.suppressed:
                continue  # the function's Metadata (reported at its template line) says so
            problem = self._problem(link, functions, defined)
            if problem is not None:
                message, hint, related = problem
                self.report_at(link.template_path, link.handler_span, message, hint=hint, related=[related])
        top_level = [link for link in self.facts.links if self.id not in link.suppressed and link.loads_top_level]
        if top_level and self._relative_imports:
            link = top_level[0]
            module = link.handler_module
            for node in self._relative_imports:
                statement = self.facts.module.code_for_node(node)
                self.report(
                    node,
                    f"`{statement}` fails when Lambda loads `{module}` as a top-level module (Handler "
                    f"`{link.handler}` of `{link.logical_id}`): ImportError at every cold start",
                    hint="import absolutely (as the code folder is on sys.path), or name the handler "
                    "through its package (`orders/api.handler`, with the code folder one level up)",
                    related=[Related(link.template_path, link.handler_span, f"Handler of `{link.logical_id}`")],
                )

    def _problem(self, link: LinkedFunction, functions, defined) -> Optional[tuple]:
        """(message, hint, the place in the Python file that explains it), or None."""
        where = f"Handler `{link.handler}` of `{link.logical_id}`"
        if link.function not in defined:
            if self._dynamic_names:
                return None
            close = closest_name(link.function, functions)
            if close:
                return (
                    f"{where}: {self.facts.path} defines no `{link.function}`",
                    f"did you mean `{close}`?",
                    Related(self.facts.path, self.span_of(functions[close].node.name), f"`{close}` is defined here"),
                )
            return (
                f"{where}: {self.facts.path} defines no `{link.function}`",
                f"define `{link.function}(event, context)` in {self.facts.path}",
                Related(self.facts.path, Span(1, 1, 1, 1), "the module the handler names"),
            )
        function = functions.get(link.function)
        if function is None:
            return None  # an alias or an import: Lambda's getattr finds it, its shape is not ours to see
        node = function.node
        here = Related(self.facts.path, self.span_of(node.name), f"`{link.function}` is defined here")
        if node.asynchronous is not None:
            return (
                f"{where}: `{link.function}` is `async def`; the Python runtime calls it without awaiting",
                "make the handler a plain function that runs the coroutine: `asyncio.run(main(event, context))`",
                here,
            )
        if not _accepts_event_and_context(node.params):
            return (
                f"{where}: `{link.function}` cannot be called with Lambda's two arguments (event, context)",
                "give the handler the signature `(event, context)`",
                here,
            )
        return None


def _accepts_event_and_context(params: cst.Parameters) -> bool:
    positional = list(params.posonly_params) + list(params.params)
    required = [p for p in positional if p.default is None]
    if len(required) > 2 or any(p.default is None for p in params.kwonly_params):
        return False
    return len(positional) >= 2 or isinstance(params.star_arg, cst.Param)
