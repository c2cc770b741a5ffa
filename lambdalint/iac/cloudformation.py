"""CloudFormation and SAM templates -> :class:`~lambdalint.iac.model.Template`.

The input is the Located tree of :mod:`lambdalint.iac.yaml_source` (YAML and JSON alike).
Intrinsic functions are resolved into the model as far as the template itself says:

- ``Ref``/``Fn::GetAtt`` of a resource -> :class:`Reference`; ``Ref`` of a parameter -> its
  ``Default`` (at the place of the ``Ref``) or :class:`Unknown`; pseudo parameters and
  ``Fn::ImportValue`` -> Unknown; ``Ref AWS::NoValue`` removes the property.
- ``Fn::If`` -> :class:`Conditional` (the condition's name and both branches).
- ``Fn::Sub``/``Fn::Join`` -> the string when every part is known, else :class:`Interpolated`
  (an Unknown that still lists the resources it names), ``Fn::FindInMap``/``Fn::Select`` when
  their arguments are known.

SAM's transform is applied where rules need it: ``Globals.Function`` merged into every
``AWS::Serverless::Function``, ``Events``, ``Policies`` (managed names/ARNs, policy templates,
inline statements), ``Role``, ``DeadLetterQueue`` and ``EventInvokeConfig``. Plain
CloudFormation resources that wire functions up (event source mappings, bucket notifications,
invoke configs, API Gateway integrations, SNS subscriptions, EventBridge rules, IAM policies
attached to roles) are linked to the functions they name.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

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
    PolicyTemplate,
    Queue,
    Reference,
    Role,
    Template,
    Unknown,
)
from lambdalint.iac.yaml_source import LocatedMap, TemplateSyntaxError, load_json
from lambdalint.model import Span

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

#: SAM event type -> model event kind, and the property that names the source
SAM_EVENTS: Dict[str, Tuple[str, Optional[str]]] = {
    "Api": ("api", None),
    "HttpApi": ("http-api", None),
    "S3": ("s3", "Bucket"),
    "SQS": ("sqs", "Queue"),
    "SNS": ("sns", "Topic"),
    "Kinesis": ("kinesis", "Stream"),
    "DynamoDB": ("dynamodb", "Stream"),
    "MSK": ("msk", "Stream"),
    "MQ": ("mq", "Broker"),
    "SelfManagedKafka": ("kafka", None),
    "DocumentDB": ("other", "Cluster"),
    "Schedule": ("schedule", None),
    "ScheduleV2": ("schedule", None),
    "EventBridgeRule": ("eventbridge", "EventBusName"),
    "CloudWatchEvent": ("eventbridge", "EventBusName"),
    "CloudWatchLogs": ("cloudwatch-logs", "LogGroupName"),
    "IoTRule": ("iot", None),
    "Cognito": ("cognito", "UserPool"),
    "AlexaSkill": ("alexa", None),
}

PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::Partition", "AWS::Region", "AWS::StackId",
    "AWS::StackName", "AWS::URLSuffix",
})
NO_VALUE = "AWS::NoValue"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


# -- small accessors over Located trees ----------------------------------------------------------


def as_map(item: Optional[Located]) -> Optional[Dict[str, Located]]:
    if item is not None and isinstance(item.value, dict):
        return item.value
    return None


def get(item: Optional[Located], *keys: str) -> Optional[Located]:
    """``item[key1][key2]...`` when every step is a mapping that has the key."""
    for key in keys:
        mapping = as_map(item)
        if mapping is None:
            return None
        item = mapping.get(key)
    return item


def key_span(mapping: Optional[Located], key: str) -> Optional[Span]:
    if mapping is not None and isinstance(mapping.value, LocatedMap):
        return mapping.value.key_span(key)
    return None


def as_list(item: Optional[Located]) -> List[Located]:
    """A list value as its items; a single value as a one-item list; nothing as []."""
    if item is None or item.value is None:
        return []
    if isinstance(item.value, list):
        return item.value
    return [item]


def text(item: Optional[Located]) -> Optional[str]:
    if item is not None and isinstance(item.value, str):
        return item.value
    return None


def last_line(item: Located) -> int:
    """The last line that holds part of ``item`` (block collections end where the next token
    starts, so this looks at the scalars inside)."""
    value = item.value
    if isinstance(value, dict):
        lines = [last_line(child) for child in value.values()]
        return max(lines) if lines else item.span.line
    if isinstance(value, list):
        lines = [last_line(child) for child in value]
        return max(lines) if lines else item.span.line
    span = item.span
    if span.end_line > span.line and span.end_column == 1:
        return span.end_line - 1  # a block scalar ends at the start of the next line
    return span.end_line


def is_template(root: Located) -> bool:
    """Whether a document is a CloudFormation/SAM template."""
    top = as_map(root)
    if top is None:
        return False
    if "AWSTemplateFormatVersion" in top:
        return True
    resources = as_map(top.get("Resources"))
    if not resources:
        return False
    return any(
        (text(get(resource, "Type")) or "").startswith("AWS::") for resource in resources.values()
    )


def transforms(root: Located) -> List[str]:
    found = []
    for item in as_list(get(root, "Transform")):
        name = text(item) or text(get(item, "Name"))
        if name:
            found.append(name)
    return found


def is_sam(root: Located) -> bool:
    """The SAM transform is declared, or (a fragment, a test input) SAM resources are used."""
    if SAM_TRANSFORM in transforms(root):
        return True
    resources = as_map(get(root, "Resources")) or {}
    return any(
        (text(get(resource, "Type")) or "").startswith("AWS::Serverless::")
        for resource in resources.values()
    )


def numeric(item: Optional[Located]) -> Optional[Located]:
    """A number written as text ("30") becomes an int; Conditionals convert their branches."""
    if item is None:
        return None
    value = item.value
    if isinstance(value, str) and value.strip().isdigit():
        return Located(int(value.strip()), item.span, item.path)
    if isinstance(value, Conditional):
        branches = tuple(numeric(branch) or branch for branch in value.branches)
        return Located(Conditional(value.condition, branches), item.span, item.path)
    return item


def seconds_from_millis(item: Optional[Located]) -> Optional[Located]:
    item = numeric(item)
    if item is None:
        return None
    value = item.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        whole = value / 1000
        return Located(int(whole) if whole == int(whole) else whole, item.span, item.path)
    if isinstance(value, Conditional):
        branches = tuple(seconds_from_millis(branch) or branch for branch in value.branches)
        return Located(Conditional(value.condition, branches), item.span, item.path)
    return item


def suppressed_rules(metadata: Optional[Located]) -> Set[str]:
    """Rule ids of ``Metadata: {lambdalint: {ignore: [LL501]}}``."""
    found = set()
    for item in as_list(get(metadata, "lambdalint", "ignore")):
        if isinstance(item.value, str):
            found |= {part.strip().upper() for part in item.value.split(",") if part.strip()}
    return found


# -- intrinsic functions -------------------------------------------------------------------------


class Resolver:
    """Replaces intrinsic functions by model values (see the module doc)."""

    def __init__(
        self,
        resources: Dict[str, str],
        parameters: Dict[str, Optional[Located]],
        mappings: Optional[Located] = None,
    ) -> None:
        self.resources = resources  # logical id -> type
        self.parameters = parameters  # name -> Default (None: no default)
        self.mappings = mappings

    def resolve(self, item: Optional[Located]) -> Optional[Located]:
        """``item`` with its intrinsics resolved; None when it is ``Ref: AWS::NoValue``."""
        if item is None:
            return None
        value = item.value
        if isinstance(value, dict):
            if len(value) == 1:
                (name, argument), = value.items()
                if name == "Ref" or name.startswith("Fn::"):
                    return self._intrinsic(name, argument, item)
            mapping = LocatedMap()
            for key, child in value.items():
                resolved = self.resolve(child)
                if resolved is not None:
                    mapping[key] = resolved
                    span = key_span(item, key)
                    if span is not None:
                        mapping.key_spans[key] = span
            return Located(mapping, item.span, item.path)
        if isinstance(value, list):
            items = [self.resolve(child) for child in value]
            return Located([child for child in items if child is not None], item.span, item.path)
        return item

    def _intrinsic(self, name: str, argument: Located, item: Located) -> Optional[Located]:
        span, path = item.span, item.path

        def located(value: Any) -> Located:
            return Located(value, span, path)

        if name == "Ref":
            return self._ref(argument, item)
        if name == "Fn::GetAtt":
            parts = argument.value
            if isinstance(parts, str):
                parts = [Located(p, argument.span) for p in parts.split(".", 1)]
            if isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0].value, str):
                target, attribute = parts[0].value, self.resolve(parts[1])
                if target in self.resources and attribute is not None and isinstance(attribute.value, str):
                    return located(Reference(target, attribute.value))
            return located(Unknown(f"Fn::GetAtt of something outside the template: {_show(argument)}"))
        if name == "Fn::If":
            parts = argument.value
            if isinstance(parts, list) and len(parts) == 3 and isinstance(parts[0].value, str):
                branches = []
                for branch in parts[1:]:
                    resolved = self.resolve(branch)
                    # AWS::NoValue: the property is absent in that branch
                    branches.append(resolved if resolved is not None else Located(None, branch.span, branch.path))
                return located(Conditional(parts[0].value, tuple(branches)))
            return located(Unknown("malformed Fn::If"))
        if name == "Fn::Sub":
            return self._sub(argument, item)
        if name == "Fn::Join":
            return self._join(argument, item)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument, item)
        if name == "Fn::Select":
            parts = argument.value
            if isinstance(parts, list) and len(parts) == 2:
                index = numeric(self.resolve(parts[0]))
                options = self.resolve(parts[1])
                if (
                    index is not None and isinstance(index.value, int)
                    and options is not None and isinstance(options.value, list)
                    and 0 <= index.value < len(options.value)
                ):
                    chosen = options.value[index.value]
                    return Located(chosen.value, span, path) if not isinstance(chosen.value, (dict, list)) else chosen
            return located(Unknown("Fn::Select of values not known statically"))
        if name == "Fn::ImportValue":
            return located(Unknown(f"Fn::ImportValue {_show(argument)} comes from another stack"))
        return located(Unknown(f"{name} is evaluated at deploy time"))

    def _ref(self, argument: Located, item: Located) -> Optional[Located]:
        target = argument.value
        if not isinstance(target, str):
            return Located(Unknown("Ref of a computed name"), item.span, item.path)
        if target == NO_VALUE:
            return None
        if target in self.resources:
            return Located(Reference(target), item.span, item.path)
        if target in self.parameters:
            default = self.parameters[target]
            if default is None:
                return Located(Unknown(f"parameter {target} has no default"), item.span, item.path)
            # the default's value, reported where it is used
            return Located(default.value, item.span, item.path)
        if target in PSEUDO_PARAMETERS:
            return Located(Unknown(f"{target} is known at deploy time"), item.span, item.path)
        return Located(Unknown(f"Ref of {target}, which the template does not define"), item.span, item.path)

    def _variable(self, name: str, variables: Dict[str, Located]) -> Tuple[Optional[str], Optional[Reference]]:
        """A ``${name}`` of Fn::Sub: (its text, None) when known, (None, Reference) for a
        resource, (None, None) when unknown."""
        name = name.strip()
        if name in variables:
            value = self.resolve(variables[name])
            if value is not None and isinstance(value.value, (str, int, float)) and not isinstance(value.value, bool):
                return str(value.value), None
            if value is not None and isinstance(value.value, Reference):
                return None, value.value
            return None, None
        if name in self.resources:
            return None, Reference(name)
        target, dot, attribute = name.partition(".")
        if dot and target in self.resources:
            return None, Reference(target, attribute)
        default = self.parameters.get(name)
        if default is not None and isinstance(default.value, (str, int, float)) and not isinstance(default.value, bool):
            return str(default.value), None
        return None, None

    def _sub(self, argument: Located, item: Located) -> Located:
        span, path = item.span, item.path
        variables: Dict[str, Located] = {}
        template = argument.value
        if isinstance(template, list) and template:
            variables = dict(as_map(template[1]) or {}) if len(template) > 1 else {}
            template = template[0].value
        if not isinstance(template, str):
            return Located(Unknown("Fn::Sub of a computed string"), span, path)
        pieces: List[str] = []
        references: List[Reference] = []
        known = True
        position = 0
        for match in _SUB_VARIABLE.finditer(template):
            pieces.append(template[position:match.start()])
            position = match.end()
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal}
                pieces.append("${" + name[1:] + "}")
                continue
            value, reference = self._variable(name, variables)
            if value is not None:
                pieces.append(value)
                continue
            known = False
            if reference is not None:
                references.append(reference)
                pieces.append("${" + _reference_text(reference) + "}")
            else:
                pieces.append(match.group(0))
        pieces.append(template[position:])
        joined = "".join(pieces)
        if known:
            return Located(joined, span, path)
        if len(references) == 1 and joined == "${" + _reference_text(references[0]) + "}":
            return Located(references[0], span, path)
        return Located(
            Interpolated(f"Fn::Sub {template!r} is only known at deploy time", joined, tuple(references)),
            span,
            path,
        )

    def _join(self, argument: Located, item: Located) -> Located:
        span, path = item.span, item.path
        parts = argument.value
        if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0].value, str)):
            return Located(Unknown("malformed Fn::Join"), span, path)
        delimiter = parts[0].value
        values = self.resolve(parts[1])
        if values is None or not isinstance(values.value, list):
            return Located(Unknown("Fn::Join of a list not known statically"), span, path)
        pieces: List[str] = []
        references: List[Reference] = []
        known = True
        for part in values.value:
            value = part.value
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                pieces.append(str(value))
            elif isinstance(value, Reference):
                known = False
                references.append(value)
                pieces.append("${" + _reference_text(value) + "}")
            elif isinstance(value, Interpolated):
                known = False
                references.extend(value.references)
                pieces.append(value.text)
            else:
                known = False
                pieces.append("${?}")
        joined = delimiter.join(pieces)
        if known:
            return Located(joined, span, path)
        return Located(
            Interpolated("Fn::Join of values only known at deploy time", joined, tuple(references)),
            span,
            path,
        )

    def _find_in_map(self, argument: Located, item: Located) -> Located:
        parts = argument.value
        if isinstance(parts, list) and len(parts) == 3 and self.mappings is not None:
            keys = [self.resolve(part) for part in parts]
            names = [k.value if k is not None else None for k in keys]
            if all(isinstance(name, str) for name in names):
                found = get(self.mappings, *names)
                if found is not None:
                    found = self.resolve(found)
                    if found is not None:
                        return Located(found.value, item.span, item.path)
        return Located(Unknown("Fn::FindInMap with keys not known statically"), item.span, item.path)


def _reference_text(reference: Reference) -> str:
    return reference.target + (f".{reference.attribute}" if reference.attribute else "")


def _show(item: Located) -> str:
    value = item.value
    if isinstance(value, list):
        return ".".join(str(part.value) for part in value)
    return str(value)


def _mentions(item: Optional[Located], name: str) -> bool:
    """Whether a raw (unresolved) value names resource ``name``: ``!Ref name``,
    ``!GetAtt name.Arn``, ``Id: name``, ``${name}`` in a ``!Sub``."""
    if item is None:
        return False
    value = item.value
    if isinstance(value, str):
        return value == name or value.startswith(name + ".") or f"${{{name}" in value
    if isinstance(value, dict):
        return any(_mentions(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, name) for v in value)
    return False


def reference_target(item: Optional[Located]) -> Optional[str]:
    if item is not None and isinstance(item.value, Reference):
        return item.value.target
    return None


def referenced_targets(item: Optional[Located]) -> List[str]:
    """Every resource ``item`` names: a Reference, or the references of an Interpolated."""
    if item is None:
        return []
    value = item.value
    if isinstance(value, Reference):
        return [value.target]
    if isinstance(value, Interpolated):
        return [reference.target for reference in value.references]
    if isinstance(value, Conditional):
        return [t for branch in value.branches for t in referenced_targets(branch)]
    return []


# -- IAM -----------------------------------------------------------------------------------------


def iter_alternatives(item: Optional[Located]) -> Iterator[Located]:
    """The items of a list with every ``Fn::If`` item flattened into its non-empty branches."""
    for entry in as_list(item):
        if isinstance(entry.value, Conditional):
            for branch in entry.value.branches:
                if branch.value is not None:
                    yield from iter_alternatives(Located([branch], branch.span, branch.path))
        else:
            yield entry


def embedded_document(document: Located, resolver: Optional["Resolver"] = None) -> Optional[Located]:
    """A policy document written as a JSON string (``PolicyDocument: !Sub | {...}``), as a
    Located tree whose lines are the file's. Strings of a ``!Sub`` document that hold
    ``${...}`` are substituted like the ``!Sub`` itself would."""
    value = document.value
    substituted = isinstance(value, Interpolated)
    raw = value.text if substituted else value if isinstance(value, str) else None
    if raw is None or "Statement" not in raw:
        return None
    try:
        tree = load_json(raw)
    except TemplateSyntaxError:
        return None
    span = document.span
    # a block scalar starts on the line after its indicator; a one-line string on its own line
    first_line = span.line + 1 if span.end_line > span.line else span.line

    def place(item: Located) -> Located:
        inner = item.span
        line = first_line + inner.line - 1
        end_line = first_line + inner.end_line - 1
        moved = Span(line, inner.column, end_line, inner.end_column)
        if span.end_line == span.line:  # one line: columns are relative to the string's start
            moved = Span(line, span.column + inner.column, line, span.column + inner.end_column)
        child = item.value
        if isinstance(child, dict):
            mapping = LocatedMap()
            for key, entry in child.items():
                mapping[key] = place(entry)
            return Located(mapping, moved, item.path)
        if isinstance(child, list):
            return Located([place(entry) for entry in child], moved, item.path)
        if substituted and resolver is not None and isinstance(child, str) and "${" in child:
            wrapper = LocatedMap()
            wrapper["Fn::Sub"] = Located(child, moved)
            resolved = resolver.resolve(Located(wrapper, moved, item.path))
            if resolved is not None:
                return resolved
        return Located(child, moved, item.path)

    return place(tree)


def read_policy(
    name: str,
    span: Span,
    document: Optional[Located],
    path: str = "",
    resolver: Optional["Resolver"] = None,
) -> Policy:
    """A policy from a (resolved) policy document: a mapping, a JSON string, or an ``!If`` of
    documents (the statements of every branch count)."""
    policy = Policy(name=name, span=span, path=path)
    if document is not None and isinstance(document.value, Conditional):
        for branch in document.value.branches:
            if branch.value is None:
                continue
            alternative = read_policy(name, span, branch, path, resolver)
            policy.statements.extend(alternative.statements)
            policy.complete = policy.complete and alternative.complete
        return policy
    if document is not None and not isinstance(document.value, dict):
        document = embedded_document(document, resolver) or document
    if document is None or not isinstance(document.value, dict):
        policy.complete = False
        return policy
    statements = get(document, "Statement")
    if statements is None or not isinstance(statements.value, (dict, list, Conditional)):
        policy.complete = statements is None
        return policy
    for entry in iter_alternatives(statements):
        statement, complete = iam_json.statement_from(entry, path)
        if statement is not None:
            policy.statements.append(statement)
            policy.complete = policy.complete and complete
        else:
            policy.complete = False
    return policy


def trusted_services(document: Optional[Located]) -> Set[str]:
    found = set()
    for statement in iter_alternatives(get(document, "Statement")):
        for service in as_list(get(statement, "Principal", "Service")):
            if isinstance(service.value, str):
                found.add(service.value)
    return found


def _is_policy_template(name: str, value: Located) -> bool:
    return name.endswith("Policy") and (value.value is None or isinstance(value.value, dict))


# -- the builder ---------------------------------------------------------------------------------


class CloudFormationBuilder:
    """Builds a Template from a (raw) CloudFormation ``Resources`` section and its companions.

    Serverless Framework templates use it for their ``resources`` section, with their own
    functions registered first (:meth:`add_function`) so that mappings and notifications in
    the raw CloudFormation find them.
    """

    def __init__(self, template: Template, root: Optional[Located], path: str = "") -> None:
        self.template = template
        self.root = root
        self.path = path
        self.resources: Dict[str, Located] = dict(as_map(get(root, "Resources")) or {})
        self.types = {
            logical_id: text(get(resource, "Type")) or ""
            for logical_id, resource in self.resources.items()
        }
        parameters: Dict[str, Optional[Located]] = {}
        for name, parameter in (as_map(get(root, "Parameters")) or {}).items():
            parameters[name] = get(parameter, "Default")
        self.resolver = Resolver(dict(self.types), parameters, get(root, "Mappings"))
        self.resources_node = get(root, "Resources")
        self.functions: Dict[str, Function] = {}
        #: FunctionName property -> logical id, for mappings that name a function by name
        self.function_names: Dict[str, str] = {}
        self.properties: Dict[str, Optional[Located]] = {}
        self.policies_by_id: Dict[str, Policy] = {}

    # public -------------------------------------------------------------------------------------

    def add_function(self, function: Function, *aliases: str) -> None:
        self.functions[function.logical_id] = function
        for alias in aliases:
            self.functions.setdefault(alias, function)
        # a Ref/GetAtt of a known function resolves to a Reference
        for name in (function.logical_id, *aliases):
            self.resolver.resources.setdefault(name, "AWS::Lambda::Function")

    def build(self, sam: bool = False) -> Template:
        template = self.template
        template.suppressed_everywhere |= suppressed_rules(get(self.root, "Metadata"))
        for logical_id, resource in self.resources.items():
            span = key_span(self.resources_node, logical_id) or resource.span
            template.resource_lines[logical_id] = (span.line, max(span.line, last_line(resource)))
            ignored = suppressed_rules(get(resource, "Metadata"))
            if ignored:
                template.suppressed[logical_id] = ignored
            self.properties[logical_id] = self.resolver.resolve(get(resource, "Properties"))
        by_type = self._by_type
        for logical_id in by_type("AWS::IAM::Role"):
            self._role(logical_id)
        for logical_id in by_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            self._standalone_policy(logical_id)
        for logical_id in by_type("AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"):
            self._principal_policy(logical_id)
        for logical_id in by_type("AWS::IAM::User", "AWS::IAM::Group"):
            self._principal_policies(logical_id)
        for logical_id in by_type("AWS::SQS::Queue"):
            self._queue(logical_id)
        for logical_id in by_type("AWS::S3::Bucket", "AWS::Serverless::Bucket"):
            self._bucket(logical_id)
        globals_function = self.resolver.resolve(get(self.root, "Globals", "Function")) if sam else None
        for logical_id in by_type("AWS::Lambda::Function", "AWS::Serverless::Function"):
            self._function(logical_id, globals_function)
        for logical_id in by_type("AWS::Lambda::EventSourceMapping"):
            self._event_source_mapping(logical_id)
        for logical_id in by_type("AWS::S3::Bucket"):
            self._bucket_notifications(logical_id)
        for logical_id in by_type("AWS::Lambda::EventInvokeConfig"):
            self._invoke_config(logical_id)
        for logical_id in by_type("AWS::ApiGateway::Method"):
            self._rest_integration(logical_id)
        for logical_id in by_type("AWS::ApiGatewayV2::Integration"):
            self._http_integration(logical_id)
        for logical_id in by_type("AWS::SNS::Subscription"):
            self._sns_subscription(logical_id)
        for logical_id in by_type("AWS::SNS::Topic"):
            self._topic_subscriptions(logical_id)
        for logical_id in by_type("AWS::Events::Rule"):
            self._events_rule(logical_id)
        for logical_id in by_type("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            self._openapi_integrations(logical_id, "api")
        for logical_id in by_type("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            self._openapi_integrations(logical_id, "http-api")
        for logical_id in by_type("AWS::Scheduler::Schedule"):
            self._schedule(logical_id)
        for logical_id in by_type("AWS::Logs::SubscriptionFilter"):
            self._log_subscription(logical_id)
        for logical_id in by_type("AWS::Lambda::Url"):
            self._function_url(logical_id)
        return template

    # helpers ------------------------------------------------------------------------------------

    def _by_type(self, *types: str) -> List[str]:
        return [logical_id for logical_id, kind in self.types.items() if kind in types]

    def _span(self, logical_id: str) -> Span:
        span = key_span(self.resources_node, logical_id)
        return span if span is not None else self.resources[logical_id].span

    def _prop(self, logical_id: str, *keys: str) -> Optional[Located]:
        return get(self.properties.get(logical_id), *keys)

    def _function_of(self, item: Optional[Located]) -> Optional[Function]:
        """The template function a FunctionName / Arn / Uri value names."""
        for target in referenced_targets(item):
            if target in self.functions:
                return self.functions[target]
        name = text(item)
        if name:
            if name.startswith("arn:") and ":function:" in name:
                name = name.split(":function:", 1)[1].split(":", 1)[0]
            logical_id = self.function_names.get(name)
            if logical_id is not None:
                return self.functions.get(logical_id)
        return None

    # IAM ----------------------------------------------------------------------------------------

    def _role(self, logical_id: str) -> None:
        role = Role(logical_id, self._span(logical_id), self.path)
        role.trusted_services = trusted_services(self._prop(logical_id, "AssumeRolePolicyDocument"))
        for entry in iter_alternatives(self._prop(logical_id, "Policies")):
            name = text(get(entry, "PolicyName")) or logical_id
            role.permissions.policies.append(
                read_policy(name, entry.span, get(entry, "PolicyDocument"), self.path, self.resolver)
            )
        for arn in iter_alternatives(self._prop(logical_id, "ManagedPolicyArns")):
            self._attach_managed(role.permissions, arn)
        self.template.roles[logical_id] = role

    def _attach_managed(self, permissions: Permissions, arn: Located) -> None:
        """A managed policy ARN (or a Ref to a managed policy of the template)."""
        target = reference_target(arn)
        if target is not None and self.types.get(target) == "AWS::IAM::ManagedPolicy":
            return  # the ManagedPolicy resource attaches itself (see _standalone_policy)
        permissions.managed_policies.append(arn)
        if not isinstance(arn.value, str):
            permissions.complete = False

    def _standalone_policy(self, logical_id: str) -> None:
        name = (
            text(self._prop(logical_id, "PolicyName"))
            or text(self._prop(logical_id, "ManagedPolicyName"))
            or logical_id
        )
        policy = read_policy(
            name, self._span(logical_id), self._prop(logical_id, "PolicyDocument"), self.path, self.resolver
        )
        self.template.policies.append(policy)
        self.policies_by_id[logical_id] = policy
        attached: Set[str] = set()
        for role in iter_alternatives(self._prop(logical_id, "Roles")):
            target = reference_target(role)
            if target is None and isinstance(role.value, str):
                target = self._role_by_name(role.value)
            if target in self.template.roles and target not in attached:
                attached.add(target)
                self.template.roles[target].permissions.policies.append(policy)
        if self.types[logical_id] == "AWS::IAM::ManagedPolicy":
            # roles that list it in ManagedPolicyArns
            for role_id, role in self.template.roles.items():
                if role_id in attached:
                    continue
                for arn in iter_alternatives(self._prop(role_id, "ManagedPolicyArns")):
                    if reference_target(arn) == logical_id:
                        role.permissions.policies.append(policy)
                        attached.add(role_id)
                        break

    def _principal_policy(self, logical_id: str) -> None:
        """AWS::IAM::RolePolicy (and its user/group twins): one inline policy of one principal."""
        name = text(self._prop(logical_id, "PolicyName")) or logical_id
        policy = read_policy(
            name, self._span(logical_id), self._prop(logical_id, "PolicyDocument"), self.path, self.resolver
        )
        self.template.policies.append(policy)
        role = self._prop(logical_id, "RoleName")
        target = reference_target(role) or (self._role_by_name(role.value) if text(role) else None)
        if target in self.template.roles:
            self.template.roles[target].permissions.policies.append(policy)

    def _principal_policies(self, logical_id: str) -> None:
        """Inline policies of users and groups: IAM policies of the template, on no function."""
        for entry in iter_alternatives(self._prop(logical_id, "Policies")):
            name = text(get(entry, "PolicyName")) or logical_id
            self.template.policies.append(
                read_policy(name, entry.span, get(entry, "PolicyDocument"), self.path, self.resolver)
            )

    def _role_by_name(self, name: str) -> Optional[str]:
        for role_id in self.template.roles:
            if text(self._prop(role_id, "RoleName")) == name:
                return role_id
        return None

    # queues and buckets -------------------------------------------------------------------------

    def _queue(self, logical_id: str) -> None:
        fifo = self._prop(logical_id, "FifoQueue")
        self.template.queues[logical_id] = Queue(
            logical_id,
            self._span(logical_id),
            self.path,
            visibility_timeout=numeric(self._prop(logical_id, "VisibilityTimeout")),
            fifo=fifo is not None and (fifo.value is True or fifo.value == "true"),
            name=text(self._prop(logical_id, "QueueName")),
        )

    def _bucket(self, logical_id: str) -> None:
        self.template.buckets[logical_id] = Bucket(
            logical_id, self._span(logical_id), self.path, name=self._prop(logical_id, "BucketName")
        )

    # functions ----------------------------------------------------------------------------------

    def _function(self, logical_id: str, globals_function: Optional[Located]) -> None:
        serverless = self.types[logical_id] == "AWS::Serverless::Function"
        properties = self.properties.get(logical_id)
        if serverless and globals_function is not None:
            properties = merge_globals(globals_function, properties)
        function = Function(logical_id, self._span(logical_id), self.path)
        function.suppressed = set(self.template.suppressed.get(logical_id, set()))
        function.handler = get(properties, "Handler")
        function.runtime = get(properties, "Runtime")
        function.timeout = numeric(get(properties, "Timeout"))
        environment = get(properties, "Environment")
        variables = get(environment, "Variables")
        if (environment is not None and as_map(environment) is None) or (
            variables is not None and as_map(variables) is None
        ):
            function.environment_complete = False  # e.g. !If or a !Ref to a whole map
        for key, value in (as_map(variables) or {}).items():
            function.environment[key] = value
        name = text(get(properties, "FunctionName"))
        if name:
            self.function_names[name] = logical_id
        role = get(properties, "Role")
        function.role = role
        if serverless:
            function.code_uri = get(properties, "CodeUri")
            function.inline_code = get(properties, "InlineCode")
            dead_letter = get(properties, "DeadLetterQueue")
            function.dead_letter = get(dead_letter, "TargetArn") or dead_letter
            on_failure = get(properties, "EventInvokeConfig", "DestinationConfig", "OnFailure")
            # SAM creates the queue/topic when an SQS/SNS OnFailure has no Destination
            function.on_failure = get(on_failure, "Destination") or on_failure
            if role is None:
                self._sam_policies(function, get(properties, "Policies"))
                if self._grants_elsewhere(logical_id):
                    function.permissions.complete = False
            else:
                self._use_role(function, role)
            url = get(properties, "FunctionUrlConfig")
            if url is not None:
                span = key_span(properties, "FunctionUrlConfig") or url.span
                function.events.append(EventSource("function-url", "FunctionUrlConfig", span, self.path))
            events = as_map(get(properties, "Events")) or {}
            for name, event in events.items():
                function.events.append(
                    self._sam_event(name, key_span(get(properties, "Events"), name) or event.span, event)
                )
        else:
            function.inline_code = get(properties, "Code", "ZipFile")
            function.code_uri = get(properties, "Code") if function.inline_code is None else None
            function.dead_letter = get(properties, "DeadLetterConfig", "TargetArn")
            if role is None:
                function.permissions.complete = False
            else:
                self._use_role(function, role)
        self.add_function(function)
        self.template.functions.append(function)

    def _grants_elsewhere(self, logical_id: str) -> bool:
        """Whether something outside ``Policies`` grants the role SAM generates for the function
        (``<LogicalId>Role``): SAM connectors (embedded, or an ``AWS::Serverless::Connector``
        from it), or an IAM policy resource attached to that role. Its permissions are then not
        fully known here."""
        if get(self.resources.get(logical_id), "Connectors") is not None:
            return True  # embedded connectors: a resource attribute beside Properties
        generated = f"{logical_id}Role"
        for other, kind in self.types.items():
            raw = get(self.resources.get(other), "Properties")
            if kind == "AWS::Serverless::Connector":
                source = get(raw, "Source")
                if _mentions(source, logical_id) or get(source, "Id") is None:
                    return True  # from this function, or from a source named another way
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
                if _mentions(get(raw, "Roles"), generated) or _mentions(get(raw, "RoleName"), generated):
                    return True
        return False

    def _use_role(self, function: Function, role: Located) -> None:
        """A function whose permissions are those of an explicit role."""
        target = reference_target(role)
        if target is None and isinstance(role.value, Interpolated):
            # !Sub "arn:aws:iam::${AWS::AccountId}:role/${Role}": the role of the template
            roles = [r.target for r in role.value.references if r.target in self.template.roles]
            target = roles[0] if len(roles) == 1 else None
        if target is not None and target in self.template.roles:
            function.permissions = self.template.roles[target].permissions
        else:
            function.permissions = Permissions(complete=False)

    def _sam_policies(self, function: Function, policies: Optional[Located]) -> None:
        permissions = function.permissions
        for entry in iter_alternatives(policies):
            value = entry.value
            if isinstance(value, str):
                permissions.managed_policies.append(entry)
            elif isinstance(value, Reference):
                if value.target in self.policies_by_id:
                    permissions.policies.append(self.policies_by_id[value.target])
                else:
                    permissions.managed_policies.append(entry)
                    permissions.complete = False
            elif isinstance(value, dict) and "Statement" in value:
                permissions.policies.append(
                    read_policy(f"{function.logical_id}Policy", entry.span, entry, self.path)
                )
                permissions.complete = permissions.complete and permissions.policies[-1].complete
            elif isinstance(value, dict) and len(value) == 1:
                (name, parameters), = value.items()
                if _is_policy_template(name, parameters):
                    permissions.policy_templates.append(
                        PolicyTemplate(
                            name, key_span(entry, name) or entry.span, self.path,
                            dict(as_map(parameters) or {}),
                        )
                    )
                else:
                    permissions.complete = False
            else:  # Unknown: an imported or computed policy
                permissions.managed_policies.append(entry)
                permissions.complete = False

    def _sam_event(self, name: str, span: Span, event: Located) -> EventSource:
        kind_name = text(get(event, "Type")) or ""
        kind, source_key = SAM_EVENTS.get(kind_name, ("other", None))
        properties = get(event, "Properties")
        source = EventSource(kind, name, span, self.path)
        if source_key is not None:
            source.source = get(properties, source_key)
        if kind == "schedule" and source.source is None:
            source.source = get(properties, "Schedule") or get(properties, "ScheduleExpression")
        if kind in ("api", "http-api"):
            source.integration_timeout = seconds_from_millis(get(properties, "TimeoutInMillis"))
        if kind == "s3":
            source.prefix, source.suffix = s3_filter(get(properties, "Filter"))
            source.s3_events = get(properties, "Events")
        return source

    # wiring resources ---------------------------------------------------------------------------

    def _event_source_mapping(self, logical_id: str) -> None:
        function = self._function_of(self._prop(logical_id, "FunctionName"))
        if function is None:
            return
        arn = self._prop(logical_id, "EventSourceArn")
        kind = "other"
        if self._prop(logical_id, "SelfManagedEventSource") is not None:
            kind = "kafka"
        elif self._prop(logical_id, "AmazonManagedKafkaEventSourceConfig") is not None:
            kind = "msk"
        elif self._prop(logical_id, "Queues") is not None:
            kind = "mq"
        else:
            kind = self._source_kind(arn)
        function.events.append(EventSource(kind, logical_id, self._span(logical_id), self.path, source=arn))

    def _source_kind(self, arn: Optional[Located]) -> str:
        for target in referenced_targets(arn):
            resource_type = self.types.get(target, "")
            kind = {
                "AWS::SQS::Queue": "sqs",
                "AWS::Kinesis::Stream": "kinesis",
                "AWS::DynamoDB::Table": "dynamodb",
                "AWS::DynamoDB::GlobalTable": "dynamodb",
                "AWS::MSK::Cluster": "msk",
                "AWS::Amazon::MQ::Broker": "mq",
            }.get(resource_type)
            if kind is not None:
                return kind
        value = text(arn) or (arn.value.text if arn is not None and isinstance(arn.value, Interpolated) else "")
        service = value.split(":")[2] if value.startswith("arn:") and value.count(":") >= 2 else ""
        return {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "msk", "mq": "mq"}.get(
            service, "other"
        )

    def _bucket_notifications(self, logical_id: str) -> None:
        configurations = self._prop(logical_id, "NotificationConfiguration", "LambdaConfigurations")
        for entry in iter_alternatives(configurations):
            function = self._function_of(get(entry, "Function"))
            if function is None:
                continue
            event = EventSource(
                "s3", logical_id, entry.span, self.path,
                source=Located(Reference(logical_id), self._span(logical_id), self.path),
            )
            event.prefix, event.suffix = s3_filter(get(entry, "Filter"))
            event.s3_events = get(entry, "Event")
            function.events.append(event)

    def _invoke_config(self, logical_id: str) -> None:
        function = self._function_of(self._prop(logical_id, "FunctionName"))
        if function is None:
            return
        on_failure = self._prop(logical_id, "DestinationConfig", "OnFailure")
        destination = get(on_failure, "Destination") or on_failure
        if destination is not None and function.on_failure is None:
            function.on_failure = destination

    def _api_event(self, function: Function, kind: str, logical_id: str, timeout: Optional[Located]) -> None:
        function.events.append(
            EventSource(
                kind, logical_id, self._span(logical_id), self.path,
                integration_timeout=seconds_from_millis(timeout),
            )
        )

    def _rest_integration(self, logical_id: str) -> None:
        integration = self._prop(logical_id, "Integration")
        function = self._function_of(get(integration, "Uri"))
        if function is not None:
            self._api_event(function, "api", logical_id, get(integration, "TimeoutInMillis"))

    def _http_integration(self, logical_id: str) -> None:
        function = self._function_of(self._prop(logical_id, "IntegrationUri"))
        if function is not None:
            kind = "websocket" if self._is_websocket_api(self._prop(logical_id, "ApiId")) else "http-api"
            self._api_event(function, kind, logical_id, self._prop(logical_id, "TimeoutInMillis"))

    def _is_websocket_api(self, api: Optional[Located]) -> bool:
        """Whether an integration's ``ApiId`` is a WebSocket API of this template."""
        targets = [t for t in referenced_targets(api) if self.types.get(t) == "AWS::ApiGatewayV2::Api"]
        return any((text(self._prop(t, "ProtocolType")) or "").upper() == "WEBSOCKET" for t in targets)

    def _sns_subscription(self, logical_id: str) -> None:
        if (text(self._prop(logical_id, "Protocol")) or "").lower() != "lambda":
            return
        function = self._function_of(self._prop(logical_id, "Endpoint"))
        if function is not None:
            function.events.append(
                EventSource("sns", logical_id, self._span(logical_id), self.path,
                            source=self._prop(logical_id, "TopicArn"))
            )

    def _topic_subscriptions(self, logical_id: str) -> None:
        for entry in iter_alternatives(self._prop(logical_id, "Subscription")):
            if (text(get(entry, "Protocol")) or "").lower() != "lambda":
                continue
            function = self._function_of(get(entry, "Endpoint"))
            if function is not None:
                function.events.append(
                    EventSource("sns", logical_id, entry.span, self.path,
                                source=Located(Reference(logical_id), self._span(logical_id), self.path))
                )

    def _events_rule(self, logical_id: str) -> None:
        schedule = self._prop(logical_id, "ScheduleExpression")
        kind = "schedule" if schedule is not None else "eventbridge"
        for target in iter_alternatives(self._prop(logical_id, "Targets")):
            function = self._function_of(get(target, "Arn"))
            if function is not None:
                function.events.append(
                    EventSource(kind, logical_id, target.span, self.path,
                                source=schedule or self._prop(logical_id, "EventBusName"))
                )


    def _openapi_integrations(self, logical_id: str, kind: str) -> None:
        """Functions named by ``x-amazon-apigateway-integration`` in an inline OpenAPI body."""
        body = self._prop(logical_id, "DefinitionBody") or self._prop(logical_id, "Body")
        seen: Set[int] = set()
        for integration in _integrations(body):
            function = self._function_of(get(integration, "uri"))
            if function is None or id(function) in seen:
                continue
            seen.add(id(function))
            function.events.append(
                EventSource(kind, logical_id, integration.span, self.path,
                            integration_timeout=seconds_from_millis(get(integration, "timeoutInMillis")))
            )

    def _schedule(self, logical_id: str) -> None:
        target = self._prop(logical_id, "Target")
        function = self._function_of(get(target, "Arn"))
        if function is not None:
            function.events.append(
                EventSource("schedule", logical_id, self._span(logical_id), self.path,
                            source=self._prop(logical_id, "ScheduleExpression"))
            )

    def _log_subscription(self, logical_id: str) -> None:
        function = self._function_of(self._prop(logical_id, "DestinationArn"))
        if function is not None:
            function.events.append(
                EventSource("cloudwatch-logs", logical_id, self._span(logical_id), self.path,
                            source=self._prop(logical_id, "LogGroupName"))
            )

    def _function_url(self, logical_id: str) -> None:
        function = self._function_of(self._prop(logical_id, "TargetFunctionArn"))
        if function is not None:
            function.events.append(EventSource("function-url", logical_id, self._span(logical_id), self.path))


