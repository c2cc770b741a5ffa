"""Serverless Framework ``serverless.yml`` -> :class:`~lambdalint.iac.model.Template`.

Variables are resolved statically, as far as the file itself says: ``${self:...}`` (any path in
the document), ``${sls:stage}``, and the fallbacks of ``${opt:stage, 'dev'}`` and
``${env:X, 'default'}``. Command-line options and environment variables are never read (the
result must not depend on who runs lambdalint); ``${ssm:...}``, ``${file(...)}``, ``${cf:...}``
and the like are :class:`Unknown`. A value that mixes text and an unresolved variable is
Unknown as a whole, never a guess.

``provider`` gives every function its defaults (timeout, environment, IAM statements and
managed policies of the shared ``IamRoleLambdaExecution`` role); ``resources`` is raw
CloudFormation, built by :class:`~lambdalint.iac.cloudformation.CloudFormationBuilder` into the
same Template, so a queue or role declared there is linked to the functions that use it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from lambdalint.iac.cloudformation import (
    CloudFormationBuilder,
    as_list,
    as_map,
    get,
    iter_alternatives,
    key_span,
    numeric,
    read_policy,
    reference_target,
    text,
)
from lambdalint.iac.model import (
    Bucket,
    EventSource,
    Function,
    Interpolated,
    Located,
    Permissions,
    Role,
    Template,
    Unknown,
)
from lambdalint.iac.yaml_source import LocatedMap
from lambdalint.model import Span

SERVERLESS_DEFAULT_TIMEOUT = 6
DEFAULT_STAGE = "dev"
DEFAULT_REGION = "us-east-1"
PROVIDER_ROLE = "IamRoleLambdaExecution"

#: serverless event type -> model kind
EVENT_KINDS = {
    "http": "api",
    "httpApi": "http-api",
    "websocket": "websocket",
    "s3": "s3",
    "sqs": "sqs",
    "sns": "sns",
    "schedule": "schedule",
    "eventBridge": "eventbridge",
    "cloudwatchEvent": "eventbridge",
    "cloudwatchLog": "cloudwatch-logs",
    "iot": "iot",
    "cognitoUserPool": "cognito",
    "alexaSkill": "alexa",
    "alexaSmartHome": "alexa",
    "msk": "msk",
    "kafka": "kafka",
    "activemq": "mq",
    "rabbitmq": "mq",
}

_MAX_DEPTH = 20

#: what the framework treats as one of its variables: ``source:`` (one colon, so not
#: ``AWS::Region``) or ``source(`` at the start; anything else in ``${}`` is left for !Sub
_SLS_VARIABLE = re.compile(r"\s*(?:[A-Za-z][\w.-]*\(|[A-Za-z][\w.-]*:(?!:))")


@dataclass(frozen=True)
class _Hole:
    """A ``${...}`` inside a longer string that cannot be resolved: kept as written."""

    written: str
    reason: str


class _Unresolved(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_serverless(root: Located) -> bool:
    top = as_map(root)
    if top is None or "service" not in top:
        return False
    provider = top.get("provider")
    if provider is None:
        return "functions" in top
    name = text(provider) if isinstance(provider.value, str) else text(get(provider, "name"))
    return name == "aws"


# -- variables -----------------------------------------------------------------------------------


class VariableResolver:
    """Resolves ``${...}`` in a serverless.yml Located tree."""

    def __init__(self, root: Located, base_dir: Optional[Path] = None) -> None:
        self.root = root
        #: the folder of serverless.yml, for ${file(...)}; None: such variables stay unknown
        self.base_dir = base_dir
        self._stage: Optional[str] = None
        self._files: Dict[str, Optional[Located]] = {}

    def stage(self) -> str:
        if self._stage is None:
            self._stage = DEFAULT_STAGE  # also guards against ${sls:stage} in provider.stage
            stage = get(self.root, "provider", "stage")
            if stage is not None:
                try:
                    value = self._value(stage, 0)
                except _Unresolved:
                    value = None
                if isinstance(value, str):
                    self._stage = value
        return self._stage

    def resolve(self, item: Optional[Located], depth: int = 0) -> Optional[Located]:
        """``item`` with every variable resolved (an unresolvable string becomes Unknown)."""
        if item is None:
            return None
        value = item.value
        if isinstance(value, dict):
            mapping = LocatedMap()
            for key, child in value.items():
                mapping[key] = self.resolve(child, depth)
                span = key_span(item, key)
                if span is not None:
                    mapping.key_spans[key] = span
            return Located(mapping, item.span, item.path)
        if isinstance(value, list):
            return Located([self.resolve(child, depth) for child in value], item.span, item.path)
        if isinstance(value, str) and "${" in value:
            try:
                resolved = self._string(value, depth)
            except _Unresolved as error:
                return Located(Unknown(error.reason), item.span, item.path)
            if isinstance(resolved, _Foreign):  # from another file: every line is the usage's
                return _relocate_all(resolved.item, item.span, item.path)
            if isinstance(resolved, Located):  # a whole structure from ${self:...}
                if isinstance(resolved.value, (dict, list)):
                    return resolved  # nested values keep their own lines
                return Located(resolved.value, item.span, item.path)
            return Located(resolved, item.span, item.path)
        return item

    def _value(self, item: Located, depth: int) -> Any:
        resolved = self.resolve(item, depth + 1)
        if resolved is None:
            return None
        if isinstance(resolved.value, Unknown):
            raise _Unresolved(resolved.value.reason)
        return resolved.value

    # string grammar: text with ${source:address, fallback, ...} (nested ${} allowed)

    def _string(self, value: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise _Unresolved("variables nest too deeply (a cycle?)")
        parts: List[Any] = []
        position = 0
        while True:
            start = value.find("${", position)
            if start < 0:
                parts.append(value[position:])
                break
            end = _closing(value, start)
            if end < 0:
                raise _Unresolved(f"unbalanced ${{ in {value!r}")
            parts.append(value[position:start])
            body = value[start + 2:end]
            if _SLS_VARIABLE.match(body):
                try:
                    parts.append(self._variable(body, depth))
                except _Unresolved as error:
                    parts.append(_Hole(value[start:end + 1], error.reason))
            else:  # ${Bucket}, ${AWS::Region}: CloudFormation's own !Sub syntax, kept as text
                parts.append(value[start:end + 1])
            position = end + 1
        parts = [part for part in parts if part != ""]
        holes = [part for part in parts if isinstance(part, _Hole)]
        if holes and len(parts) == 1:
            raise _Unresolved(holes[0].reason)
        if len(parts) == 1:
            return parts[0]  # the whole string is one variable: keep its type
        pieces = []
        for part in parts:
            if isinstance(part, _Hole):
                pieces.append(part.written)
                continue
            if isinstance(part, Located):
                part = part.value
            if isinstance(part, bool):
                part = str(part).lower()
            if not isinstance(part, (str, int, float)):
                raise _Unresolved(f"a non-text value inside {value!r}")
            pieces.append(str(part))
        if holes:
            # known text around variables only known at deploy time (an ARN with
            # ${aws:accountId}): unknown, but its literal parts still say what it names
            return Interpolated("; ".join(hole.reason for hole in holes), text="".join(pieces))
        return "".join(pieces)

    def _variable(self, body: str, depth: int) -> Any:
        """The value of one ``${body}``: the first of its comma-separated options that resolves."""
        reasons = []
        for option in _split_options(body):
            option = option.strip()
            try:
                return self._option(option, depth)
            except _Unresolved as error:
                reasons.append(error.reason)
        raise _Unresolved("; ".join(reasons) or f"empty variable ${{{body}}}")

    def _option(self, option: str, depth: int) -> Any:
        if "${" in option:  # ${self:custom.${opt:stage}}: resolve the inner part first
            inner = self._string(option, depth + 1)
            if not isinstance(inner, str):
                raise _Unresolved(f"${{{option}}} does not name a variable")
            option = inner
        if len(option) >= 2 and option[0] == option[-1] and option[0] in "'\"":
            return option[1:-1]
        if re.fullmatch(r"-?[0-9]+", option):
            return int(option)
        if option in ("true", "false"):
            return option == "true"
        if option.startswith("file(") and ")" in option:
            close = option.index(")")
            rest = option[close + 1:]
            if rest == "" or rest.startswith(":"):
                return self._file(option[5:close].strip(), rest[1:].strip(), depth)
        source, colon, address = option.partition(":")
        if not colon:
            if re.fullmatch(r"[A-Za-z0-9_.\-/]+", option) and "." not in option:
                return option  # a bare literal fallback, as Serverless v3 accepts
            raise _Unresolved(f"${{{option}}} is not a variable Serverless defines")
        source = source.strip()
        address = address.strip()
        if source == "self":
            return self._self(address, depth)
        if source.startswith("file(") and source.endswith(")"):
            return self._file(source[5:-1].strip(), address, depth)
        if source == "sls" and address == "stage":
            return self.stage()
        if source == "aws" and address == "region" and get(self.root, "provider", "region") is None:
            return DEFAULT_REGION
        if source == "opt":
            raise _Unresolved(f"${{opt:{address}}} is a command-line option")
        if source == "env":
            raise _Unresolved(f"${{env:{address}}} is read from the environment at deploy time")
        raise _Unresolved(f"${{{option}}} is only known at deploy time")

    def _file(self, name: str, address: str, depth: int) -> Any:
        """``${file(./config.yml):a.b}``: a YAML/JSON file beside serverless.yml, read with the
        same safe loader (JavaScript and other files are never run: they stay unknown)."""
        name = name.strip("'\"")
        if self.base_dir is None:
            raise _Unresolved(f"${{file({name})}} is read at deploy time")
        if not name.endswith((".yml", ".yaml", ".json")):
            raise _Unresolved(f"${{file({name})}} is not a YAML/JSON file")
        if name not in self._files:
            self._files[name] = None
            path = self.base_dir / name
            try:
                if path.is_file() and path.stat().st_size <= 2_000_000:
                    from lambdalint.iac.yaml_source import TemplateSyntaxError, load_document

                    try:
                        self._files[name] = load_document(path.read_text("utf-8-sig"), path.name)
                    except TemplateSyntaxError:
                        pass
            except (OSError, UnicodeDecodeError):
                pass
        item = self._files[name]
        if item is None:
            raise _Unresolved(f"${{file({name})}} cannot be read")
        return self._walk(item, address, f"file({name})", depth, foreign=True)

    def _self(self, address: str, depth: int) -> Any:
        if address == "provider.stage":
            return self.stage()
        if address == "provider.region" and get(self.root, "provider", "region") is None:
            return DEFAULT_REGION  # the framework's documented default
        return self._walk(self.root, address, "self", depth)

    def _walk(self, item: Optional[Located], address: str, source: str, depth: int, foreign: bool = False) -> Any:
        for step in address.split(".") if address else []:
            if item is not None and isinstance(item.value, str) and "${" in item.value:
                item = self.resolve(item, depth + 1)  # custom: ${file(vars.yml)}
            if item is not None and isinstance(item.value, list) and step.isdigit():
                index = int(step)
                item = item.value[index] if index < len(item.value) else None
            else:
                item = get(item, step)
            if item is None:
                raise _Unresolved(f"${{{source}:{address}}} is not in the file")
        assert item is not None
        if isinstance(item.value, (dict, list)):
            resolved = self.resolve(item, depth + 1)
            # a structure from another file has that file's lines: not ours to report
            return _Foreign(resolved) if foreign else resolved
        return self._value(item, depth)


class _Foreign:
    """A structure read from another file (its spans are that file's)."""

    def __init__(self, item: Located) -> None:
        self.item = item


def _relocate_all(item: Located, span: Span, path: str) -> Located:
    value = item.value
    if isinstance(value, dict):
        mapping = LocatedMap()
        for key, child in value.items():
            mapping[key] = _relocate_all(child, span, path)
            mapping.key_spans[key] = span
        return Located(mapping, span, path)
    if isinstance(value, list):
        return Located([_relocate_all(child, span, path) for child in value], span, path)
    return Located(value, span, path)


def _closing(value: str, start: int) -> int:
    """The index of the ``}`` that closes the ``${`` at ``start``."""
    depth = 0
    index = start
    while index < len(value):
        if value.startswith("${", index):
            depth += 1
            index += 2
            continue
        if value[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _split_options(body: str) -> List[str]:
    """Split ``a, 'b, c', ${d, e}`` at top-level commas."""
    options, current, depth, quote = [], [], 0, ""
    index = 0
    while index < len(body):
        char = body[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif body.startswith("${", index):
            depth += 1
            current.append("${")
            index += 2
            continue
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            options.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    options.append("".join(current))
    return options


# -- the builder ---------------------------------------------------------------------------------


def _normalize(name: str) -> str:
    """Serverless's logical-id normalization: alphanumerics only, first letter upper-case."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", name.replace("-", "Dash").replace("_", "Underscore"))
    return cleaned[:1].upper() + cleaned[1:]


def _statements_policy(name: str, statements: Located, path: str) -> Any:
    document = LocatedMap()
    document["Statement"] = statements
    return read_policy(name, statements.span, Located(document, statements.span, path), path)


class ServerlessBuilder:
    def __init__(self, path: str, root: Located, base_dir: Optional[Path] = None) -> None:
        self.path = path
        self.raw_root = root
        self.variables = VariableResolver(root, base_dir)
        self.template = Template(path=path, format="serverless", files=[path])
        resources = self.variables.resolve(get(root, "resources"))
        if resources is not None and isinstance(resources.value, list):  # a list of fragments
            merged = LocatedMap()
            for fragment in resources.value:
                for key, value in (as_map(get(fragment, "Resources")) or {}).items():
                    merged[key] = value
                    span = key_span(get(fragment, "Resources"), key)
                    if span is not None:
                        merged.key_spans[key] = span
            wrapper = LocatedMap()
            wrapper["Resources"] = Located(merged, resources.span, resources.path)
            resources = Located(wrapper, resources.span, resources.path)
        self.cfn = CloudFormationBuilder(self.template, resources, path)
        self.cfn.resolver.resources.setdefault(PROVIDER_ROLE, "AWS::IAM::Role")

    def value(self, item: Optional[Located]) -> Optional[Located]:
        """Serverless variables, then CloudFormation intrinsics."""
        return self.cfn.resolver.resolve(self.variables.resolve(item))

    def build(self) -> Template:
        root = self.raw_root
        provider = get(root, "provider")
        provider_timeout = numeric(self.value(get(provider, "timeout")))
        provider_runtime = self.value(get(provider, "runtime"))
        provider_environment_node = self.value(get(provider, "environment"))
        provider_environment = as_map(provider_environment_node) or {}
        provider_permissions, provider_role = self._provider_permissions(provider)

        functions_node = get(root, "functions")
        if functions_node is not None and isinstance(functions_node.value, list):
            functions_node = self._merged_functions(functions_node)
        folder = posixpath.dirname(self.path) or "."
        declared: List[Tuple[Function, Optional[Located], Optional[Located]]] = []
        for name, raw in (as_map(functions_node) or {}).items():
            definition = self.value(raw)
            span = key_span(functions_node, name) or raw.span
            function = Function(name, span, self.path, default_timeout=SERVERLESS_DEFAULT_TIMEOUT)
            function.handler = get(definition, "handler")
            function.runtime = get(definition, "runtime") or provider_runtime
            function.code_uri = self._code(definition, root, folder, span)
            function.timeout = numeric(get(definition, "timeout")) or provider_timeout
            function.environment = dict(provider_environment)
            own_environment = get(definition, "environment")
            function.environment.update(as_map(own_environment) or {})
            function.environment_complete = all(
                node is None or as_map(node) is not None
                for node in (provider_environment_node, own_environment)
            )
            function.dead_letter = get(definition, "onError")
            function.on_failure = get(definition, "destinations", "onFailure")
            events = get(definition, "events")
            for index, event in enumerate(as_list(events)):
                source = self._event(name, index, event)
                if source is not None:
                    function.events.append(source)
            url = get(definition, "url")
            if url is not None and url.value not in (False, None):
                span = key_span(raw, "url") or url.span
                function.events.append(EventSource("function-url", "url", span, self.path))
            function.permissions = provider_permissions
            self.template.functions.append(function)
            self.cfn.add_function(function, _normalize(name) + "LambdaFunction")
            declared.append((function, definition, get(definition, "role") or provider_role))

        self.cfn.build()
        self.template.format = "serverless"
        # after the resources: policies there may attach to the shared role
        for function, definition, role in declared:
            if role is not None:
                self._use_role(function, role)
            else:
                self._own_statements(function, definition, provider_permissions)
        return self.template

    def _code(self, definition: Optional[Located], root: Located, folder: str, span) -> Located:
        """Where the function's code is: the folder of serverless.yml; with the
        serverless-python-requirements ``module:``, that folder under it (the zip holds its
        contents at the root); with ``package.artifact``, the zip built elsewhere (or Unknown)."""
        artifact = self.value(get(definition, "package", "artifact")) or self.value(get(root, "package", "artifact"))
        if artifact is not None:
            return artifact if isinstance(artifact.value, str) else Located(Unknown("artifact"), artifact.span, self.path)
        module = self.value(get(definition, "module"))
        if module is not None:
            if not isinstance(module.value, str):
                return Located(Unknown("module"), module.span, self.path)
            return Located(posixpath.normpath(posixpath.join(folder, module.value)), module.span, self.path)
        return Located(folder, span, self.path)

    def _merged_functions(self, node: Located) -> Located:
        """``functions: [{a: ...}, ${file(more.yml)}]``: one mapping of every function."""
        merged = LocatedMap()
        for entry in node.value:
            entry = self.variables.resolve(entry)
            for name, definition in (as_map(entry) or {}).items():
                merged[name] = definition
                span = key_span(entry, name)
                if span is not None:
                    merged.key_spans[name] = span
        return Located(merged, node.span, node.path)

    def _provider_permissions(self, provider: Optional[Located]) -> Tuple[Permissions, Optional[Located]]:
        """The shared role's permissions, and the provider's explicit role (when it names one)."""
        iam_role = get(provider, "iam", "role")
        explicit = None
        if iam_role is not None and not isinstance(iam_role.value, dict):
            explicit = self.value(iam_role)  # provider.iam.role: arn or logical name
        elif get(provider, "role") is not None:
            explicit = self.value(get(provider, "role"))
        permissions = Permissions()
        statements = self.value(get(iam_role, "statements") or get(provider, "iamRoleStatements"))
        if statements is not None:
            policy = _statements_policy(PROVIDER_ROLE, statements, self.path)
            permissions.policies.append(policy)
            permissions.complete = policy.complete
        managed = get(iam_role, "managedPolicies") or get(provider, "iamManagedPolicies")
        for arn in iter_alternatives(self.value(managed)):
            permissions.managed_policies.append(arn)
            if not isinstance(arn.value, str):
                permissions.complete = False
        if explicit is None:
            anchor = get(provider, "iam") or get(provider, "iamRoleStatements") or provider
            span = anchor.span if anchor is not None else Span(1, 1, 1, 1)
            # the framework's own role: what the provider grants, plus whatever resources
            # attach to it (an AWS::IAM::Policy with Roles: [!Ref IamRoleLambdaExecution])
            self.template.roles[PROVIDER_ROLE] = Role(
                PROVIDER_ROLE, span, self.path, permissions, {"lambda.amazonaws.com"}
            )
        return permissions, explicit

    def _own_statements(self, function: Function, definition: Optional[Located], shared: Permissions) -> None:
        """serverless-iam-roles-per-function: ``iamRoleStatements`` on the function."""
        statements = get(definition, "iamRoleStatements")
        if statements is None:
            return
        permissions = Permissions()
        inherit = get(definition, "iamRoleStatementsInherit")
        if inherit is not None and inherit.value is True:
            permissions.policies.extend(shared.policies)
            permissions.managed_policies.extend(shared.managed_policies)
            permissions.complete = shared.complete
        policy = _statements_policy(f"{function.logical_id}Role", statements, self.path)
        permissions.policies.append(policy)
        permissions.complete = permissions.complete and policy.complete
        function.permissions = permissions

    def _use_role(self, function: Function, role: Located) -> None:
        function.role = role
        target = reference_target(role)
        if target is None and isinstance(role.value, str) and not role.value.startswith("arn:"):
            target = role.value  # a logical id of a role under resources
        if target is not None and target in self.template.roles:
            function.permissions = self.template.roles[target].permissions
        else:
            function.permissions = Permissions(complete=False)

    def _event(self, function_name: str, index: int, event: Located) -> Optional[EventSource]:
        mapping = as_map(event)
        if not mapping:
            return None
        kind_name = next(iter(mapping))
        settings = mapping[kind_name]
        kind = EVENT_KINDS.get(kind_name)
        if kind_name == "stream":
            kind = self._stream_kind(settings)
        if kind is None:
            kind = "other"
        source = EventSource(kind, f"{kind_name}[{index}]", event.span, self.path)
        if kind == "s3":
            self._s3_event(source, settings)
        elif kind_name in ("sqs", "stream", "msk", "activemq", "rabbitmq", "kafka"):
            source.source = settings if not isinstance(settings.value, dict) else (
                get(settings, "arn") or get(settings, "queueArn") or get(settings, "brokerArn")
            )
        elif kind_name == "sns":
            source.source = settings if not isinstance(settings.value, dict) else (
                get(settings, "arn") or get(settings, "topicName")
            )
        elif kind_name == "schedule":
            source.source = settings if not isinstance(settings.value, dict) else get(settings, "rate")
        elif kind_name in ("eventBridge", "cloudwatchEvent"):
            source.source = get(settings, "eventBus")
        elif kind_name == "cloudwatchLog":
            source.source = settings if not isinstance(settings.value, dict) else get(settings, "logGroup")
        elif kind_name == "cognitoUserPool":
            source.source = get(settings, "pool")
        return source

    def _stream_kind(self, settings: Located) -> str:
        declared = text(get(settings, "type"))
        if declared in ("kinesis", "dynamodb"):
            return declared
        arn = settings if not isinstance(settings.value, dict) else get(settings, "arn")
        value = text(arn) or ""
        if value.startswith("arn:") and value.count(":") >= 2:
            service = value.split(":")[2]
            if service in ("kinesis", "dynamodb"):
                return service
        target = reference_target(arn)
        resource_type = self.cfn.types.get(target or "", "")
        if resource_type == "AWS::Kinesis::Stream":
            return "kinesis"
        if resource_type.startswith("AWS::DynamoDB::"):
            return "dynamodb"
        return "other"

    def _s3_event(self, source: EventSource, settings: Located) -> None:
        if isinstance(settings.value, dict):
            bucket = get(settings, "bucket")
            for rule in iter_alternatives(get(settings, "rules")):
                if get(rule, "prefix") is not None:
                    source.prefix = get(rule, "prefix")
                if get(rule, "suffix") is not None:
                    source.suffix = get(rule, "suffix")
            source.s3_events = get(settings, "event")  # absent: s3:ObjectCreated:*
            existing = get(settings, "existing")
            is_existing = existing is not None and existing.value is True
        else:
            bucket, is_existing = settings, False
        source.source = bucket
        if bucket is not None and isinstance(bucket.value, str) and not is_existing:
            # the framework creates the bucket: S3Bucket<Name>
            logical_id = "S3Bucket" + _normalize(re.sub(r"[^A-Za-z0-9]", "", bucket.value))
            if logical_id not in self.template.buckets:
                self.template.buckets[logical_id] = Bucket(logical_id, bucket.span, self.path, name=bucket)


def build_serverless(path: str, root: Located, base_dir: Optional[Path] = None) -> Template:
    """The Template of a serverless.yml document (see :func:`is_serverless`); ``base_dir``
    (the file's folder) lets ``${file(...)}`` read YAML/JSON files beside it."""
    return ServerlessBuilder(path, root, base_dir).build()


__all__ = ["VariableResolver", "build_serverless", "is_serverless"]
