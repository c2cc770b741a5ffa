"""The project model: every template function linked to the Python function that implements it.

Templates are read first; each function's ``Handler`` (with its ``CodeUri``, the folder of
``serverless.yml``, or Terraform's ``archive_file`` source) names a Python file and a function
in it. What the template knows (triggers, environment, timeout, permissions) then travels to
the code rules as :class:`LinkedFunction` values — small, picklable summaries, so that worker
processes receive them with the file they lint.

::

    template.yaml                               src/orders/app.py
    ─────────────                               ─────────────────
    OrdersFunction:                             import os, boto3
      CodeUri: src/orders/      ─── links ──►   TABLE = os.environ["TABLE"]   ◄─ LL402 if the
      Handler: app.handler                                                        template lacks it
      Environment: {TABLE: ...} ─ environment ─►
      Events: {Queue: SQS}      ─ triggers ────► def handler(event, context):  ◄─ LL303 knows SQS
      Policies: [S3ReadPolicy]  ─ permissions ─►     s3.put_object(...)        ◄─ LL403 not allowed
                                                   ◄─ LL401 when the file or function is missing
"""

from __future__ import annotations

import difflib
import hashlib
import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from glob import escape as glob_escape
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple, Union

from lambdalint.iac.model import EventSource, Function, Located, Permissions, Reference, Template, possibilities
from lambdalint.model import Span

#: environment variables that Lambda itself sets for every function
LAMBDA_RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT", "AWS_LAMBDA_LOG_FORMAT",
        "AWS_LAMBDA_LOG_LEVEL", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "PYTHONPATH",
    }
)