def _integrations(item: Optional[Located], depth: int = 0) -> Iterator[Located]:
    if item is None or depth > 12:
        return
    value = item.value
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "x-amazon-apigateway-integration" and isinstance(child.value, dict):
                yield child
            else:
                yield from _integrations(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _integrations(child, depth + 1)
    elif isinstance(value, Conditional):
        for branch in value.branches:
            yield from _integrations(branch, depth + 1)


def s3_filter(filter_node: Optional[Located]) -> Tuple[Optional[Located], Optional[Located]]:
    """(prefix, suffix) of an S3 ``Filter: {S3Key: {Rules: [{Name, Value}]}}``."""
    prefix = suffix = None
    for rule in iter_alternatives(get(filter_node, "S3Key", "Rules")):
        name = (text(get(rule, "Name")) or "").lower()
        value = get(rule, "Value")
        if name == "prefix":
            prefix = value
        elif name == "suffix":
            suffix = value
    return prefix, suffix


def merge_globals(globals_item: Located, properties: Optional[Located]) -> Located:
    """SAM's Globals merge: maps merge key by key, lists concatenate, the function's scalar
    values win over the globals'."""
    if properties is None:
        return globals_item
    base, own = globals_item.value, properties.value
    if isinstance(base, dict) and isinstance(own, dict):
        merged = LocatedMap()
        for key, value in base.items():
            merged[key] = value
            span = key_span(globals_item, key)
            if span is not None:
                merged.key_spans[key] = span
        for key, value in own.items():
            merged[key] = merge_globals(base[key], value) if key in base else value
            span = key_span(properties, key)
            if span is not None:
                merged.key_spans[key] = span
        return Located(merged, properties.span, properties.path)
    if isinstance(base, list) and isinstance(own, list):
        return Located(list(base) + list(own), properties.span, properties.path)
    return properties


def build_cloudformation(path: str, root: Located) -> Template:
    """The Template of a CloudFormation/SAM document (see :func:`is_template`)."""
    sam = is_sam(root)
    template = Template(path=path, format="sam" if sam else "cloudformation", files=[path])
    return CloudFormationBuilder(template, root).build(sam=sam)


__all__ = [
    "CloudFormationBuilder",
    "Resolver",
    "as_list",
    "as_map",
    "build_cloudformation",
    "get",
    "is_sam",
    "is_template",
    "iter_alternatives",
    "read_policy",
]