#: AWS managed policies whose grants are simple enough to know by heart
MANAGED_POLICY_ACTIONS: Dict[str, Tuple[str, ...]] = {
    "AdministratorAccess": ("*",),
    "AWSLambdaBasicExecutionRole": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
    "AWSLambdaSQSQueueExecutionRole": (
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    ),
    "AWSLambdaKinesisExecutionRole": (
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
        "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams", "kinesis:SubscribeToShard",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    ),
    "AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    ),
    "AWSXRayDaemonWriteAccess": (
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
        "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries",
    ),
    "AmazonS3FullAccess": ("s3:*", "s3-object-lambda:*"),
    "AmazonS3ReadOnlyAccess": ("s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"),
    "AmazonDynamoDBFullAccess": ("dynamodb:*",),
    "AmazonDynamoDBReadOnlyAccess": ("dynamodb:BatchGet*", "dynamodb:Describe*", "dynamodb:Get*", "dynamodb:List*", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect"),
    "AmazonSQSFullAccess": ("sqs:*",),
    "AmazonSNSFullAccess": ("sns:*",),
}


#: what SAM and the Serverless Framework add to a function's generated role by themselves: the
#: basic execution role always, and the poller's permissions for each polled event source
_IMPLIED_BY_EVENT = {
    "sqs": "AWSLambdaSQSQueueExecutionRole",
    "kinesis": "AWSLambdaKinesisExecutionRole",
    "dynamodb": "AWSLambdaDynamoDBExecutionRole",
}


@dataclass(frozen=True)
class Trigger:
    kind: str
    name: str
    path: str
    span: Span
    #: e.g. "queue `OrdersQueue`": what the event source names, for messages
    source: str = ""
    #: S3 key filters ("" when there is none); ``filters_known`` is False when one is not static
    prefix: str = ""
    suffix: str = ""
    filters_known: bool = True
    #: an object written to the bucket can fire it (False for ObjectRemoved-only triggers)
    fires_on_new_objects: bool = True
    #: the resource it names: a template logical id (``!Ref Uploads``) or a literal name
    source_target: str = ""

    def may_match(self, key_prefix: str, key_suffix: str) -> bool:
        """Whether a key written with this literal prefix/suffix can pass the trigger's filter
        (True when the filter is not known)."""
        if not self.filters_known:
            return True
        if self.prefix and key_prefix and not (key_prefix.startswith(self.prefix) or self.prefix.startswith(key_prefix)):
            return False
        if self.suffix and key_suffix and not (key_suffix.endswith(self.suffix) or self.suffix.endswith(key_suffix)):
            return False
        return True


@dataclass(frozen=True)
class LinkedFunction:
    """What the code side needs to know about one template function."""

    template_path: str
    logical_id: str
    span: Span
    handler: str
    handler_span: Span
    #: absolute, normalised path of the Python file the handler names
    module_file: str
    function: str
    triggers: Tuple[Trigger, ...] = ()
    #: the names of its environment variables; ``None`` when not fully known
    environment: Optional[FrozenSet[str]] = None
    #: the variables whose value is a literal string: (name, value)
    environment_values: Tuple[Tuple[str, str], ...] = ()
    #: the variables whose value names a resource of the template (``!Ref Bucket``): (name, id)
    environment_refs: Tuple[Tuple[str, str], ...] = ()
    timeout: Optional[int] = None
    #: the IAM actions (patterns) its policies allow; ``None`` when not fully known
    allowed_actions: Optional[Tuple[str, ...]] = None
    #: a hash of the template's text: a cached result of the linked code depends on it
    template_digest: str = ""
    #: "sam", "cloudformation", "serverless" or "terraform": for hints in the template's words
    template_format: str = ""
    #: rule ids the template suppresses for this function (resource or top-level Metadata)
    suppressed: FrozenSet[str] = frozenset()

    @property
    def location(self) -> str:
        return f"{self.template_path}:{self.span.line}"

    @property
    def handler_module(self) -> str:
        """The module part of the handler as written (``orders/api`` of ``orders/api.handler``)."""
        return self.handler.rpartition(".")[0]

    @property
    def loads_top_level(self) -> bool:
        """Whether Lambda imports the module as a top-level one (``api.handler``), not through
        a package (``orders/api.handler``, ``orders.api.handler``): then it has no parent
        package for relative imports."""
        return not any(mark in self.handler_module for mark in "./")


@dataclass(frozen=True)
class MissingHandler:
    """A handler whose file (or code folder) does not exist: LL401 without any Python to read."""

    link: LinkedFunction
    message: str
    hint: Optional[str] = None
    suppressed: FrozenSet[str] = frozenset()


@dataclass
class ProjectLinks:
    """Every link of a run, by the Python file it names."""

    by_module: Dict[str, List[LinkedFunction]] = field(default_factory=dict)

    def add(self, links: Iterable[LinkedFunction]) -> None:
        for link in links:
            self.by_module.setdefault(link.module_file, []).append(link)

    def for_module(self, path: Path) -> Tuple[LinkedFunction, ...]:
        return tuple(self.by_module.get(normalized(path), ()))


def normalized(path: "Union[str, Path]") -> str:
    return os.path.normcase(os.path.abspath(path))


def _string(item: Optional[Located]) -> Optional[str]:
    return item.value if item is not None and isinstance(item.value, str) else None


def _is_python(function: Function, template_format: str = "") -> Optional[bool]:
    """True/False when the runtime is known, None when it is not."""
    if function.runtime is None and template_format == "serverless":
        return False  # the Serverless Framework's default runtime is Node.js
    runtime = _string(function.runtime)
    if runtime is None:
        return None
    return runtime.startswith("python")


def _code_folder(template: Template, function: Function, template_file: Path) -> Optional[Path]:
    """The folder the handler is relative to, or None when it is not on this disk (S3, image,
    a zip file built elsewhere, an unknown value)."""
    base = template_file.parent
    code = function.code_uri
    if template.format == "serverless":
        # the loader gives the code folder as a display path (the folder of serverless.yml, or
        # a `module:` under it), or the `package.artifact` zip relative to serverless.yml
        if code is None:
            return base
        if not isinstance(code.value, str) or code.value.endswith((".zip", ".jar")):
            return None
        return base / posixpath.relpath(code.value, posixpath.dirname(template.path) or ".")
    if code is None:
        return base if template.format in ("sam", "cloudformation") else None
    value = code.value
    if not isinstance(value, str) or value.startswith("s3://") or value.endswith((".zip", ".jar")):
        return None
    if value.endswith(".py"):
        # Terraform's archive_file with source_file: the zip holds that one file at its root
        return (base / value).parent
    return base / value


def _module_candidates(folder: Path, handler: str) -> Optional[Tuple[List[Path], str]]:
    """``app.handler`` -> ([folder/app.py, folder/app/__init__.py], "handler")."""
    module, dot, function = handler.rpartition(".")
    if not dot or not module or not function:
        return None
    directory, slash, dotted = module.rpartition("/")
    relative = posixpath.join(directory, dotted.replace(".", "/")) if slash else module.replace(".", "/")
    return [folder / f"{relative}.py", folder / relative / "__init__.py"], function


def _environment(function: Function) -> Optional[FrozenSet[str]]:
    if not function.environment_complete:
        return None
    return frozenset(function.environment)


def _timeout(function: Function) -> Optional[int]:
    value = function.effective_timeout
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _trigger(event: EventSource, template: Template) -> Trigger:
    source = ""
    name: Optional[str] = None
    if event.source is not None:
        target = event.source.value
        name = getattr(target, "target", None) or (target if isinstance(target, str) else None)
        if name:
            source = f"`{name}`"
    filters = [event.prefix, event.suffix]
    known = all(f is None or isinstance(f.value, str) for f in filters)
    prefix, suffix = (f.value if f is not None and isinstance(f.value, str) else "" for f in filters)
    return Trigger(
        event.kind, event.name, event.path or template.path, event.span, source, prefix, suffix, known,
        event.fires_on_new_objects if event.kind == "s3" else True, name or "",
    )


def allowed_actions(permissions: Permissions) -> Optional[Tuple[str, ...]]:
    """Every action pattern the permissions allow, or None when any part is not known (an
    external role, an unknown managed policy or policy template, an Unknown value, NotAction)."""
    from lambdalint.iac.iam import aws_managed_policy_name
    from lambdalint.iac.sam_policy_actions import SAM_POLICY_ACTIONS

    if not permissions.complete:
        return None
    actions: List[str] = []
    for policy in permissions.policies:
        if not policy.complete:
            return None
        for statement in policy.statements:
            if not statement.complete or statement.not_actions:
                return None
            if statement.effect.value != "Allow":
                if not isinstance(statement.effect.value, str):
                    return None
                continue
            for entry in statement.actions:
                for item, _ in possibilities(entry):
                    if not isinstance(item.value, str):
                        return None
                    actions.append(item.value)
    for managed in permissions.managed_policies:
        value = managed.value
        name = aws_managed_policy_name(value) if isinstance(value, str) else None
        if name is None and isinstance(value, str) and "/" not in value and ":" not in value:
            name = value  # SAM takes bare names
        if name not in MANAGED_POLICY_ACTIONS:
            return None
        actions.extend(MANAGED_POLICY_ACTIONS[name])
    for template in permissions.policy_templates:
        granted = SAM_POLICY_ACTIONS.get(template.name)
        if granted is None:
            return None
        actions.extend(granted)
    return tuple(dict.fromkeys(actions))


def _with_implied(allowed: Optional[Tuple[str, ...]], function: Function, template: Template) -> Optional[Tuple[str, ...]]:
    """``allowed`` plus what SAM and Serverless grant without being asked (see _IMPLIED_BY_EVENT).
    Plain CloudFormation and Terraform grant nothing by themselves."""
    if allowed is None or template.format not in ("sam", "serverless"):
        return allowed
    implied = list(MANAGED_POLICY_ACTIONS["AWSLambdaBasicExecutionRole"])
    for event in function.events:
        name = _IMPLIED_BY_EVENT.get(event.kind)
        if name is not None:
            implied.extend(MANAGED_POLICY_ACTIONS[name])
    return tuple(dict.fromkeys(allowed + tuple(implied)))


def action_allowed(action: str, allowed: Iterable[str]) -> bool:
    """Whether ``service:Action`` matches one of the ``allowed`` patterns (IAM matches action
    names case-insensitively, with ``*`` and ``?`` wildcards)."""
    import fnmatch

    wanted = action.lower()
    return any(fnmatch.fnmatchcase(wanted, pattern.lower()) for pattern in allowed)


@dataclass(frozen=True)
class LinkCandidate:
    """A template function's link before the disk is asked where its module is: a pure
    function of the template, so that it can be cached with the template's findings."""

    link: LinkedFunction  # module_file is the first candidate until resolved
    candidates: Tuple[str, ...]  # absolute paths of the files that may hold the module
    folder: str
    template_file: str
    python: Optional[bool]  # the runtime is Python (True), another (False), unknown (None)
    #: rule ids the template suppresses for this function (CloudFormation Metadata)
    suppressed: FrozenSet[str] = frozenset()


def _digest(template: Template) -> str:
    text = "\0".join(template.texts[p] for p in sorted(template.texts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _linked_function(template: Template, function: Function, module_file: str, name: str, digest: str) -> LinkedFunction:
    """What the code side of ``function`` needs to know, its handler being ``name`` in
    ``module_file``."""
    return LinkedFunction(
        template_path=function.path or template.path,
        logical_id=function.logical_id,
        span=function.span,
        handler=_string(function.handler) or "",
        handler_span=function.handler.span if function.handler is not None else function.span,
        module_file=module_file,
        function=name,
        triggers=tuple(_trigger(e, template) for e in function.events),
        environment=_environment(function),
        environment_values=tuple(
            sorted((key, value.value) for key, value in function.environment.items() if isinstance(value.value, str))
        ),
        environment_refs=tuple(
            sorted((key, value.value.target) for key, value in function.environment.items() if isinstance(value.value, Reference))
        ),
        timeout=_timeout(function),
        allowed_actions=_with_implied(allowed_actions(function.permissions), function, template),
        template_digest=digest,
        template_format=template.format,
        suppressed=frozenset(function.suppressed | template.suppressed_everywhere),
    )


def inline_code_links(template: Template) -> List[Tuple[Function, LinkedFunction]]:
    """Functions whose Python code is written in the template (SAM ``InlineCode``,
    CloudFormation ``Code.ZipFile``), each with its link (the module is the template itself)."""
    found = []
    digest = _digest(template)
    for function in template.functions:
        handler = _string(function.handler)
        code = function.inline_code
        if handler is None or code is None or not isinstance(code.value, str):
            continue
        if _is_python(function, template.format) is False:
            continue
        name = handler.rpartition(".")[2]
        found.append((function, _linked_function(template, function, "", name, digest)))
    return found


def link_candidates(template: Template, template_file: Path) -> List[LinkCandidate]:
    """The functions of ``template`` whose Python code should be on this disk."""
    found: List[LinkCandidate] = []
    digest = _digest(template)
    for function in template.functions:
        handler = _string(function.handler)
        python = _is_python(function, template.format)
        if handler is None or function.inline_code is not None or python is False:
            continue
        folder = _code_folder(template, function, template_file)
        if folder is None:
            continue
        candidates = _module_candidates(folder, handler)
        if candidates is None:
            continue
        files, name = candidates
        link = _linked_function(template, function, normalized(files[0]), name, digest)
        found.append(LinkCandidate(
            link, tuple(normalized(f) for f in files), normalized(folder), str(template_file), python, link.suppressed
        ))
    return found


def resolve_links(candidates: Iterable[LinkCandidate]) -> Tuple[List[LinkedFunction], List[MissingHandler]]:
    """Ask the disk which candidate file holds each module: the links, and the handlers whose
    module (or code folder) is missing."""
    links: List[LinkedFunction] = []
    missing: List[MissingHandler] = []
    for candidate in candidates:
        existing = next((f for f in candidate.candidates if os.path.isfile(f)), None)
        if existing is not None:
            links.append(replace(candidate.link, module_file=existing))
            continue
        folder = Path(candidate.folder)
        if candidate.python is None and (
            not any(folder.glob("*.py")) or _other_language(Path(candidate.candidates[0]))
        ):
            continue  # perhaps not Python at all (the runtime is not known): say nothing
        if not folder.is_dir() and _is_build_output(folder, Path(candidate.template_file).parent):
            continue  # e.g. CodeUri: build/orders/, made by a build step that has not run here
        found = _missing(candidate.link, folder, Path(candidate.candidates[0]), Path(candidate.template_file))
        missing.append(replace(found, suppressed=candidate.suppressed))
    return links, missing


def _is_build_output(folder: Path, base: Path) -> bool:
    """Whether ``folder`` is under a folder that a build makes (``build/``, ``dist/``,
    ``.aws-sam/``...: the folders lambdalint never lints)."""
    from lambdalint.config import DEFAULT_EXCLUDES

    relative = os.path.relpath(folder, base)
    return any(part in DEFAULT_EXCLUDES for part in Path(relative).parts)


def _other_language(expected: Path) -> bool:
    """Whether the handler's module exists in another language (``index.js`` for
    ``index.handler``): with an unknown runtime, the function is probably not Python."""
    try:
        return any(p.suffix != ".py" for p in expected.parent.glob(f"{glob_escape(expected.stem)}.*"))
    except OSError:
        return False


def _missing(link: LinkedFunction, folder: Path, expected: Path, template_file: Path) -> MissingHandler:
    base = template_file.parent

    def display(path: Path) -> str:
        """``path`` as the report shows files: relative to where the template's display path
        is relative to (``services/worker/app.py``, not ``../../services/worker/app.py``)."""
        relative = os.path.relpath(path, base).replace(os.sep, "/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(link.template_path), relative))

    shown = display(expected)
    if not folder.is_dir():
        hint = "point the function's code location (CodeUri, source_dir) at the folder that holds the code"
        siblings = []
        if folder.parent.is_dir():
            siblings = sorted(d.name for d in folder.parent.iterdir() if d.is_dir() and not d.name.startswith("."))
        close = difflib.get_close_matches(folder.name, siblings, n=1)
        if close:
            hint = f"did you mean `{display(folder.parent / close[0])}/`?"
        return MissingHandler(
            link,
            f"Handler `{link.handler}` of `{link.logical_id}` is in `{display(folder)}/`, which does not exist",
            hint,
        )
    modules = _python_modules(folder)
    spelled = link.handler_module
    directory, slash, dotted = spelled.rpartition("/")
    module = f"{directory}/{dotted.replace('.', '/')}" if slash else spelled.replace(".", "/")
    close = _closest_module(module, link.function, folder, modules)
    hint = None
    if close is not None:
        # in the handler's own spelling: `src/handlers/orders.create` or `pkg.orders.create`
        shown_module = close if slash else close.replace("/", ".")
        if _defines(folder / f"{close}.py", link.function) or _defines(folder / close / "__init__.py", link.function):
            hint = f"did you mean `{shown_module}.{link.function}`?"
        else:  # that module does not define the function either: name only the module
            hint = f"did you mean the module `{shown_module}`? (it defines no `{link.function}` either)"
    return MissingHandler(
        link, f"Handler `{link.handler}` of `{link.logical_id}` names `{shown}`, which does not exist", hint
    )


def _python_modules(folder: Path, limit: int = 2000) -> List[str]:
    """The modules under ``folder`` (``pkg/mod``), without walking into virtualenvs,
    dependencies and build output (a ``venv/`` beside the code is full of ``app.py``)."""
    from lambdalint.config import DEFAULT_EXCLUDES

    found: List[str] = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d not in DEFAULT_EXCLUDES)
        relative = os.path.relpath(directory, folder)
        for name in sorted(files):
            if name.endswith(".py"):
                module = posixpath.join(relative.replace(os.sep, "/"), name[:-3]) if relative != "." else name[:-3]
                found.append(module)
        if len(found) >= limit:
            break
    return sorted(found)[:500]


def _closest_module(wanted: str, function: str, folder: Path, modules: List[str]) -> Optional[str]:
    """The module a missing ``wanted`` (``src/handlers/refunds``) most likely became: one whose
    path still has the old module's name (a moved file, ``src/refunds/handler``), preferring
    those that define ``function``; else the closest spelling (a renamed file)."""
    leaf = wanted.rsplit("/", 1)[-1]
    paths = {m[: -len("/__init__")] if m.endswith("/__init__") else m: m for m in modules}
    defining = [m for m, p in paths.items() if _defines(folder / f"{p}.py", function)]
    moved = [m for m in paths if leaf in m.split("/")]
    for pool, cutoff in (
        ([m for m in moved if m in defining], 0.0),
        (moved, 0.0),
        (defining, 0.6),
        (list(paths), 0.6),
    ):
        found = difflib.get_close_matches(wanted, pool, n=1, cutoff=cutoff)
        if found:
            return found[0]
    return None


def _defines(path: Path, name: str) -> bool:
    """Whether the module at ``path`` plainly defines ``name`` at its top level (a cheap text
    check: only used to choose between hints)."""
    try:
        if path.stat().st_size > 1_000_000:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    escaped = re.escape(name)
    return re.search(rf"^(?:async\s+)?def\s+{escaped}\b|^{escaped}\s*[:=]", text, re.MULTILINE) is not None


def in_main_block(facts, node) -> bool:
    """Whether ``node`` is under ``if __name__ == "__main__":`` at module scope: code for local
    runs, which Lambda never executes (it imports the module)."""
    import libcst as cst

    child, parent = node, facts.parent_of(node, facts.module)
    while parent is not None:
        if isinstance(parent, cst.If) and child is parent.body and _is_main_test(parent.test):
            return True
        child, parent = parent, facts.parent_of(parent, facts.module)
    return False


def _is_main_test(test) -> bool:
    import libcst as cst

    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def closest_name(name: str, candidates: Iterable[str]) -> Optional[str]:
    found = difflib.get_close_matches(name, sorted(candidates), n=1)
    return found[0] if found else None

